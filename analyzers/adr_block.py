"""The explicit ``cairn:`` block that states a derived constraint, for a team to confirm.

What :func:`cairn_block` prints parses back through :func:`analyzers.adr.parse_adr` into the
same rule (then explicit: an error, not a warning), so pasting it into the ADR confirms it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from analyzers.adr import Constraint


def block_data(constraints: Sequence[Constraint]) -> dict[str, Any]:
    """The ``cairn:`` mapping for ``constraints`` (all of one scope: the first one's)."""
    forbid: list[dict[str, str]] = []
    prefer: list[dict[str, str]] = []
    for c in constraints:
        message = c.message or c.sentence
        if c.kind == "any" and c.prefer:
            item = {"use": c.prefer, "instead_of": c.value}
            target = prefer
        else:
            item = {c.kind: c.value}
            if c.prefer:
                item["prefer"] = c.prefer
            target = forbid
        if c.language:
            item["language"] = c.language
        if message:
            item["message"] = message
        target.append(item)
    data: dict[str, Any] = {}
    scope = constraints[0].scope if constraints else ()
    if scope:
        data["scope"] = list(scope)
    if forbid:
        data["forbid"] = forbid
    if prefer:
        data["prefer"] = prefer
    return {"cairn": data}


def cairn_block(constraints: Sequence[Constraint]) -> str:
    """A fenced ``cairn`` block (markdown) stating ``constraints`` explicitly."""
    body = yaml.safe_dump(block_data(constraints), sort_keys=False, allow_unicode=True, width=100)
    return f"```cairn\n{body}```\n"
