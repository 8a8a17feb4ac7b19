"""The base of Cairn's errors: ``CairnError``.

It lives here, at the bottom, so that the core (``analyzers``, ``checks``) can raise it
without importing ``app``; the hierarchy is drawn once, in ``app.errors``, where the rest of
it is defined.
"""

from __future__ import annotations


class CairnError(Exception):
    """Base class of every error Cairn raises on purpose."""
