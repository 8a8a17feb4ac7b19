"""Imports: what each file imports (tree-sitter queries per language), and where it resolves.

Extraction is pure and per blob, so the index stores it content-addressed like units. Resolution
needs the repository's file list (and ``go.mod``/``tsconfig.json`` contents), which the caller
passes in: an internal import resolves to a file path, an external one to a package name.
Adding a language is one entry in ``SYNTAX``: a query whose ``@module`` captures are the
imported names (``@relative`` for names relative to the importing file), and a resolver.

Never raises on bad input: unparsable files yield what tree-sitter recovered; imports that
resolve to nothing are reported as external; cycles need no special care (nothing recurses).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import tree_sitter

from analyzers.languages import Language, language_for_path, language_named


@dataclass(frozen=True, slots=True)
class Import:
    """One imported name on one line of a file, as written (``.models``, ``./util``, ``fmt``)."""

    line: int  # 1-based
    name: str
    optional: bool = False  # guarded: the file works without it (``optional_rows``)


@dataclass(frozen=True, slots=True)
class Resolved:
    """An import of ``path`` resolved: to a file of the repository, or to an external package."""

    path: str
    line: int
    name: str
    internal: str | None  # the imported file's path
    package: str | None  # the external package, when not internal
    optional: bool = False


def _strip_quotes(text: str) -> str:
    return text.strip().strip("'\"`")


# --- extraction ------------------------------------------------------------------------------


def _python(captures: Mapping[str, list[tree_sitter.Node]]) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        yield node.start_point.row, _text(node)
    for stmt in captures.get("from", []):
        module_node = stmt.child_by_field_name("module_name")
        module = _text(module_node)
        names = [
            _text(n.child_by_field_name("name") if n.type == "aliased_import" else n)
            for n in stmt.children_by_field_name("name")
        ]
        base = module if module.endswith(".") else module + "."
        if not names:  # `from x import *`
            yield stmt.start_point.row, module
        for name in names:
            yield stmt.start_point.row, base + name


def _strings(captures: Mapping[str, list[tree_sitter.Node]]) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        yield node.start_point.row, _strip_quotes(_text(node))


def _csharp(captures: Mapping[str, list[tree_sitter.Node]]) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        alias = node.parent.child_by_field_name("name") if node.parent is not None else None
        if alias is None or alias.id != node.id:  # `using A = B.C;`: B.C, not A
            yield node.start_point.row, _text(node)


def _ruby(captures: Mapping[str, list[tree_sitter.Node]]) -> Iterable[tuple[int, str]]:
    for call in captures.get("call", []):
        method = _text(call.child_by_field_name("method"))
        args = call.child_by_field_name("arguments")
        if method not in ("require", "require_relative") or args is None:
            continue
        for arg in args.named_children:
            if arg.type == "string":
                name = _strip_quotes(_text(arg))
                if method == "require_relative" and not name.startswith("."):
                    name = "./" + name
                yield call.start_point.row, name


def _rust(captures: Mapping[str, list[tree_sitter.Node]]) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        text = re.sub(r"\s+", "", _text(node))
        for name in _expand_use(text):
            yield node.start_point.row, name
    for node in captures.get("mod", []):
        if node.child_by_field_name("body") is None:  # `mod foo;` loads foo.rs
            yield node.start_point.row, "self::" + _text(node.child_by_field_name("name"))


def _expand_use(text: str) -> list[str]:
    """``a::{b, c::d}`` → ``a::b``, ``a::c::d`` (aliases and globs dropped)."""
    text = re.sub(r"\bas\w+", "", text.replace(" as ", "as"))
    if "{" not in text:
        return [text.removesuffix("::*")]
    head, _, rest = text.partition("{")
    inner = rest.rsplit("}", 1)[0]
    parts, depth, current = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current += ch
    parts.append(current)
    out: list[str] = []
    for part in parts:
        if not part or part == "self":
            out.append(head.removesuffix("::"))
        else:
            out.extend(_expand_use(head + part))
    return out


Reader = Callable[[Mapping[str, list[tree_sitter.Node]]], Iterable[tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class ImportSyntax:
    """How one language writes imports: a tree-sitter query and how to read its captures."""

    query: str
    read: Reader = _strings
    _compiled: dict[str, tree_sitter.Query] = field(default_factory=dict, compare=False)

    def compiled(self, language: Language) -> tree_sitter.Query:
        query = self._compiled.get(language.name)
        if query is None:
            query = self._compiled.setdefault(
                language.name, tree_sitter.Query(language.grammar_language, self.query)
            )
        return query


_JS = """
(import_statement source: (string) @module)
(export_statement source: (string) @module)
(call_expression function: (identifier) @f arguments: (arguments . (string) @module)
  (#eq? @f "require"))
(call_expression function: (import) arguments: (arguments . (string) @module))
"""

SYNTAX: dict[str, ImportSyntax] = {
    "python": ImportSyntax(
        """
        (import_statement name: (dotted_name) @module)
        (import_statement name: (aliased_import name: (dotted_name) @module))
        (import_from_statement) @from
        """,
        _python,
    ),
    "javascript": ImportSyntax(_JS),
    "typescript": ImportSyntax(_JS),
    "tsx": ImportSyntax(_JS),
    "go": ImportSyntax("(import_spec path: (_) @module)"),
    "java": ImportSyntax("(import_declaration (scoped_identifier) @module)"),
    "rust": ImportSyntax(
        "(use_declaration argument: (_) @module) (mod_item) @mod",
        _rust,
    ),
    "csharp": ImportSyntax(
        """
        (using_directive (qualified_name) @module)
        (using_directive (identifier) @module)
        """,
        _csharp,
    ),
    "ruby": ImportSyntax("(call method: (identifier) arguments: (argument_list)) @call", _ruby),
}


def extract_imports(path: str, source: bytes, tree: tree_sitter.Tree | None = None) -> list[Import]:
    """The imports of the file at ``path``, in source order; [] for an unsupported language."""
    language = language_for_path(path)
    syntax = SYNTAX.get(language.name) if language is not None else None
    if language is None or syntax is None:
        return []
    if tree is None:
        tree = language.parser().parse(source)
    captures = tree_sitter.QueryCursor(syntax.compiled(language)).captures(tree.root_node)
    guarded: list[tuple[int, int]] | None = None  # found only for a file that imports
    seen: set[tuple[int, str]] = set()
    out: list[Import] = []
    for row, name in syntax.read(captures):
        if name and (row, name) not in seen:
            seen.add((row, name))
            if guarded is None:
                guarded = optional_rows(language.name, tree.root_node)
            optional = any(start <= row <= end for start, end in guarded)
            out.append(Import(line=row + 1, name=name, optional=optional))
    out.sort(key=lambda i: i.line)
    return out


# What a Python ``except`` must catch for the imports of its ``try`` to be optional.
_CATCHES_IMPORT_ERROR = re.compile(
    r"\b(?:ImportError|ModuleNotFoundError|Exception|BaseException)\b"
)
# An ``if`` whose branches depend on the interpreter (Python 2 fallbacks) or on type checking.
_VERSION_OR_TYPING = re.compile(
    r"\b(?:TYPE_CHECKING|version_info|hexversion|PY2|PY3\w*|IS_PY[23]\w*|PYTHON[23]\w*)\b"
)
# The statements that may guard an import, per language (a query: the walk is native code).
_GUARDS = {
    "python": "(try_statement) @guard (if_statement) @guard",
    "javascript": "(try_statement) @guard",
    "typescript": "(try_statement) @guard",
    "tsx": "(try_statement) @guard",
}
_guard_queries: dict[str, tree_sitter.Query] = {}


def optional_rows(language: str, root: tree_sitter.Node) -> list[tuple[int, int]]:
    """Row spans (0-based, inclusive) whose imports are optional: the file works without them.

    Python: a ``try`` with an ``except`` catching ImportError (or ModuleNotFoundError, a bare
    ``except``, ``Exception``), and an ``if`` on the interpreter's version or ``TYPE_CHECKING``.
    JavaScript and TypeScript: a ``try`` block (``try { require("x") } catch {}``).
    Spans may nest (a guard inside a guard): a row is optional when any span holds it.
    """
    pattern = _GUARDS.get(language)
    if pattern is None:
        return []
    query = _guard_queries.get(language)
    if query is None:
        query = _guard_queries.setdefault(
            language, tree_sitter.Query(language_named(language).grammar_language, pattern)
        )
    spans: list[tuple[int, int]] = []
    for node in tree_sitter.QueryCursor(query).captures(root).get("guard", []):
        if node.type == "try_statement":
            guards = _guards_imports(language, node)
        else:
            guards = bool(_VERSION_OR_TYPING.search(_text(node.child_by_field_name("condition"))))
        if guards:
            spans.append((node.start_point.row, node.end_point.row))
    return spans


def _guards_imports(language: str, try_node: tree_sitter.Node) -> bool:
    if language != "python":
        return True
    for clause in try_node.named_children:
        if clause.type != "except_clause":
            continue
        caught = [c for c in clause.named_children if c.type != "block"]
        if not caught or any(_CATCHES_IMPORT_ERROR.search(_text(c)) for c in caught):
            return True
    return False


def _text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


# --- resolution ------------------------------------------------------------------------------


@dataclass(slots=True)
class ProjectFiles:
    """The repository's files at one commit, and the settings resolution reads."""

    paths: frozenset[str]
    go_modules: dict[str, str] = field(default_factory=dict)  # go.mod directory → module path
    ts_paths: list[tuple[str, str, list[str]]] = field(default_factory=list)  # dir, alias, targets
    _suffixes: dict[str, list[str]] = field(default_factory=dict)
    _dirs: dict[str, list[str]] = field(default_factory=dict)
    _dir_suffixes: dict[str, list[str]] = field(default_factory=dict)
    _resolved: dict[tuple[str, str, str], tuple[str | None, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in sorted(self.paths):
            self._dirs.setdefault(posixpath.dirname(path), []).append(path)
            parts = path.split("/")
            for i in range(len(parts)):
                self._suffixes.setdefault("/".join(parts[i:]), []).append(path)
        for directory in sorted(self._dirs):
            parts = directory.split("/")
            for i in range(len(parts)):
                self._dir_suffixes.setdefault("/".join(parts[i:]), []).append(directory)

    @classmethod
    def build(cls, paths: Iterable[str], configs: Mapping[str, bytes] = {}) -> ProjectFiles:
        """Files by path, and ``go.mod``/``tsconfig.json`` contents by path."""
        project = cls(paths=frozenset(paths))
        for path, data in sorted(configs.items()):
            base = posixpath.dirname(path)
            if posixpath.basename(path) == "go.mod":
                found = re.search(rb"^\s*module\s+(\S+)", data, re.M)
                if found:
                    project.go_modules[base] = found.group(1).decode("utf-8", "replace")
            else:
                project.ts_paths.extend(_tsconfig_paths(base, data))
        return project

    def file(self, path: str) -> str | None:
        return path if path in self.paths else None

    def ending(self, suffix: str) -> str | None:
        found = self._suffixes.get(suffix)
        return found[0] if found else None

    def in_dir_ending(self, suffix: str, ext: str) -> str | None:
        """A file with ``ext`` in the first directory whose path ends with ``suffix``."""
        for directory in self._dir_suffixes.get(suffix, []):
            found = self.in_dir(directory, ext)
            if found:
                return found
        return None

    def in_dir(self, directory: str, ext: str) -> str | None:
        for path in self._dirs.get(directory, []):
            if path.endswith(ext) and not path.endswith("_test" + ext):
                return path
        return None


CONFIG_FILES = ("go.mod", "tsconfig.json")


def _tsconfig_paths(base: str, data: bytes) -> list[tuple[str, str, list[str]]]:
    text = data.decode("utf-8", "replace")
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        config = json.loads(text)
        options = config.get("compilerOptions") or {}
        root = posixpath.normpath(posixpath.join(base, options.get("baseUrl") or "."))
        paths = options.get("paths") or {}
        return [
            (root, str(alias), [str(t) for t in targets])
            for alias, targets in paths.items()
            if isinstance(targets, list)
        ]
    except (ValueError, AttributeError, TypeError):
        return []  # an unreadable tsconfig: aliases stay unresolved, never a crash


def _join(directory: str, rel: str) -> str:
    joined = posixpath.normpath(posixpath.join(directory, rel))
    return "" if joined == "." else joined


def _python_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    level = len(name) - len(name.lstrip("."))
    parts = [p for p in name.lstrip(".").split(".") if p]
    if level:
        base = posixpath.dirname(path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        roots = [base]
    else:
        roots = ["", "src", "lib"]
    for n in range(len(parts), -1 if level else 0, -1):
        for root in roots:
            stem = _join(root, "/".join(parts[:n])) if parts[:n] else root
            for candidate in (stem + ".py", stem + "/__init__.py", stem + ".pyi"):
                found = files.file(candidate.lstrip("/"))
                if found:
                    return found, ""
    return None, parts[0] if parts and not level else name


_JS_EXTS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _js_file(stem: str, files: ProjectFiles) -> str | None:
    if files.file(stem):
        return stem
    for ext in _JS_EXTS:
        found = files.file(stem + ext) or files.file(stem + "/index" + ext)
        if found:
            return found
    stripped = re.sub(r"\.(js|jsx|mjs|cjs)$", "", stem)  # `./x.js` written for `x.ts`
    if stripped != stem:
        return _js_file(stripped, files)
    return None


def _js_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    if name.startswith("."):
        return _js_file(_join(posixpath.dirname(path), name), files), name
    for root, alias, targets in files.ts_paths:
        prefix, star, suffix = alias.partition("*")
        if star and name.startswith(prefix) and name.endswith(suffix):
            middle = name[len(prefix) : len(name) - len(suffix)]
        elif name == alias:
            middle = ""
        else:
            continue
        for target in targets:
            found = _js_file(_join(root, target.replace("*", middle)), files)
            if found:
                return found, ""
    if name.startswith("/"):
        return _js_file(name.lstrip("/"), files), name
    parts = name.split("/")
    return None, "/".join(parts[:2]) if name.startswith("@") else parts[0]


def _go_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    best = ""
    for directory, module in files.go_modules.items():
        if (name == module or name.startswith(module + "/")) and len(module) > len(best):
            best = module
            rel = _join(directory, name[len(module) + 1 :])
            found = files.in_dir(rel, ".go")
            if found:
                return found, ""
    return None, name


def _java_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    parts = name.removesuffix(".*").split(".")
    for n in range(len(parts), 1, -1):
        found = files.ending("/".join(parts[:n]) + ".java")
        if found:
            return found, ""
    if name.endswith(".*"):
        found = files.in_dir_ending("/".join(parts), ".java")
        if found:
            return found, ""
    return None, ".".join(parts[:2])


def _rust_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    parts = name.split("::")
    directory = posixpath.dirname(path)
    module_dir = (
        directory
        if posixpath.basename(path) in ("mod.rs", "lib.rs", "main.rs")
        else (_join(directory, posixpath.basename(path).removesuffix(".rs")))
    )
    if parts[0] == "crate":
        root = directory
        while root and not (files.file(root + "/lib.rs") or files.file(root + "/main.rs")):
            root = posixpath.dirname(root)
        base, rest = root, parts[1:]
    elif parts[0] == "self":
        base, rest = module_dir, parts[1:]
    elif parts[0] == "super":
        base, rest = posixpath.dirname(module_dir), parts[1:]
        while rest and rest[0] == "super":
            base, rest = posixpath.dirname(base), rest[1:]
    else:
        return None, parts[0]
    for n in range(len(rest), 0, -1):
        stem = _join(base, "/".join(rest[:n]))
        found = files.file(stem + ".rs") or files.file(stem + "/mod.rs")
        if found:
            return found, ""
    return None, name


def _csharp_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    parts = name.split(".")
    found = files.ending("/".join(parts) + ".cs")  # a type: Shop.Domain.Order → Order.cs
    if found:
        return found, ""
    for n in range(len(parts), 0, -1):  # a namespace: a directory of that name, deepest first
        found = files.in_dir_ending("/".join(parts[:n]), ".cs")
        if found:
            return found, ""
    return None, parts[0]


def _ruby_resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    rel = name if name.endswith(".rb") else name + ".rb"
    if name.startswith("."):
        return files.file(_join(posixpath.dirname(path), rel)), name
    found = files.file(rel) or files.file("lib/" + rel) or files.ending(rel)
    return (found, "") if found else (None, name.split("/")[0])


Resolver = Callable[[str, str, ProjectFiles], tuple[str | None, str]]

RESOLVERS: dict[str, Resolver] = {
    "python": _python_resolve,
    "javascript": _js_resolve,
    "typescript": _js_resolve,
    "tsx": _js_resolve,
    "go": _go_resolve,
    "java": _java_resolve,
    "rust": _rust_resolve,
    "csharp": _csharp_resolve,
    "ruby": _ruby_resolve,
}


# Languages whose resolution reads only the import and, for a relative one (``.models``,
# ``./util``), the importing file's directory: their answers are shared between files.
_BY_DIRECTORY = frozenset({"python", "javascript", "typescript", "tsx"})


def resolve(path: str, imports: Iterable[Import], files: ProjectFiles) -> list[Resolved]:
    """Each import of the file at ``path``, resolved to a file of ``files`` or a package."""
    language = language_for_path(path)
    resolver = RESOLVERS.get(language.name) if language is not None else None
    cached = language is not None and language.name in _BY_DIRECTORY
    out: list[Resolved] = []
    for imp in imports:
        if resolver is None:
            internal, package = None, imp.name
        elif cached and language is not None:
            # Thousands of files import the same few hundred modules: resolve each once.
            where = posixpath.dirname(path) if imp.name.startswith(".") else ""
            key = (language.name, where, imp.name)
            found = files._resolved.get(key)
            if found is None:
                found = files._resolved[key] = resolver(path, imp.name, files)
            internal, package = found
        else:
            internal, package = resolver(path, imp.name, files)
        if internal == path:
            internal = None  # a module importing itself by a name that resolves to it: no edge
        out.append(
            Resolved(
                path=path,
                line=imp.line,
                name=imp.name,
                internal=internal,
                package=None if internal else (package or imp.name),
                optional=imp.optional,
            )
        )
    return out
