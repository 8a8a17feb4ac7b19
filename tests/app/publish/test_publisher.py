"""Publishing findings: check runs, one review per push, idempotent on re-push and retry.

Against the GitHub simulator (a real server) and the real Postgres; assertions are on what a
reviewer would see in the simulator and on the ledger's rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from analyzers.adr import HistoryEntry
from analyzers.diff import parse_patch
from app.git import GitRepo
from app.github import Forbidden, GitHubApp
from app.history import PullRequestHistory
from app.publish import (
    DEFAULT_FAIL_ON,
    MAX_OUTPUT,
    Publisher,
    PublishReport,
    PullRequestRef,
)
from app.review import review
from app.settings import Secret
from app.source import LocalSource
from app.store import Store
from app.store.ledger import Ledger
from checks.config import CairnConfig
from checks.decisions import DecisionNotes, RelevantDecision
from checks.finding import Evidence, Finding, Severity, fingerprint
from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module
from tests.conftest import GitRepoBuilder
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair
from tests.github_sim.state import CheckRun

APP_ID, INSTALLATION, REPO = 4242, 91, "acme/shop"
WEB = "https://github.example.com"
BASE_FILES = {
    "billing/dates.py": module(PARSE_DATE),
    "billing/invoices.py": module(INVOICE_TOTAL),
    "reports/table.py": module(UNRELATED),
}
LONG = "".join(f"value_{i} = {i}\n" for i in range(1, 301))


class Sim:
    """The simulator with Cairn installed on ``acme/shop``, a publisher, and the ledger."""

    def __init__(self, state: State, app: GitHubApp, ledger: Ledger, repo_id: int) -> None:
        self.state, self.app, self.ledger, self.repo_id = state, app, ledger, repo_id
        self.base = ""

    def publisher(self, max_comments: int = 25) -> Publisher:
        return Publisher(
            self.app.installation(INSTALLATION), self.ledger, web_url=WEB, max_comments=max_comments
        )

    def push(self, head: dict[str, str], base: dict[str, str] | None = None) -> PullRequestRef:
        """A pull request from ``base`` (the first call's, later) to ``head``; its ref."""
        if not self.base:
            self.base = self.state.commit(REPO, base or BASE_FILES, "base", branch="main")
        sha = self.state.commit(REPO, head, "head", parents=[self.base])
        pr = self.state.open_pull_request(REPO, self.base, sha, number=1)
        return PullRequestRef(self.repo_id, REPO, pr.number, self.base, sha, INSTALLATION)

    def commentable(self, number: int = 1) -> dict[str, tuple[tuple[int, int], ...]]:
        pr = self.state.pulls[(REPO, number)]
        return {f.filename: _hunks(f.patch) for f in pr.files}

    async def publish(
        self,
        pr: PullRequestRef,
        findings: Sequence[Finding],
        publisher: Publisher | None = None,
        policy: Mapping[str, str] = DEFAULT_FAIL_ON,
        notes: Sequence[str] = (),
    ) -> PublishReport:
        """One job's publishing: start the runs, finish them."""
        publisher = publisher or self.publisher()
        ids = await publisher.start(pr)
        return await publisher.finish(pr, ids, findings, self.commentable(pr.number), policy, notes)

    def comments(self) -> list[str]:
        return [c.body for c in self.state.review_comments(REPO, 1)]


@pytest.fixture
async def sim(store: Store) -> AsyncIterator[Sim]:
    state = State()
    state.register_app(APP_ID, rsa_keypair()[1])
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    repo_id = state.repos[REPO].id
    await store.repository(REPO, repo_id=repo_id, installation_id=INSTALLATION)
    with serve(state) as base_url:
        async with GitHubApp(APP_ID, Secret(rsa_keypair()[0]), base_url) as app:
            yield Sim(state, app, Ledger(store.pool), repo_id)
    assert state.unknown_routes == []


def finding(
    line: int,
    *,
    path: str = "big.py",
    end: int | None = None,
    check: str = "duplication",
    severity: Severity = Severity.WARNING,
    message: str = "",
) -> Finding:
    return Finding(
        check=check,
        rule="clone" if check == "duplication" else "layer",
        path=path,
        start_line=line,
        end_line=end or line,
        message=message or f"`f{line}` re-implements `g{line}` in `lib.py:{line}`: reuse it.",
        severity=severity,
        evidence=(Evidence("lib.py", line, line + 2, name=f"g{line}"),),
        fingerprint=fingerprint(check, path, str(line)),
    )


async def cairn_review(repo: GitRepoBuilder, store: Store, files: dict[str, str]) -> list[Finding]:
    """Cairn's own findings on a local repository with ``BASE_FILES`` then ``files``."""
    if not repo.git("branch", "--list", "main"):
        repo.write({**BASE_FILES}).commit("base")
    repo.git("checkout", "-q", "-B", "feature", "main")
    repo.write({**files}).commit("head")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), CairnConfig()
    )
    return result.findings


def runs(state: State) -> dict[str, tuple[str, str | None]]:
    return {r.name: (r.status, r.conclusion) for r in state.runs(REPO)}


# --- (a) the first push --------------------------------------------------------------------


async def test_first_push_comments_the_duplicate_and_completes_three_runs(
    sim: Sim, store: Store, repo: GitRepoBuilder
) -> None:
    head = BASE_FILES | {"exports/csv.py": module(PARSE_DATE_RENAMED)}
    findings = await cairn_review(repo, store, {"exports/csv.py": module(PARSE_DATE_RENAMED)})
    assert [(f.path, f.start_line, f.end_line) for f in findings] == [("exports/csv.py", 4, 18)]
    pr = sim.push(head)

    report = await sim.publish(pr, findings, notes=["3 files skipped: 2 minified, 1 binary"])

    assert report == PublishReport(posted=1)
    assert runs(sim.state) == {
        "cairn/duplication": ("completed", "neutral"),  # duplication never fails by default
        "cairn/patterns": ("completed", "success"),
        "cairn/decisions": ("completed", "success"),
    }
    [comment] = sim.state.review_comments(REPO, 1)
    assert (comment.path, comment.start_line, comment.line, comment.side) == (
        "exports/csv.py",
        4,
        18,
        "RIGHT",
    )
    link = f"{WEB}/{REPO}/blob/{pr.base_sha}/billing/dates.py#L4-L17"
    assert f"]({link})" in comment.body
    assert f"<!-- cairn:finding {findings[0].fingerprint} -->" in comment.body
    [review_] = sim.state.reviews[(REPO, 1)]
    assert (review_.event, review_.commit_id) == ("COMMENT", pr.head_sha)

    run = sim.state.check_run(REPO, "cairn/duplication")
    assert run.title == "1 finding: 1 warning"
    assert run.summary is not None
    assert "### `exports/csv.py`" in run.summary and link in run.summary
    assert "3 files skipped: 2 minified, 1 binary" in run.summary
    assert [
        (a["path"], a["start_line"], a["end_line"], a["annotation_level"]) for a in run.annotations
    ] == [("exports/csv.py", 4, 18, "warning")]
    rows = await sim.ledger.findings(pr.repo_id, 1)
    assert rows[findings[0].fingerprint].comment_id == comment.id
    assert rows[findings[0].fingerprint].state == "open"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param({}, ("neutral", "failure", "neutral"), id="defaults"),
        pytest.param(
            {"duplication": "warning", "patterns": "never", "decisions": "notice"},
            ("failure", "neutral", "failure"),
            id="strict-duplication-lenient-patterns",
        ),
    ],
)
async def test_conclusions_follow_the_policy(
    sim: Sim, policy: dict[str, str], expected: tuple[str, str, str]
) -> None:
    pr = sim.push({"big.py": LONG})
    findings = [
        finding(1),
        finding(2, check="patterns", severity=Severity.ERROR),
        finding(3, check="decisions", severity=Severity.NOTICE),
    ]
    await sim.publish(pr, findings, policy=policy)
    assert (
        tuple(
            sim.state.check_run(REPO, f"cairn/{c}").conclusion
            for c in ("duplication", "patterns", "decisions")
        )
        == expected
    )


async def test_an_unknown_policy_value_is_refused_before_anything_is_posted(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    with pytest.raises(ValueError, match="fail_on"):
        await publisher.finish(pr, ids, [finding(1)], sim.commentable(), {"duplication": "high"})
    assert sim.comments() == []


# --- (b) retries and redeliveries ----------------------------------------------------------


async def test_the_same_findings_again_post_nothing_new(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    findings = [finding(10), finding(20, end=24)]
    await sim.publish(pr, findings)
    before = sim.comments()

    again = await sim.publish(pr, findings)  # a redelivered webhook, a retried job

    assert again == PublishReport(kept=2)
    assert sim.comments() == before and len(before) == 2
    assert len(sim.state.reviews[(REPO, 1)]) == 1
    assert all(r.status == "completed" for r in sim.state.runs(REPO))


async def test_a_job_killed_before_recording_does_not_post_twice(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    findings = [finding(10)]
    await sim.publish(pr, findings)
    await sim.ledger.db.execute("DELETE FROM findings")  # posted, never recorded

    again = await sim.publish(pr, findings)

    assert again.posted == 0 and len(sim.comments()) == 1
    rows = await sim.ledger.findings(pr.repo_id, 1)
    assert rows[findings[0].fingerprint].comment_id == sim.state.review_comments(REPO, 1)[0].id


async def test_concurrent_jobs_post_each_finding_once(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    findings = [finding(n) for n in (5, 6, 7)]
    await asyncio.gather(sim.publish(pr, findings), sim.publish(pr, findings))
    assert len(sim.comments()) == 3


# --- (c) a fix on a new head ---------------------------------------------------------------


async def test_a_fixed_finding_gets_a_reply_and_its_thread_resolved(
    sim: Sim, store: Store, repo: GitRepoBuilder
) -> None:
    sim.state.permissions[INSTALLATION]["contents"] = "write"
    copy = {"exports/csv.py": module(PARSE_DATE_RENAMED)}
    findings = await cairn_review(repo, store, copy)
    first = sim.push(BASE_FILES | copy)
    await sim.publish(first, findings)

    reuse = "def to_day(raw):\n    return parse_iso_date(raw)\n"
    fixed = {"exports/csv.py": module(reuse, header="from billing.dates import parse_iso_date\n")}
    assert await cairn_review(repo, store, fixed) == []
    second = sim.push(BASE_FILES | fixed)
    report = await sim.publish(second, [])

    assert report == PublishReport(fixed=1)
    root, reply = sim.state.review_comments(REPO, 1)
    assert reply.in_reply_to_id == root.id and second.head_sha in reply.body
    [thread] = sim.state.threads(REPO, 1)
    assert thread.is_resolved and thread.comment_ids == [root.id, reply.id]
    row = (await sim.ledger.findings(second.repo_id, 1))[findings[0].fingerprint]
    assert (row.state, row.fixed_sha, row.thread_id) == ("fixed", second.head_sha, thread.id)
    assert runs(sim.state)["cairn/duplication"] == ("completed", "success")

    assert await sim.publish(second, []) == PublishReport()  # a retry replies nothing more
    assert len(sim.state.review_comments(REPO, 1)) == 2


async def test_a_thread_github_will_not_resolve_stays_open_with_its_reply(sim: Sim) -> None:
    assert sim.state.permissions[INSTALLATION]["contents"] == "read"  # what app.yml asks
    first = sim.push({"big.py": LONG})
    await sim.publish(first, [finding(10), finding(20)])
    second = sim.push({"big.py": LONG + "more = 1\n"})

    report = await sim.publish(second, [])

    assert report == PublishReport(fixed=2, unresolved=2)
    replies = [c for c in sim.state.review_comments(REPO, 1) if c.in_reply_to_id is not None]
    assert [second.head_sha in c.body for c in replies] == [True, True]
    assert [t.is_resolved for t in sim.state.threads(REPO, 1)] == [False, False]
    assert runs(sim.state)["cairn/duplication"] == ("completed", "success")
    rows = await sim.ledger.findings(second.repo_id, 1)
    assert {r.state for r in rows.values()} == {"fixed"}


async def test_the_comment_cap_counts_the_comments_made_on_this_head(sim: Sim) -> None:
    first = sim.push({"big.py": LONG})
    await sim.publish(first, [finding(10), finding(20)], publisher=sim.publisher(2))
    # GitHub moves every comment's commit_id to the new head
    second = sim.push({"big.py": LONG + "more = 1\n"})
    assert {c.commit_id for c in sim.state.review_comments(REPO, 1)} == {second.head_sha}

    report = await sim.publish(
        second, [finding(10), finding(20), finding(30)], publisher=sim.publisher(2)
    )

    assert report == PublishReport(posted=1, kept=2)
    assert sorted(c.line for c in sim.state.review_comments(REPO, 1)) == [10, 20, 30]


async def test_a_persisting_finding_keeps_its_thread_across_pushes(sim: Sim) -> None:
    sim.state.permissions[INSTALLATION]["contents"] = "write"
    first = sim.push({"big.py": LONG})
    kept, gone = finding(10), finding(11)
    await sim.publish(first, [kept, gone])
    second = sim.push({"big.py": "# moved down\n" + LONG})
    moved = dataclasses.replace(kept, start_line=11, end_line=11)  # same identity, new line

    report = await sim.publish(second, [moved, finding(30)])

    assert report == PublishReport(posted=1, kept=1, fixed=1)
    assert len([c for c in sim.state.review_comments(REPO, 1) if c.in_reply_to_id is None]) == 3
    lines = {c.id: c.line for c in sim.state.review_comments(REPO, 1)}
    resolved = {lines[t.comment_ids[0]]: t.is_resolved for t in sim.state.threads(REPO, 1)}
    assert resolved == {10: False, 11: True, 30: False}  # kept keeps its thread (outdated)


async def test_a_job_for_a_superseded_head_only_completes_its_runs(sim: Sim) -> None:
    first = sim.push({"big.py": LONG})
    await sim.publish(first, [finding(10)])
    second = sim.push({"big.py": LONG + "more = 1\n"})
    await sim.publish(second, [finding(10)])

    late = await sim.publish(first, [finding(20)])  # a slow retry of the first push's job

    assert late == PublishReport(outdated=True)
    assert [c.line for c in sim.state.review_comments(REPO, 1)] == [10]
    assert not any(t.is_resolved for t in sim.state.threads(REPO, 1))
    assert {r.status for r in sim.state.runs(REPO)} == {"completed"}
    late_runs = [
        r for r in sim.state.runs(REPO, "cairn/duplication") if r.head_sha == first.head_sha
    ]
    assert [len(r.annotations) for r in late_runs] == [1, 1]
    rows = await sim.ledger.findings(first.repo_id, 1)
    assert {fp: r.head_sha for fp, r in rows.items()} == {finding(10).fingerprint: second.head_sha}


async def test_a_review_github_refuses_leaves_the_findings_in_the_check_runs(sim: Sim) -> None:
    pr = sim.push(
        {"big.py": LONG.replace("value_5 = 5\n", "value_5 = 55\n")}, base={"big.py": LONG}
    )
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    wrong = {"big.py": ((1, 300),)}  # a diff that disagrees with GitHub's

    report = await publisher.finish(pr, ids, [finding(100)], wrong)

    assert (report.posted, report.outside_diff) == (0, 1)
    assert sim.comments() == []
    run = sim.state.check_run(REPO, "cairn/duplication")
    assert (run.status, len(run.annotations)) == ("completed", 1)


async def test_one_comment_github_refuses_never_drops_the_others(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG, "other.py": LONG}, base={"other.py": LONG})
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    # other.py is not in the pull request: GitHub refuses any comment on it
    commentable = {**sim.commentable(), "other.py": ((1, 300),)}
    findings = [finding(n) for n in (10, 20, 30)] + [finding(5, path="other.py")]

    report = await publisher.finish(pr, ids, findings, commentable)

    assert (report.posted, report.outside_diff) == (3, 1)
    assert sorted(c.line for c in sim.state.review_comments(REPO, 1)) == [10, 20, 30]
    assert await sim.publish(pr, findings) == PublishReport(kept=3, outside_diff=1)
    assert len(sim.state.check_run(REPO, "cairn/duplication").annotations) == 4


# --- (d) outside the diff ------------------------------------------------------------------


async def test_a_finding_outside_the_diff_is_only_annotated(sim: Sim) -> None:
    base = {"big.py": LONG}
    pr = sim.push({"big.py": LONG.replace("value_5 = 5\n", "value_5 = 55\n")}, base=base)
    assert sim.commentable() == {"big.py": ((2, 8),)}

    report = await sim.publish(pr, [finding(100, end=110), finding(7, end=12)])

    assert report == PublishReport(posted=1, outside_diff=1)
    [comment] = sim.state.review_comments(REPO, 1)
    assert (comment.start_line, comment.line) == (7, 8)  # the overlap with the hunk
    annotated = sim.state.check_run(REPO, "cairn/duplication").annotations
    assert sorted(a["start_line"] for a in annotated) == [7, 100]


# --- (e, f, g) limits ----------------------------------------------------------------------


async def test_comments_are_capped_per_push_and_the_rest_summarised(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    report = await sim.publish(pr, [finding(n) for n in range(1, 31)])

    assert (report.posted, report.summarised) == (25, 5)
    assert len(sim.comments()) == 25
    [review_] = sim.state.reviews[(REPO, 1)]
    assert "5 more findings" in review_.body
    assert all(f"big.py:{n}]" in review_.body for n in range(26, 31))
    assert len(sim.state.check_run(REPO, "cairn/duplication").annotations) == 30

    again = await sim.publish(pr, [finding(n) for n in range(1, 31)])  # a retry, same head
    assert (again.posted, again.kept, again.summarised) == (0, 25, 5)
    assert len(sim.state.reviews[(REPO, 1)]) == 1


async def test_every_annotation_arrives_in_batches(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    await sim.publish(pr, [finding(n) for n in range(1, 121)], publisher=sim.publisher(0))
    run = sim.state.check_run(REPO, "cairn/duplication")
    assert sorted(a["start_line"] for a in run.annotations) == list(range(1, 121))
    assert run.status == "completed"
    assert sim.comments() == []


async def test_a_huge_summary_is_truncated_with_a_note(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    wordy = [finding(n, message="é" * 400 + f" {n}") for n in range(1, 301)]

    await sim.publish(pr, wordy, publisher=sim.publisher(0), notes=["1 file skipped: binary"])

    summary = sim.state.check_run(REPO, "cairn/duplication").summary
    assert summary is not None
    assert len(summary) <= MAX_OUTPUT and len(summary.encode()) <= MAX_OUTPUT
    assert summary.rstrip().endswith("Every finding is annotated on its lines._")
    assert "more, not shown" in summary and "1 file skipped: binary" in summary


# --- (h) suppressions ----------------------------------------------------------------------


async def test_a_suppressed_finding_is_not_posted_but_listed(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    quiet = finding(3, check="patterns", severity=Severity.ERROR)
    await sim.ledger.suppress(
        pr.repo_id, fingerprint=quiet.fingerprint, reason="generated code", author="octocat"
    )

    report = await sim.publish(pr, [quiet, finding(4)])

    assert (report.posted, report.suppressed) == (1, 1)
    assert [c.line for c in sim.state.review_comments(REPO, 1)] == [4]
    patterns = sim.state.check_run(REPO, "cairn/patterns")
    assert patterns.conclusion == "success" and patterns.annotations == []
    assert patterns.summary is not None
    assert "Active suppressions (1)" in patterns.summary
    assert "generated code (octocat" in patterns.summary
    row = (await sim.ledger.findings(pr.repo_id, 1))[quiet.fingerprint]
    assert row.state == "dismissed"


async def test_a_rule_suppression_silences_every_finding_of_the_rule(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    await sim.ledger.suppress(pr.repo_id, rule="duplication/clone", reason="ok", author="lead")
    report = await sim.publish(pr, [finding(1), finding(2)])
    assert (report.posted, report.suppressed) == (0, 2)
    assert sim.comments() == []


async def test_another_repositorys_rows_never_apply(sim: Sim, store: Store) -> None:
    other = await store.repository("acme/other", repo_id=999_999)
    pr = sim.push({"big.py": LONG})
    f = finding(1)
    await sim.ledger.suppress(other.id, fingerprint=f.fingerprint, reason="x", author="y")
    await sim.ledger.db.execute(
        "INSERT INTO findings (repo_id, pr_number, fingerprint, check_name, rule, path,"
        " start_line, end_line, message, severity, head_sha, comment_id)"
        " VALUES ($1, 1, $2, 'duplication', 'clone', 'big.py', 1, 1, 'm', 'warning', 'x', 1)",
        other.id,
        f.fingerprint,
    )

    report = await sim.publish(pr, [f])

    assert (report.posted, report.suppressed, report.kept) == (1, 0, 0)
    assert list(await sim.ledger.findings(pr.repo_id, 1)) == [f.fingerprint]
    assert len(await sim.ledger.suppressions(pr.repo_id)) == 0


# --- (i) failures and configuration problems -----------------------------------------------


async def test_fail_after_start_leaves_no_run_in_progress(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    assert {r.status for r in sim.state.runs(REPO)} == {"in_progress"}

    await publisher.fail(pr, ids, "GitHubUnavailable: 502 Server Error")

    assert set(runs(sim.state).values()) == {("completed", "failure")}
    summary = sim.state.check_run(REPO, "cairn/patterns").summary
    assert summary is not None and "502 Server Error" in summary


async def test_fail_after_finish_keeps_the_finished_conclusions(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    await publisher.finish(pr, ids, [], sim.commentable())
    await publisher.fail(pr, ids, "boom after publishing")
    assert set(runs(sim.state).values()) == {("completed", "success")}


async def test_configuration_problems_complete_every_run_as_neutral(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    problems = [".cairn.yml:3: duplication.min_tokens must be a positive integer"]

    await publisher.neutral(pr, ids, problems)

    assert set(runs(sim.state).values()) == {("completed", "neutral")}
    run = sim.state.check_run(REPO, "cairn/decisions")
    assert run.title == "1 problem in .cairn.yml"
    assert run.summary is not None and problems[0] in run.summary


# --- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patch:
    text: str | None
    expected: tuple[tuple[int, int], ...]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(_Patch(None, ()), id="binary"),
        pytest.param(_Patch("@@ -0,0 +1,3 @@\n+a\n+b\n+c", ((1, 3),)), id="added-file"),
        pytest.param(_Patch("@@ -1,3 +0,0 @@\n-a\n-b\n-c", ()), id="deleted-file"),
        pytest.param(
            _Patch(
                "@@ -2,7 +2,7 @@ def f\n"
                + " x\n" * 3
                + "-a\n+b\n"
                + " x\n" * 3
                + "@@ -40 +40,2 @@\n-y\n+y\n+z",
                ((2, 8), (40, 41)),
            ),
            id="two-hunks",
        ),
        pytest.param(_Patch("@@ -5 +5 @@\n-a\n+b", ((5, 5),)), id="single-line-counts"),
    ],
)
def test_the_lines_a_comment_may_target_are_the_hunks_of_githubs_patch(case: _Patch) -> None:
    assert _hunks(case.text) == case.expected


async def test_the_ledger_keeps_merged_pull_requests_per_repository(sim: Sim) -> None:
    await sim.ledger.save_pull_request(
        sim.repo_id, 7, title="Soft-delete users", labels=["gdpr"], files=["users/models.py"]
    )
    await sim.ledger.save_pull_request(sim.repo_id, 7, title="Soft-delete users (ADR-0007)")
    rows = await sim.ledger.db.fetch(
        "SELECT number, title, labels FROM pull_requests WHERE repo_id = $1", sim.repo_id
    )
    assert [tuple(r) for r in rows] == [(7, "Soft-delete users (ADR-0007)", [])]


async def test_the_decisions_run_lists_related_decisions_and_links_the_decision_history(
    sim: Sim,
) -> None:
    await sim.ledger.save_pull_request(
        sim.repo_id,
        12,
        title="ADR-0005: use httpx",
        files=["docs/adr/0005-http-client.md", "app/http.py"],
        merged_at=datetime(2021, 3, 4, tzinfo=UTC),
    )
    await sim.ledger.save_pull_request(sim.repo_id, 13, title="Unrelated", files=["app/x.py"])
    await sim.ledger.save_pull_request(
        sim.repo_id,
        14,
        title="Keep requests for uploads?",
        body="This goes against adr-5 for the upload path.",
        files=["app/upload.py"],
        merged_at=datetime(2022, 6, 1, tzinfo=UTC),
    )
    await sim.ledger.save_pull_request(
        sim.repo_id, 15, title="See ADR-51", body="ADR 50 too", files=["app/y.py"]
    )
    history = await PullRequestHistory(sim.ledger.db, sim.repo_id).of(
        ["docs/adr/0005-http-client.md", "docs/adr/0001-other.md"]
    )
    assert history == {
        "docs/adr/0005-http-client.md": (
            HistoryEntry(
                "pull-request",
                "14",
                "Keep requests for uploads?",
                "2022-06-01",
                "mentions ADR-0005",
            ),
            HistoryEntry(
                "pull-request",
                "12",
                "ADR-0005: use httpx",
                "2021-03-04",
                "changed docs/adr/0005-http-client.md",
            ),
        )
    }
    made = history["docs/adr/0005-http-client.md"][1]
    pr = sim.push({"big.py": LONG})
    violation = Finding(
        check="decisions",
        rule="adr-0005",
        path="big.py",
        start_line=1,
        end_line=1,
        message="This adds `requests` (import), but ADR-0005 decided otherwise.",
        severity=Severity.WARNING,
        evidence=(
            Evidence("docs/adr/0005-http-client.md", 9, 9, name="Use httpx"),
            Evidence(
                "",
                0,
                0,
                name=f"{made.label} {made.title}",
                kind="pull-request",
                note=made.reason,
            ),
        ),
        fingerprint=fingerprint("decisions", "requests"),
    )
    notes = DecisionNotes(
        relevant=(
            RelevantDecision(
                "docs/adr/0005-http-client.md", "ADR-0005", "Use httpx", "accepted", "2021-03-04"
            ),
        ),
        problems=("docs/adr/0001-a.md: no status",),
    )
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    await publisher.finish(pr, ids, [violation], sim.commentable(), decisions=notes)

    run = sim.state.check_run(REPO, "cairn/decisions")
    assert run.conclusion == "neutral"  # the warning; the notes never change a conclusion
    assert run.summary is not None
    adr = f"{WEB}/{REPO}/blob/{pr.base_sha}/docs/adr/0005-http-client.md"
    assert (
        f"### Decisions relevant to this change\n\n- [ADR-0005 Use httpx]({adr}) "
        "(accepted, 2021-03-04)\n" in run.summary
    )
    assert "### Decision log problems\n\n- docs/adr/0001-a.md: no status\n" in run.summary
    assert f"({WEB}/{REPO}/pull/12)" in run.summary
    [comment] = sim.comments()
    assert f"({WEB}/{REPO}/pull/12)" in comment
    for check in ("duplication", "patterns"):
        summary = sim.state.check_run(REPO, f"cairn/{check}").summary or ""
        assert "Decisions relevant" not in summary and "Decision log" not in summary


async def test_related_decisions_alone_leave_the_decisions_run_successful(sim: Sim) -> None:
    pr = sim.push({"big.py": LONG})
    notes = DecisionNotes(
        relevant=(RelevantDecision("docs/adr/0005-a.md", "ADR-0005", "A", "accepted"),),
        problems=tuple(f"docs/adr/{i:04d}-x.md: no status" for i in range(80)),
    )
    publisher = sim.publisher()
    ids = await publisher.start(pr)
    await publisher.finish(pr, ids, [], sim.commentable(), decisions=notes)
    run = sim.state.check_run(REPO, "cairn/decisions")
    assert run.conclusion == "success" and run.annotations == []
    assert run.summary is not None and "- … and 30 more\n" in run.summary
    assert sim.comments() == []


async def test_start_takes_over_the_runs_a_killed_attempt_left_in_progress(sim: Sim) -> None:
    pr = sim.push({**BASE_FILES, "exports/csv.py": "x = 1\n"})
    killed = await sim.publisher().start(pr)  # this attempt's worker dies: nothing completes
    other_app = sim.state.next_id()
    sim.state.check_runs[REPO].append(  # another App's run of the same name is not ours
        CheckRun(other_app, "cairn/patterns", pr.head_sha, "in_progress", None, app_id=1)
    )

    again = await sim.publisher().start(pr)

    assert again == killed
    assert len(sim.state.runs(REPO)) == 4
    await sim.publisher().finish(pr, again, [], sim.commentable())
    ours = [r for r in sim.state.runs(REPO) if r.id != other_app]
    assert {(r.status, r.conclusion) for r in ours} == {("completed", "success")}


async def test_a_run_refused_at_start_leaves_the_others_completed(sim: Sim) -> None:
    pr = sim.push({**BASE_FILES, "exports/csv.py": "x = 1\n"})
    sim.state.requests = _RefuseThirdRun(sim.state)

    with pytest.raises(Forbidden):
        await sim.publisher().start(pr)

    runs = sim.state.runs(REPO)
    assert len(runs) == 2
    assert {(r.status, r.conclusion) for r in runs} == {("completed", "failure")}
    assert all("could not open the check runs" in (r.summary or "") for r in runs)


class _RefuseThirdRun(list[str]):
    """GitHub refuses (403) the third check run a publisher opens."""

    def __init__(self, state: State) -> None:
        super().__init__()
        self.state = state

    def append(self, request: str) -> None:
        if request == f"POST /repos/{REPO}/check-runs":
            opened = sum(1 for r in self if r == request)
            if opened == 2:
                self.state.fail_next(1, 403)
        super().append(request)


def _hunks(patch: str | None) -> tuple[tuple[int, int], ...]:
    """The new-side line ranges of GitHub's per-file patch (what a comment may target)."""
    return parse_patch(patch or "", old_path=None, new_path="f", status="modified").hunks
