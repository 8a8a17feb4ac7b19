"""Real functions of the corpus, picked with tree-sitter, for the clone benchmark.

Python: every ``def`` that is not nested in another one (methods included, dedented to column
0). JavaScript/TypeScript: top-level function declarations, ``export`` included. A function
qualifies at 8–60 lines and at least 50 tokens. ``sample`` then draws, with a seeded RNG,
functions that are mutually unrelated: the Jaccard similarity of their normalised token
5-grams (identifiers and literals abstracted, comments dropped) stays below a bound, so that
no two benchmark units are clones of each other before the generator makes them so.
"""

from __future__ import annotations

import random
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gitrepo
from languages import language_of, parser
from tree_sitter import Node, Tree

MIN_LINES = 8
MAX_LINES = 60
MIN_TOKENS = 50
SHINGLE = 5

# Nodes kept whole as one token: their inside is text, not code.
STRINGISH = frozenset({"string", "template_string", "regex"})
IDENTIFIERS = frozenset(
    {
        "identifier",
        "property_identifier",
        "type_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
        "private_property_identifier",
        "field_identifier",
        "statement_identifier",
    }
)
# Named nodes only: TypeScript's type keywords ``number`` and ``string`` are anonymous nodes
# with the same type names.
LITERALS = frozenset({"integer", "float", "number", *STRINGISH})
NUMBERS = frozenset({"integer", "float", "number"})


def is_literal(node: Node) -> bool:
    return node.is_named and node.type in LITERALS


def is_number(node: Node) -> bool:
    return node.is_named and node.type in NUMBERS


COMMENTS = frozenset({"comment", "html_comment"})


def leaves(node: Node) -> Iterator[Node]:
    """The tokens under ``node`` in order: leaves, with strings and regexes kept whole."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0 or current.type in STRINGISH:
            yield current
        else:
            stack.extend(reversed(current.children))


def normalised(node: Node) -> list[str]:
    """Token kinds with identifiers and literals abstracted and comments dropped."""
    out = []
    for leaf in leaves(node):
        if leaf.type in COMMENTS:
            continue
        if leaf.type in IDENTIFIERS:
            out.append("ID")
        elif is_literal(leaf):
            out.append("LIT")
        else:
            out.append(leaf.type)
    return out


def raw_tokens(node: Node) -> list[bytes]:
    """Token texts, comments dropped: equal for two layouts of the same code."""
    return [leaf.text or b"" for leaf in leaves(node) if leaf.type not in COMMENTS]


def shingles(tokens: list[str]) -> frozenset[int]:
    grams = (" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))
    return frozenset(zlib.crc32(g.encode()) for g in grams)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True)
class Function:
    language: str  # "python" | "javascript" | "typescript"
    origin: str  # "django/db/models/query.py:123" — where it comes from in the corpus
    name: str
    text: str  # starts at column 0, ends with a newline
    tokens: int
    shingles: frozenset[int]

    @property
    def lines(self) -> int:
        return self.text.count("\n")


def parse(language: str, text: str) -> Tree:
    return parser(language).parse(text.encode())


_JS_DECLARATIONS = frozenset({"function_declaration", "generator_function_declaration"})
_JS_EXPRESSIONS = frozenset({"arrow_function", "function_expression", "function"})


def _rows(node: Node) -> int:
    return node.end_point.row - node.start_point.row + 1


def _js_prefix(node: Node) -> str | None:
    """What turns a JS/TS function-like node into a top-level declaration, or None."""
    if node.type in _JS_DECLARATIONS:
        return ""
    if node.type == "method_definition":
        first = node.children[0].type if node.children else ""
        return "function " if first in ("property_identifier", "async") else None
    if node.type in _JS_EXPRESSIONS:
        body = node.child_by_field_name("body")
        if body is None or body.type != "statement_block":
            return None
        parent = node.parent
        name = None
        if parent is not None and parent.type == "variable_declarator":
            name_node = parent.child_by_field_name("name")
            if name_node is not None and name_node.type == "identifier":
                name = (name_node.text or b"").decode()
        return f"const {name or f'callback{node.start_point.row + 1}'} = "
    return None


def _candidates(language: str, root: Node) -> Iterator[tuple[Node, str]]:
    """(node, prefix) of the outermost functions of the right size; prefix makes it top-level."""
    stack = [root]
    while stack:
        node = stack.pop()
        prefix: str | None
        if language == "python":
            prefix = "" if node.type == "function_definition" else None
        else:
            prefix = _js_prefix(node)
        if prefix is not None and MIN_LINES <= _rows(node) <= MAX_LINES:
            yield node, prefix
        else:
            stack.extend(reversed(node.children))


def _dedent(source: bytes, node: Node, prefix: str) -> str | None:
    """The node's text moved to column 0: its first row's indentation removed from every row."""
    lines = source.splitlines()[node.start_point.row : node.end_point.row + 1]
    first = lines[0]
    indent = len(first) - len(first.lstrip(b" "))
    lines[-1] = lines[-1][: node.end_point.column]
    lines[0] = prefix.encode() + first[node.start_point.column :]
    out = [lines[0]]
    for line in lines[1:]:
        out.append(line[indent:] if not line[:indent].strip() else line)
    text = b"\n".join(out) + (b";" if prefix.startswith("const ") else b"")
    try:
        return text.decode() + "\n"
    except UnicodeDecodeError:
        return None


def _name(node: Node, text: str) -> str:
    name = node.child_by_field_name("name")
    if name is not None:
        return (name.text or b"").decode()
    match = re.match(r"\s*(?:async\s+)?(?:const|function\*?)\s+(\w+)", text)
    return match.group(1) if match else "<anonymous>"


def extract(
    repo: Path, languages: frozenset[str], rng: random.Random, limit: int
) -> list[Function]:
    """Qualifying functions of the committed files of ``repo``, files in a random order.

    Stops after the file where ``limit`` functions have been found.
    """
    found: list[Function] = []
    paths = sorted(gitrepo.git(repo, "ls-files").splitlines())
    rng.shuffle(paths)
    for rel in paths:
        if len(found) >= limit:
            break
        language = language_of(rel)
        if language not in languages:
            continue
        assert language is not None
        source = (repo / rel).read_bytes()
        if b"\t" in source:
            continue  # tab-indented files make re-indentation ambiguous
        tree = parser(language).parse(source)
        for node, prefix in _candidates(language, tree.root_node):
            if node.has_error:
                continue
            text = _dedent(source, node, prefix)
            if text is None:
                continue
            reparsed = parse(language, text)
            if reparsed.root_node.has_error:
                continue
            tokens = normalised(reparsed.root_node)
            if len(tokens) < MIN_TOKENS:
                continue
            found.append(
                Function(
                    language=language,
                    origin=f"{rel}:{node.start_point.row + 1}",
                    name=_name(node, text),
                    text=text,
                    tokens=len(tokens),
                    shingles=shingles(tokens),
                )
            )
    return found


class Pool:
    """Functions drawn at random, each unrelated to every one drawn before."""

    def __init__(self, functions: list[Function], rng: random.Random, max_jaccard: float) -> None:
        self._queue = list(functions)
        rng.shuffle(self._queue)
        self._max_jaccard = max_jaccard
        self._index: dict[int, list[int]] = {}
        self._taken: list[Function] = []

    def _unrelated(self, candidate: Function) -> bool:
        shared: Counter[int] = Counter()
        for gram in candidate.shingles:
            for taken in self._index.get(gram, ()):
                shared[taken] += 1
        for taken, count in shared.items():
            other = self._taken[taken].shingles
            if count / (len(candidate.shingles) + len(other) - count) >= self._max_jaccard:
                return False
        return True

    def take(self) -> Function | None:
        """The next function unrelated to all taken ones, or None when none is left."""
        while self._queue:
            candidate = self._queue.pop()
            if self._unrelated(candidate):
                self._accept(candidate)
                return candidate
        return None

    def take_like(self, other: Function, tries: int = 400) -> Function | None:
        """An unrelated function of about the same size as ``other`` (±25 % lines)."""
        for position in range(len(self._queue) - 1, max(-1, len(self._queue) - 1 - tries), -1):
            candidate = self._queue[position]
            if not 0.8 <= candidate.lines / other.lines <= 1.25:
                continue
            if self._unrelated(candidate):
                del self._queue[position]
                self._accept(candidate)
                return candidate
        return None

    def _accept(self, function: Function) -> None:
        number = len(self._taken)
        self._taken.append(function)
        for gram in function.shingles:
            self._index.setdefault(gram, []).append(number)
