"""The languages the benchmarks measure: file extensions and their tree-sitter grammars.

The bench parses with the official grammar wheels directly, never through Cairn's own code,
so that the parse floor and the clone generator stay independent of the engine they measure.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import PurePath

from tree_sitter import Language, Parser

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
}


def language_of(path: str | PurePath) -> str | None:
    """The language of a file by its extension, or None when the bench does not measure it."""
    return EXTENSIONS.get(PurePath(path).suffix)


_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
}


@cache
def grammar(language: str) -> Language:
    """The tree-sitter grammar of a language, from its official wheel."""
    if language not in _GRAMMARS:
        raise ValueError(f"no grammar for {language!r}")
    module_name, function = _GRAMMARS[language]
    return Language(getattr(importlib.import_module(module_name), function)())


def parser(language: str) -> Parser:
    """A fresh parser for a language."""
    return Parser(grammar(language))
