"""Java: ``.java`` files, resolved by package path wherever the source root is."""

from __future__ import annotations

import posixpath
import re

from analyzers.lang.language import (
    CLASS,
    METHOD,
    Ecosystem,
    ImportSyntax,
    Language,
    no_package,
    with_body,
)
from analyzers.lang.project import ProjectFiles


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
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


_LINE_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)")


def _line_imports(line: str) -> list[str]:
    """``import com.x.Y;``, ``import static com.x.Y.z;`` → the dotted name."""
    m = _LINE_IMPORT.match(line)
    return [m.group(1)] if m else []


def _manifest(path: str) -> bool:
    name = posixpath.basename(path)
    return (
        name == "pom.xml"
        or name.startswith("build.gradle")
        or name.endswith((".gradle.kts", ".versions.toml"))
    )


_POM = re.compile(r"<artifactId>\s*([^<\s]+)\s*</artifactId>")
_GRADLE = re.compile(r"""^\s*\w+\s*\(?\s*['"]([\w.-]+):([\w.-]+)(?::[^'"]*)?['"]""")
# A Gradle version catalog's accessor ("testImplementation(libs.h2)": the alias h2), and the
# catalog's own entries (gradle/libs.versions.toml: module = "g:a", group + name, "g:a:v").
_GRADLE_ACCESSOR = re.compile(
    r"^\s*\w+\s*\(\s*(?:platform\s*\(\s*)?libs\.([A-Za-z][\w.]*?)(?:\.get\(\))?\s*\)"
)
_CATALOG_MODULE = re.compile(r"""\bmodule\s*=\s*["']([\w.-]+):([\w.-]+)["']""")
_CATALOG_GROUP = re.compile(
    r"""\bgroup\s*=\s*["']([\w.-]+)["']\s*,\s*name\s*=\s*["']([\w.-]+)["']"""
)
_CATALOG_SHORT = re.compile(r"""^\s*[\w.-]+\s*=\s*["']([\w.-]+):([\w.-]+):[^"']*["']""")


def _dependencies(path: str, line: str) -> list[str] | None:
    """``pom.xml``'s artifact ids; Gradle's ``implementation("group:artifact:1.0")``, as
    ``group:artifact`` and ``artifact``; a version catalog's entries, and its accessors
    (``libs.h2``) by their alias."""
    name = posixpath.basename(path)
    if name == "pom.xml":
        return _POM.findall(line)
    if name.startswith("build.gradle") or name.endswith(".gradle.kts"):
        m = _GRADLE.match(line)
        if m:
            return [f"{m.group(1)}:{m.group(2)}", m.group(2)]
        a = _GRADLE_ACCESSOR.match(line)  # an alias names the artifact it stands for, mostly
        return [a.group(1).replace(".", "-").replace("_", "-")] if a else []
    if name.endswith(".versions.toml"):
        m = (
            _CATALOG_MODULE.search(line)
            or _CATALOG_GROUP.search(line)
            or _CATALOG_SHORT.match(line)
        )
        return [f"{m.group(1)}:{m.group(2)}", m.group(2)] if m else []
    return None


MAVEN = Ecosystem("maven", _manifest, _dependencies)

JAVA = Language(
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
    imports=ImportSyntax("(import_declaration (scoped_identifier) @module)"),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=lambda package: package.startswith(("java.", "javax.", "jdk.", "sun.")),
    import_roots=".",
    import_package=no_package,  # a Maven artifact's packages are not named after it
    calls=frozenset({"method_invocation", "object_creation_expression"}),
    ecosystem=MAVEN,
    names={"method_declaration": with_body},
)
