"""Code units: the functions, methods and classes of a parsed file, with their fingerprints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeUnit:
    """A function, method or class (nested ones included) and its normalised token stream."""

    kind: str  # "function" | "method" | "class"
    name: str  # "parse_date"
    qualname: str  # "DateParser.parse": enclosing units' names joined with "."
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    tokens: tuple[int, ...]  # normalised token ids: identifiers and literals abstracted
    raw_hash: int  # 63-bit hash of the exact token texts (comments and layout dropped)
    exact_hash: int  # 63-bit hash of ``tokens`` (identical for renamed clones)
    traits: tuple[str, ...] = ()  # "decorator:app.route", "base:BaseHandler" (analyzers.traits)

    @property
    def token_count(self) -> int:
        return len(self.tokens)

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The units of one file, and how much of it tree-sitter had to recover from errors."""

    path: str
    language: str
    units: tuple[CodeUnit, ...]
    lines: int
    error_nodes: int = 0  # ERROR/MISSING nodes: the file had syntax errors, units are best-effort
