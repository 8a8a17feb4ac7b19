"""Go: ``.go`` files, resolved against the ``go.mod`` module paths of the repository."""

from __future__ import annotations

import posixpath
import re

import tree_sitter

from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    METHOD,
    Ecosystem,
    ImportSyntax,
    Language,
    bare,
    node_text,
)
from analyzers.lang.project import ProjectFiles, join_path


def _type_name(node: tree_sitter.Node) -> str | None:
    kind = node.child_by_field_name("type")
    if kind is None or kind.type not in ("struct_type", "interface_type"):
        return None  # type aliases and named func/map types are not units
    return node_text(node.child_by_field_name("name"))


def _receiver(node: tree_sitter.Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return None
    for param in receiver.named_children:
        if param.type == "parameter_declaration":
            return bare(node_text(param.child_by_field_name("type")))
    return None


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    best = ""
    for directory, module in files.go_modules.items():
        if (name == module or name.startswith(module + "/")) and len(module) > len(best):
            best = module
            rel = join_path(directory, name[len(module) + 1 :])
            found = files.in_dir(rel, ".go")
            if found:
                return found, ""
    return None, name


_LINE_IMPORT = re.compile(r"""^\s*(?:import\s+)?(?:[\w.]+\s+)?"([^"]+)"\s*$""")


def _line_imports(line: str) -> list[str]:
    """``import "fmt"``, or a line of an import block: ``log "github.com/sirupsen/logrus"``."""
    m = _LINE_IMPORT.match(line)
    return [m.group(1)] if m else []


def _standard(package: str) -> bool:
    """The standard library's import paths have no dot in their first element."""
    return "." not in package.split("/", 1)[0]


_REQUIRE = re.compile(r"^\s*(?:require\s+)?([\w.-]+\.[\w.-]+/[^\s]+)\s+v[\d.]")


def _dependencies(path: str, line: str) -> list[str] | None:
    """``go.mod``: ``require example.com/x v1.2.3``, or a line of a require block."""
    if posixpath.basename(path) != "go.mod":
        return None
    m = _REQUIRE.match(line)
    return [m.group(1)] if m else []


GO_MODULES = Ecosystem("go", lambda path: posixpath.basename(path) == "go.mod", _dependencies)

GO = Language(
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
    imports=ImportSyntax("(import_spec path: (_) @module)"),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=_standard,
    import_roots="",
    import_package=lambda module: module,  # a module path: its package and major versions
    calls=frozenset({"call_expression"}),
    ecosystem=GO_MODULES,
    names={"type_spec": _type_name},
    owner=_receiver,
    mixed_caps=True,
)
