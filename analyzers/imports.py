"""Imports: what each file imports, and where it resolves.

Extraction is pure and per blob, so the index stores it content-addressed like units. Resolution
needs the repository's file list (and ``go.mod``/``tsconfig.json`` contents), which the caller
passes in: an internal import resolves to a file path, an external one to a package name. How
each language writes and resolves imports is its ``Language`` entry's (``analyzers/lang/``).

Never raises on bad input: unparsable files yield what tree-sitter recovered; imports that
resolve to nothing are reported as external; cycles need no special care (nothing recurses).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

import tree_sitter

from analyzers.lang.project import CONFIG_FILES, ProjectFiles
from analyzers.languages import Language, language_for_path

__all__ = [
    "CONFIG_FILES",
    "MAX_GUARD_NODES",
    "Import",
    "ProjectFiles",
    "Resolved",
    "extract_imports",
    "optional_rows",
    "resolve",
]


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


def extract_imports(path: str, source: bytes, tree: tree_sitter.Tree | None = None) -> list[Import]:
    """The imports of the file at ``path``, in source order; [] for an unsupported language."""
    language = language_for_path(path)
    if language is None:
        return []
    if tree is None:
        tree = language.parser().parse(source)
    syntax = language.imports
    captures = tree_sitter.QueryCursor(syntax.compiled(language)).captures(tree.root_node)
    guarded: list[tuple[int, int]] | None = None  # looked for only in a file that imports
    seen: set[tuple[int, str]] = set()
    out: list[Import] = []
    for row, name in syntax.read(captures):
        if name and (row, name) not in seen:
            seen.add((row, name))
            if guarded is None:
                guarded = optional_rows(language, tree.root_node)
            optional = any(start <= row <= end for start, end in guarded)
            out.append(Import(line=row + 1, name=name, optional=optional))
    out.sort(key=lambda i: i.line)
    return out


MAX_GUARD_NODES = 200_000  # nodes visited looking for guards: a hostile file stays bounded


def optional_rows(language: Language, root: tree_sitter.Node) -> list[tuple[int, int]]:
    """Row spans (0-based, inclusive) whose imports are optional: the file works without them.

    Each span is a node the language's ``optional_imports`` guard accepts (Python: a ``try``
    catching ImportError, an ``if`` on the interpreter's version or ``TYPE_CHECKING``;
    JavaScript and TypeScript: a ``try`` block). Spans may nest: a row is optional when any
    span holds it. With ``optional_import_kinds``, a query finds the nodes to ask the guard
    about (a walk in Python built an object for every node: 1.4 s of a Django index);
    otherwise a bounded walk does, and a guarded node's insides are not searched.
    """
    guard = language.optional_imports
    if guard is None:
        return []
    spans: list[tuple[int, int]] = []
    if language.optional_import_kinds:
        query = _guard_query(language)
        for node in tree_sitter.QueryCursor(query).captures(root).get("guard", []):
            if guard(node):
                spans.append((node.start_point.row, node.end_point.row))
        return spans
    stack, visited = [root], 0
    while stack and visited < MAX_GUARD_NODES:
        node = stack.pop()
        visited += 1
        if guard(node):
            spans.append((node.start_point.row, node.end_point.row))
            continue  # everything inside is covered
        stack.extend(node.named_children)
    return spans


_guard_queries: dict[str, tree_sitter.Query] = {}


def _guard_query(language: Language) -> tree_sitter.Query:
    query = _guard_queries.get(language.name)
    if query is None:
        pattern = " ".join(f"({kind}) @guard" for kind in language.optional_import_kinds)
        query = _guard_queries.setdefault(
            language.name, tree_sitter.Query(language.grammar_language, pattern)
        )
    return query


def resolve(path: str, imports: Iterable[Import], files: ProjectFiles) -> list[Resolved]:
    """Each import of the file at ``path``, resolved to a file of ``files`` or a package."""
    language = language_for_path(path)
    out: list[Resolved] = []
    for imp in imports:
        if language is None:
            internal, package = None, imp.name
        elif language.resolves_by_directory:
            # Thousands of files import the same few hundred modules: resolve each once.
            where = posixpath.dirname(path) if imp.name.startswith(".") else ""
            key = (language.name, where, imp.name)
            found = files.resolved.get(key)
            if found is None:
                found = files.resolved[key] = language.resolve(path, imp.name, files)
            internal, package = found
        else:
            internal, package = language.resolve(path, imp.name, files)
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
