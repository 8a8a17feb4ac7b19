"""The publisher's decisions, on tables of plain values: no GitHub, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.github import CommentDraft, ReviewComment
from app.publish import planning
from app.store.ledger import Entry
from checks.finding import Finding, Severity

HEAD = "h" * 40


def _finding(path: str = "a.py", start: int = 1, end: int | None = None, **kw: object) -> Finding:
    values: dict[str, object] = {
        "check": "patterns",
        "rule": "layer",
        "path": path,
        "start_line": start,
        "end_line": start if end is None else end,
        "message": f"m {path}:{start}",
        "severity": Severity.WARNING,
        "fingerprint": f"fp-{path}-{start}",
    }
    values.update(kw)
    return Finding(**values)  # type: ignore[arg-type]


def _comment(cid: int, body: str, reply_to: int | None = None, on: str = HEAD) -> ReviewComment:
    return ReviewComment(cid, "a.py", 1, "RIGHT", None, body, "cairn[bot]", HEAD, reply_to, on)


def _entry(fp: str, state: str = "open", comment_id: int | None = None) -> Entry:
    return Entry(
        fp, "patterns", "layer", "a.py", 1, 1, "m", Severity.WARNING, HEAD, state,  # type: ignore[arg-type]
        comment_id, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("check", "policy", "expected"),
    [
        pytest.param("duplication", {}, None, id="duplication-never-by-default"),
        pytest.param("patterns", {}, Severity.ERROR, id="patterns-error-by-default"),
        pytest.param("patterns", {"patterns": "warning"}, Severity.WARNING, id="configured"),
        pytest.param("decisions", {"decisions": "never"}, None, id="never"),
        pytest.param("other", {}, Severity.ERROR, id="unknown-check-error"),
    ],
)
def test_floor(check: str, policy: dict[str, str], expected: Severity | None) -> None:
    assert planning.floor(check, policy) is expected


def test_a_floor_that_is_no_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="not a severity"):
        planning.floor("patterns", {"patterns": "loud"})


@pytest.mark.parametrize(
    ("severities", "floor", "expected"),
    [
        pytest.param((), Severity.ERROR, "success", id="none"),
        pytest.param((Severity.WARNING,), Severity.ERROR, "neutral", id="below"),
        pytest.param((Severity.WARNING, Severity.ERROR), Severity.ERROR, "failure", id="at"),
        pytest.param((Severity.ERROR,), None, "neutral", id="never-fails"),
        pytest.param((Severity.NOTICE,), Severity.NOTICE, "failure", id="notice-floor"),
    ],
)
def test_conclusion(
    severities: tuple[Severity, ...], floor: Severity | None, expected: str
) -> None:
    findings = [_finding(start=i + 1, severity=s) for i, s in enumerate(severities)]
    assert planning.conclusion(findings, floor) == expected


@dataclass(frozen=True)
class _Anchor:
    span: tuple[int, int]
    hunks: tuple[tuple[int, int], ...]
    line: int | None  # None: no comment
    start_line: int | None = None


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(_Anchor((5, 5), ((1, 10),), 5), id="one-line-inside"),
        pytest.param(_Anchor((5, 20), ((1, 10),), 10, 5), id="overlap-cut-to-hunk"),
        pytest.param(_Anchor((30, 40), ((1, 10),), None), id="outside"),
        pytest.param(_Anchor((8, 30), ((20, 25), (1, 9)), 9, 8), id="first-hunk-by-line"),
        pytest.param(_Anchor((1, 1), (), None), id="no-hunks"),
    ],
)
def test_anchor(case: _Anchor) -> None:
    draft = planning.anchor(_finding(start=case.span[0], end=case.span[1]), case.hunks)
    if case.line is None:
        assert draft is None
    else:
        assert draft == CommentDraft("a.py", case.line, "", start_line=case.start_line)


def test_plan_keeps_the_commented_caps_the_new_and_leaves_the_rest_to_the_runs() -> None:
    kept_by_marker = _finding(start=1)
    kept_by_ledger = _finding(start=2)
    new = [_finding(start=n) for n in (3, 4)]
    over = _finding(start=5)
    outside = _finding(start=50)
    marked = {kept_by_marker.fingerprint: _comment(10, "x", on="old")}
    known = {kept_by_ledger.fingerprint: _entry(kept_by_ledger.fingerprint, comment_id=11)}
    plan = planning.plan(
        HEAD,
        [over, outside, *new, kept_by_ledger, kept_by_marker],
        known,
        marked,
        {"a.py": ((1, 10),)},
        max_comments=2,
        body=lambda f, draft: f"body {f.start_line}",
    )
    assert plan.kept == [kept_by_marker, kept_by_ledger]
    assert [(f, d.body) for f, d in plan.new] == [(new[0], "body 3"), (new[1], "body 4")]
    assert plan.over == [over]
    assert plan.outside == [outside]


def test_comments_already_made_on_this_head_count_against_the_cap() -> None:
    marked = {"elsewhere": _comment(10, "x"), "older": _comment(11, "x", on="old")}
    plan = planning.plan(
        HEAD,
        [_finding(start=3), _finding(start=4)],
        {},
        marked,
        {"a.py": ((1, 10),)},
        2,
        lambda f, draft: str(f),
    )
    assert [f.start_line for f, _ in plan.new] == [3]
    assert [f.start_line for f in plan.over] == [4]


def test_gone_is_open_and_not_found_or_commented_and_never_recorded() -> None:
    known = {
        "open-gone": _entry("open-gone"),
        "open-here": _entry("open-here"),
        "fixed-before": _entry("fixed-before", state="fixed"),
        "not-run": _entry("not-run"),
    }
    marked = {"killed-job": _comment(1, "x"), "open-here": _comment(2, "x")}
    gone = planning.gone({"open-here"}, known, marked, not_run={"not-run"})
    assert gone == {"open-gone", "killed-job"}


def test_marked_reads_only_the_markers_of_thread_roots() -> None:
    comments = [
        _comment(1, "text\n\n<!-- cairn:finding abc -->"),
        _comment(2, "quoting <!-- cairn:finding def -->", reply_to=1),
        _comment(3, "a person's comment"),
        _comment(4, "<!-- cairn:finding abc -->"),  # a copy: the first stays
    ]
    assert {fp: c.id for fp, c in planning.marked(comments).items()} == {"abc": 1}


def test_replied_reads_the_fixed_markers_of_replies() -> None:
    comments = [
        _comment(5, f"Fixed in {HEAD}\n\n<!-- cairn:fixed abc {HEAD} -->", reply_to=1),
        _comment(6, f"<!-- cairn:fixed def {HEAD} -->"),  # not a reply
    ]
    assert planning.replied(comments) == {("abc", HEAD, 1)}


def test_by_fingerprint_keeps_the_most_severe_and_derives_missing_fingerprints() -> None:
    low = _finding(severity=Severity.NOTICE)
    high = _finding(severity=Severity.ERROR)
    bare = _finding(path="b.py", fingerprint="")
    out = planning.by_fingerprint([low, high, bare])
    assert out[low.fingerprint] is high
    (derived,) = (fp for fp in out if fp != low.fingerprint)
    assert derived and out[derived].path == "b.py"


@pytest.mark.parametrize("severities", [(), (Severity.NOTICE,), (Severity.ERROR,)])
def test_a_push_not_reviewed_whole_fails_when_asked_whatever_was_found(
    severities: tuple[Severity, ...],
) -> None:
    findings = [_finding(start=i + 1, severity=s) for i, s in enumerate(severities)]
    assert planning.conclusion(findings, None, incomplete_fails=True) == "failure"
