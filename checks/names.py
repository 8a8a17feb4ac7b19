"""Names: the style a name is written in (snake_case, camelCase, ...) and its last word."""

from __future__ import annotations

import posixpath
import re

from analyzers.languages import language_called

SNAKE, CAMEL, PASCAL, KEBAB, SCREAMING, MIXED_CAPS = (
    "snake_case",
    "camelCase",
    "PascalCase",
    "kebab-case",
    "SCREAMING_SNAKE_CASE",
    "MixedCaps",
)
_WORD = re.compile(r"[a-z][a-z0-9]*")
_STYLE_PATTERNS = (
    (SNAKE, re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")),
    (KEBAB, re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")),
    (CAMEL, re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")),
    (SCREAMING, re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")),
    (
        PASCAL,
        re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*|[A-Z](?:[A-Z]+[a-z0-9]+)+[A-Za-z0-9]*"),
    ),
)


def styles_of(name: str, language: str = "") -> frozenset[str] | None:
    """The styles ``name`` is consistent with (empty: none, a mixture); None: not judged.

    A single lower-case word fits snake_case, camelCase and kebab-case alike; an all-caps
    word fits PascalCase (an acronym) and SCREAMING_SNAKE_CASE. A language whose names are
    MixedCaps (Go) spells exported and unexported names alike but for the first letter, so
    both are its MixedCaps.
    """
    if name.startswith("__") and name.endswith("__"):
        return None  # dunders are the language's, not the team's
    # A doubled underscore joins two names (Textual's `_watch__cursor` watches `_cursor`).
    core = re.sub("__+", "_", name.strip("_$"))
    if not core or not core[0].isalpha():
        return None
    mixed_caps = _mixed_caps(language)
    if mixed_caps and core[0].isupper() and not core.isupper():
        core = core[0].lower() + core[1:]
    if _WORD.fullmatch(core):
        found = {SNAKE, CAMEL, KEBAB}
    elif re.fullmatch(r"[A-Z][A-Z0-9]*", core):
        found = {PASCAL, SCREAMING}
    else:
        found = {style for style, pattern in _STYLE_PATTERNS if pattern.fullmatch(core)}
    if mixed_caps and found & {CAMEL, PASCAL}:
        found = (found - {CAMEL, PASCAL}) | {MIXED_CAPS}
    return frozenset(found)


def _mixed_caps(language: str) -> bool:
    found = language_called(language)
    return found is not None and found.mixed_caps


def file_stem(path: str) -> str:
    """A file's name without its extensions (``user-card.component.ts`` → ``user-card``)."""
    return posixpath.basename(path).split(".", 1)[0]


def name_suffix(name: str) -> str:
    """The last word of a name: ``UserHandler`` → ``Handler``, ``user_view`` → ``_view``."""
    core = name.rstrip("_")
    if "_" in core.strip("_"):
        return "_" + core.rsplit("_", 1)[1]
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+", core)
    return words[-1] if len(words) > 1 and words[-1][:1].isupper() else ""
