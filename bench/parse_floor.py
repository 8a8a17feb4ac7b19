"""The floor: how long tree-sitter alone takes to parse a corpus, in one process.

Files are read first; only ``parser.parse(bytes)`` is timed, with one parser per language
built before the clock starts. No tool that parses every file can index faster than this on
one core.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import gitrepo
from languages import language_of, parser


@dataclass(frozen=True)
class ParseFloor:
    files: int
    lines: int
    bytes: int
    seconds: float
    error_files: int  # files whose tree has an ERROR or MISSING node
    per_language_s: dict[str, float]


def source_files(repo: Path) -> list[tuple[str, str, bytes]]:
    """(path, language, content) of every committed file the bench has a grammar for."""
    files = []
    for rel in gitrepo.git(repo, "ls-files").splitlines():
        language = language_of(rel)
        if language is not None:
            files.append((rel, language, (repo / rel).read_bytes()))
    return files


def measure_floor(repo: Path) -> ParseFloor:
    files = source_files(repo)
    parsers = {language: parser(language) for _, language, _ in files}
    per_language: defaultdict[str, float] = defaultdict(float)
    errors = 0
    for _, language, content in files:
        started = time.perf_counter()
        tree = parsers[language].parse(content)
        per_language[language] += time.perf_counter() - started
        errors += tree.root_node.has_error
    return ParseFloor(
        files=len(files),
        lines=sum(content.count(b"\n") for _, _, content in files),
        bytes=sum(len(content) for _, _, content in files),
        seconds=sum(per_language.values()),
        error_files=errors,
        per_language_s=dict(per_language),
    )
