"""Parsing: a file's bytes into its code units (functions, methods, classes) and their tokens.

Never raises on bad input: tree-sitter recovers from syntax errors (the units it still finds
are indexed, and ``ParsedFile.error_nodes`` says how broken the file was), bytes that are not
UTF-8 are read as they are, and nothing here recurses, so nesting depth is no danger.
"""

from __future__ import annotations

import tree_sitter

from analyzers.languages import CLASS, FUNCTION, METHOD, MODULE, Language, language_for_path
from analyzers.tokens import FileTokens, count_errors, scan
from analyzers.traits import traits
from analyzers.units import CodeUnit, ParsedFile


def parse_file(path: str, source: bytes) -> ParsedFile | None:
    """The units of the file at ``path``; None when no supported language has its extension."""
    parsed = parse_file_and_tree(path, source)
    return None if parsed is None else parsed[0]


def parse_file_and_tree(path: str, source: bytes) -> tuple[ParsedFile, tree_sitter.Tree] | None:
    """``parse_file``, with the syntax tree for other readers of the same file (its imports)."""
    language = language_for_path(path)
    if language is None:
        return None
    tree = language.parser().parse(source)
    return _parsed(path, source, language, tree), tree


def parse_source(path: str, source: bytes, language: Language) -> ParsedFile:
    """The units of ``source``, read as ``language``."""
    return _parsed(path, source, language, language.parser().parse(source))


def _parsed(path: str, source: bytes, language: Language, tree: tree_sitter.Tree) -> ParsedFile:
    tokens = scan(tree, source, language)
    return ParsedFile(
        path=path,
        language=language.name,
        units=tuple(_units(tokens, language)),
        lines=count_lines(source),
        error_nodes=count_errors(tree),
    )


def count_lines(source: bytes) -> int:
    """Lines in ``source``, a last line without a newline included."""
    return source.count(b"\n") + (1 if source and not source.endswith(b"\n") else 0)


def _units(tokens: FileTokens, language: Language) -> list[CodeUnit]:
    units: list[CodeUnit] = []
    # Enclosing named units, innermost last: (end byte, qualname, declared kind).
    enclosing: list[tuple[int, str, str]] = []
    for node, first in tokens.units:
        start_byte, end_byte = node.byte_range
        while enclosing and enclosing[-1][0] <= start_byte:
            enclosing.pop()
        node_type = node.type
        declared = language.units[node_type]
        name = language.namer(node_type)(node)
        if not name:
            continue  # an anonymous function, a type alias: not a unit; its insides may be
        owner = language.owner(node) if language.owner is not None else None
        if owner:
            qualname = f"{owner}.{name}"
        elif enclosing:
            qualname = f"{enclosing[-1][1]}.{name}"
        else:
            qualname = name
        kind = _kind(declared, enclosing[-1][2] if enclosing else None)
        enclosing.append((end_byte, qualname, declared))
        first, stop = tokens.span(first, end_byte)
        start_row = node.start_point.row
        end_row, end_column = node.end_point
        if end_column == 0 and end_row > start_row:
            end_row -= 1  # the node ends with a newline: its last line is the one before
        units.append(
            CodeUnit(
                kind=kind,
                name=name,
                qualname=qualname,
                start_line=start_row + 1,
                end_line=end_row + 1,
                tokens=tuple(tokens.ids[first:stop]),
                raw_hash=tokens.raw_hash(first, stop),
                exact_hash=tokens.exact_hash(first, stop),
                traits=traits(node),
            )
        )
    return units


def _kind(declared: str, parent: str | None) -> str:
    """The reported kind: a function directly inside a class is a method."""
    if declared == FUNCTION:
        return METHOD if parent == CLASS else FUNCTION
    if declared == MODULE:
        return CLASS
    return declared
