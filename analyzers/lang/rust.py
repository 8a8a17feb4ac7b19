"""Rust: ``.rs`` files; ``use`` paths and ``mod foo;`` items, resolved within their crate."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

import tree_sitter

from analyzers.lang.language import (
    CLASS,
    FUNCTION,
    MODULE,
    NOT_DEPENDENCIES,
    TOML_DEPENDENCY,
    Captures,
    Ecosystem,
    ImportSyntax,
    Language,
    bare,
    node_text,
    with_body,
)
from analyzers.lang.project import ProjectFiles, join_path


def _impl_type(node: tree_sitter.Node) -> str | None:
    return bare(node_text(node.child_by_field_name("type")))


def _read_imports(captures: Captures) -> Iterable[tuple[int, str]]:
    for node in captures.get("module", []):
        text = re.sub(r"\s+", "", node_text(node))
        for name in _expand_use(text):
            yield node.start_point.row, name
    for node in captures.get("mod", []):
        if node.child_by_field_name("body") is None:  # `mod foo;` loads foo.rs
            yield node.start_point.row, "self::" + node_text(node.child_by_field_name("name"))


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


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    parts = name.split("::")
    directory = posixpath.dirname(path)
    module_dir = (
        directory
        if posixpath.basename(path) in ("mod.rs", "lib.rs", "main.rs")
        else (join_path(directory, posixpath.basename(path).removesuffix(".rs")))
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
        stem = join_path(base, "/".join(rest[:n]))
        found = files.file(stem + ".rs") or files.file(stem + "/mod.rs")
        if found:
            return found, ""
    return None, name


_LINE_IMPORT = re.compile(r"^\s*(?:pub\s+)?(?:use|extern\s+crate)\s+([\w]+)")


def _line_imports(line: str) -> list[str]:
    """``use serde::Serialize;``, ``extern crate libc;`` → the crate (not crate/self/super)."""
    m = _LINE_IMPORT.match(line)
    return [m.group(1)] if m and m.group(1) not in ("crate", "self", "super") else []


def _dependencies(path: str, line: str) -> list[str] | None:
    """``Cargo.toml``: ``name = "1.2"``, ``name = { version = ... }``."""
    if posixpath.basename(path) != "Cargo.toml":
        return None
    m = TOML_DEPENDENCY.match(line)
    return [m.group(1)] if m and not m.group(1).startswith(NOT_DEPENDENCIES) else []


CARGO = Ecosystem("cargo", lambda path: posixpath.basename(path) == "Cargo.toml", _dependencies)

RUST = Language(
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
    imports=ImportSyntax("(use_declaration argument: (_) @module) (mod_item) @mod", _read_imports),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=lambda package: package in ("std", "core", "alloc"),
    import_roots="::",
    import_package=lambda module: module.lower().split("::")[0].replace("_", "-"),
    calls=frozenset({"call_expression", "macro_invocation"}),
    ecosystem=CARGO,
    names={"impl_item": _impl_type, "mod_item": with_body},
)
