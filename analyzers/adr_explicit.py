"""Explicit rules: a ``cairn:`` front-matter block, or a fenced ``cairn`` block in the body.

What a team writes here is authoritative: a record with such a block gets no rules derived
from its prose. Blocks are found by a linear scan of the lines (a record's author may write
anything, a megabyte of backticks included), and each is parsed with :mod:`analyzers.safeyaml`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml

from analyzers import safeyaml
from analyzers.adr_model import Constraint
from analyzers.catalog import catalog
from analyzers.languages import LANGUAGES, language_named
from analyzers.rulebounds import MAX_QUERIES, RuleError, compile_query, compile_regex
from analyzers.rulebounds import message as rule_message


@dataclass(frozen=True, slots=True)
class Fence:
    """One fenced ``cairn`` block: where it is in the body, and the text between its fences."""

    start: int  # offset of the opening fence's line
    end: int  # offset just past the closing fence's line (its newline included)
    first_line: int  # 0-based line of the opening fence
    line_count: int  # lines from the opening fence to the closing one, both included
    inner: str  # the text between the fences (YAML)


def _opens(line: str) -> bool:
    """A line that opens a cairn block: ```cairn (spaces allowed around the word)."""
    return line.startswith("```") and line[3:].strip() == "cairn"


def _closes(line: str) -> bool:
    return line.startswith("```") and not line[3:].strip()


def cairn_fences(body: str) -> list[Fence]:
    """The fenced ``cairn`` blocks of ``body``, in order, in one pass over its lines.

    A block opens on a line ```` ```cairn ```` and closes on the next line that is only
    ```` ``` ````; an opening fence never closed is no block (and nothing after it is)."""
    fences: list[Fence] = []
    opened: tuple[int, int] | None = None  # (offset, line) of the open fence
    inner_from = 0
    offset = 0
    for number, line in enumerate(body.split("\n")):
        after = offset + len(line) + 1
        if opened is None:
            if _opens(line):
                opened, inner_from = (offset, number), after
        elif _closes(line):
            start, first = opened
            inner = body[inner_from:offset] if offset > inner_from else ""
            fences.append(Fence(start, min(after, len(body)), first, number - first + 1, inner))
            opened = None
        offset = after
    return fences


def without_fences(body: str) -> str:
    """``body`` with its cairn blocks blanked line for line (the prose keeps its line numbers)."""
    parts: list[str] = []
    at = 0
    for fence in cairn_fences(body):
        parts.append(body[at : fence.start])
        parts.append("\n" * body.count("\n", fence.start, fence.end))
        at = fence.end
    parts.append(body[at:])
    return "".join(parts)


_FORBID_KINDS = ("import", "call", "dependency", "command", "regex", "query", "any")


def explicit_constraints(
    meta: Mapping[str, Any], body: str, path: str, problems: list[str], offset: int = 0
) -> Iterable[Constraint]:
    """The rules of the ``cairn:`` blocks, each with the line its block starts on."""
    blocks: list[tuple[Any, int]] = []
    if "cairn" in meta:
        blocks.append((meta["cairn"], 1))
    for fence in cairn_fences(body):
        try:
            data = safeyaml.load(fence.inner)
        except yaml.YAMLError as exc:
            problems.append(f"{path}: the cairn block is not valid YAML ({yaml_problem(exc)})")
            continue
        line = offset + fence.first_line + 1
        blocks.append((data.get("cairn", data) if isinstance(data, dict) else data, line))
    for block, line in blocks:
        if not isinstance(block, dict):
            problems.append(f"{path}: the cairn block must be a mapping")
            continue
        scope = block.get("scope", [])
        scope = [scope] if isinstance(scope, str) else scope
        if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
            problems.append(f"{path}: cairn.scope must be a list of path globs")
            scope = []
        for c in (
            *_forbids(block.get("forbid", []), tuple(scope), path, problems),
            *_prefers(block.get("prefer", []), tuple(scope), path, problems),
        ):
            yield replace(c, line=line)


def _forbids(
    raw: Any, scope: tuple[str, ...], path: str, problems: list[str]
) -> Iterable[Constraint]:
    if not isinstance(raw, list):
        problems.append(f"{path}: cairn.forbid must be a list")
        return
    queries = 0
    for i, item in enumerate(raw):
        kinds = [k for k in _FORBID_KINDS if isinstance(item, dict) and k in item]
        if len(kinds) != 1:
            problems.append(f"{path}: cairn.forbid[{i}] needs one of {', '.join(_FORBID_KINDS)}")
            continue
        kind = kinds[0]
        value = str(item[kind])
        if kind == "query":
            queries += 1
            if queries > MAX_QUERIES:
                problems.append(f"{path}: cairn.forbid[{i}]: over {MAX_QUERIES} queries, not read")
                continue
            trouble = _query_problem(value, str(item.get("language", "")))
            if trouble:
                problems.append(f"{path}: cairn.forbid[{i}]: {trouble}")
                continue
        if kind == "regex":
            try:
                compile_regex(value)
            except RuleError as exc:
                problems.append(f"{path}: cairn.forbid[{i}]: bad regex ({exc})")
                continue
        yield Constraint(
            kind=kind,
            value=value,
            message=rule_message(str(item.get("message", ""))),
            prefer=str(item.get("prefer", "")),
            language=str(item.get("language", "")),
            scope=scope,
            explicit=True,
            technology=_technology(value) if kind in ("any", "dependency", "import") else "",
        )


def _query_problem(query: str, language: str) -> str:
    names = [lang.name for lang in LANGUAGES]
    if language not in names:
        return f"a tree-sitter query needs a language, one of {', '.join(names)}"
    try:
        compile_query(language_named(language).grammar_language, query)
    except RuleError as exc:
        return f"not a valid {language} tree-sitter query: {exc}"
    return ""


def _prefers(
    raw: Any, scope: tuple[str, ...], path: str, problems: list[str]
) -> Iterable[Constraint]:
    if not isinstance(raw, list):
        problems.append(f"{path}: cairn.prefer must be a list")
        return
    for i, item in enumerate(raw):
        use = item.get("use") if isinstance(item, dict) else None
        instead = item.get("instead_of") if isinstance(item, dict) else None
        if not isinstance(use, str) or not isinstance(instead, str):
            problems.append(f"{path}: cairn.prefer[{i}] needs `use` and `instead_of`")
            continue
        yield Constraint(
            kind="any",
            value=instead,
            prefer=use,
            message=str(item.get("message", "")),
            language=str(item.get("language", "")),
            scope=scope,
            explicit=True,
            technology=_technology(instead),
            allow=tuple(sorted(catalog().named(use))),
        )


def _technology(value: str) -> str:
    """The catalog's technology an explicit rule names, when it names exactly one."""
    techs = catalog().named(value)
    return next(iter(techs)) if len(techs) == 1 else ""


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The error's kind, and for the bounds of ``safeyaml`` what was refused."""
    problem = getattr(exc, "problem", None)
    refused = isinstance(problem, str) and ("not allowed" in problem or "not read" in problem)
    return f"{type(exc).__name__}: {problem}" if refused else type(exc).__name__
