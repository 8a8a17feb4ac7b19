"""Clone variants of a real function, made with tree-sitter: type-1, type-2 and type-3.

* ``layout`` (type-1): the same tokens in another layout. Indentation width changed, blank
  lines removed and added elsewhere, comments removed and new ones added (full-line and
  trailing), spaces added or removed between tokens on a line. Checked: the token texts
  (comments aside) are identical to the original's.
* ``rename`` (type-2): every local name (parameters, assigned names, loop and ``except``/
  ``catch`` variables, the function's own name) renamed consistently; every number changed and
  every word inside string literals replaced. Attribute and property names, keyword-argument
  names, globals and callees are left alone. Checked: the normalised token stream (identifiers
  and literals abstracted) is identical to the original's.
* ``edit`` (type-3): 10–30 % of the function's simple statements (expression, return,
  declaration, raise/throw, …) each removed, changed (one token: a name, a literal, an
  operator, or one more call argument) or followed by a new statement. Checked: it parses.

Every variant must parse without an ERROR node; a draw that does not is retried with the
next random numbers, and after a few tries the function is given up (``None``).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from functions import (
    COMMENTS,
    STRINGISH,
    Function,
    is_literal,
    is_number,
    leaves,
    normalised,
    parse,
    raw_tokens,
)
from names import WORDS, fresh_name, is_reference, local_names, new_number, walk, words
from tree_sitter import Node, Tree

TRIES = 6
PY_SIMPLE = frozenset(
    {
        "expression_statement",
        "return_statement",
        "assert_statement",
        "raise_statement",
        "delete_statement",
        "import_statement",
        "import_from_statement",
        "break_statement",
        "continue_statement",
        "pass_statement",
    }
)
JS_SIMPLE = frozenset(
    {
        "expression_statement",
        "return_statement",
        "lexical_declaration",
        "variable_declaration",
        "throw_statement",
        "break_statement",
        "continue_statement",
    }
)
BLOCKS = frozenset({"block", "statement_block", "switch_case", "switch_default"})
SPACE_NEUTRAL = frozenset({"(", ")", "[", "]", "{", "}", ","})
OPERATOR_SWAPS = {
    "+": "-",
    "-": "+",
    "*": "+",
    "==": "!=",
    "!=": "==",
    "===": "!==",
    "!==": "===",
    "<": ">",
    ">": "<",
    "<=": ">=",
    ">=": "<=",
    "and": "or",
    "or": "and",
    "&&": "||",
    "||": "&&",
}


@dataclass(frozen=True)
class Variant:
    text: str
    note: str  # what was done, for the record
    edited_share: float = 0.0  # type-3: edited statements / simple statements


def _is_python(language: str) -> bool:
    return language == "python"


def _apply(source: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace byte ranges; edits must not overlap."""
    out = source
    for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


class _Rows:
    """Per-row facts of a parsed text: where lines may be inserted, re-indented, extended."""

    def __init__(self, tree: Tree, text: str, python: bool) -> None:
        self.lines = text.split("\n")
        self.inside: set[int] = set()  # rows that start inside a multi-line token
        self.open_end: set[int] = set()  # rows that end inside a multi-line token
        for node in walk(tree.root_node):
            if node.type in STRINGISH or node.type in COMMENTS:
                first, last = node.start_point.row, node.end_point.row
                self.inside.update(range(first + 1, last + 1))
                self.open_end.update(range(first, last))
        self.continued = {
            row
            for row, line in enumerate(self.lines)
            if python and line.rstrip().endswith("\\") and row not in self.open_end
        }

    def indent(self, row: int) -> str:
        line = self.lines[row]
        return line[: len(line) - len(line.lstrip(" "))]

    def can_insert_before(self, row: int) -> bool:
        return (
            row >= 1
            and row not in self.inside
            and (row - 1) not in self.continued
            and (row - 1) not in self.open_end
        )

    def can_extend(self, row: int) -> bool:
        return row not in self.open_end and row not in self.continued

    def owns(self, node: Node) -> bool:
        """Whether the node starts its row and nothing but a comment follows it on its last."""
        start, end = node.start_point, node.end_point
        if start.row in self.inside or self.lines[start.row][: start.column].strip():
            return False
        rest = self.lines[end.row][end.column :].strip()
        return not rest or rest.startswith(("#", "//"))


def _statements(root: Node) -> Iterator[Node]:
    """Statements that are children of a block: the ones that own a place in the code."""
    for node in walk(root):
        parent = node.parent
        in_block = parent is not None and parent.type in BLOCKS
        if in_block and node.is_named and node.type not in COMMENTS:
            yield node


def _retry(make: Callable[[random.Random], Variant | None], rng: random.Random) -> Variant | None:
    for _ in range(TRIES):
        variant = make(random.Random(rng.random()))
        if variant is not None:
            return variant
    return None


# ------------------------------------------------------------------------------- type 1


def _layout_once(function: Function, rng: random.Random) -> Variant | None:
    python = _is_python(function.language)
    source = function.text.encode()
    tree = parse(function.language, function.text)
    rows = _Rows(tree, function.text, python)
    marker = "#" if python else "//"
    edits: list[tuple[int, int, bytes]] = []
    drop: set[int] = set()
    tokens = list(leaves(tree.root_node))
    removed_comments = 0
    for i, leaf in enumerate(tokens):
        if leaf.type not in COMMENTS:
            continue
        removed_comments += 1
        row = leaf.start_point.row
        before = rows.lines[row][: leaf.start_point.column]
        newlines = b"\n" * (leaf.text or b"").count(b"\n")
        if not before.strip():
            drop.update(range(row, leaf.end_point.row + 1))
            edits.append((leaf.start_byte, leaf.end_byte, newlines))
        else:
            prev = tokens[i - 1]
            start = prev.end_byte if prev.end_point.row == row else leaf.start_byte
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            inline = nxt is not None and nxt.start_point.row == leaf.end_point.row
            edits.append((start, leaf.end_byte, newlines + (b" " if inline else b"")))
    spacing = 0
    for left, right in itertools.pairwise(tokens):
        if left.type in COMMENTS or right.type in COMMENTS:
            continue
        if left.end_point.row != right.start_point.row:
            continue
        gap = source[left.end_byte : right.start_byte]
        if {left.type, right.type} & {"<", ">", "@"} or rng.random() > 0.15:
            continue
        if gap == b"":
            edits.append((left.end_byte, right.start_byte, b" "))
            spacing += 1
        elif gap == b" " and (left.type in SPACE_NEUTRAL or right.type in SPACE_NEUTRAL):
            edits.append((left.end_byte, right.start_byte, b""))
            spacing += 1
    lines = _apply(source, edits).decode().split("\n")
    assert len(lines) == len(rows.lines)
    body_rows = [s.start_point.row for s in _statements(tree.root_node)]
    unit = min((len(rows.indent(r)) for r in body_rows if rows.indent(r)), default=4)
    new_unit = 2 if unit >= 4 else 4
    statement_rows = {s.start_point.row for s in _statements(tree.root_node) if rows.owns(s)} - {0}
    statement_ends = {
        s.end_point.row
        for s in _statements(tree.root_node)
        if rows.owns(s) and s.type in PY_SIMPLE | JS_SIMPLE
    }
    out: list[str] = []
    added_comments = added_blanks = 0
    for row, line in enumerate(lines):
        if row in rows.inside:
            out.append(line)
            continue
        if row in drop or (not line.strip() and row < len(lines) - 1):
            continue
        lead = len(line) - len(line.lstrip(" "))
        indent = " " * ((lead // unit) * new_unit + lead % unit)
        if row in statement_rows and rows.can_insert_before(row):
            if rng.random() < 0.15:
                out.append("")
                added_blanks += 1
            if rng.random() < 0.15:
                out.append(f"{indent}{marker} {words(rng, rng.randint(2, 6))}")
                added_comments += 1
        text = indent + line[lead:] if line.strip() else line
        if row in statement_ends and rows.can_extend(row) and rng.random() < 0.1:
            text += f"  {marker} {words(rng, rng.randint(1, 4))}"
            added_comments += 1
        out.append(text)
    variant = "\n".join(out)
    new_tree = parse(function.language, variant)
    if new_tree.root_node.has_error or variant == function.text:
        return None
    if raw_tokens(new_tree.root_node) != raw_tokens(tree.root_node):
        return None
    note = (
        f"indent {unit}->{new_unit}, {removed_comments} comments removed, "
        f"{added_comments} added, {added_blanks} blank lines added, {spacing} spacing edits"
    )
    return Variant(variant, note)


def layout(function: Function, rng: random.Random) -> Variant | None:
    """A type-1 clone: same tokens, different layout and comments."""
    return _retry(lambda r: _layout_once(function, r), rng)


# ------------------------------------------------------------------------------- type 2


def _rename_once(function: Function, rng: random.Random) -> Variant | None:
    python = _is_python(function.language)
    source = function.text.encode()
    tree = parse(function.language, function.text)
    names = local_names(tree, python)
    taken = {(leaf.text or b"").decode() for leaf in walk(tree.root_node)}
    mapping = {name: fresh_name(rng, python, taken) for name in sorted(names)}
    edits: list[tuple[int, int, bytes]] = []
    literals = 0
    for node in walk(tree.root_node):
        text = (node.text or b"").decode()
        if node.type == "identifier" and text in mapping and is_reference(node):
            edits.append((node.start_byte, node.end_byte, mapping[text].encode()))
        elif is_number(node):
            edits.append((node.start_byte, node.end_byte, new_number(text, rng).encode()))
            literals += 1
        elif node.type in ("string_content", "string_fragment") and re.search("[A-Za-z]", text):
            replaced = re.sub("[A-Za-z]+", lambda _: rng.choice(WORDS), text)
            edits.append((node.start_byte, node.end_byte, replaced.encode()))
            literals += 1
    if not mapping and literals < 2:
        return None
    variant = _apply(source, edits).decode()
    new_tree = parse(function.language, variant)
    if new_tree.root_node.has_error or variant == function.text:
        return None
    if normalised(new_tree.root_node) != normalised(tree.root_node):
        return None
    return Variant(variant, f"{len(mapping)} names renamed, {literals} literals changed")


def rename(function: Function, rng: random.Random) -> Variant | None:
    """A type-2 clone: local names renamed consistently, literals changed."""
    return _retry(lambda r: _rename_once(function, r), rng)


# ------------------------------------------------------------------------------- type 3


def _change(statement: Node, rng: random.Random, python: bool) -> tuple[int, int, bytes] | None:
    """One token-level edit inside a statement, on one row."""
    options: list[tuple[int, int, bytes]] = []
    for node in walk(statement):
        if node.start_point.row != node.end_point.row:
            continue
        text = (node.text or b"").decode()
        if node.type == "identifier" and is_reference(node):
            new = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}" if python else rng.choice(WORDS) + "X"
            options.append((node.start_byte, node.end_byte, new.encode()))
        elif is_number(node):
            options.append((node.start_byte, node.end_byte, new_number(text, rng).encode()))
        elif (
            is_literal(node)
            and node.type in ("string", "template_string")
            and not any(c.type in ("interpolation", "template_substitution") for c in node.children)
        ):
            options.append((node.start_byte, node.end_byte, f'"{words(rng, 2)}"'.encode()))
        elif not node.is_named and text in OPERATOR_SWAPS and node.parent is not None:
            if node.parent.type in (
                "binary_operator",
                "comparison_operator",
                "boolean_operator",
                "binary_expression",
            ):
                options.append((node.start_byte, node.end_byte, OPERATOR_SWAPS[text].encode()))
        elif node.type in ("argument_list", "arguments") and node.children:
            close = node.children[-1]
            if close.type == ")":
                extra = f"{rng.choice(WORDS)}=None" if python else "null"
                sep = ", " if node.named_child_count else ""
                options.append((close.start_byte, close.start_byte, f"{sep}{extra}".encode()))
    return rng.choice(options) if options else None


def _new_statement(
    indent: str, unit: str, names: list[str], rng: random.Random, python: bool, taken: set[str]
) -> str:
    new = fresh_name(rng, python, taken)
    name = rng.choice(names) if names else None
    if python:
        templates = [f"{new} = None", f"{new} = {rng.randint(2, 99)}"]
        if name:
            templates += [
                f"{new} = {name}",
                f'logger.debug("{words(rng, 2)}: %r", {name})',
                f"assert {name} is not None",
                f"if {name} is None:\n{indent}{unit}return None",
                f"{new} = len({name})",
            ]
    else:
        templates = [f"let {new} = null;", f"const {new} = {rng.randint(2, 99)};"]
        if name:
            templates += [
                f"const {new} = {name};",
                f'console.debug("{words(rng, 2)}", {name});',
                f"if ({name} == null) {{\n{indent}{unit}return undefined;\n{indent}}}",
                f"const {new} = String({name});",
            ]
    return indent + rng.choice(templates)


def _edit_once(function: Function, rng: random.Random) -> Variant | None:
    python = _is_python(function.language)
    simple = PY_SIMPLE if python else JS_SIMPLE
    tree = parse(function.language, function.text)
    rows = _Rows(tree, function.text, python)
    statements = [s for s in _statements(tree.root_node) if s.type in simple]
    statements = [s for s in statements if not _is_docstring(s)]
    if len(statements) < 4:
        return None  # one statement of three is already a third
    candidates = [s for s in statements if rows.owns(s)]
    total = len(statements)
    count = max(1, round(rng.uniform(0.10, 0.30) * total))
    if count / total < 0.10:  # rounding must not leave the 10–30 % band
        count += 1
    elif count / total > 0.30:
        count -= 1
    if not 0.10 <= count / total <= 0.30 or count > len(candidates):
        return None
    chosen = sorted(rng.sample(candidates, count), key=lambda s: s.start_byte)
    names = sorted(local_names(tree, python))
    taken = {(leaf.text or b"").decode() for leaf in walk(tree.root_node)}
    indent_unit = " " * (4 if python else 2)
    left_in_block: dict[int, int] = {}
    edits: list[tuple[int, int, bytes]] = []
    removed: set[int] = set()
    inserted: dict[int, str] = {}
    done = {"removed": 0, "changed": 0, "added": 0}
    for statement in chosen:
        parent = statement.parent
        assert parent is not None
        key = parent.id
        left_in_block.setdefault(
            key, sum(1 for c in parent.named_children if c.type not in COMMENTS)
        )
        ops = ["add", "change"] + (["remove"] if left_in_block[key] > 1 else [])
        op = rng.choice(ops)
        edit = _change(statement, rng, python) if op == "change" else None
        if op == "change" and edit is None:
            op = "add"
        if op == "change" and edit is not None:
            edits.append(edit)
        elif op == "remove":
            left_in_block[key] -= 1
            removed.update(range(statement.start_point.row, statement.end_point.row + 1))
        else:
            row = statement.end_point.row
            if not rows.can_extend(row):
                return None
            indent = rows.indent(statement.start_point.row)
            inserted[row] = _new_statement(indent, indent_unit, names, rng, python, taken)
        done[{"add": "added", "change": "changed", "remove": "removed"}[op]] += 1
    lines = _apply(function.text.encode(), edits).decode().split("\n")
    out: list[str] = []
    for row, line in enumerate(lines):
        if row not in removed:
            out.append(line)
        if row in inserted:
            out.append(inserted[row])
    variant = "\n".join(out)
    new_tree = parse(function.language, variant)
    if new_tree.root_node.has_error or normalised(new_tree.root_node) == normalised(tree.root_node):
        return None
    note = (
        f"{count}/{len(statements)} statements: {done['removed']} removed, "
        f"{done['changed']} changed, {done['added']} added"
    )
    return Variant(variant, note, count / len(statements))


def _is_docstring(statement: Node) -> bool:
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return False
    return statement.named_children[0].type == "string" and statement.prev_named_sibling is None


def edit(function: Function, rng: random.Random) -> Variant | None:
    """A type-3 clone: 10–30 % of the simple statements removed, changed or added to."""
    return _retry(lambda r: _edit_once(function, r), rng)
