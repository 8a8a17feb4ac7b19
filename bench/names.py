"""Names in a function: which ones are local (safe to rename), and fresh ones to use.

A local name is one the function binds itself: a parameter, an assigned name, a loop, ``with``,
``except`` or ``catch`` variable, a nested function, the function's own name. Attributes,
properties, keyword-argument names, globals and callees are not local. Names written as an
object shorthand (``{a}``) or declared ``global``/``nonlocal`` are left out: renaming them
would change more than a name.
"""

from __future__ import annotations

import keyword
import random
from collections.abc import Iterator

from tree_sitter import Node, Tree

WORDS = (
    "account",
    "amount",
    "batch",
    "buffer",
    "cache",
    "channel",
    "cursor",
    "delta",
    "entry",
    "event",
    "field",
    "filter",
    "frame",
    "group",
    "handle",
    "header",
    "index",
    "item",
    "label",
    "layer",
    "limit",
    "marker",
    "metric",
    "node",
    "offset",
    "owner",
    "packet",
    "page",
    "payload",
    "query",
    "queue",
    "range",
    "record",
    "region",
    "report",
    "result",
    "route",
    "sample",
    "scope",
    "segment",
    "session",
    "signal",
    "slot",
    "source",
    "stage",
    "state",
    "store",
    "stream",
    "target",
    "ticket",
    "token",
    "total",
    "unit",
    "value",
    "vector",
    "window",
    "worker",
)
JS_RESERVED = frozenset(
    {
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "let",
        "static",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
        "await",
        "async",
        "of",
        "undefined",
        "arguments",
        "eval",
    }
)


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _targets(node: Node) -> Iterator[Node]:
    """The identifiers a binding position binds (not attributes, subscripts or properties)."""
    if node.type == "identifier":
        yield node
    elif node.type in (
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "tuple",
        "list",
        "list_splat_pattern",
        "dictionary_splat_pattern",
        "parenthesized_expression",
        "as_pattern_target",
        "array_pattern",
        "rest_pattern",
        "assignment_pattern",
        "pair_pattern",
        "object_pattern",
    ):
        for child in node.named_children:
            if node.type == "pair_pattern" and child == node.child_by_field_name("key"):
                continue
            if node.type == "assignment_pattern" and child != node.child_by_field_name("left"):
                continue
            yield from _targets(child)


def _bound_nodes(node: Node) -> Iterator[Node]:
    kind = node.type
    field = node.child_by_field_name
    if kind in ("function_definition", "function_declaration", "generator_function_declaration"):
        name = field("name")
        if name is not None:
            yield name
    elif kind in ("parameters", "lambda_parameters", "formal_parameters"):
        for child in node.named_children:
            if child.type in ("default_parameter", "typed_default_parameter"):
                name = _field_of(child, "name")
                if name is not None:
                    yield from _targets(name)
            elif child.type == "typed_parameter":
                yield from _targets(child.named_children[0])
            elif child.type in ("required_parameter", "optional_parameter"):
                pattern = _field_of(child, "pattern")
                if pattern is not None:
                    yield from _targets(pattern)
            else:
                yield from _targets(child)
    elif kind in ("assignment", "augmented_assignment", "for_statement", "for_in_clause"):
        left = field("left")
        if left is not None:
            yield from _targets(left)
    elif kind == "named_expression":
        name = field("name")
        if name is not None:
            yield from _targets(name)
    elif kind in ("as_pattern", "with_item", "except_clause"):
        for child in node.named_children:
            if child.type == "as_pattern_target":
                yield from _targets(child)
        alias = field("alias")
        if alias is not None:
            yield from _targets(alias)
    elif kind == "variable_declarator":
        name = field("name")
        if name is not None:
            yield from _targets(name)
    elif kind == "for_in_statement":
        left = field("left")
        if left is not None:
            yield from _targets(left)
    elif kind in ("catch_clause", "arrow_function"):
        parameter = field("parameter")
        if parameter is not None:
            yield from _targets(parameter)


def _field_of(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def is_reference(node: Node) -> bool:
    """An identifier that names a variable (not an attribute or a keyword argument's name)."""
    parent = node.parent
    if parent is None:
        return True
    if parent.type == "attribute" and node == parent.child_by_field_name("attribute"):
        return False
    if parent.type == "keyword_argument" and node == parent.child_by_field_name("name"):
        return False
    return parent.type not in ("dotted_name", "aliased_import", "import_from_statement")


def local_names(tree: Tree, python: bool) -> set[str]:
    """The names bound inside the function that can be renamed consistently."""
    bound: set[str] = set()
    blocked: set[str] = set()
    for node in walk(tree.root_node):
        for target in _bound_nodes(node):
            bound.add((target.text or b"").decode())
        if node.type in ("global_statement", "nonlocal_statement"):
            blocked.update((c.text or b"").decode() for c in node.named_children)
        if node.type.startswith("shorthand_property_identifier"):
            blocked.add((node.text or b"").decode())
    blocked.update({"self", "cls", "_", "this", "arguments"})
    return {n for n in bound - blocked if n and not n.startswith("__")}


def fresh_name(rng: random.Random, python: bool, taken: set[str]) -> str:
    while True:
        first, second = rng.choice(WORDS), rng.choice(WORDS)
        name = f"{first}_{second}" if python else f"{first}{second.capitalize()}"
        if name not in taken and not keyword.iskeyword(name) and name not in JS_RESERVED:
            taken.add(name)
            return name


def new_number(text: str, rng: random.Random) -> str:
    while True:
        if "." in text and not text.startswith(("0x", "0X")):
            candidate = f"{rng.uniform(0.1, 99.9):.2f}"
        else:
            candidate = str(rng.randint(2, 999))
        if candidate != text:
            return candidate
