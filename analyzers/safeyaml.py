"""YAML from repositories, read with bounds: ``.cairn.yml``, ADR front matter, ``cairn:`` blocks.

PyYAML's ``safe_load`` builds no objects but still expands aliases: a few hundred bytes of
``&a [*b, *b, ...]`` nest into billions of nodes (memory and minutes). Cairn's YAML is short
and hand-written, so the loader here refuses what no configuration needs:

- aliases (``*name``): refused outright, anchors alone are harmless;
- more than ``MAX_NODES`` nodes, or nesting deeper than ``MAX_DEPTH``;
- an integer longer than Python converts (``int`` raises past 4,300 digits).

Every refusal is a ``yaml.YAMLError`` with the line it happened on, so callers report it like
any other YAML error. ``compose`` gives the node tree (for line numbers) with the same bounds.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

__all__ = ["MAX_DEPTH", "MAX_NODES", "compose", "load"]

MAX_NODES = 20_000  # a long .cairn.yml has a few hundred
MAX_DEPTH = 64


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader without aliases, with a node budget and a depth limit."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(None, None, f"aliases are not allowed (*{event.anchor})", mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ComposerError(None, None, f"more than {MAX_NODES:,} values: not read", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels: not read", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load(text: str) -> Any:
    """The YAML document in ``text`` as plain data (None when empty), within the bounds."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except ValueError as exc:  # an integer past Python's digit limit, a bad timestamp
        raise ConstructorError(None, None, f"a value cannot be read: {exc}") from exc
    finally:
        loader.dispose()


def compose(text: str) -> yaml.Node | None:
    """The node tree of the document in ``text`` (with marks for line numbers), bounded."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
