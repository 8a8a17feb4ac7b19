"""Function shapes: what a fix needs to know of a top-level function, read with tree-sitter.

A shape holds the function's parameters (name, kind, default), the text of its header, whether
it is exported, and its leaves (comments and a Python docstring left out) with the names the
function binds itself (parameters, assignments, loop variables). Two shapes *behave alike*
when their leaves are equal but for a consistent renaming of such local names: the literals,
the attributes, the keyword arguments and every free name (what the function calls) are the
same, so calling one instead of the other gives the same results.

Python, JavaScript, TypeScript (and TSX) and Go are read; other languages have no shape.
Nothing here recurses: trees are walked with explicit stacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from analyzers.languages import language_for_path
from analyzers.tokens import count_errors

_FUNCTIONS = {
    "python": ("function_definition",),
    "javascript": ("function_declaration",),
    "typescript": ("function_declaration",),
    "tsx": ("function_declaration",),
    "go": ("function_declaration",),
}
_TOP = {"module", "program", "source_file"}
_COMMENTS = {"comment", "line_continuation", "html_comment"}


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its name, kind and default value's text."""

    name: str
    kind: str  # "plain" | "keyword" (Python, after *) | "star" | "starstar" | "rest"
    default: str | None = None
    text: str = ""  # as written: "fallback=None", "raw: string", "args ...string"


@dataclass(frozen=True, slots=True)
class Shape:
    """A top-level function of a file, as a fix reads it."""

    language: str
    name: str
    start_line: int  # of the whole statement (an `export` included), 1-based
    end_line: int
    params: tuple[Param, ...]
    header: str  # from the statement's start to its body: "def f(a, b=1):", "func f(a int) int"
    exported: bool  # TS/JS: in an export statement; Go: capitalised; Python: no leading _
    decorated: bool
    results: bool  # Go: the function returns something
    leaves: tuple[tuple[str, str, bool], ...]  # (type, text, may be renamed) without comments
    bound: frozenset[str]  # names the function binds itself (its own name included)
    form: str = "declaration"  # JS/TS: "declaration" | "arrow" | "expression" (`const f = …`)


@lru_cache(maxsize=8)  # a review asks for the same few files once per finding in them
def read_tree(path: str, source: bytes) -> tuple[str, tree_sitter.Tree] | None:
    """The language name and syntax tree of ``source``, or None for an unsupported path."""
    language = language_for_path(path)
    if language is None:
        return None
    return language.name, language.parser().parse(source)


def syntax_errors(path: str, source: bytes) -> int | None:
    """ERROR and MISSING nodes in ``source`` read as ``path``; None when not supported."""
    read = read_tree(path, source)
    return None if read is None else count_errors(read[1])


def function_shape(path: str, source: bytes, line: int) -> Shape | None:
    """The top-level function whose definition starts on ``line``, or None."""
    read = read_tree(path, source)
    if read is None or read[0] not in _FUNCTIONS:
        return None
    language, tree = read
    for node, name, statement in _top_functions(tree.root_node, language):
        if node.start_point[0] + 1 == line or statement.start_point[0] + 1 == line:
            return _shape(language, node, name, statement, source)
    return None


_Found = tuple[tree_sitter.Node, tree_sitter.Node, tree_sitter.Node]  # function, name, statement


def _top_functions(root: tree_sitter.Node, language: str) -> Iterator[_Found]:
    for child in root.named_children:
        node = child
        if node.type in ("export_statement", "decorated_definition"):
            inner = node.child_by_field_name("declaration") or node.child_by_field_name(
                "definition"
            )
            if inner is None:
                continue
            node = inner
        name = node.child_by_field_name("name")
        if node.type in _FUNCTIONS[language] and name is not None:
            yield node, name, child
        elif node.type in ("lexical_declaration", "variable_declaration"):
            # `const f = (a, b) => …` and `const f = function (a) {…}`: one binding only
            declarators = [c for c in node.named_children if c.type == "variable_declarator"]
            if len(declarators) != 1:
                continue
            value = declarators[0].child_by_field_name("value")
            bound = declarators[0].child_by_field_name("name")
            if (
                value is not None
                and bound is not None
                and bound.type == "identifier"
                and value.type in ("arrow_function", "function_expression")
            ):
                yield value, bound, child


def _text(node: tree_sitter.Node | None, source: bytes) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _shape(
    language: str,
    node: tree_sitter.Node,
    name_node: tree_sitter.Node,
    statement: tree_sitter.Node,
    source: bytes,
) -> Shape | None:
    body = node.child_by_field_name("body")
    params_node = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
    if body is None or params_node is None:
        return None
    name = _text(name_node, source)
    decorated = statement.type == "decorated_definition"
    exported = statement.type == "export_statement"
    if language == "go":
        exported = name[:1].isupper()
    elif language == "python":
        exported = not name.startswith("_")
    params = _params(language, params_node, source)
    if params is None:
        return None
    before_body = [
        c for c in node.children if c.end_byte <= body.start_byte and c.type not in _COMMENTS
    ]
    header_end = before_body[-1].end_byte if before_body else body.start_byte
    header = source[statement.start_byte : header_end].decode("utf-8", "replace").rstrip()
    results = language == "go" and node.child_by_field_name("result") is not None
    bound, fixed = _bindings(language, node, source)
    bound.add(name)
    return Shape(
        language=language,
        name=name,
        start_line=statement.start_point[0] + 1,
        end_line=statement.end_point[0] + 1,
        params=params,
        header=header,
        exported=exported,
        decorated=decorated,
        results=results,
        leaves=tuple(_leaves(language, node, body, name_node, source, fixed)),
        bound=frozenset(bound),
        form={"arrow_function": "arrow", "function_expression": "expression"}.get(
            node.type, "declaration"
        ),
    )


def _params(language: str, node: tree_sitter.Node, source: bytes) -> tuple[Param, ...] | None:
    if node.type == "identifier":  # `x => …`
        return (Param(_text(node, source), "plain", None, _text(node, source)),)
    params: list[Param] = []
    keyword = False
    for child in node.named_children:
        if child.type in _COMMENTS:
            continue
        text = _text(child, source)
        if language == "python":
            param = _python_param(child, source, keyword)
            if param is None:
                if child.type == "keyword_separator":  # a bare `*`
                    keyword = True
                    continue
                return None  # `/` and anything unexpected: no shape
            keyword = keyword or param.kind == "star"
            params.append(param)
        elif language == "go":
            names = [c for c in child.children_by_field_name("name")]
            kind = "rest" if child.type == "variadic_parameter_declaration" else "plain"
            if not names:
                return None  # an unnamed parameter cannot be passed on
            params.extend(Param(_text(n, source), kind, None, text) for n in names)
        else:
            param = _js_param(child, source)
            if param is None:
                return None
            params.append(param)
    return tuple(params)


def _python_param(node: tree_sitter.Node, source: bytes, keyword: bool) -> Param | None:
    text = _text(node, source)
    plain = "keyword" if keyword else "plain"
    if node.type == "identifier":
        return Param(text, plain, None, text)
    if node.type in ("default_parameter", "typed_default_parameter"):
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        return Param(_text(name, source), plain, _text(value, source), text)
    if node.type == "typed_parameter":
        inner = node.named_children[0] if node.named_children else None
        if inner is None:
            return None
        if inner.type == "identifier":
            return Param(_text(inner, source), plain, None, text)
        node = inner
    if node.type in ("list_splat_pattern", "dictionary_splat_pattern"):
        ident = node.named_children[0] if node.named_children else None
        if ident is None:
            return None
        kind = "star" if node.type == "list_splat_pattern" else "starstar"
        return Param(_text(ident, source), kind, None, text)
    return None


def _js_param(node: tree_sitter.Node, source: bytes) -> Param | None:
    text = _text(node, source)
    if node.type == "identifier":
        return Param(text, "plain", None, text)
    if node.type == "assignment_pattern":
        left = node.child_by_field_name("left")
        if left is None or left.type != "identifier":
            return None
        return Param(_text(left, source), "plain", _text(node.child_by_field_name("right"), source))
    if node.type == "rest_pattern":
        ident = node.named_children[0] if node.named_children else None
        return None if ident is None else Param(_text(ident, source), "rest", None, text)
    if node.type in ("required_parameter", "optional_parameter"):
        pattern = node.child_by_field_name("pattern")
        if pattern is None:
            return None
        value = node.child_by_field_name("value")
        default = _text(value, source) if value is not None else None
        if pattern.type == "rest_pattern":
            inner = pattern.named_children[0] if pattern.named_children else None
            return None if inner is None else Param(_text(inner, source), "rest", None, text)
        if pattern.type != "identifier":
            return None  # a destructured parameter: no name to pass on
        return Param(_text(pattern, source), "plain", default, text)
    return None


# Where each language binds names: (node type, field holding the bound pattern).
_BINDERS = {
    "python": (
        ("assignment", "left"),
        ("augmented_assignment", "left"),
        ("for_statement", "left"),
        ("for_in_clause", "left"),
        ("named_expression", "name"),
        ("as_pattern", "alias"),
        ("function_definition", "name"),
        ("parameters", ""),
        ("lambda_parameters", ""),
    ),
    "javascript": (
        ("variable_declarator", "name"),
        ("for_in_statement", "left"),
        ("catch_clause", "parameter"),
        ("formal_parameters", ""),
        ("arrow_function", "parameter"),
        ("function_declaration", "name"),
    ),
    "go": (
        ("short_var_declaration", "left"),
        ("var_spec", "name"),
        ("const_spec", "name"),
        ("range_clause", "left"),
        ("parameter_declaration", "name"),
        ("variadic_parameter_declaration", "name"),
    ),
}
_BINDERS["typescript"] = _BINDERS["tsx"] = _BINDERS["javascript"]
# Identifiers that name something outside the function whatever binds locally: attributes,
# keyword arguments, object keys.
_FIXED_FIELDS = {
    "python": (("attribute", "attribute"), ("keyword_argument", "name")),
    "javascript": (("pair", "key"),),
    "go": (),
}
_FIXED_FIELDS["typescript"] = _FIXED_FIELDS["tsx"] = _FIXED_FIELDS["javascript"]
# Patterns to descend through when collecting bound names (not attributes or subscripts).
_PATTERNS = {
    "pattern_list",
    "tuple_pattern",
    "list_pattern",
    "parenthesized_expression",
    "expression_list",
    "as_pattern_target",
    "list_splat_pattern",
    "dictionary_splat_pattern",
    "default_parameter",
    "typed_parameter",
    "typed_default_parameter",
    "parameters",
    "lambda_parameters",
    "formal_parameters",
    "required_parameter",
    "optional_parameter",
    "assignment_pattern",
    "rest_pattern",
    "array_pattern",
    "object_pattern",
    "pair_pattern",
    "lexical_declaration",
    "variable_declarator",
}


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _bindings(language: str, node: tree_sitter.Node, source: bytes) -> tuple[set[str], set[int]]:
    """Names bound in the function, and the start bytes of identifiers that must not change."""
    binders = dict(_BINDERS[language])
    fixed_fields = _FIXED_FIELDS[language]
    bound: set[str] = set()
    fixed: set[int] = set()
    for current in _walk(node):
        for kind, field_name in fixed_fields:
            if current.type == kind:
                target = current.child_by_field_name(field_name)
                if target is not None:
                    fixed.add(target.start_byte)
        if current.type not in binders:
            continue
        if current.type == "function_definition" and current is node:
            continue
        field_name = binders[current.type]
        targets = (
            current.children_by_field_name(field_name) if field_name else current.named_children
        )
        for target in targets:
            bound.update(_names_in(target, source))
    return bound, fixed


def _names_in(pattern: tree_sitter.Node, source: bytes) -> Iterator[str]:
    stack = [pattern]
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "shorthand_property_identifier_pattern"):
            yield _text(current, source)
        elif current.type == "pair_pattern":  # `{key: local}` binds the local only
            value = current.child_by_field_name("value")
            if value is not None:
                stack.append(value)
        elif current.type in _PATTERNS:
            # Defaults and types bind nothing.
            skip = {
                c.start_byte
                for f in ("value", "right", "type")
                if (c := current.child_by_field_name(f)) is not None
            }
            stack.extend(c for c in current.named_children if c.start_byte not in skip)


def _docstring(language: str, body: tree_sitter.Node) -> tree_sitter.Node | None:
    if language != "python" or not body.named_children:
        return None
    first = body.named_children[0]
    if first.type == "expression_statement" and [c.type for c in first.named_children] == [
        "string"
    ]:
        return first
    return None


def _leaves(
    language: str,
    node: tree_sitter.Node,
    body: tree_sitter.Node,
    name: tree_sitter.Node,
    source: bytes,
    fixed: set[int],
) -> Iterator[tuple[str, str, bool]]:
    skip = _docstring(language, body)
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _COMMENTS or current in (skip, name):
            continue
        if current.child_count == 0:
            renamable = current.type == "identifier" and current.start_byte not in fixed
            yield current.type, _text(current, source), renamable
            continue
        stack.extend(reversed(current.children))


def behave_alike(copy: Shape, original: Shape) -> bool:
    """Whether calling ``original`` instead of ``copy`` gives the same results: the same
    leaves, names the functions bind themselves consistently renamed, everything else equal."""
    if copy.language != original.language or len(copy.leaves) != len(original.leaves):
        return False
    forward: dict[str, str] = {copy.name: original.name}
    backward: dict[str, str] = {original.name: copy.name}
    for (ta, a, ra), (tb, b, rb) in zip(copy.leaves, original.leaves, strict=True):
        if ta != tb:
            return False
        if ta != "identifier":
            if a != b:
                return False
            continue
        local = ra and rb and a in copy.bound and b in original.bound
        if a != b and not local:
            return False
        if forward.setdefault(a, b) != b or backward.setdefault(b, a) != a:
            return False
    return True
