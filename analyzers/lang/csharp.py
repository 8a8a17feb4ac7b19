"""C#: ``.cs`` files; ``using`` directives resolved to a type's file or a namespace's directory."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    METHOD,
    Captures,
    Ecosystem,
    ImportSyntax,
    Language,
    node_text,
    with_body,
)
from analyzers.lang.project import ProjectFiles


def _read_imports(captures: Captures) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        alias = node.parent.child_by_field_name("name") if node.parent is not None else None
        if alias is None or alias.id != node.id:  # `using A = B.C;`: B.C, not A
            yield node.start_point.row, node_text(node)


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    parts = name.split(".")
    found = files.ending("/".join(parts) + ".cs")  # a type: Shop.Domain.Order → Order.cs
    if found:
        return found, ""
    for n in range(len(parts), 0, -1):  # a namespace: a directory of that name, deepest first
        found = files.in_dir_ending("/".join(parts[:n]), ".cs")
        if found:
            return found, ""
    return None, parts[0]


# `using X.Y;`, `global using X;`, `using static X.Y;`, `using A = X.Y;`; not a `using (…)`
# statement nor a `using var x = …;` declaration (no name alone before the semicolon).
_LINE_USING = re.compile(r"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?([\w.]+)\s*;")


def _line_imports(line: str) -> list[str]:
    """``using Newtonsoft.Json;`` → ``Newtonsoft.Json``."""
    m = _LINE_USING.match(line)
    return [m.group(1)] if m else []


def _manifest(path: str) -> bool:
    name = posixpath.basename(path)
    return name.lower().endswith((".csproj", ".fsproj", ".vbproj")) or name in (
        "packages.config",
        "Directory.Packages.props",
        "Directory.Build.props",
    )


_PACKAGE_REFERENCE = re.compile(
    r"""<(?:PackageReference|PackageVersion|GlobalPackageReference|package)\s[^>]*?"""
    r"""(?:Include|Update|id)\s*=\s*["']([^"']+)["']""",
    re.IGNORECASE,
)


def _dependencies(path: str, line: str) -> list[str] | None:
    """``<PackageReference Include="X" />`` and its kin in project files, any ``.props``
    file and ``packages.config``."""
    name = posixpath.basename(path)
    if name.lower().endswith((".csproj", ".fsproj", ".vbproj", ".props")) or (
        name == "packages.config"
    ):
        return _PACKAGE_REFERENCE.findall(line)
    return None


NUGET = Ecosystem("nuget", _manifest, _dependencies)

CSHARP = Language(
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
    imports=ImportSyntax(
        """
        (using_directive (qualified_name) @module)
        (using_directive (identifier) @module)
        """,
        _read_imports,
    ),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=lambda package: package in ("System", "Microsoft"),
    import_roots=".",
    import_package=lambda module: module,  # Serilog.Sinks.Console: a NuGet package's name
    calls=frozenset({"invocation_expression", "object_creation_expression"}),
    ecosystem=NUGET,
    names={"method_declaration": with_body},
)
