"""The arq jobs of ``app.worker``, run by a burst-mode worker against real Redis and Postgres.

GitHub is the simulator; assertions are on what a reviewer would see there (check runs,
comments, replies) and on the rows Cairn keeps, never on call counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name
from arq.jobs import Job, JobResult, JobStatus

from app import jobs as jobs_module
from app import worker as worker_module
from app.metrics import render as render_metrics
from app.settings import Settings
from app.store import Store
from app.store.ledger import Ledger, Seen
from app.worker import build_worker
from checks.config import CONFIG_FILE, ConfigError, parse_config
from checks.finding import Finding, Severity, fingerprint
from tests.app.samples import BASE, INVOICE_TOTAL, PARSE_DATE_RENAMED, UNRELATED, module
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair
from tests.github_sim.state import ReviewComment, Thread
from tests.servers import RedisServer

APP_ID, INSTALLATION, OTHER_INSTALLATION = 4242, 61, 62
REPO, OTHER = "acme/shop", "umbrella/labs"
SECRET = "worker test webhook secret"
# The worker tests' own Redis database, emptied before each test: arq's job ids are global
# to a database, so one test's job would deduplicate the next one's.
REDIS_DB = 12  # of the session's own Redis (tests.conftest.session_redis)
DUPLICATE = {"exports/csv.py": module(PARSE_DATE_RENAMED)}
UNREADABLE_CONFIG = "duplication: [\n"
BROKEN_PATTERNS = """\
patterns:
  forbid:
    - {calls: [print]}
  colour: red
"""
BROKEN_CONFIG = """\
duplication:
  min_tokens: five
  threshold: 2
  colour: blue
fail_on:
  duplication: sometimes
"""

# arq closes its Redis pool with redis-py's deprecated ``close()``: not ours to fix.
pytestmark = [
    pytest.mark.slow,  # arq workers on Redis against the simulator, end to end
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@dataclass
class World:
    """The simulator with Cairn installed twice, the worker's settings, its queue, the database."""

    state: State
    settings: Settings
    redis: ArqRedis
    store: Store
    ledger: Ledger

    def repo_id(self, full_name: str = REPO) -> int:
        return self.state.repos[full_name].id

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> Job:
        job = await self.redis.enqueue_job(function, *args, _job_id=job_id or f"{function}:{args}")
        assert job is not None, "a job of that id is already queued"
        return job

    async def work(self, max_jobs: int = -1) -> None:
        """Run the queued jobs; with ``max_jobs``, stop after starting that many (no waiting
        for a deferred retry)."""
        worker = build_worker(self.settings, burst=True)
        worker.max_burst_jobs = max_jobs
        try:
            await worker.async_run()
        finally:
            await worker.close()

    async def run(self, function: str, *args: Any) -> JobResult:
        """Queue one job, run the queue, and return the job's result."""
        job = await self.enqueue(function, *args)
        await self.work()
        info = await job.result_info()
        assert info is not None, f"{function} left no result"
        return info

    def pull_request(
        self, head: dict[str, str], base: dict[str, str] = BASE, number: int = 1
    ) -> tuple[str, str]:
        """A pull request from ``base`` (on main) to ``base | head``: (base sha, head sha)."""
        base_sha = self.state.commit(REPO, base, "base", branch="main")
        head_sha = self.state.commit(REPO, base | head, "head", parents=[base_sha])
        self.state.open_pull_request(
            REPO, base_sha, head_sha, title="Export invoices", number=number
        )
        return base_sha, head_sha

    def review_args(self, head_sha: str, number: int = 1) -> tuple[Any, ...]:
        """The arguments ``app.webhooks`` gives ``review_pull_request``."""
        return (INSTALLATION, self.repo_id(), REPO, number, head_sha)

    def runs(self) -> dict[str, tuple[str, str | None]]:
        return {r.name: (r.status, r.conclusion) for r in self.state.runs(REPO)}


@pytest.fixture
async def world(
    store: Store, cairn_env: dict[str, str], session_redis: RedisServer
) -> AsyncIterator[World]:
    redis_url = f"redis://127.0.0.1:{session_redis.port}/{REDIS_DB}"
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    state.add_installation(OTHER_INSTALLATION, APP_ID, [OTHER])
    with serve(state) as api_url:
        env = dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET=SECRET,
            GITHUB_API_URL=api_url,
            REDIS_URL=redis_url,
        )
        redis = await create_pool(RedisSettings.from_dsn(redis_url))
        await redis.flushdb()
        try:
            yield World(state, Settings.from_env(env), redis, store, Ledger(store.pool))
        finally:
            await redis.aclose()
    assert state.unknown_routes == []


class FaultsAfterStart(list[str]):
    """``State.requests`` that arms faults right after the job's three check runs are opened,
    so they break the review mid-way rather than before it starts."""

    def __init__(self, arm: Callable[[], None]) -> None:
        super().__init__()
        self.arm = arm
        self.armed = False

    def append(self, request: str) -> None:
        opened = sum(1 for r in self if r.startswith("POST ") and r.endswith("/check-runs"))
        if opened == 3 and not self.armed:
            self.armed = True
            self.arm()  # this request is the first to meet them
        super().append(request)


def human_comment(
    state: State, number: int, path: str, line: int, body: str, in_reply_to: int | None = None
) -> int:
    """A person's review comment on the pull request (a reply in ``in_reply_to``'s thread);
    its id."""
    with state.lock:
        pr = state.pulls[(REPO, number)]
        cid = state.next_id()
        state.comments.setdefault((REPO, number), []).append(
            ReviewComment(
                id=cid,
                node_id=f"PRRC_{cid}",
                review_id=None,
                number=number,
                path=path,
                line=line,
                side="RIGHT",
                start_line=None,
                start_side=None,
                body=body,
                commit_id=pr.head_sha,
                author="octocat",
                in_reply_to_id=in_reply_to,
            )
        )
        threads = state.thread_list.setdefault((REPO, number), [])
        if in_reply_to is None:
            threads.append(Thread(f"PRRT_{cid}", number, [cid]))
        else:
            next(t for t in threads if in_reply_to in t.comment_ids).comment_ids.append(cid)
    return cid


# --- index_repository ----------------------------------------------------------------------


async def test_index_repository_indexes_the_default_branch_then_only_what_a_push_changed(
    world: World,
) -> None:
    first = world.state.commit(REPO, BASE, "base", branch="main")
    repo_id = world.repo_id()

    # queued by `installation.created`: no sha, the default branch's head
    result = await world.run("index_repository", INSTALLATION, repo_id, REPO, None)

    assert result.success, result.result
    assert result.result == "indexed 3 files (3 parsed)"
    snapshot = world.state.repos[REPO].snapshot(first)
    assert await world.store.tree(repo_id) == snapshot
    units = await world.store.units(repo_id)
    assert {(u.path, u.unit.name) for u in units} == {
        ("billing/dates.py", "parse_iso_date"),
        ("billing/invoices.py", "invoice_total"),
        ("reports/table.py", "render_table"),
    }
    assert (await _repository_row(world, repo_id))[:2] == (INSTALLATION, "main")

    # queued by a `push` to main: only the changed blob is read and parsed
    changed = BASE | {"reports/table.py": module(UNRELATED + "\n\nWIDTH = 120\n")}
    second = world.state.commit(REPO, changed, "wider tables", parents=[first], branch="main")
    fetched_before = len(world.state.requests)

    result = await world.run("index_repository", INSTALLATION, repo_id, REPO, second)

    assert result.result == "indexed 3 files (1 parsed)"
    new_snapshot = world.state.repos[REPO].snapshot(second)
    assert await world.store.tree(repo_id) == new_snapshot
    # the replaced blob is gone with its units; the others were kept, not parsed again
    assert await world.store.known_blobs(repo_id) == set(new_snapshot.values())
    blobs_read = [r for r in world.state.requests[fetched_before:] if "/git/blobs/" in r]
    assert blobs_read == [f"GET /repos/{REPO}/git/blobs/{new_snapshot['reports/table.py']}"]
    trees_listed = [r for r in world.state.requests[fetched_before:] if "/git/trees/" in r]
    assert len(trees_listed) == 1  # one listing serves the code and the decision log
    assert len(await world.store.units(repo_id)) == 3
    assert await _repository_row(world, repo_id) == (INSTALLATION, "main", second)


async def _repository_row(world: World, repo_id: int) -> tuple[Any, ...]:
    row = await world.store.pool.fetchrow(
        "SELECT installation_id, default_branch, indexed_sha FROM repositories WHERE id = $1",
        repo_id,
    )
    assert row is not None
    return tuple(row)


async def test_index_repository_without_a_sha_records_the_commit_it_indexed(
    world: World,
) -> None:
    head = world.state.commit(REPO, BASE, "base", branch="main")

    await world.run("index_repository", INSTALLATION, world.repo_id(), REPO, None)

    assert (await _repository_row(world, world.repo_id()))[2] == head


async def test_index_repository_of_an_empty_repository_completes(world: World) -> None:
    # A repository installed before its first push: GitHub answers 409 to its commits.
    result = await world.run("index_repository", INSTALLATION, world.repo_id(), REPO, None)

    assert result.success, result.result
    assert "empty" in result.result
    assert await _repository_row(world, world.repo_id()) == (INSTALLATION, "main", None)
    done = await world.store.pool.fetchval(
        "SELECT done_at IS NOT NULL FROM job_runs WHERE job_id = $1", result.job_id
    )
    assert done  # the reconciler never queues it again


# --- forget_repositories / forget_installation ---------------------------------------------


async def _keep_something(world: World, full_name: str, installation: int) -> int:
    """An indexed repository with a finding, a suppression and a merged pull request."""
    repo_id = world.repo_id(full_name)
    world.state.commit(full_name, BASE, "base", branch="main")
    result = await world.run("index_repository", installation, repo_id, full_name, None)
    assert result.success, result.result
    f = Finding(
        check="duplication",
        rule="clone",
        path="reports/table.py",
        start_line=1,
        end_line=9,
        message="`render_table` re-implements `format_rows`: reuse it.",
        severity=Severity.WARNING,
        fingerprint=fingerprint("duplication", "clone", full_name),
    )
    await world.ledger.record(repo_id, 1, "a" * 40, [Seen(f)])
    await world.ledger.suppress(repo_id, reason="generated", author="octocat", rule="dup/clone")
    await world.ledger.save_pull_request(repo_id, 1, title="Tables", files=["reports/table.py"])
    return repo_id


async def _rows(world: World, repo_id: int) -> dict[str, int]:
    """The repository's rows, by table."""
    tables = ("files", "blobs", "units", "findings", "suppressions", "pull_requests")
    counts = {
        "repositories": await world.store.pool.fetchval(
            "SELECT count(*) FROM repositories WHERE id = $1", repo_id
        )
    }
    for table in tables:
        counts[table] = await world.store.pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE repo_id = $1", repo_id
        )
    return counts


@pytest.mark.parametrize(
    "function",
    [
        pytest.param("forget_repositories", id="repositories-removed"),
        pytest.param("forget_installation", id="installation-deleted"),
    ],
)
async def test_forgetting_deletes_every_row_of_the_repository_and_no_other(
    world: World, function: str
) -> None:
    gone = await _keep_something(world, REPO, INSTALLATION)
    kept = await _keep_something(world, OTHER, OTHER_INSTALLATION)
    before = await _rows(world, kept)
    assert all(before.values()), before

    result = await world.run(function, INSTALLATION, [gone])

    assert result.success, result.result
    assert set((await _rows(world, gone)).values()) == {0}
    assert await _rows(world, kept) == before


async def test_forget_installation_finds_its_repositories_without_the_payloads_list(
    world: World,
) -> None:
    # `installation.deleted` payloads may omit the repositories: the rows still go
    gone = await _keep_something(world, REPO, INSTALLATION)
    kept = await _keep_something(world, OTHER, OTHER_INSTALLATION)

    result = await world.run("forget_installation", INSTALLATION, [])

    assert result.result == f"forgot installation {INSTALLATION} (1 repositories)"
    assert set((await _rows(world, gone)).values()) == {0}
    assert (await _rows(world, kept))["units"] == 3


# --- review_pull_request -------------------------------------------------------------------


async def test_a_broken_configuration_completes_every_run_neutral_listing_every_problem(
    world: World,
) -> None:
    # Not YAML at all: no section can be trusted, every run is neutral.
    _, head = world.pull_request(DUPLICATE, base=BASE | {CONFIG_FILE: UNREADABLE_CONFIG})
    with pytest.raises(ConfigError) as broken:
        parse_config(UNREADABLE_CONFIG)
    assert len(broken.value.problems) == 1

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.result == "configuration problems: 1"
    assert world.runs() == {
        "cairn/duplication": ("completed", "neutral"),
        "cairn/patterns": ("completed", "neutral"),
        "cairn/decisions": ("completed", "neutral"),
    }
    for run in world.state.runs(REPO):
        assert run.head_sha == head
        assert run.title == "1 problem in .cairn.yml"
        assert run.summary is not None and "not valid YAML" in run.summary
        assert "(line 2, column 1)" in run.summary
    assert world.state.review_comments(REPO, 1) == []
    assert world.state.reviews.get((REPO, 1), []) == []


async def test_a_broken_section_makes_only_its_own_run_neutral(world: World) -> None:
    _, head = world.pull_request(DUPLICATE, base=BASE | {CONFIG_FILE: BROKEN_PATTERNS})

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert world.runs() == {
        "cairn/duplication": ("completed", "neutral"),  # neutral with its finding, as always
        "cairn/patterns": ("completed", "neutral"),
        "cairn/decisions": ("completed", "success"),
    }
    patterns = world.state.check_run(REPO, "cairn/patterns")
    assert patterns.title == "2 problems in .cairn.yml"
    assert patterns.summary is not None
    assert "patterns.forbid[0].message: say why" in patterns.summary
    assert "(line 3)" in patterns.summary
    assert "patterns.colour: unknown key" in patterns.summary and "(line 4)" in patterns.summary
    duplication = world.state.check_run(REPO, "cairn/duplication")
    assert duplication.title is not None and ".cairn.yml" not in duplication.title
    [comment] = world.state.review_comments(REPO, 1)  # the other checks still reviewed
    assert comment.path == "exports/csv.py"

    # A duplication section of its own problems makes that run neutral, with its lines.
    _, head = world.pull_request(DUPLICATE, base=BASE | {CONFIG_FILE: BROKEN_CONFIG}, number=2)
    result = await world.run("review_pull_request", *world.review_args(head, number=2))
    assert result.success, result.result
    duplication = world.state.check_run(REPO, "cairn/duplication")
    assert duplication.head_sha == head
    assert duplication.title == "4 problems in .cairn.yml"
    assert duplication.summary is not None and "(line 2)" in duplication.summary
    assert world.state.check_run(REPO, "cairn/patterns").title != "4 problems in .cairn.yml"


NOT_REVIEWED_FAILS = "not_reviewed: failure\n"
# Enough code that no parse of it finishes within a millisecond: the analysis is killed.
SLOW_TO_PARSE = {
    "exports/bulk.py": "".join(f"def handler_{i}(request):\n    return {i}\n" for i in range(3000))
}


@pytest.mark.parametrize(
    ("config", "conclusion"),
    [
        pytest.param(None, "neutral", id="default-neutral"),
        pytest.param(NOT_REVIEWED_FAILS, "failure", id="not_reviewed-failure"),
    ],
)
async def test_a_push_whose_analysis_is_killed_concludes_as_not_reviewed_says(
    world: World, config: str | None, conclusion: str
) -> None:
    base = BASE | ({CONFIG_FILE: config} if config is not None else {})
    _, head = world.pull_request(SLOW_TO_PARSE, base=base)
    world.settings = Settings.from_env({**world.settings.env, "CAIRN_ANALYSIS_TIMEOUT": "0.001"})

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert str(result.result).startswith("not reviewed: "), result.result
    assert world.runs() == {name: ("completed", conclusion) for name in world.runs()}
    assert len(world.runs()) == 3
    for run in world.state.runs(REPO):
        assert run.title == "Not reviewed"
        assert run.summary is not None and f"Cairn did not review {head[:7]}" in run.summary


async def test_a_head_config_cannot_ask_a_killed_analysis_to_pass(world: World) -> None:
    # The base says failure; the pull request's own .cairn.yml saying neutral is not read.
    _, head = world.pull_request(
        SLOW_TO_PARSE | {CONFIG_FILE: "not_reviewed: neutral\n"},
        base=BASE | {CONFIG_FILE: NOT_REVIEWED_FAILS},
    )
    world.settings = Settings.from_env({**world.settings.env, "CAIRN_ANALYSIS_TIMEOUT": "0.001"})

    assert (await world.run("review_pull_request", *world.review_args(head))).success

    assert {conclusion for _, conclusion in world.runs().values()} == {"failure"}


@pytest.mark.parametrize(
    ("config", "failed"),
    [
        pytest.param(None, False, id="default-by-findings"),
        pytest.param(NOT_REVIEWED_FAILS, True, id="not_reviewed-failure"),
    ],
)
async def test_a_push_over_the_apps_caps_fails_its_runs_when_not_reviewed_says_failure(
    world: World, monkeypatch: pytest.MonkeyPatch, config: str | None, failed: bool
) -> None:
    monkeypatch.setattr(worker_module, "MAX_REVIEWED_FILES", 1)
    base = BASE | ({CONFIG_FILE: config} if config is not None else {})
    _, head = world.pull_request(DUPLICATE | {"zz/late.py": "X = 1\n"}, base=base)

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    runs = world.runs()
    assert len(runs) == 3 and all(status == "completed" for status, _ in runs.values())
    if failed:
        assert {conclusion for _, conclusion in runs.values()} == {"failure"}
    else:  # by findings, as before: the copied function is a (non-failing) duplication
        assert runs["cairn/duplication"] == ("completed", "neutral")
        assert runs["cairn/decisions"] == ("completed", "success")
    for run in world.state.runs(REPO):
        assert run.summary is not None and "1 of the 2 changed source files" in run.summary
        assert run.title is not None
        assert run.title.startswith("Not reviewed whole · ") is failed


async def test_a_check_that_did_not_run_fixed_nothing(world: World) -> None:
    # The first push breaks a structure rule; a later base breaks the patterns section: its
    # run is neutral, and the open finding stays open (no "fixed" reply, no resolved thread).
    rule = (
        "patterns:\n  structure:\n"
        "    - {id: exported, directory: exports, kind: function, decorator: exported}\n"
    )
    _, head = world.pull_request(DUPLICATE, base=BASE | {CONFIG_FILE: rule})
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    open_before = {
        fp: e.check for fp, e in (await world.ledger.findings(world.repo_id(), 1)).items()
    }
    assert "patterns" in open_before.values()

    _, head = world.pull_request(DUPLICATE, base=BASE | {CONFIG_FILE: BROKEN_PATTERNS})
    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert world.state.check_run(REPO, "cairn/patterns").conclusion == "neutral"
    after = await world.ledger.findings(world.repo_id(), 1)
    assert {fp: e.state for fp, e in after.items() if e.check == "patterns"} == {
        fp: "open" for fp, check in open_before.items() if check == "patterns"
    }
    assert not any("Fixed in" in c.body for c in world.state.review_comments(REPO, 1))


async def test_a_review_of_a_superseded_head_does_nothing(world: World) -> None:
    base, old = world.pull_request(DUPLICATE)
    new = world.state.commit(REPO, BASE | {"exports/csv.py": "X = 1\n"}, "again", parents=[old])
    world.state.open_pull_request(REPO, base, new, number=1)  # the push moved the head on

    result = await world.run("review_pull_request", *world.review_args(old))

    assert result.result == "superseded"
    assert world.state.runs(REPO) == []
    assert world.state.review_comments(REPO, 1) == []


async def test_a_review_comments_the_duplicate_and_completes_three_runs(world: World) -> None:
    base, head = world.pull_request(DUPLICATE)

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert world.runs() == {
        "cairn/duplication": ("completed", "neutral"),
        "cairn/patterns": ("completed", "success"),
        "cairn/decisions": ("completed", "success"),
    }
    [comment] = world.state.review_comments(REPO, 1)
    assert (comment.path, comment.start_line, comment.line) == ("exports/csv.py", 4, 18)
    assert f"/{REPO}/blob/{base}/billing/dates.py#L4-L17" in comment.body


async def test_a_fix_github_will_not_resolve_leaves_the_thread_open_and_is_counted(
    world: World,
) -> None:
    assert world.state.permissions[INSTALLATION]["contents"] == "read"  # what app.yml asks
    base, head = world.pull_request(DUPLICATE)
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    fixed = world.state.commit(REPO, BASE | {"exports/csv.py": "X = 1\n"}, "fix", parents=[head])
    world.state.open_pull_request(REPO, base, fixed, number=1)

    result = await world.run("review_pull_request", *world.review_args(fixed))

    assert result.success, result.result
    assert "1 fixed" in result.result
    root, reply = world.state.review_comments(REPO, 1)
    assert reply.in_reply_to_id == root.id and f"Fixed in {fixed}" in reply.body
    assert [t.is_resolved for t in world.state.threads(REPO, 1)] == [False]
    assert {r.conclusion for r in world.state.runs(REPO) if r.head_sha == fixed} == {"success"}
    page = await render_metrics(world.store.pool, world.redis)
    assert 'cairn_github_refusals_total{what="resolve_thread"} 1' in page


async def test_a_file_whose_diff_github_leaves_out_costs_no_other_comment(world: World) -> None:
    # GitHub leaves out the patch of a diff past its limits (the simulator: 20,000 lines):
    # no line of that file can carry a comment, its findings go to the check runs only.
    filler = "".join(f"row_{i} = {i}\n" for i in range(20_000))
    big = module(PARSE_DATE_RENAMED.replace("to_day", "day_of")) + filler
    _, head = world.pull_request(DUPLICATE | {"exports/table.py": big})
    files = {f.filename: f for f in world.state.pulls[(REPO, 1)].files}
    assert files["exports/table.py"].patch is None and files["exports/csv.py"].patch

    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert {c.path for c in world.state.review_comments(REPO, 1)} == {"exports/csv.py"}
    annotated = world.state.check_run(REPO, "cairn/duplication").annotations
    assert {a["path"] for a in annotated} == {"exports/csv.py", "exports/table.py"}


# --- ignore_finding, then recheck ----------------------------------------------------------


async def test_ignore_in_reply_to_a_finding_suppresses_it_and_a_recheck_lists_it(
    world: World,
) -> None:
    _, head = world.pull_request(DUPLICATE)
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    [finding_comment] = world.state.review_comments(REPO, 1)
    repo_id = world.repo_id()
    [(fp, entry)] = (await world.ledger.findings(repo_id, 1)).items()
    assert entry.state == "open"
    command = human_comment(
        world.state, 1, "exports/csv.py", 18, "/cairn ignore the exporter must not import billing"
    )

    world.state.grant(REPO, "alice", "maintain")  # a member with write access
    result = await world.run(
        "ignore_finding",
        INSTALLATION,
        repo_id,
        REPO,
        1,
        finding_comment.id,
        command,
        "alice",
        "the exporter must not import billing",
        "MEMBER",
    )

    assert result.result == "suppressed"
    [suppression] = await world.ledger.suppressions(repo_id)
    assert (suppression.fingerprint, suppression.reason, suppression.author) == (
        fp,
        "the exporter must not import billing",
        "alice",
    )
    assert suppression.comment_id == command
    assert (await world.ledger.findings(repo_id, 1))[fp].state == "dismissed"
    [ack] = [
        c for c in world.state.review_comments(REPO, 1) if c.in_reply_to_id == finding_comment.id
    ]
    assert ack.author == world.state.bot_login
    assert ack.body.startswith("Ignored by `alice`: the exporter must not import billing.")
    comments_before = world.state.review_comments(REPO, 1)

    # `/cairn recheck`: the suppression is listed, nothing new is posted
    result = await world.run(
        "recheck_pull_request", INSTALLATION, repo_id, REPO, 1, "alice", "MEMBER", None
    )

    assert result.success, result.result
    rechecked = world.state.runs(REPO, "cairn/duplication")
    assert len(rechecked) == 2
    run = rechecked[-1]
    assert (run.status, run.conclusion, run.head_sha) == ("completed", "success", head)
    assert run.summary is not None
    assert "### Active suppressions (1)" in run.summary
    assert "the exporter must not import billing (alice, " in run.summary
    assert world.state.review_comments(REPO, 1) == comments_before
    assert len(world.state.reviews[(REPO, 1)]) == 1
    assert (await world.ledger.findings(repo_id, 1))[fp].state == "dismissed"


async def test_ignore_without_a_reason_is_answered_in_the_thread(world: World) -> None:
    _, head = world.pull_request(DUPLICATE)
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    [top] = world.state.review_comments(REPO, 1)
    command = human_comment(world.state, 1, top.path, top.line, "/cairn ignore", top.id)

    result = await world.run(
        "ignore_finding",
        *(INSTALLATION, world.repo_id(), REPO, 1, top.id, command, "alice", "", "OWNER"),
    )

    assert result.success and result.result == "no reason given", result.result
    answer = world.state.review_comments(REPO, 1)[-1]
    # GitHub refuses replies to replies: the answer names the thread's top comment
    assert (answer.in_reply_to_id, answer.author) == (top.id, world.state.bot_login)
    assert answer.body.startswith("Say why")
    assert await world.ledger.suppressions(world.repo_id()) == []


@pytest.mark.parametrize(
    "in_reply",
    [
        pytest.param(True, id="reply-to-a-person"),
        pytest.param(False, id="top-level-comment"),
    ],
)
async def test_ignore_not_in_reply_to_a_finding_records_nothing(
    world: World, in_reply: bool
) -> None:
    _, head = world.pull_request(DUPLICATE)
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    person = human_comment(world.state, 1, "exports/csv.py", 10, "Why not reuse the parser?")
    command = human_comment(world.state, 1, "exports/csv.py", 12, "/cairn ignore it is fine")
    repo_id = world.repo_id()

    result = await world.run(
        "ignore_finding",
        INSTALLATION,
        repo_id,
        REPO,
        1,
        person if in_reply else None,
        command,
        "alice",
        "it is fine",
        "OWNER",
    )

    assert result.result == "not a reply to a Cairn finding"
    assert await world.ledger.suppressions(repo_id) == []
    assert {e.state for e in (await world.ledger.findings(repo_id, 1)).values()} == {"open"}
    [reply] = [
        c
        for c in world.state.review_comments(REPO, 1)
        if c.in_reply_to_id == (person if in_reply else command)
    ]
    assert "nothing was recorded" in reply.body


async def test_ignore_in_the_conversation_is_answered_there(world: World) -> None:
    _, head = world.pull_request(DUPLICATE)
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    repo_id = world.repo_id()
    # An issue comment's id: not a review comment, and not a reply to anything.
    result = await world.run(
        "ignore_finding",
        INSTALLATION,
        repo_id,
        REPO,
        1,
        None,
        987654,
        "alice",
        "it is fine",
        "OWNER",
    )
    assert result.success and result.result == "not a reply to a Cairn finding"
    assert await world.ledger.suppressions(repo_id) == []
    [(_, author, body)] = world.state.conversation[(REPO, 1)]
    assert author == world.state.bot_login and "nothing was recorded" in body


# --- who may give commands (app.commands) ----------------------------------------------------

NO_PRINT = """\
patterns:
  forbid:
    - {id: no-print, paths: ["exports/**"], calls: [print], message: Log through exports.log.}
"""
PRINTS = {"exports/csv.py": "def export(rows):\n    print(rows)\n    return rows\n"}


async def _failing_review(world: World) -> tuple[int, int, str]:
    """A pull request (by octocat) whose cairn/patterns run fails on an error-level finding:
    (Cairn's comment id, the finding's ledger fingerprint, the head)."""
    _, head = world.pull_request(PRINTS, base=BASE | {CONFIG_FILE: NO_PRINT})
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    assert world.runs()["cairn/patterns"] == ("completed", "failure")
    [comment] = world.state.review_comments(REPO, 1)
    [fp] = await world.ledger.findings(world.repo_id(), 1)
    return comment.id, fp, head


async def _ignore(world: World, parent: int, who: str, association: str) -> str:
    command = human_comment(world.state, 1, "exports/csv.py", 2, "/cairn ignore @org/team <b>x</b>")
    result = await world.run(
        "ignore_finding",
        INSTALLATION,
        world.repo_id(),
        REPO,
        1,
        parent,
        command,
        who,
        "@org/team <b>x</b>",
        association,
    )
    assert result.success, result.result
    return str(result.result)


def _replies(world: World, parent: int) -> list[str]:
    return [c.body for c in world.state.review_comments(REPO, 1) if c.in_reply_to_id == parent]


@pytest.mark.parametrize(
    ("association", "role"),
    [
        pytest.param("NONE", None, id="outsider"),
        pytest.param("CONTRIBUTOR", "write", id="contributor-never-asked"),
        pytest.param("MEMBER", "read", id="member-with-read-only"),
        pytest.param("COLLABORATOR", "triage", id="collaborator-with-triage"),
    ],
)
async def test_ignore_without_write_access_records_nothing_and_answers_once_quietly(
    world: World, association: str, role: str | None
) -> None:
    parent, fp, _ = await _failing_review(world)
    if role is not None:
        world.state.grant(REPO, "mallory", role)

    assert await _ignore(world, parent, "mallory", association) == "refused: no write access"
    assert await _ignore(world, parent, "mallory", association) == "refused: no write access"

    assert await world.ledger.suppressions(world.repo_id()) == []
    assert (await world.ledger.findings(world.repo_id(), 1))[fp].state == "open"
    [reply] = _replies(world, parent)  # one reply for two commands
    assert "only from people with write access" in reply
    assert "@" not in reply and "<b>" not in reply


async def test_ignore_in_reply_to_a_persons_comment_with_a_copied_marker_records_nothing(
    world: World,
) -> None:
    parent, _, _ = await _failing_review(world)
    [cairns] = world.state.review_comments(REPO, 1)
    fake = human_comment(world.state, 1, "exports/csv.py", 2, cairns.body)  # marker and all
    world.state.grant(REPO, "alice", "write")

    assert await _ignore(world, fake, "alice", "MEMBER") == "not a reply to a Cairn finding"
    assert await world.ledger.suppressions(world.repo_id()) == []
    assert parent != fake


@pytest.mark.parametrize("allowed", [False, True], ids=["by-default", "allowed-by-config"])
async def test_the_author_cannot_ignore_an_error_on_their_own_pull_request_unless_allowed(
    world: World, allowed: bool
) -> None:
    config = NO_PRINT + ("commands: {author_may_ignore_errors: true}\n" if allowed else "")
    _, head = world.pull_request(PRINTS, base=BASE | {CONFIG_FILE: config})
    assert (await world.run("review_pull_request", *world.review_args(head))).success
    [parent] = world.state.review_comments(REPO, 1)
    author = world.state.pulls[(REPO, 1)].author
    world.state.grant(REPO, author, "write")

    result = await _ignore(world, parent.id, author, "COLLABORATOR")

    [reply] = _replies(world, parent.id)
    if allowed:
        assert result == "suppressed"
        assert reply.startswith(f"Ignored by `{author}`: @\u200borg/team &lt;b&gt;x&lt;/b&gt;.")
    else:
        assert result == "refused: the author cannot ignore an error on their own pull request"
        assert "cannot ignore an error-level finding" in reply
        assert await world.ledger.suppressions(world.repo_id()) == []


async def test_an_ignore_silences_the_finding_in_its_own_pull_request_only(world: World) -> None:
    parent, fp, _ = await _failing_review(world)
    world.state.grant(REPO, "alice", "admin")
    assert await _ignore(world, parent, "alice", "MEMBER") == "suppressed"
    repo_id = world.repo_id()

    assert [s.fingerprint for s in await world.ledger.suppressions(repo_id, 1)] == [fp]
    assert await world.ledger.suppressions(repo_id, 2) == []  # the same finding elsewhere


async def test_a_recheck_runs_once_per_interval_and_only_for_write_access(world: World) -> None:
    _, _, head = await _failing_review(world)
    repo_id = world.repo_id()
    command = human_comment(world.state, 1, "exports/csv.py", 2, "/cairn recheck")
    outsider = await world.run(
        "recheck_pull_request", INSTALLATION, repo_id, REPO, 1, "mallory", "NONE", command
    )
    assert outsider.result == "refused: no write access"
    assert len(world.state.runs(REPO, "cairn/patterns")) == 1

    results = []
    for comment_id in (1, 2):  # two comments, two jobs (app.webhooks: one per comment)
        job = await world.enqueue(
            "recheck_pull_request",
            *(INSTALLATION, repo_id, REPO, 1, "alice", "OWNER", None),
            job_id=f"recheck:{repo_id}:1:{comment_id}",
        )
        await world.work()
        results.append(await job.result_info())

    assert [r.result if r else None for r in results][1] == "rate limited"
    assert results[0] is not None and results[0].success
    assert [r.head_sha for r in world.state.runs(REPO, "cairn/patterns")] == [head, head]
    assert _replies(world, command) == [
        "Cairn takes `/cairn ignore` and `/cairn recheck` only from people with write access "
        "to this repository: nothing was done."
    ]


# --- record_pull_request -------------------------------------------------------------------


async def test_record_pull_request_keeps_the_merged_pull_request_in_the_history(
    world: World,
) -> None:
    world.pull_request(DUPLICATE | {"billing/invoices.py": module(INVOICE_TOTAL + "\nX = 1\n")})
    world.state.pulls[(REPO, 1)].body = "Exports invoices as CSV.\n\nADR-0007 applies."
    repo_id = world.repo_id()

    # the arguments `pull_request.closed` (merged) gives the job
    result = await world.run(
        "record_pull_request",
        INSTALLATION,
        repo_id,
        REPO,
        1,
        "2024-03-01T10:00:00Z",
        ["billing", "export"],
    )

    assert result.result == "recorded"
    row = await world.store.pool.fetchrow(
        "SELECT title, body, labels, files, merged_at FROM pull_requests"
        " WHERE repo_id = $1 AND number = 1",
        repo_id,
    )
    assert row is not None
    assert dict(row) == {
        "title": "Export invoices",
        "body": "Exports invoices as CSV.\n\nADR-0007 applies.",
        "labels": ["billing", "export"],
        "files": ["billing/invoices.py", "exports/csv.py"],
        "merged_at": datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
    }


# --- GitHub's bad days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "after_start",
    [
        pytest.param(False, id="on-the-first-call"),
        pytest.param(True, id="after-the-runs-are-open"),
    ],
)
async def test_a_secondary_rate_limit_defers_the_review(world: World, after_start: bool) -> None:
    _, head = world.pull_request(DUPLICATE)

    def limit() -> None:
        world.state.secondary_rate_limit(1, 30)

    if after_start:
        world.state.requests = FaultsAfterStart(limit)
    else:
        limit()
    job = await world.enqueue("review_pull_request", *world.review_args(head))

    await world.work(max_jobs=1)  # the retry is 30 s away: don't wait for it

    assert await job.status() == JobStatus.deferred
    score = await world.redis.zscore(default_queue_name, job.job_id)
    assert score is not None
    assert 25 <= score / 1000 - time.time() <= 30
    assert world.state.review_comments(REPO, 1) == []
    if after_start:
        assert world.runs() == {
            name: ("completed", "failure")
            for name in ("cairn/duplication", "cairn/patterns", "cairn/decisions")
        }
        for run in world.state.runs(REPO):
            assert run.summary is not None and "rate limit" in run.summary
    else:
        assert world.state.runs(REPO) == []


@pytest.mark.parametrize(
    "job",
    [
        pytest.param("review_pull_request", id="review"),
        pytest.param("recheck_pull_request", id="recheck"),
        pytest.param("record_pull_request", id="record"),
    ],
)
async def test_an_outage_on_a_jobs_first_call_defers_it(
    world: World, job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "RETRY_BACKOFF", 30.0)
    _, head = world.pull_request(DUPLICATE)
    args = world.review_args(head) if job == "review_pull_request" else world.review_args(head)[:4]
    if job == "recheck_pull_request":
        args += ("alice", "OWNER", None)  # an owner: no call to GitHub before the outage's
    world.state.fail_next(3, 502)
    queued = await world.enqueue(job, *args)

    await world.work(max_jobs=1)  # the retry is 30 s away: don't wait for it

    assert await queued.status() == JobStatus.deferred
    assert world.state.runs(REPO) == []


@pytest.mark.parametrize(
    "storm",
    [
        pytest.param(1, id="one-502"),
        # the failure path itself meets the outage: it tries again for a few seconds
        pytest.param(3, id="three-502s"),
        pytest.param(8, id="eight-502s"),
    ],
)
async def test_a_github_outage_mid_review_leaves_no_run_in_progress_and_retries(
    world: World, storm: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "RETRY_BACKOFF", 0.5)
    _, head = world.pull_request(DUPLICATE)
    world.state.requests = FaultsAfterStart(lambda: world.state.fail_next(storm, 502))
    job = await world.enqueue("review_pull_request", *world.review_args(head))

    await world.work(max_jobs=1)

    runs = world.state.runs(REPO)
    assert len(runs) == 3
    assert {(r.status, r.conclusion) for r in runs} == {("completed", "failure")}
    for run in runs:
        assert run.summary is not None and "502" in run.summary and "retrying" in run.summary
    assert world.state.review_comments(REPO, 1) == []
    assert await job.status() == JobStatus.deferred

    # GitHub is back: the retry reviews the push and comments the duplicate.
    await asyncio.sleep(0.6)
    await world.work(max_jobs=1)
    info = await job.result_info()
    assert info is not None and info.success
    assert len(world.state.review_comments(REPO, 1)) == 1
    latest = {r.name: (r.status, r.conclusion) for r in world.state.runs(REPO)[3:]}
    assert latest == {
        "cairn/duplication": ("completed", "neutral"),
        "cairn/patterns": ("completed", "success"),
        "cairn/decisions": ("completed", "success"),
    }
