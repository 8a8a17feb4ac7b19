"""The review pipeline: index base, diff base..head, find the changed units, run the checks.

The CLI runs it in-process; the App's worker and the Action reuse it with other edges.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO

from analyzers.diff import FileDiff
from analyzers.files import skip_reason
from analyzers.languages import language_for_path
from analyzers.parse import parse_file
from analyzers.units import CodeUnit
from app.decisions import decision_inputs
from app.head import changed_files, suppress
from app.history import history_for
from app.indexer import IndexReport, fingerprinted, index_commit
from app.rules import load_codebase, wants_codebase
from app.source import Source
from app.store import Repository, Store
from checks.clones import ClonePair
from checks.config import CairnConfig
from checks.context import Change, ChangedUnit, Check, CheckContext, LocatedUnit
from checks.decisions import DecisionNotes, DecisionsCheck, decision_notes
from checks.duplication import DuplicationCheck, find_clones
from checks.finding import Finding
from checks.patterns import PatternsCheck

logger = logging.getLogger(__name__)

CHECKS: tuple[Check, ...] = (DuplicationCheck(), PatternsCheck(), DecisionsCheck())


@dataclass(slots=True)
class ReviewResult:
    """Findings of one review, and what the review had to pass over."""

    base: str
    head: str
    findings: list[Finding]
    index: IndexReport
    changed_files: int = 0
    changed_units: int = 0
    skipped_files: dict[str, str] = field(default_factory=dict)  # path → reason
    suppressed: list[str] = field(default_factory=list)  # inline `cairn: ignore`, as notes
    decisions: DecisionNotes = field(default_factory=DecisionNotes)  # summary, not findings


class PrefetchedIndex:
    """The IndexPort of a review: candidates fetched in one round of queries beforehand."""

    def __init__(self, candidates: dict[int, Sequence[LocatedUnit]]) -> None:
        self._candidates = candidates

    def candidates(self, unit: CodeUnit) -> Sequence[LocatedUnit]:
        return self._candidates.get(id(unit), ())


async def review(
    store: Store,
    repo: Repository,
    source: Source,
    base: str,
    head: str,
    config: CairnConfig,
    *,
    progress_stream: TextIO | None = None,
) -> ReviewResult:
    """Review head against base: findings on the lines head adds or modifies."""
    report = await index_commit(
        store,
        repo,
        source,
        base,
        progress_stream=progress_stream,
        decision_paths=config.decisions.paths,
    )
    diffs = await source.diff(base, head)
    units, skipped = await changed_units(source, base, head, diffs)
    probes = [fingerprinted(cu.unit) for cu in units]
    found = await store.candidates(repo.id, probes, min_tokens=config.duplication.min_tokens)
    index = PrefetchedIndex({id(cu.unit): cands for cu, cands in zip(units, found, strict=True)})
    change = Change(base_sha=base, head_sha=head, files=tuple(diffs), units=tuple(units))
    history = history_for(store, repo, source, base)
    decisions = await decision_inputs(store, repo, source, head, diffs, history, base)
    head_files = await changed_files(source, head, diffs)
    ctx = CheckContext(index=index, config=config, decisions=decisions, head=head_files)
    if wants_codebase(config.patterns):  # the index at base, for mined conventions
        ctx = replace(ctx, codebase=await load_codebase(store, repo.id))
    findings: list[Finding] = []
    for check in CHECKS:
        if check.name not in config.invalid:  # a broken section: its run is neutral instead
            findings.extend(check.run(change, ctx))
    findings, suppressed = suppress(findings, head_files)
    findings.sort(key=lambda f: (f.path, f.start_line, f.check, f.rule))
    return ReviewResult(
        base=base,
        head=head,
        findings=findings,
        index=report,
        changed_files=len(diffs),
        changed_units=len(units),
        skipped_files=skipped,
        suppressed=suppressed,
        decisions=decision_notes(decisions),
    )


async def changed_units(
    source: Source, base: str, head: str, diffs: Sequence[FileDiff]
) -> tuple[list[ChangedUnit], dict[str, str]]:
    """Units at head that the diff adds or modifies, each with its own version at base."""
    units: list[ChangedUnit] = []
    skipped: dict[str, str] = {}
    for diff in diffs:
        path = diff.new_path
        if path is None:
            continue
        if diff.submodule:  # another repository's commit, whatever its name
            skipped[path] = "submodule"
            continue
        if language_for_path(path) is None:
            continue
        if diff.binary:  # before `added`: a binary diff adds no lines
            skipped[path] = "binary"
            continue
        if not diff.added:
            continue
        data = await source.file_at(head, path)
        if data is None:
            skipped[path] = "unreadable"
            continue
        reason = skip_reason(path, len(data), data[:8192])
        if reason is not None:
            skipped[path] = reason
            continue
        parsed = parse_file(path, data)
        if parsed is None:
            continue
        previous = await _previous_units(source, base, diff)
        for unit in parsed.units:
            if diff.touches(unit.start_line, unit.end_line):
                units.append(ChangedUnit(path=path, unit=unit, previous=_match(unit, previous)))
    return units, skipped


async def _previous_units(source: Source, base: str, diff: FileDiff) -> list[CodeUnit]:
    if diff.old_path is None:
        return []
    data = await source.file_at(base, diff.old_path)
    if data is None or skip_reason(diff.old_path, len(data), data[:8192]) is not None:
        return []
    parsed = parse_file(diff.old_path, data)
    return list(parsed.units) if parsed else []


def _match(unit: CodeUnit, previous: Sequence[CodeUnit]) -> CodeUnit | None:
    """The unit's own previous version: same qualname and kind, nearest in the file."""
    same = [p for p in previous if p.qualname == unit.qualname and p.kind == unit.kind]
    if not same:
        return None
    return min(same, key=lambda p: abs(p.start_line - unit.start_line))


async def scan(
    store: Store,
    repo: Repository,
    source: Source,
    commit: str,
    config: CairnConfig,
    *,
    progress_stream: TextIO | None = None,
) -> tuple[list[ClonePair], IndexReport]:
    """Every clone pair in the repository at ``commit``: its baseline of duplication."""
    report = await index_commit(store, repo, source, commit, progress_stream=progress_stream)
    units = await store.units(repo.id, min_tokens=config.duplication.min_tokens)
    return find_clones(units, config.duplication), report
