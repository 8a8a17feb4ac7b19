"""A `cairn worker` killed with SIGKILL in the middle of a review: the job runs again on another
worker once its "in progress" key lapses (CAIRN_JOB_TIMEOUT + CAIRN_JOB_RERUN_AFTER), takes over
the check runs the killed attempt opened, and completes them. None stays "in progress", none is
opened twice, the duplicate is commented once.

Real processes: two `cairn worker` subprocesses one after the other, a Redis server of the
test's own, the session's Postgres, and the GitHub simulator slowed down so that the review is
caught mid-way.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool

from app.store import Store
from tests.app.samples import BASE, PARSE_DATE_RENAMED, module
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair
from tests.servers import RedisServer, wait_for

pytestmark = pytest.mark.slow  # cairn worker processes, one killed

CAIRN = Path(sys.executable).parent / "cairn"
APP_ID, INSTALLATION, REPO = 4343, 91, "acme/killed"
RUNS = {"cairn/duplication", "cairn/patterns", "cairn/decisions"}
JOB_TIMEOUT, RERUN_AFTER = 12, 1  # seconds: the re-run starts ~13 s after the first attempt


@pytest.fixture
async def database(store: Store) -> None:
    """The session's database, emptied: no repository rows (the simulator numbers repositories
    from 501 every time, so an earlier test's ledger could hold this one's finding), and no
    deliveries (a worker on a fresh Redis queues the last hour's again)."""
    await store.pool.execute("TRUNCATE deliveries")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def test_a_review_whose_worker_is_killed_completes_its_own_check_runs(
    database: None, cairn_env: dict[str, str], redis_server: RedisServer, tmp_path: Path
) -> None:
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    base = state.commit(REPO, BASE, "base", branch="main")
    head = state.commit(
        REPO, BASE | {"exports/csv.py": module(PARSE_DATE_RENAMED)}, "head", parents=[base]
    )
    state.open_pull_request(REPO, base, head, number=1)
    repo_id = state.repos[REPO].id

    async def enqueue() -> None:
        redis = await create_pool(RedisSettings.from_dsn(redis_server.url))
        await redis.enqueue_job(
            "review_pull_request",
            INSTALLATION,
            repo_id,
            REPO,
            1,
            head,
            _job_id=f"review:{repo_id}:{head}",
        )
        await redis.aclose()

    with serve(state) as api_url:
        env = dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET="unused here",
            GITHUB_API_URL=api_url,
            REDIS_URL=redis_server.url,
            CAIRN_JOB_TIMEOUT=str(JOB_TIMEOUT),
            CAIRN_JOB_RERUN_AFTER=str(RERUN_AFTER),
            CAIRN_REDELIVERY_INTERVAL="0",
            CAIRN_LOG_LEVEL="INFO",
        )
        asyncio.run(enqueue())
        state.latency = 0.1  # every answer takes 100 ms: the review is caught mid-way
        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        with logs[0].open("w") as log:
            first = subprocess.Popen([str(CAIRN), "worker"], env=env, stderr=log)
        try:
            wait_for(
                lambda: {r.name for r in state.runs(REPO) if r.status == "in_progress"} == RUNS,
                "the first attempt to open its check runs",
                timeout=60,
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        opened = {r.id for r in state.runs(REPO)}
        assert {r.status for r in state.runs(REPO)} == {"in_progress"}
        killed_at = time.monotonic()

        with logs[1].open("w") as log:
            second = subprocess.Popen([str(CAIRN), "worker"], env=env, stderr=log)
        try:
            wait_for(
                lambda: {r.status for r in state.runs(REPO)} == {"completed"},
                "the re-run to complete the check runs",
                timeout=JOB_TIMEOUT + RERUN_AFTER + 60,
            )
            wait_for(lambda: state.review_comments(REPO, 1) != [], "the comment", timeout=10)
        finally:
            second.terminate()
            second.wait(20)
        state.latency = 0.0
    assert state.unknown_routes == []

    runs = state.runs(REPO)
    assert {r.id for r in runs} == opened  # taken over, none opened again
    assert {r.name: (r.status, r.conclusion) for r in runs} == {
        "cairn/duplication": ("completed", "neutral"),
        "cairn/patterns": ("completed", "success"),
        "cairn/decisions": ("completed", "success"),
    }
    comments = state.review_comments(REPO, 1)
    assert len(comments) == 1 and comments[0].path == "exports/csv.py"
    # the re-run waited for the killed attempt's "in progress" key to lapse, not longer
    assert time.monotonic() - killed_at < JOB_TIMEOUT + RERUN_AFTER + 30
    second_log = logs[1].read_text()
    assert "Traceback" not in second_log, second_log
    assert "took over 3 check runs in progress" in second_log, second_log
