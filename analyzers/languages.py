"""Languages: which files each tree-sitter grammar reads, and what its node types mean to cairn.

Adding a language is one entry in ``LANGUAGES``: its grammar wheel, its extensions, the node
types that are units (and their kind), the leaves that are identifiers, literals and comments,
and, for the few unit types whose name is not in a ``name`` field, a function that finds it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import tree_sitter

FUNCTION = "function"  # a method when its nearest enclosing unit is a class
METHOD = "method"  # always a method (Java, C#: they only exist in types)
CLASS = "class"  # class, struct, interface, trait, impl, enum, record, Ruby module
MODULE = "module"  # reported as a class, but the functions inside it stay functions

Namer = Callable[[tree_sitter.Node], str | None]


def text_of(node: tree_sitter.Node | None) -> str | None:
    """The source text of ``node`` (lossy on invalid UTF-8), or None without a node."""
    if node is None or node.text is None:
        return None
    return node.text.decode("utf-8", "replace")


def _field(name: str) -> Namer:
    def namer(node: tree_sitter.Node) -> str | None:
        return text_of(node.child_by_field_name(name))

    return namer


def _bare(text: str | None) -> str | None:
    """``*List[T]`` → ``List``, ``HashMap<K, V>`` → ``HashMap``: the type a method belongs to."""
    if not text:
        return None
    for stop in "<[(":
        text = text.split(stop, 1)[0]
    return text.strip().lstrip("*&").strip() or None


def _js_binding(node: tree_sitter.Node) -> str | None:
    """A function or class expression's own name, else the name it is bound to, else None."""
    own = text_of(node.child_by_field_name("name"))
    if own:
        return own
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
    elif parent.type == "assignment_expression":
        target = parent.child_by_field_name("left")
        if target is not None and target.type == "member_expression":
            target = target.child_by_field_name("property")
    elif parent.type == "pair":
        target = parent.child_by_field_name("key")
    elif parent.type == "field_definition":
        target = parent.child_by_field_name("property")
    elif parent.type == "public_field_definition":
        target = parent.child_by_field_name("name")
    elif parent.type == "export_statement":
        return "default"  # `export default function () {}`: imported under that name
    else:
        return None
    if target is None or target.type.endswith("pattern"):
        return None  # destructuring: no single name
    name = text_of(target)
    return name.strip("'\"`") if name else None


def _go_type(node: tree_sitter.Node) -> str | None:
    kind = node.child_by_field_name("type")
    if kind is None or kind.type not in ("struct_type", "interface_type"):
        return None  # type aliases and named func/map types are not units
    return text_of(node.child_by_field_name("name"))


def _go_receiver(node: tree_sitter.Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    for param in receiver.named_children:
        if param.type == "parameter_declaration":
            return _bare(text_of(param.child_by_field_name("type")))
    return None


def _rust_impl(node: tree_sitter.Node) -> str | None:
    return _bare(text_of(node.child_by_field_name("type")))


def _with_body(node: tree_sitter.Node) -> str | None:
    """The name of a declaration with a body: not of an abstract method, nor of `mod foo;`."""
    if node.child_by_field_name("body") is None:
        return None
    return text_of(node.child_by_field_name("name"))


_by_name = _field("name")


@dataclass(frozen=True, slots=True, eq=False)
class Language:
    """One tree-sitter grammar and how cairn reads its trees."""

    name: str
    extensions: tuple[str, ...]
    grammar: str  # "tree_sitter_python" or "tree_sitter_typescript:language_tsx"
    units: Mapping[str, str]  # node type → FUNCTION | METHOD | CLASS | MODULE
    identifiers: frozenset[str]  # leaves normalised to $ID
    literals: frozenset[str]  # nodes normalised, whole, to $LIT
    comments: frozenset[str]  # nodes dropped, whole: comments and layout-only tokens
    names: Mapping[str, Namer] = field(default_factory=dict)  # unit type → namer; default: `name`
    owner: Namer | None = None  # the type a unit declared outside it belongs to (Go receivers)

    @property
    def grammar_language(self) -> tree_sitter.Language:
        """The tree-sitter grammar, loaded from its wheel on first use."""
        loaded = _GRAMMARS.get(self.name)
        if loaded is None:
            module, _, function = self.grammar.partition(":")
            capsule = getattr(importlib.import_module(module), function or "language")()
            loaded = _GRAMMARS.setdefault(self.name, tree_sitter.Language(capsule))
        return loaded

    def parser(self) -> tree_sitter.Parser:
        """This thread's parser for the language (parsers are not thread-safe, so one each)."""
        parsers: dict[str, tree_sitter.Parser] = _PARSERS.__dict__.setdefault("by_name", {})
        parser = parsers.get(self.name)
        if parser is None:
            parser = parsers[self.name] = tree_sitter.Parser(self.grammar_language)
        return parser

    def namer(self, node_type: str) -> Namer:
        """How to find the name of a unit of ``node_type``; a namer returning None means "skip"."""
        return self.names.get(node_type, _by_name)


_GRAMMARS: dict[str, tree_sitter.Language] = {}
_PARSERS = threading.local()

_JS_IDENTIFIERS = frozenset(
    {
        "identifier",
        "property_identifier",
        "private_property_identifier",
        "shorthand_property_identifier",
        "shorthand_property_identifier_pattern",
        "statement_identifier",
    }
)
_TS_IDENTIFIERS = _JS_IDENTIFIERS | {"type_identifier"}
_JS_LITERALS = frozenset({"string", "template_string", "number", "regex", "jsx_text"})
_JS_UNITS = {
    "function_declaration": FUNCTION,
    "generator_function_declaration": FUNCTION,
    "function_expression": FUNCTION,
    "generator_function": FUNCTION,
    "arrow_function": FUNCTION,
    "method_definition": FUNCTION,
    "class_declaration": CLASS,
    "class": CLASS,
}
_TS_UNITS = {
    **_JS_UNITS,
    "abstract_class_declaration": CLASS,
    "interface_declaration": CLASS,
    "enum_declaration": CLASS,
    "internal_module": MODULE,
}
_JS_NAMES: dict[str, Namer] = {
    kind: _js_binding
    for kind in ("function_expression", "generator_function", "arrow_function", "class")
}

LANGUAGES: tuple[Language, ...] = (
    Language(
        name="python",
        extensions=(".py", ".pyi"),
        grammar="tree_sitter_python",
        units={"function_definition": FUNCTION, "class_definition": CLASS},
        identifiers=frozenset({"identifier"}),
        literals=frozenset({"string", "concatenated_string", "integer", "float"}),
        comments=frozenset({"comment", "line_continuation"}),
    ),
    Language(
        name="javascript",
        extensions=(".js", ".mjs", ".cjs", ".jsx"),
        grammar="tree_sitter_javascript",
        units=_JS_UNITS,
        identifiers=_JS_IDENTIFIERS,
        literals=_JS_LITERALS,
        comments=frozenset({"comment", "html_comment"}),
        names=_JS_NAMES,
    ),
    Language(
        name="typescript",
        extensions=(".ts", ".mts", ".cts"),
        grammar="tree_sitter_typescript:language_typescript",
        units=_TS_UNITS,
        identifiers=_TS_IDENTIFIERS,
        literals=_JS_LITERALS,
        comments=frozenset({"comment", "html_comment"}),
        names=_JS_NAMES,
    ),
    Language(
        name="tsx",
        extensions=(".tsx",),
        grammar="tree_sitter_typescript:language_tsx",
        units=_TS_UNITS,
        identifiers=_TS_IDENTIFIERS,
        literals=_JS_LITERALS,
        comments=frozenset({"comment", "html_comment"}),
        names=_JS_NAMES,
    ),
    Language(
        name="go",
        extensions=(".go",),
        grammar="tree_sitter_go",
        units={"function_declaration": FUNCTION, "method_declaration": METHOD, "type_spec": CLASS},
        identifiers=frozenset(
            {
                "identifier",
                "field_identifier",
                "type_identifier",
                "package_identifier",
                "label_name",
            }
        ),
        literals=frozenset(
            {
                "interpreted_string_literal",
                "raw_string_literal",
                "rune_literal",
                "int_literal",
                "float_literal",
                "imaginary_literal",
            }
        ),
        comments=frozenset({"comment"}),
        names={"type_spec": _go_type},
        owner=_go_receiver,
    ),
    Language(
        name="java",
        extensions=(".java",),
        grammar="tree_sitter_java",
        units={
            "class_declaration": CLASS,
            "interface_declaration": CLASS,
            "enum_declaration": CLASS,
            "record_declaration": CLASS,
            "annotation_type_declaration": CLASS,
            "method_declaration": METHOD,
            "constructor_declaration": METHOD,
            "compact_constructor_declaration": METHOD,
        },
        identifiers=frozenset({"identifier", "type_identifier"}),
        literals=frozenset(
            {
                "string_literal",
                "character_literal",
                "decimal_integer_literal",
                "hex_integer_literal",
                "octal_integer_literal",
                "binary_integer_literal",
                "decimal_floating_point_literal",
                "hex_floating_point_literal",
            }
        ),
        comments=frozenset({"line_comment", "block_comment"}),
        names={"method_declaration": _with_body},
    ),
    Language(
        name="rust",
        extensions=(".rs",),
        grammar="tree_sitter_rust",
        units={
            "function_item": FUNCTION,
            "impl_item": CLASS,
            "trait_item": CLASS,
            "struct_item": CLASS,
            "enum_item": CLASS,
            "union_item": CLASS,
            "mod_item": MODULE,
        },
        identifiers=frozenset(
            {
                "identifier",
                "field_identifier",
                "type_identifier",
                "shorthand_field_identifier",
                "metavariable",
            }
        ),
        literals=frozenset(
            {
                "string_literal",
                "raw_string_literal",
                "char_literal",
                "integer_literal",
                "float_literal",
            }
        ),
        comments=frozenset({"line_comment", "block_comment"}),
        names={"impl_item": _rust_impl, "mod_item": _with_body},
    ),
    Language(
        name="csharp",
        extensions=(".cs",),
        grammar="tree_sitter_c_sharp",
        units={
            "class_declaration": CLASS,
            "interface_declaration": CLASS,
            "struct_declaration": CLASS,
            "enum_declaration": CLASS,
            "record_declaration": CLASS,
            "method_declaration": METHOD,
            "constructor_declaration": METHOD,
            "destructor_declaration": METHOD,
            "local_function_statement": FUNCTION,
        },
        identifiers=frozenset({"identifier"}),
        literals=frozenset(
            {
                "string_literal",
                "verbatim_string_literal",
                "raw_string_literal",
                "interpolated_string_expression",
                "character_literal",
                "integer_literal",
                "real_literal",
            }
        ),
        comments=frozenset({"comment"}),
        names={"method_declaration": _with_body},
    ),
    Language(
        name="ruby",
        extensions=(".rb",),
        grammar="tree_sitter_ruby",
        units={"method": FUNCTION, "singleton_method": METHOD, "class": CLASS, "module": CLASS},
        identifiers=frozenset(
            {
                "identifier",
                "constant",
                "instance_variable",
                "class_variable",
                "global_variable",
                "hash_key_symbol",
            }
        ),
        literals=frozenset(
            {
                "string",
                "chained_string",
                "bare_string",
                "heredoc_beginning",
                "heredoc_body",
                "character",
                "integer",
                "float",
                "rational",
                "complex",
                "simple_symbol",
                "delimited_symbol",
                "bare_symbol",
                "regex",
                "subshell",
                "string_array",
                "symbol_array",
            }
        ),
        comments=frozenset({"comment", "uninterpreted"}),
    ),
)

_BY_EXTENSION = {ext: language for language in LANGUAGES for ext in language.extensions}
_BY_NAME = {language.name: language for language in LANGUAGES}


def language_for_path(path: str) -> Language | None:
    """The language of a file, by its extension (``PurePosixPath.suffix``, without building a
    path object: this runs for every file of a tree and every declaration mined)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return None
    return _BY_EXTENSION.get(name[dot:].lower())


def language_named(name: str) -> Language:
    """The language called ``name``; KeyError for an unknown one."""
    return _BY_NAME[name]
