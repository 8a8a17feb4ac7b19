"""Traits of a unit's declaration: its decorators (annotations, attributes) and base types.

Mined structure conventions read them ("every class in ``handlers/`` subclasses
``BaseHandler``", "every view is decorated with ``@login_required``"). A trait is a string:
``decorator:<name>`` or ``base:<name>``, the name as written without arguments or type
parameters (``@app.route("/x")`` is ``decorator:app.route``, ``extends Repo<User>`` is
``base:Repo``).
"""

from __future__ import annotations

import tree_sitter

from analyzers.lang.language import node_text

DECORATOR = "decorator:"
BASE = "base:"
# A function or class expression named after the object key or member it is assigned to
# (``{greater_than: (x) => …}``, ``obj.run = function () {}``): its name follows the data it
# is keyed by, not the code's naming style.
PROPERTY = "bound:property"
_EXPRESSIONS = frozenset({"function_expression", "generator_function", "arrow_function", "class"})

# Nodes that decorate the declaration they belong to or precede, per grammar.
_DECORATOR_NODES = frozenset(
    {"decorator", "marker_annotation", "annotation", "attribute_list", "attribute_item"}
)
# Containers of the base types of a class, per grammar.
_BASE_FIELDS = ("superclasses", "superclass", "interfaces")
_BASE_CHILDREN = frozenset({"class_heritage", "base_list", "extends_clause", "implements_clause"})
_SKIP_BASE = frozenset(
    {"keyword_argument", "dictionary_splat", "list_splat", "type_arguments", "comment"}
)


def traits(node: tree_sitter.Node) -> tuple[str, ...]:
    """The decorators and base types of the declaration ``node`` (a unit's node)."""
    found: list[str] = []
    for deco in _decorators(node):
        name = _decorator_name(deco)
        if name:
            found.append(DECORATOR + name)
    for base in _bases(node):
        name = _type_name(base)
        if name:
            found.append(BASE + name)
    if _bound_to_property(node):
        found.append(PROPERTY)
    return tuple(dict.fromkeys(found))


def _bound_to_property(node: tree_sitter.Node) -> bool:
    parent = node.parent
    if node.type not in _EXPRESSIONS or parent is None:
        return False
    if parent.type == "pair":
        return True
    if parent.type == "assignment_expression":
        left = parent.child_by_field_name("left")
        return left is not None and left.type == "member_expression"
    return False


def _decorators(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    out: list[tree_sitter.Node] = []
    for child in node.children:
        if child.type in _DECORATOR_NODES:
            out.append(child)
        elif child.type in ("modifiers", "modifier"):  # Java annotations sit in modifiers
            out.extend(c for c in child.children if c.type in _DECORATOR_NODES)
    parent = node.parent
    if parent is not None and parent.type in ("decorated_definition", "export_statement"):
        out.extend(c for c in parent.children if c.type in _DECORATOR_NODES)
    # TypeScript class members and Rust items: decorators are the preceding siblings.
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in ("decorator", "attribute_item"):
        out.append(sibling)
        sibling = sibling.prev_named_sibling
    return out


def _decorator_name(node: tree_sitter.Node) -> str:
    if node.type == "attribute_list":  # C#: [A, B(x)] holds attributes
        names = [_decorator_name(c) for c in node.named_children if c.type == "attribute"]
        return ",".join(n for n in names if n)
    named = node.child_by_field_name("name")
    if named is None:
        inner = [c for c in node.named_children if c.type not in ("comment",)]
        if not inner:
            return ""
        named = inner[0]
        if named.type in ("call", "call_expression"):
            named = named.child_by_field_name("function") or named
        elif named.type == "attribute" and node.type == "attribute_item":  # Rust #[path(args)]
            named = named.named_children[0] if named.named_children else named
    return _plain(named)


def _bases(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    out: list[tree_sitter.Node] = []
    containers = [node.child_by_field_name(f) for f in _BASE_FIELDS]
    containers += [c for c in node.children if c.type in _BASE_CHILDREN]
    for container in containers:
        if container is not None:
            out.extend(_base_types(container))
    if node.type == "type_spec":  # Go: a struct's embedded fields are its "bases"
        body = node.child_by_field_name("type")
        fields = body.named_children[0] if body is not None and body.named_children else None
        if body is not None and body.type == "struct_type" and fields is not None:
            for field in fields.named_children:
                if field.type == "field_declaration" and field.child_by_field_name("name") is None:
                    kind = field.child_by_field_name("type")
                    if kind is not None:
                        out.append(kind)
    return out


def _base_types(container: tree_sitter.Node) -> list[tree_sitter.Node]:
    out: list[tree_sitter.Node] = []
    for child in container.named_children:
        if child.type in _SKIP_BASE:
            continue
        if child.type in ("extends_clause", "implements_clause", "type_list", "superclass"):
            out.extend(_base_types(child))
        else:
            out.append(child)
    return out


def _type_name(node: tree_sitter.Node) -> str:
    if node.type in ("generic_type", "generic_name"):
        first = node.named_children[0] if node.named_children else None
        return _plain(first) if first is not None else ""
    return _plain(node)


def _plain(node: tree_sitter.Node) -> str:
    text = node_text(node)
    for stop in ("(", "<", "[", "{"):
        text = text.split(stop, 1)[0]
    text = "".join(text.split()).lstrip("@*&").rstrip(":,")
    return text if len(text) <= 200 else ""
