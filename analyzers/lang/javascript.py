"""JavaScript and its TypeScript dialects (``.ts`` and ``.tsx``): one family, three grammars."""

from __future__ import annotations

import posixpath
import re

import tree_sitter

from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    JSON_STRING_KEY,
    MODULE,
    Ecosystem,
    ImportSyntax,
    Language,
    Namer,
    node_text,
)
from analyzers.lang.project import ProjectFiles, join_path


def _binding(node: tree_sitter.Node) -> str | None:
    """A function or class expression's own name, else the name it is bound to, else None."""
    own = node_text(node.child_by_field_name("name"))
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
    name = node_text(target)
    return name.strip("'\"`") if name else None


_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _file(stem: str, files: ProjectFiles) -> str | None:
    if files.file(stem):
        return stem
    for ext in _EXTENSIONS:
        found = files.file(stem + ext) or files.file(stem + "/index" + ext)
        if found:
            return found
    stripped = re.sub(r"\.(js|jsx|mjs|cjs)$", "", stem)  # `./x.js` written for `x.ts`
    if stripped != stem:
        return _file(stripped, files)
    return None


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    if name.startswith("."):
        return _file(join_path(posixpath.dirname(path), name), files), name
    for root, alias, targets in files.ts_paths:
        prefix, star, suffix = alias.partition("*")
        if star and name.startswith(prefix) and name.endswith(suffix):
            middle = name[len(prefix) : len(name) - len(suffix)]
        elif name == alias:
            middle = ""
        else:
            continue
        for target in targets:
            found = _file(join_path(root, target.replace("*", middle)), files)
            if found:
                return found, ""
    if name.startswith("/"):
        return _file(name.lstrip("/"), files), name
    parts = name.split("/")
    return None, "/".join(parts[:2]) if name.startswith("@") else parts[0]


def _optional_imports(node: tree_sitter.Node) -> bool:
    """A ``try`` block: ``try { require("x") } catch {}``."""
    return node.type == "try_statement"


_LINE_IMPORT = re.compile(
    r"""(?:^\s*import\s+(?:[^'"]*?\s+from\s+)?|\brequire\s*\(\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]"""
)


def _line_imports(line: str) -> list[str]:
    """``import x from "m"``, ``require("m")``, ``import("m")`` → m."""
    return _LINE_IMPORT.findall(line)


_NODE_BUILTINS = frozenset(
    (
        "assert",
        "buffer",
        "child_process",
        "cluster",
        "crypto",
        "dgram",
        "dns",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "querystring",
        "readline",
        "stream",
        "string_decoder",
        "timers",
        "tls",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "worker_threads",
        "zlib",
    )
)


def _standard(package: str) -> bool:
    return package.startswith("node:") or package in _NODE_BUILTINS


def _npm_dependencies(path: str, line: str) -> list[str] | None:
    """A ``package.json`` line read alone (its scripts are read with the whole file, in
    ``analyzers.additions``): ``"name": "^1.2"`` and ``"packageManager"``."""
    if posixpath.basename(path) != "package.json":
        return None
    m = JSON_STRING_KEY.match(line)
    if not m:
        return []
    key, value = m.groups()
    if key == "packageManager":
        return [value.split("@", 1)[0]]
    if value and (value[0] in "^~*<>=" or value[0].isdigit() or ":" in value):
        return [key]  # "name": "^1.2" — a dependency, not a script or a field
    return []


NPM = Ecosystem("npm", lambda path: posixpath.basename(path) == "package.json", _npm_dependencies)


def _package(module: str) -> str:
    """``lodash/fp`` → ``lodash``, ``@scope/pkg/sub`` → ``@scope/pkg``; a relative path or a
    ``node:`` built-in names none."""
    lower = module.lower()
    if lower.startswith((".", "/", "~/")) or lower.startswith("node:"):
        return ""
    parts = lower.split("/")
    return "/".join(parts[:2]) if lower.startswith("@") else parts[0]


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
_LITERALS = frozenset({"string", "template_string", "number", "regex", "jsx_text"})
_COMMENTS = frozenset({"comment", "html_comment"})
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
_NAMES: dict[str, Namer] = {
    kind: _binding
    for kind in ("function_expression", "generator_function", "arrow_function", "class")
}
_IMPORTS = """
(import_statement source: (string) @module)
(export_statement source: (string) @module)
(call_expression function: (identifier) @f arguments: (arguments . (string) @module)
  (#eq? @f "require"))
(call_expression function: (import) arguments: (arguments . (string) @module))
"""
_CALLS = frozenset({"call_expression", "new_expression"})


def _dialect(name: str, extensions: tuple[str, ...], grammar: str, typed: bool) -> Language:
    return Language(
        name=name,
        extensions=extensions,
        grammar=grammar,
        units=_TS_UNITS if typed else _JS_UNITS,
        identifiers=_TS_IDENTIFIERS if typed else _JS_IDENTIFIERS,
        literals=_LITERALS,
        comments=_COMMENTS,
        imports=ImportSyntax(_IMPORTS),
        resolve=_resolve,
        line_imports=_line_imports,
        standard=_standard,
        import_roots="",
        import_package=_package,
        calls=_CALLS,
        ecosystem=NPM,
        names=_NAMES,
        optional_imports=_optional_imports,
        optional_import_kinds=("try_statement",),
        resolves_by_directory=True,
    )


JAVASCRIPT = _dialect(
    "javascript", (".js", ".mjs", ".cjs", ".jsx"), "tree_sitter_javascript", False
)
TYPESCRIPT = _dialect(
    "typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript:language_typescript", True
)
TSX = _dialect("tsx", (".tsx",), "tree_sitter_typescript:language_tsx", True)
