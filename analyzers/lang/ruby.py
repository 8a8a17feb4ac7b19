"""Ruby: ``.rb`` files; ``require`` and ``require_relative`` calls."""

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
    nothing_standard,
    strip_quotes,
)
from analyzers.lang.project import ProjectFiles, join_path


def _read_imports(captures: Captures) -> Iterable[tuple[int, str]]:
    for call in captures.get("call", []):
        method = node_text(call.child_by_field_name("method"))
        args = call.child_by_field_name("arguments")
        if method not in ("require", "require_relative") or args is None:
            continue
        for arg in args.named_children:
            if arg.type == "string":
                name = strip_quotes(node_text(arg))
                if method == "require_relative" and not name.startswith("."):
                    name = "./" + name
                yield call.start_point.row, name


def _resolve(path: str, name: str, files: ProjectFiles) -> tuple[str | None, str]:
    rel = name if name.endswith(".rb") else name + ".rb"
    if name.startswith("."):
        return files.file(join_path(posixpath.dirname(path), rel)), name
    found = files.file(rel) or files.file("lib/" + rel) or files.ending(rel)
    return (found, "") if found else (None, name.split("/")[0])


_LINE_IMPORT = re.compile(r"""^\s*require(?:_relative)?\s*\(?\s*['"]([^'"]+)['"]""")


def _line_imports(line: str) -> list[str]:
    """``require "json"``, ``require_relative "./x"`` → the required name, as written."""
    m = _LINE_IMPORT.match(line)
    return [m.group(1)] if m else []


def _manifest(path: str) -> bool:
    name = posixpath.basename(path)
    return name == "Gemfile" or name.endswith(".gemspec")


_GEM = re.compile(r"""^\s*gem\s+['"]([^'"]+)['"]""")
_GEMSPEC = re.compile(r"""\.add_(?:runtime_|development_)?dependency\s*\(?\s*["']([^"']+)["']""")


def _dependencies(path: str, line: str) -> list[str] | None:
    """``gem "x"`` in a Gemfile, ``spec.add_dependency "x"`` in a gemspec."""
    name = posixpath.basename(path)
    if name.endswith(".gemspec"):
        return _GEMSPEC.findall(line)
    if name == "Gemfile":
        m = _GEM.match(line)
        return [m.group(1)] if m else []
    return None


GEMS = Ecosystem("gem", _manifest, _dependencies)

RUBY = Language(
    name="ruby",
    extensions=(".rb",),
    grammar="tree_sitter_ruby",
    units={"method": FUNCTION, "singleton_method": METHOD, "class": CLASS, "module": CLASS},
    identifiers=frozenset(
        {
            "identifier",
            "constant",
            "instance_variable",
            "class_variable",
            "global_variable",
            "hash_key_symbol",
        }
    ),
    literals=frozenset(
        {
            "string",
            "chained_string",
            "bare_string",
            "heredoc_beginning",
            "heredoc_body",
            "character",
            "integer",
            "float",
            "rational",
            "complex",
            "simple_symbol",
            "delimited_symbol",
            "bare_symbol",
            "regex",
            "subshell",
            "string_array",
            "symbol_array",
        }
    ),
    comments=frozenset({"comment", "uninterpreted"}),
    imports=ImportSyntax(
        "(call method: (identifier) arguments: (argument_list)) @call", _read_imports
    ),
    resolve=_resolve,
    line_imports=_line_imports,
    standard=nothing_standard,
    import_roots="/",
    import_package=lambda module: module.lower(),  # `require "faraday"`: the gem, by name
    calls=frozenset({"call"}),
    ecosystem=GEMS,
)
