"""The duplication check: new code that re-implements what the repository already has.

Candidates come from the index (exact hash, LSH bands, nearest embeddings); each is then
verified by token-alignment similarity (``analyzers.fingerprint.similarity``), so every
reported pair was actually compared. Three clone kinds are reported: exact (type 1),
renamed identifiers or literals (type 2) and near-miss with statements added, removed or
changed (type 3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from analyzers import fingerprint as fp
from analyzers.units import CodeUnit
from checks.clones import ClonePair, UnitRef
from checks.config import DuplicationConfig
from checks.context import Change, ChangedUnit, CheckContext, LocatedUnit
from checks.copies import group_copied_files
from checks.finding import Evidence, Finding, Severity, fingerprint

# A band bucket this large is a shape shared by too many units to pair them all (they are
# almost all exact groups, which are paired separately); verifying n² pairs would dominate.
MAX_BUCKET = 64
# An exact-hash group larger than this is reported as a star around its first member.
MAX_GROUP_PAIRS = 32
MAX_EVIDENCE = 3
# Candidate pairs whose MinHash Jaccard estimate is below this are not verified. Calibrated on
# Django's 530k band candidates: it keeps 99.7 % of the pairs that verify at 0.70 and drops half
# of the others, halving the scan's verification work.
JACCARD_GATE = 0.25

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
        for pair in find_clones([LocatedUnit(cu.path, cu.unit) for cu in eligible], cfg):
            # Report on the later of the two; skip it when it already cites the base.
            if (pair.b.path, pair.b.start_line, pair.b.end_line) not in flagged:
                findings.append(_sibling_finding(pair))
        return group_copied_files(_outermost(findings), change)


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


def find_clones(units: Sequence[LocatedUnit], cfg: DuplicationConfig) -> list[ClonePair]:
    """Every verified clone pair among ``units``, outermost units only (a repository scan)."""
    pool = [u for u in units if _reportable(u.path, u.unit, cfg)]
    pool.sort(key=lambda u: (u.path, u.unit.start_line, u.unit.end_line))
    pairs: dict[tuple[int, int], ClonePair] = {}

    groups: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(pool):
        groups[u.unit.exact_hash].append(i)
    for members in groups.values():
        for i, j in _group_pairs(members):
            pairs[(i, j)] = _pair(pool[i], pool[j], 1.0)

    candidates = np.array(
        sorted(
            (i, j)
            for i, j in _band_candidates(pool)
            if (i, j) not in pairs
            and not _overlap(pool[i], pool[j])
            and _may_reach(pool, i, j, cfg)
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(candidates):
        estimates = fp.jaccard_estimates(_signatures(pool), candidates)
        candidates = candidates[estimates >= JACCARD_GATE]
    prepared: dict[int, fp.Prepared] = {}
    for i, j in candidates.tolist():
        a = prepared.get(i) or prepared.setdefault(i, fp.prepare(pool[i].unit.tokens))
        b = prepared.get(j) or prepared.setdefault(j, fp.prepare(pool[j].unit.tokens))
        score = fp.prepared_similarity(a, b)
        if score >= cfg.threshold:
            pairs[(i, j)] = _pair(pool[i], pool[j], score)
    return _drop_nested(pool, pairs)


def _may_reach(pool: Sequence[LocatedUnit], i: int, j: int, cfg: DuplicationConfig) -> bool:
    """Whether the sizes allow the alignment ratio to reach the threshold at all."""
    a, b = pool[i].unit.token_count, pool[j].unit.token_count
    return 2 * min(a, b) >= cfg.threshold * (a + b)


def _signatures(pool: Sequence[LocatedUnit]) -> npt.NDArray[np.uint32]:
    if pool and all(u.minhash for u in pool):
        return np.frombuffer(b"".join(u.minhash for u in pool), dtype="<u4").reshape(len(pool), -1)
    return fp.sketch([u.unit.tokens for u in pool]).signatures


def _overlap(a: LocatedUnit, b: LocatedUnit) -> bool:
    """A unit and one nested in it (a class and its method) are never clones of each other."""
    return (
        a.path == b.path
        and a.unit.start_line <= b.unit.end_line
        and b.unit.start_line <= a.unit.end_line
    )


def _group_pairs(members: list[int]) -> Iterable[tuple[int, int]]:
    if len(members) * (len(members) - 1) // 2 <= MAX_GROUP_PAIRS:
        return combinations(members, 2)
    first = members[0]
    return ((first, other) for other in members[1:])


def _band_candidates(pool: Sequence[LocatedUnit]) -> set[tuple[int, int]]:
    buckets: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(pool):
        bands = u.bands or tuple(fp.lsh_bands(fp.minhash(u.unit.tokens)))
        for band in bands:
            buckets[band].append(i)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        if 1 < len(members) <= MAX_BUCKET:
            candidates.update(combinations(members, 2))
    return candidates


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
