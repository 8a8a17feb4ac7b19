"""Python: ``.py`` and ``.pyi`` files."""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Iterable

import tree_sitter

from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    NOT_DEPENDENCIES,
    TOML_DEPENDENCY,
    Captures,
    Ecosystem,
    ImportSyntax,
    Language,
    node_text,
)
from analyzers.lang.project import ProjectFiles, join_path


def _read_imports(captures: Captures) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        yield node.start_point.row, node_text(node)
    for stmt in captures.get("from", []):
        module = node_text(stmt.child_by_field_name("module_name"))
        names = [
            node_text(n.child_by_field_name("name") if n.type == "aliased_import" else n)
            for n in stmt.children_by_field_name("name")
        ]
        base = module if module.endswith(".") else module + "."
        if not names:  # `from x import *`
            yield stmt.start_point.row, module
        for name in names:
            yield stmt.start_point.row, base + name


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
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
            stem = join_path(root, "/".join(parts[:n])) if parts[:n] else root
            for candidate in (stem + ".py", stem + "/__init__.py", stem + ".pyi"):
                found = files.file(candidate.lstrip("/"))
                if found:
                    return found, ""
    return None, parts[0] if parts and not level else name


# What an ``except`` must catch for the imports of its ``try`` to be optional.
_CATCHES_IMPORT_ERROR = re.compile(
    r"\b(?:ImportError|ModuleNotFoundError|Exception|BaseException)\b"
)
# An ``if`` whose branches depend on the interpreter (Python 2 fallbacks) or on type checking.
_VERSION_OR_TYPING = re.compile(
    r"\b(?:TYPE_CHECKING|version_info|hexversion|PY2|PY3\w*|IS_PY[23]\w*|PYTHON[23]\w*)\b"
)


def _optional_imports(node: tree_sitter.Node) -> bool:
    """A ``try`` with an ``except`` catching ImportError (or ModuleNotFoundError, a bare
    ``except``, ``Exception``), or an ``if`` on the interpreter's version or ``TYPE_CHECKING``."""
    if node.type == "try_statement":
        for clause in node.named_children:
            if clause.type != "except_clause":
                continue
            caught = [c for c in clause.named_children if c.type != "block"]
            if not caught or any(_CATCHES_IMPORT_ERROR.search(node_text(c)) for c in caught):
                return True
        return False
    if node.type == "if_statement":
        condition = node.child_by_field_name("condition")
        return bool(_VERSION_OR_TYPING.search(node_text(condition)))
    return False


_LINE_IMPORT = re.compile(r"^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)")
_LINE_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\b")


def _line_imports(line: str) -> list[str]:
    """``import a, b.c`` → a, b.c; ``from x import y`` → x (a relative import: nothing)."""
    m = _LINE_FROM.match(line)
    if m:
        return [m.group(1)] if not m.group(1).startswith(".") else []
    m = _LINE_IMPORT.match(line)
    return [s.strip() for s in m.group(1).split(",")] if m else []


def is_requirements(path: str) -> bool:
    """``requirements.txt``, ``dev-requirements.in``, ``requirements/base.txt``."""
    name = posixpath.basename(path).lower()
    if not name.endswith((".txt", ".in")):
        return False
    return "requirements" in name or posixpath.basename(posixpath.dirname(path)) == "requirements"


_MANIFESTS = ("pyproject.toml", "Pipfile", "setup.py", "setup.cfg", "environment.yml",
              "environment.yaml")  # fmt: skip


def _manifest(path: str) -> bool:
    return posixpath.basename(path) in _MANIFESTS or is_requirements(path)


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;@]|$)")
_QUOTED_REQUIREMENT = re.compile(
    r"""["']([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;@][^"']*)?["']"""
)
_SETUP_PY_REQUIREMENT = re.compile(
    r"""^\s*["']([A-Za-z0-9][\w.-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;][^"']*)?["'],?\s*\)?,?\s*$"""
)
_CONDA = re.compile(r"^\s*-\s*([A-Za-z0-9][\w.-]*)\s*(?:[=<>!~]|$)")


def _dependencies(path: str, line: str) -> list[str] | None:
    """Requirements files, ``pyproject.toml`` (PEP 621 and Poetry), Pipfile, ``setup.py``,
    ``setup.cfg`` and conda's ``environment.yml``."""
    name = posixpath.basename(path)
    stripped = line.strip()
    if name == "Pipfile":
        m = TOML_DEPENDENCY.match(line)
        return [m.group(1)] if m and not m.group(1).startswith(NOT_DEPENDENCIES) else []
    if name == "setup.py":
        m = _SETUP_PY_REQUIREMENT.match(line)
        return [m.group(1)] if m else []
    if name == "setup.cfg":
        m = (
            _REQUIREMENT.match(stripped)
            if line[:1] in " \t" and "=" not in stripped.split()[0]
            else None
        )
        return [m.group(1)] if m else []
    if name in ("environment.yml", "environment.yaml"):
        m = _CONDA.match(line)
        return [m.group(1)] if m and m.group(1) not in ("pip", "python") else []
    if is_requirements(path) and not name.startswith("requirements"):
        name = "requirements.txt"
    if re.fullmatch(r"requirements[\w.-]*\.(txt|in)", name):
        if stripped.startswith("-"):
            return []
        m = _REQUIREMENT.match(stripped)
        return [m.group(1)] if m else []
    if name == "pyproject.toml":
        m = TOML_DEPENDENCY.match(line)
        if m and not m.group(1).startswith(NOT_DEPENDENCIES):
            return [m.group(1)]  # name = "^1.2" / name = { version = ... } (Poetry)
        if re.match(r"^\s*([\"']|[\w-]*(dependencies|requires)\s*=)", line):
            return _QUOTED_REQUIREMENT.findall(line)
        return []
    return None


PYPI = Ecosystem("pypi", _manifest, _dependencies)

PYTHON = Language(
    name="python",
    extensions=(".py", ".pyi"),
    grammar="tree_sitter_python",
    units={"function_definition": FUNCTION, "class_definition": CLASS},
    identifiers=frozenset({"identifier"}),
    literals=frozenset({"string", "concatenated_string", "integer", "float"}),
    comments=frozenset({"comment", "line_continuation"}),
    imports=ImportSyntax(
        """
        (import_statement name: (dotted_name) @module)
        (import_statement name: (aliased_import name: (dotted_name) @module))
        (import_from_statement) @from
        """,
        _read_imports,
    ),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=lambda package: package in sys.stdlib_module_names,
    import_roots=".",
    import_package=lambda module: module.lower().split(".")[0],
    calls=frozenset({"call"}),
    ecosystem=PYPI,
    optional_imports=_optional_imports,
    optional_import_kinds=("try_statement", "if_statement"),
    resolves_by_directory=True,
)
