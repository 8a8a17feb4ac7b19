"""The duplication check: new code that re-implements what the repository already has.

Candidates come from the index (``analyzers.candidates``: the same stream, or a shared LSH
band); each is verified by token-alignment similarity (``analyzers.fingerprint.similarity``,
native code), so every
reported pair was actually compared. Three clone kinds are reported: exact (type 1),
renamed identifiers or literals (type 2) and near-miss with statements added, removed or
changed (type 3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations
from typing import ClassVar

from analyzers import fingerprint as fp
from analyzers.candidates import StreamIndex
from analyzers.units import CodeUnit
from checks.clones import ClonePair, UnitRef
from checks.config import DuplicationConfig
from checks.context import Change, ChangedUnit, CheckContext, LocatedUnit
from checks.copies import group_copied_files
from checks.finding import Evidence, Finding, Severity, fingerprint
from checks.siblings import edited_copy_findings

MAX_EVIDENCE = 3

KIND_WORDS = {"exact": "exact copy", "renamed": "renamed copy", "near-miss": "near-miss clone"}


class DuplicationCheck:
    """Flags changed units that duplicate code at base, or each other."""

    name: ClassVar[str] = "duplication"

    def run(self, change: Change, ctx: CheckContext) -> list[Finding]:
        cfg = ctx.config.duplication
        eligible = [cu for cu in change.units if _reportable(cu.path, cu.unit, cfg)]
        findings: list[Finding] = []
        for cu in eligible:
            matches = _matches_at_base(cu, change, ctx, cfg)
            if matches:
                findings.append(_base_finding(cu, matches))
        flagged = {(f.path, f.start_line, f.end_line) for f in findings}
        for pair in sibling_pairs([LocatedUnit(cu.path, cu.unit) for cu in eligible], cfg):
            # Report on the later of the two; skip it when it already cites the base.
            if (pair.b.path, pair.b.start_line, pair.b.end_line) not in flagged:
                findings.append(_sibling_finding(pair))
        copies = group_copied_files(_outermost(findings), change)
        return copies + edited_copy_findings(change, ctx)


def _reportable(path: str, unit: CodeUnit, cfg: DuplicationConfig) -> bool:
    return (
        unit.token_count >= cfg.min_tokens
        and unit.line_count >= cfg.min_lines
        and not cfg.excludes(path)
    )


def _matches_at_base(
    cu: ChangedUnit, change: Change, ctx: CheckContext, cfg: DuplicationConfig
) -> list[tuple[float, LocatedUnit]]:
    matches: list[tuple[float, LocatedUnit]] = []
    seen: set[tuple[str, int, int]] = set()
    for cand in ctx.index.candidates(cu.unit):
        key = (cand.path, cand.unit.start_line, cand.unit.end_line)
        if key in seen or not _reportable(cand.path, cand.unit, cfg):
            continue
        seen.add(key)
        if cu.previous is not None and _is_previous(cu, cand):
            continue
        if change.rewrites(cand.path, cand.unit.start_line, cand.unit.end_line):
            continue  # moved, edited or deleted by this very change: not a duplicate
        score = fp.similarity(cu.unit.tokens, cand.unit.tokens)
        if score < cfg.threshold:
            continue
        if cu.previous is not None and fp.similarity(cu.previous.tokens, cand.unit.tokens) >= (
            cfg.threshold
        ):
            continue  # the duplication predates this change
        matches.append((score, cand))
    matches.sort(key=lambda m: (-m[0], m[1].path, m[1].unit.start_line))
    return matches[:MAX_EVIDENCE]


def _is_previous(cu: ChangedUnit, cand: LocatedUnit) -> bool:
    prev = cu.previous
    return (
        prev is not None
        and cand.unit.qualname == prev.qualname
        and cand.unit.start_line == prev.start_line
        and cand.unit.raw_hash == prev.raw_hash
    )


def _base_finding(cu: ChangedUnit, matches: list[tuple[float, LocatedUnit]]) -> Finding:
    score, best = matches[0]
    kind = fp.clone_kind(cu.unit, best.unit)
    where = f"`{best.path}:{best.unit.start_line}`"
    message = (
        f"`{cu.unit.name}` re-implements `{best.unit.name}` in {where} "
        f"({KIND_WORDS[kind]}, {score:.0%} similar): reuse it instead of adding a copy."
    )
    evidence = tuple(
        Evidence(
            path=m.path,
            start_line=m.unit.start_line,
            end_line=m.unit.end_line,
            name=m.unit.qualname,
            similarity=round(s, 3),
            kind=fp.clone_kind(cu.unit, m.unit),
        )
        for s, m in matches
    )
    return Finding(
        check="duplication",
        rule="clone",
        path=cu.path,
        start_line=cu.unit.start_line,
        end_line=cu.unit.end_line,
        message=message,
        severity=Severity.WARNING,
        evidence=evidence,
        fingerprint=fingerprint(
            "duplication", "clone", cu.path, cu.unit.qualname, best.path, best.unit.qualname
        ),
    )


def _sibling_finding(pair: ClonePair) -> Finding:
    a, b = pair.a, pair.b
    message = (
        f"`{b.name}` duplicates `{a.name}`, which this change also adds at "
        f"`{a.path}:{a.start_line}` ({KIND_WORDS[pair.kind]}, {pair.similarity:.0%} similar): "
        "keep one and call it from both places."
    )
    return Finding(
        check="duplication",
        rule="clone-in-change",
        path=b.path,
        start_line=b.start_line,
        end_line=b.end_line,
        message=message,
        severity=Severity.WARNING,
        evidence=(
            Evidence(
                path=a.path,
                start_line=a.start_line,
                end_line=a.end_line,
                name=a.name,
                similarity=round(pair.similarity, 3),
                kind=pair.kind,
                note="added by this change",
            ),
        ),
        fingerprint=fingerprint("duplication", "clone-in-change", b.path, b.name, a.path, a.name),
    )


def _outermost(findings: list[Finding]) -> list[Finding]:
    """Drop findings nested in another flagged unit of the same file (a cloned class's methods)."""
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_path[f.path].append(f)
    kept: list[Finding] = []
    for path in sorted(by_path):
        group = sorted(by_path[path], key=lambda f: (f.start_line, -f.end_line))
        outer_end = 0
        for f in group:
            if f.end_line <= outer_end:
                continue
            kept.append(f)
            outer_end = f.end_line
    return kept


def sibling_pairs(units: Sequence[LocatedUnit], cfg: DuplicationConfig) -> list[ClonePair]:
    """Verified clone pairs among ``units`` (a change's own), outermost units only."""
    pool = [u for u in units if _reportable(u.path, u.unit, cfg)]
    pool.sort(key=lambda u: (u.path, u.unit.start_line, u.unit.end_line))
    pairs: dict[tuple[int, int], ClonePair] = {}
    if len(pool) < 2:
        return []
    streams = [u.unit.tokens for u in pool]
    engine = StreamIndex.build(range(len(pool)), *fp.flatten(streams))
    found = engine.pairs(cfg.threshold)
    scored = {
        (i, j): float(score)
        for i, j, score in zip(
            found.left.tolist(), found.right.tolist(), found.similarity.tolist(), strict=True
        )
    }
    for i, j in combinations(range(len(pool)), 2):
        if _overlap(pool[i], pool[j]):
            continue
        if pool[i].unit.exact_hash == pool[j].unit.exact_hash:
            pairs[(i, j)] = _pair(pool[i], pool[j], 1.0)
        elif (i, j) in scored:
            pairs[(i, j)] = _pair(pool[i], pool[j], scored[(i, j)])
    return _drop_nested(pool, pairs)


def _overlap(a: LocatedUnit, b: LocatedUnit) -> bool:
    """A unit and one nested in it (a class and its method) are never clones of each other."""
    return (
        a.path == b.path
        and a.unit.start_line <= b.unit.end_line
        and b.unit.start_line <= a.unit.end_line
    )


def _pair(a: LocatedUnit, b: LocatedUnit, score: float) -> ClonePair:
    return ClonePair(
        a=_ref(a), b=_ref(b), similarity=round(score, 3), kind=fp.clone_kind(a.unit, b.unit)
    )


def _ref(u: LocatedUnit) -> UnitRef:
    return UnitRef(
        path=u.path,
        start_line=u.unit.start_line,
        end_line=u.unit.end_line,
        name=u.unit.qualname,
        kind=u.unit.kind,
    )


def _drop_nested(
    pool: Sequence[LocatedUnit], pairs: dict[tuple[int, int], ClonePair]
) -> list[ClonePair]:
    """Keep a pair only when no other pair holds both of its units inside its own."""
    parents = _ancestors(pool)
    kept: list[ClonePair] = []
    for (i, j), pair in sorted(pairs.items()):
        nested = any(
            (min(k, m), max(k, m)) in pairs
            for k in (i, *parents[i])
            for m in (j, *parents[j])
            if (k, m) != (i, j)
        )
        if not nested:
            kept.append(pair)
    return kept


def _ancestors(pool: Sequence[LocatedUnit]) -> list[tuple[int, ...]]:
    """For each unit, the units of the same file that contain it, innermost first."""
    order = sorted(
        range(len(pool)),
        key=lambda i: (pool[i].path, pool[i].unit.start_line, -pool[i].unit.end_line),
    )
    out: list[tuple[int, ...]] = [()] * len(pool)
    stack: list[int] = []
    for i in order:
        u = pool[i]
        while stack and (
            pool[stack[-1]].path != u.path or pool[stack[-1]].unit.end_line < u.unit.end_line
        ):
            stack.pop()
        out[i] = tuple(reversed(stack))
        stack.append(i)
    return out
