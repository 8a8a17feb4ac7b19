"""Pure planning: what to publish, from the findings, the ledger and what GitHub shows.

No I/O here: the publisher reads GitHub and the ledger, asks these functions what to do, and
does it. Each is tested on tables of plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence, Set

from app.github import CheckConclusion, CommentDraft, ReviewComment
from app.publish.model import DEFAULT_FAIL_ON, FINDING_MARKER, FIXED_MARKER, Plan
from app.report.labels import finding_key
from app.store.ledger import Entry, Suppression
from checks.finding import Finding, Severity, fingerprint


def floor(check: str, policy: Mapping[str, str]) -> Severity | None:
    """The least severity that fails ``check``'s run under ``policy``; None for "never"."""
    value = policy.get(check, DEFAULT_FAIL_ON.get(check, "error"))
    if value == "never":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise ValueError(f"fail_on[{check!r}] is {value!r}, not a severity or 'never'") from None


def conclusion(
    findings: Sequence[Finding], floor: Severity | None, *, incomplete_fails: bool = False
) -> CheckConclusion:
    """``success`` without findings, ``failure`` when one reaches ``floor``, else ``neutral``;
    ``failure`` whatever was found when the push was not reviewed whole and the repository
    asks that to fail (``incomplete_fails``, from ``not_reviewed: failure``)."""
    if incomplete_fails:
        return "failure"
    if not findings:
        return "success"
    if floor is not None and any(f.severity.rank >= floor.rank for f in findings):
        return "failure"
    return "neutral"


def by_fingerprint(findings: Iterable[Finding]) -> dict[str, Finding]:
    """One finding per fingerprint (the most severe); one is derived when a check gave none."""
    out: dict[str, Finding] = {}
    for f in findings:
        if not f.fingerprint:
            f = dataclasses.replace(f, fingerprint=fingerprint(f.check, f.rule, f.path, f.message))
        seen = out.get(f.fingerprint)
        if seen is None or f.severity.rank > seen.severity.rank:
            out[f.fingerprint] = f
    return out


def silence(
    findings: Iterable[Finding], suppressions: Sequence[Suppression]
) -> tuple[list[Finding], list[tuple[Finding, Suppression]]]:
    """The findings no suppression matches, and the others with the suppression that does."""
    active: list[Finding] = []
    silenced: list[tuple[Finding, Suppression]] = []
    for f in findings:
        s = next((s for s in suppressions if s.matches(f)), None)
        if s is None:
            active.append(f)
        else:
            silenced.append((f, s))
    return active, silenced


def marked(comments: Iterable[ReviewComment]) -> dict[str, ReviewComment]:
    """Cairn's comments by the fingerprint in their marker (a thread's first comment only)."""
    out: dict[str, ReviewComment] = {}
    for c in comments:
        if c.in_reply_to_id is None and (m := FINDING_MARKER.search(c.body)):
            out.setdefault(m[1], c)
    return out


def comment_id(marked: Mapping[str, ReviewComment], f: Finding) -> int | None:
    """The id of the comment carrying ``f``'s marker, if any."""
    c = marked.get(f.fingerprint)
    return c.id if c is not None else None


def anchor(f: Finding, hunks: Sequence[tuple[int, int]]) -> CommentDraft | None:
    """A comment on the overlap of the finding with the first hunk it touches, or None."""
    for lo, hi in sorted(hunks):
        start, end = max(lo, f.start_line), min(hi, f.end_line)
        if start <= end:
            return CommentDraft(
                path=f.path, line=end, body="", start_line=start if start < end else None
            )
    return None


def plan(
    head_sha: str,
    active: Sequence[Finding],
    known: Mapping[str, Entry],
    marked: Mapping[str, ReviewComment],
    commentable: Mapping[str, Sequence[tuple[int, int]]],
    max_comments: int,
    body: Callable[[Finding, CommentDraft], str],
) -> Plan:
    """Which findings to comment now, each with its draft (``body`` writes its text for the
    lines the draft covers).

    The cap counts comments already made on this head (``original_commit_id``: GitHub moves
    ``commit_id`` of every comment to each new head)."""
    on_head = sum(1 for c in marked.values() if c.original_commit_id == head_sha)
    slots = max(max_comments - on_head, 0)
    out = Plan()
    for f in sorted(active, key=finding_key):
        entry = known.get(f.fingerprint)
        if f.fingerprint in marked or (entry is not None and entry.comment_id is not None):
            out.kept.append(f)
            continue
        draft = anchor(f, commentable.get(f.path, ()))
        if draft is None:
            out.outside.append(f)
        elif len(out.new) < slots:
            out.new.append((f, dataclasses.replace(draft, body=body(f, draft))))
        else:
            out.over.append(f)
    return out


def gone(
    current: Set[str],
    known: Mapping[str, Entry],
    marked: Mapping[str, ReviewComment],
    not_run: Set[str] = frozenset(),
) -> set[str]:
    """The fingerprints fixed on this head: open in the ledger, or commented but never
    recorded (a job killed between posting and recording), and not found any more; those of a
    check that did not run (``not_run``) fixed nothing."""
    out = {fp for fp, e in known.items() if e.state == "open" and fp not in current}
    out -= not_run
    out |= {fp for fp in marked if fp not in current and fp not in known}
    return out


def replied(comments: Iterable[ReviewComment]) -> set[tuple[str, str, int | None]]:
    """(fingerprint, head, thread root) of every "Fixed in" reply already made."""
    return {
        (m[1], m[2], c.in_reply_to_id)
        for c in comments
        if c.in_reply_to_id is not None and (m := FIXED_MARKER.search(c.body))
    }
