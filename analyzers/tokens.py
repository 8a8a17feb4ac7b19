"""Normalised token streams: the leaves of a syntax tree, with identifiers and literals abstracted.

One pass over a file's tree yields every leaf in order (comments and layout dropped): its exact
text, for ``raw_hash``, and its normalised id, for ``tokens`` and ``exact_hash``. Identifiers
become ``$ID`` and literals ``$LIT`` (a string is one literal, whatever is inside it); keywords,
operators and punctuation stay as their text. Units nest, so a unit's tokens are a slice of the
file's stream, found by byte offset; the same pass reports the unit-type nodes it meets.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import tree_sitter

from analyzers.languages import Language

_PLAIN, _DROP, _LITERAL, _IDENTIFIER, _UNIT = range(5)
_MASK63 = (1 << 63) - 1
_MAX_CACHED = 200_000  # distinct token texts cached: a garbage file can't grow it forever

_ids: dict[bytes, int] = {}


def token_id(text: bytes) -> int:
    """The stable 32-bit id of a token text: CRC-32, identical across processes and versions."""
    found = _ids.get(text)
    if found is None:
        if len(_ids) >= _MAX_CACHED:
            _ids.clear()
        found = _ids[text] = zlib.crc32(text)
    return found


ID = token_id(b"$ID")
LIT = token_id(b"$LIT")


def hash63(data: bytes | memoryview) -> int:
    """A 63-bit non-negative hash of ``data`` (fits a Postgres bigint)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") & _MASK63


@dataclass(slots=True)
class FileTokens:
    """The leaves of one file in document order, and the unit-type nodes met on the way."""

    texts: list[bytes] = field(default_factory=list)  # exact leaf texts
    ids: list[int] = field(default_factory=list)  # normalised token ids
    starts: list[int] = field(default_factory=list)  # start byte of each leaf
    units: list[tuple[tree_sitter.Node, int]] = field(default_factory=list)  # (node, first leaf)
    _packed: memoryview | None = None  # ``ids`` as little-endian uint32, built on first use

    def span(self, first: int, end_byte: int) -> tuple[int, int]:
        """The slice ``[first, stop)`` of leaves that start before ``end_byte``."""
        return first, bisect_left(self.starts, end_byte, first)

    def raw_hash(self, first: int, stop: int) -> int:
        """Hash of the exact texts of leaves ``[first, stop)``: blind to comments and layout."""
        return hash63(b"\x00".join(self.texts[first:stop]))

    def exact_hash(self, first: int, stop: int) -> int:
        """Hash of the normalised ids of leaves ``[first, stop)``: blind to renames too."""
        if self._packed is None:
            packed = array("I", self.ids)
            if sys.byteorder == "big":
                packed.byteswap()  # hash the same bytes on every machine
            self._packed = memoryview(packed)
        return hash63(self._packed[first:stop])


_tables: dict[str, bytes] = {}


def _table(language: Language) -> bytes:
    """What to do with each node kind id: a 64 Ki byte table (ERROR is kind 65535)."""
    table = _tables.get(language.name)
    if table is None:
        grammar = language.grammar_language
        actions = bytearray(1 << 16)
        for kind_id in range(grammar.node_kind_count):
            if not grammar.node_kind_is_named(kind_id):
                continue  # keywords, operators, punctuation: kept as text
            kind = grammar.node_kind_for_id(kind_id)
            if kind in language.comments:
                actions[kind_id] = _DROP
            elif kind in language.literals:
                actions[kind_id] = _LITERAL
            elif kind in language.identifiers:
                actions[kind_id] = _IDENTIFIER
            elif kind in language.units:
                actions[kind_id] = _UNIT
        table = _tables[language.name] = bytes(actions)
    return table


def scan(tree: tree_sitter.Tree, source: bytes, language: Language) -> FileTokens:
    """Walk ``tree`` once, without recursion, collecting its leaves and its unit-type nodes."""
    table = _table(language)
    out = FileTokens()
    texts, ids, starts, units = out.texts, out.ids, out.starts, out.units
    cached = _ids.get
    # The hot loop of indexing: bound methods in locals, one Node object per visited node, the
    # per-kind decision a table lookup. ``Any`` because the stub types cursor.node as Optional.
    cursor: Any = tree.walk()
    first_child = cursor.goto_first_child
    next_sibling = cursor.goto_next_sibling
    parent = cursor.goto_parent
    while True:
        node = cursor.node
        action = table[node.kind_id]
        if action == _PLAIN:
            if first_child():
                continue
            start, end = node.byte_range
            if start != end:  # MISSING nodes are empty: nothing was written
                text = source[start:end]
                texts.append(text)
                starts.append(start)
                found = cached(text)
                ids.append(token_id(text) if found is None else found)
        elif action == _UNIT:
            units.append((node, len(ids)))
            if first_child():
                continue
        elif action != _DROP:
            start, end = node.byte_range
            if start != end:
                text = source[start:end]
                if action == _LITERAL and b"\n" in text and node.child_count > 1:
                    text = _parts(node, source, language)
                texts.append(text)
                starts.append(start)
                ids.append(ID if action == _IDENTIFIER else LIT)
        while not next_sibling():
            if not parent():
                return out


def _parts(node: Any, source: bytes, language: Language) -> bytes:
    """A multi-line literal's text without the layout between its parts.

    ``"abc"`` and ``"def"`` on two lines form one literal (Python's implicit concatenation, a
    template across lines): re-indenting the second line changes the gap, not the literal.
    Gaps inside a part (a triple-quoted string's lines) are content and stay.
    """
    return b"\x00".join(
        source[child.start_byte : child.end_byte]
        for child in node.children
        if child.type not in language.comments
    )


def count_errors(tree: tree_sitter.Tree) -> int:
    """How many ERROR and MISSING nodes ``tree`` holds (zero, cheaply, for a clean tree)."""
    if not tree.root_node.has_error:
        return 0
    count = 0
    cursor: Any = tree.walk()
    while True:
        node = cursor.node
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return count
