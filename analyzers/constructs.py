"""Constructs a rule may forbid: calls (by callee text) and a tree-sitter query's matches.

Which node types are calls is each language's ``calls`` (``analyzers/lang/``).
"""

from __future__ import annotations

import functools

import tree_sitter

from analyzers.languages import Language, language_for_path, language_named, node_text
from analyzers.rulebounds import RuleError, compile_query, matches


def parse_tree(path: str, source: bytes) -> tuple[Language, tree_sitter.Tree] | None:
    language = language_for_path(path)
    if language is None:
        return None
    return language, language.parser().parse(source)


def calls(path: str, source: bytes) -> list[tuple[int, str]]:
    """(1-based line, callee text without spaces) of every call in the file."""
    parsed = parse_tree(path, source)
    if parsed is None:
        return []
    language, tree = parsed
    types = language.calls
    out: list[tuple[int, str]] = []
    cursor = tree.walk()
    visited_children = False
    while True:  # iterative pre-order walk: deep nesting is no danger
        node = cursor.node
        if not visited_children and node is not None and node.type in types:
            callee = _callee(node, source)
            if callee:
                out.append((node.start_point.row + 1, callee))
        if not visited_children and cursor.goto_first_child():
            continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            break
        visited_children = True
    return out


def _callee(node: tree_sitter.Node, source: bytes) -> str:
    args = node.child_by_field_name("arguments")
    if node.type == "macro_invocation":
        args = node.named_children[-1] if node.named_children else None
    if node.type in ("new_expression", "object_creation_expression"):
        kind = node.child_by_field_name("constructor") or node.child_by_field_name("type")
        return "new " + "".join(node_text(kind).split()) if kind is not None else ""
    end = args.start_byte if args is not None else node.end_byte
    text = source[node.start_byte : end].decode("utf-8", "replace")
    return "".join(text.split()).rstrip("!")


def query_lines(language: Language, query: str, path: str, source: bytes) -> list[int]:
    """The 1-based first lines of the query's matches (of its first capture, else its pattern)."""
    found = language_for_path(path)
    if found is None or found.name != language.name:
        return []
    try:
        compiled = _compiled(language.name, query)
    except RuleError:  # reported with the rule when its config or ADR was read
        return []
    tree = language.parser().parse(source)
    lines: set[int] = set()
    for _, captures in matches(compiled, tree.root_node):
        for nodes in captures.values():
            for node in nodes:
                lines.add(node.start_point.row + 1)
    return sorted(lines)


@functools.lru_cache(maxsize=64)
def _compiled(language: str, query: str) -> tree_sitter.Query:
    """A rule's query compiled once per process (``rulebounds`` bounds its cost)."""
    return compile_query(language_named(language).grammar_language, query)
