"""Imports: what each file imports, and where it resolves.

Extraction is pure and per blob, so the index stores it content-addressed like units. Resolution
needs the repository's file list (and ``go.mod``/``tsconfig.json`` contents), which the caller
passes in: an internal import resolves to a file path, an external one to a package name. How
each language writes and resolves imports is its ``Language`` entry's (``analyzers/lang/``).

Never raises on bad input: unparsable files yield what tree-sitter recovered; imports that
resolve to nothing are reported as external; cycles need no special care (nothing recurses).
"""

from __future__ import annotations

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
    guarded = optional_rows(language, tree.root_node)
    seen: set[tuple[int, str]] = set()
    out: list[Import] = []
    for row, name in syntax.read(captures):
        if name and (row, name) not in seen:
            seen.add((row, name))
            optional = any(start <= row <= end for start, end in guarded)
            out.append(Import(line=row + 1, name=name, optional=optional))
    out.sort(key=lambda i: i.line)
    return out


MAX_GUARD_NODES = 200_000  # nodes visited looking for guards: a hostile file stays bounded


def optional_rows(language: Language, root: tree_sitter.Node) -> list[tuple[int, int]]:
    """Row spans (0-based, inclusive) whose imports are optional: the file works without them.

    Each span is a node the language's ``optional_imports`` guard accepts (Python: a ``try``
    catching ImportError, an ``if`` on the interpreter's version or ``TYPE_CHECKING``;
    JavaScript and TypeScript: a ``try`` block); a guarded node's insides are not searched.
    """
    guard = language.optional_imports
    if guard is None:
        return []
    spans: list[tuple[int, int]] = []
    stack, visited = [root], 0
    while stack and visited < MAX_GUARD_NODES:
        node = stack.pop()
        visited += 1
        if guard(node):
            spans.append((node.start_point.row, node.end_point.row))
            continue  # everything inside is covered
        stack.extend(node.named_children)
    return spans


def resolve(path: str, imports: Iterable[Import], files: ProjectFiles) -> list[Resolved]:
    """Each import of the file at ``path``, resolved to a file of ``files`` or a package."""
    language = language_for_path(path)
    resolver = language.resolve if language is not None else None
    out: list[Resolved] = []
    for imp in imports:
        internal, package = resolver(path, imp.name, files) if resolver else (None, imp.name)
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
