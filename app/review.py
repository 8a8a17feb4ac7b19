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
from app.analysis import Inline, Runner
from app.clones import review_candidates
from app.decisions import decision_inputs
from app.fixinputs import fix_inputs
from app.head import changed_files, suppress
from app.history import history_for
from app.indexer import IndexReport, index_commit
from app.rules import load_codebase, wants_codebase
from app.source import Source
from app.store import Repository, Store
from checks.config import CairnConfig
from checks.context import Change, ChangedUnit, Check, CheckContext, LocatedUnit
from checks.decisions import DecisionNotes, DecisionsCheck, decision_notes
from checks.duplication import DuplicationCheck
from checks.finding import Finding
from checks.fixes import attach_fixes
from checks.patterns import PatternsCheck

logger = logging.getLogger(__name__)

CHECKS: tuple[Check, ...] = (DuplicationCheck(), PatternsCheck(), DecisionsCheck())
# What one review parses at most: changed source files, their bytes (head and base), and
# functions and classes per file (55,000 one-line functions in one file took 48 s of CPU).
MAX_REVIEW_FILES = 1_000
MAX_REVIEW_BYTES = 64 << 20
MAX_UNITS_PER_FILE = 2_000


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


UnitKey = tuple[str, int, int, int]


def unit_key(unit: CodeUnit) -> UnitKey:
    """What names a unit across processes (an ``id()`` does not survive pickling)."""
    return (unit.qualname, unit.start_line, unit.end_line, unit.exact_hash)


class PrefetchedIndex:
    """The IndexPort of a review: candidates fetched in one round of queries beforehand."""

    def __init__(self, candidates: dict[UnitKey, Sequence[LocatedUnit]]) -> None:
        self._candidates = candidates

    def candidates(self, unit: CodeUnit) -> Sequence[LocatedUnit]:
        return self._candidates.get(unit_key(unit), ())


async def review(
    store: Store,
    repo: Repository,
    source: Source,
    base: str,
    head: str,
    config: CairnConfig,
    *,
    progress_stream: TextIO | None = None,
    analysis: Runner | None = None,
) -> ReviewResult:
    """Review head against base: findings on the lines head adds or modifies.

    What reads the repository's content (parsing, the decision log, the checks) runs on
    ``analysis`` (bounded child processes in the App; ``app.analysis``); it raises
    AnalysisError when that could not finish."""
    runner = analysis if analysis is not None else Inline()
    report = await index_commit(
        store,
        repo,
        source,
        base,
        progress_stream=progress_stream,
        decision_paths=config.decisions.paths,
        analysis=runner,
    )
    diffs = await source.diff(base, head)
    units, skipped = await changed_units(source, base, head, diffs, runner)
    # The changed units' candidates, and their previous versions' (sibling copies).
    probes = [cu.unit for cu in units] + [cu.previous for cu in units if cu.previous is not None]
    found = await review_candidates(store, repo.id, probes, config.duplication)
    index = PrefetchedIndex({unit_key(u): cands for u, cands in zip(probes, found, strict=True)})
    fixes = await fix_inputs(
        store, repo, source, base, diffs, units, found[: len(units)], found[len(units) :], config
    )
    change = Change(base_sha=base, head_sha=head, files=tuple(diffs), units=tuple(units))
    history = history_for(store, repo, source, base)
    decisions = await decision_inputs(
        store, repo, source, head, diffs, history, base, analysis=runner
    )
    head_files = await changed_files(source, head, diffs, analysis=runner)
    ctx = CheckContext(
        index=index, config=config, decisions=decisions, head=head_files, fixes=fixes
    )
    if wants_codebase(config.patterns):  # the index at base, for mined conventions
        ctx = replace(ctx, codebase=await load_codebase(store, repo.id))
    findings, suppressed = await runner.run(run_checks, change, ctx)
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


def run_checks(change: Change, ctx: CheckContext) -> tuple[list[Finding], list[str]]:
    """The checks' findings, less those an inline ``cairn: ignore`` silences (with a note for
    each), in order. Runs in an analysis process."""
    findings: list[Finding] = []
    for check in CHECKS:
        if check.name not in ctx.config.invalid:  # a broken section: its run is neutral
            findings.extend(check.run(change, ctx))
    findings, suppressed = suppress(attach_fixes(findings, change, ctx), ctx.head)
    findings.sort(key=lambda f: (f.path, f.start_line, f.check, f.rule))
    return findings, suppressed


@dataclass(frozen=True, slots=True)
class _ChangedFile:
    """A changed source file's bytes at head, and at base when it had a previous version."""

    diff: FileDiff
    head: bytes
    base: bytes | None


async def changed_units(
    source: Source, base: str, head: str, diffs: Sequence[FileDiff], analysis: Runner
) -> tuple[list[ChangedUnit], dict[str, str]]:
    """Units at head that the diff adds or modifies, each with its own version at base, and
    the files passed over and why.

    The files are read here and parsed on ``analysis``, within MAX_REVIEW_FILES files and
    MAX_REVIEW_BYTES bytes a review."""
    files: list[_ChangedFile] = []
    skipped: dict[str, str] = {}
    total = 0
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
        if len(files) >= MAX_REVIEW_FILES:
            skipped[path] = f"over the {MAX_REVIEW_FILES:,} source files a review parses"
            continue
        data = await source.file_at(head, path)
        if data is None:
            skipped[path] = "unreadable"
            continue
        reason = skip_reason(path, len(data), data[:8192])
        if reason is not None:
            skipped[path] = reason
            continue
        previous = await _previous_source(source, base, diff)
        size = len(data) + len(previous or b"")
        if total + size > MAX_REVIEW_BYTES:
            skipped[path] = f"over the {MAX_REVIEW_BYTES >> 20} MiB of source a review parses"
            continue
        total += size
        files.append(_ChangedFile(diff, data, previous))
    units, cut = await analysis.run(_parse_changed, files)
    skipped.update(cut)
    return units, skipped


def _parse_changed(
    files: list[_ChangedFile],
) -> tuple[list[ChangedUnit], dict[str, str]]:
    """The changed units of ``files``, and the files whose units were cut at
    MAX_UNITS_PER_FILE."""
    units: list[ChangedUnit] = []
    cut: dict[str, str] = {}
    for f in files:
        path = f.diff.new_path
        assert path is not None
        parsed = parse_file(path, f.head)
        if parsed is None:
            continue
        if len(parsed.units) > MAX_UNITS_PER_FILE:
            cut[path] = (
                f"in part: {len(parsed.units):,} functions and classes, the first "
                f"{MAX_UNITS_PER_FILE:,} reviewed"
            )
        previous: Sequence[CodeUnit] = ()
        if f.base is not None and f.diff.old_path is not None:
            before = parse_file(f.diff.old_path, f.base)
            previous = before.units if before else ()
        for unit in parsed.units[:MAX_UNITS_PER_FILE]:
            if f.diff.touches(unit.start_line, unit.end_line):
                units.append(ChangedUnit(path=path, unit=unit, previous=_match(unit, previous)))
    return units, cut


async def _previous_source(source: Source, base: str, diff: FileDiff) -> bytes | None:
    if diff.old_path is None:
        return None
    data = await source.file_at(base, diff.old_path)
    if data is None or skip_reason(diff.old_path, len(data), data[:8192]) is not None:
        return None
    return data


def _match(unit: CodeUnit, previous: Sequence[CodeUnit]) -> CodeUnit | None:
    """The unit's own previous version: same qualname and kind, nearest in the file."""
    same = [p for p in previous if p.qualname == unit.qualname and p.kind == unit.kind]
    if not same:
        return None
    return min(same, key=lambda p: abs(p.start_line - unit.start_line))
