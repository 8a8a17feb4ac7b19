"""The ``Language`` entry: one tree-sitter grammar and everything Cairn reads through it.

An entry says which files are the language's (extensions), how its trees become units and
tokens (unit node types and their kinds, namers, identifier/literal/comment leaves), how it
imports (a tree-sitter query, a reader of its captures, a resolver, the guards that make an
import optional, the import a single added line writes, its standard library, how the
technology catalog reads an import), which nodes are calls, which package ecosystem its
dependencies come from (its manifests and what their lines name), and how its names are
styled. The entries live one language (or one family of dialects) per module of
``analyzers.lang``; ``analyzers.languages`` registers them.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import tree_sitter

from analyzers.lang.project import ProjectFiles

FUNCTION = "function"  # a method when its nearest enclosing unit is a class
METHOD = "method"  # always a method (Java, C#: they only exist in types)
CLASS = "class"  # class, struct, interface, trait, impl, enum, record, Ruby module
MODULE = "module"  # reported as a class, but the functions inside it stay functions

Namer = Callable[[tree_sitter.Node], str | None]  # a unit's name; None or "": not a unit
Captures = Mapping[str, list[tree_sitter.Node]]
Reader = Callable[[Captures], Iterable[tuple[int, str]]]  # (0-based row, imported name)
# (path, imported name, files) → (the imported file, else None; the external package)
Resolver = Callable[[str, str, ProjectFiles], tuple[str | None, str]]
Guard = Callable[[tree_sitter.Node], bool]  # a node whose imports the file works without
LineImports = Callable[[str], list[str]]  # the modules one source line imports, on its own
# (manifest path, one of its lines) → the packages the line names; None: not its manifest
DependencyReader = Callable[[str, str], list[str] | None]


def node_text(node: tree_sitter.Node | None) -> str:
    """The source text of ``node`` (lossy on invalid UTF-8); "" without a node."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def by_field(name: str) -> Namer:
    """A namer reading the unit's ``name`` field (or another field)."""

    def namer(node: tree_sitter.Node) -> str | None:
        return node_text(node.child_by_field_name(name))

    return namer


def bare(text: str | None) -> str | None:
    """``*List[T]`` → ``List``, ``HashMap<K, V>`` → ``HashMap``: the type a method belongs to."""
    if not text:
        return None
    for stop in "<[(":
        text = text.split(stop, 1)[0]
    return text.strip().lstrip("*&").strip() or None


def with_body(node: tree_sitter.Node) -> str | None:
    """The name of a declaration with a body: not of an abstract method, nor of `mod foo;`."""
    if node.child_by_field_name("body") is None:
        return None
    return node_text(node.child_by_field_name("name"))


def strip_quotes(text: str) -> str:
    return text.strip().strip("'\"`")


def quoted_modules(captures: Captures) -> Iterable[tuple[int, str]]:
    """The ``@module`` captures, unquoted: the reader of most import queries."""
    for node in captures.get("module", []):
        yield node.start_point.row, strip_quotes(node_text(node))


# Manifest lines two ecosystems read alike: `name = "^1.2"` in TOML (Poetry, Pipfile, Cargo),
# `"key": "value"` in JSON (package.json).
TOML_DEPENDENCY = re.compile(r"""^\s*([A-Za-z0-9][\w.-]*)\s*=\s*(?:["'][\^~<>=*\d]|\{)""")
NOT_DEPENDENCIES = ("name", "version", "python", "requires-python", "rust-version", "edition")
JSON_STRING_KEY = re.compile(r'^\s*"([^"]+)"\s*:\s*"([^"]*)"')


@dataclass(frozen=True, slots=True)
class Ecosystem:
    """A package ecosystem: which files are its manifests, and what their added lines name."""

    name: str  # "pypi", "npm", "go", "maven", "cargo", "nuget", "gem": the catalog's keys
    manifest: Callable[[str], bool]  # whether the file at a path is one of its manifests
    dependencies: DependencyReader


def no_package(module: str) -> str:
    """For a language whose imports name no package the catalog could look up."""
    return ""


def nothing_standard(package: str) -> bool:
    """For a language whose standard library Cairn does not know: no package is in it."""
    return False


@dataclass(frozen=True, slots=True)
class ImportSyntax:
    """How one language writes imports: a tree-sitter query and how to read its captures.

    The query's ``@module`` captures are imported names; a reader may use other captures
    (Python's ``@from`` statements, Rust's ``@mod`` items).
    """

    query: str
    read: Reader = quoted_modules
    _compiled: dict[str, tree_sitter.Query] = field(default_factory=dict, compare=False)

    def compiled(self, language: Language) -> tree_sitter.Query:
        query = self._compiled.get(language.name)
        if query is None:
            query = self._compiled.setdefault(
                language.name, tree_sitter.Query(language.grammar_language, self.query)
            )
        return query


_by_name = by_field("name")


@dataclass(frozen=True, slots=True, eq=False)
class Language:
    """One tree-sitter grammar and how Cairn reads its trees."""

    name: str
    extensions: tuple[str, ...]
    grammar: str  # "tree_sitter_python" or "tree_sitter_typescript:language_tsx"
    # --- units and tokens (parse, tokens, fingerprint)
    units: Mapping[str, str]  # node type → FUNCTION | METHOD | CLASS | MODULE
    identifiers: frozenset[str]  # leaves normalised to $ID
    literals: frozenset[str]  # nodes normalised, whole, to $LIT
    comments: frozenset[str]  # nodes dropped, whole: comments and layout-only tokens
    # --- imports (the import graph, wrapped dependencies, what a change adds)
    imports: ImportSyntax
    resolve: Resolver
    line_imports: LineImports  # what an added line imports, read without its file
    standard: Callable[[str], bool]  # an external package of the standard library
    # --- how the catalog of technologies reads an import (``Catalog.import_owners``)
    import_roots: str  # the separator of the catalog's import roots ("." "::" "/"; "": none)
    import_package: Callable[[str], str]  # the ecosystem's package an import names ("": none)
    # --- constructs a rule may forbid: node types that are calls
    calls: frozenset[str]
    # --- what a change can add besides imports: dependencies in the ecosystem's manifests
    ecosystem: Ecosystem
    # --- optional parts
    names: Mapping[str, Namer] = field(default_factory=dict)  # unit type → namer; default: `name`
    owner: Namer | None = None  # the type a unit declared outside it belongs to (Go receivers)
    optional_imports: Guard | None = None  # try/except ImportError, `if TYPE_CHECKING:` …
    # The node types that guard can accept: found by a query (natively) instead of a walk.
    optional_import_kinds: tuple[str, ...] = ()
    # The resolver reads only the imported name and, for a relative one, the importing file's
    # directory: one answer serves every file of a directory (``imports.resolve`` shares it).
    resolves_by_directory: bool = False
    mixed_caps: bool = False  # a first capital letter exports a name, not a style (Go)

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
