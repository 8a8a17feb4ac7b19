"""Faults under real processes: a worker killed mid-job, Redis restarted and Postgres stopped
mid-stream of deliveries, GitHub answering 502s and secondary rate limits. Each ends with every
pull request reviewed once: none lost, no comment twice, no check run left in progress.

Deliveries come from the simulated GitHub (``State.deliver``), which records each attempt, so
the worker's redelivery sweep can find those Cairn refused and ask for them again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.reliability.harness import REPO, Processes, World, cairn, wait_for, world
from tests.servers import PostgresServer, RedisServer

PRS = 4


@pytest.fixture
def sim(
    cairn_env: dict[str, str], database_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[World]:
    with world(
        cairn_env, database_url=database_url, redis_url=redis_server.url, home=tmp_path / "home"
    ) as w:
        yield w


def _procs(sim: World, logs: Path, **env: str) -> Iterator[Processes]:
    sim.env.update(env)
    with cairn(sim, logs) as p:
        yield p
    assert not p.tracebacks(), "\n".join(p.tracebacks())


@pytest.fixture
def procs(sim: World, tmp_path: Path) -> Iterator[Processes]:
    yield from _procs(sim, tmp_path / "logs")


def _clean(sim: World, reviewed: int = PRS) -> None:
    tally = sim.tally()
    assert (tally.reviewed, tally.lost, tally.duplicate_comments, tally.stuck_runs) == (
        reviewed,
        0,
        0,
        0,
    ), tally
    assert all(sim.comments(n) == 1 for n in sim.heads)


def _in_progress(sim: World) -> int:
    with sim.state.lock:
        return sum(1 for run in sim.state.runs(REPO) if run.status == "in_progress")


def test_every_delivery_is_reviewed_once(sim: World, procs: Processes) -> None:
    for n in range(1, PRS + 1):
        sim.open_pull_request(n)
        assert sim.post(n).status_code == 202
    sim.wait_reviewed()
    assert sim.tally().as_dict() == {
        "sent": PRS,
        "reviewed": PRS,
        "lost": 0,
        "duplicate_comments": 0,
        "stuck_runs": 0,
        "failed_runs": 0,
    }
    _clean(sim)


def test_github_502s_and_secondary_rate_limits_defer_jobs_that_then_complete(
    sim: World, procs: Processes
) -> None:
    for n in range(1, PRS + 1):
        sim.open_pull_request(n)
    # The next calls fail: outages first, then a secondary rate limit with Retry-After.
    sim.state.fail_next(3, status=502)
    sim.state.secondary_rate_limit(2, retry_after=1)
    sim.state.fail_next(1, status=503)
    for n in sim.heads:
        assert sim.post(n).status_code == 202
    sim.wait_reviewed(timeout=150)
    assert not sim.state.faults  # every injected fault was met
    _clean(sim)
    assert "trying again in" in procs.log("worker-0")  # deferred, not failed


def test_a_worker_killed_mid_review_leaves_nothing_in_progress(sim: World, tmp_path: Path) -> None:
    # A short job timeout, so the killed worker's jobs run again within seconds, not minutes.
    procs = _procs(sim, tmp_path / "logs", CAIRN_JOB_TIMEOUT="15", CAIRN_JOB_RERUN_AFTER="1")
    p = next(procs)
    for n in range(1, 3):
        sim.open_pull_request(n)
    sim.state.latency = 0.3  # every GitHub call is slow: the reviews are caught mid-way
    for n in sim.heads:
        assert sim.post(n).status_code == 202
    wait_for(lambda: _in_progress(sim) >= 3, "a review under way")
    p.kill_worker(p.workers[0])
    assert _in_progress(sim) >= 3  # the killed attempt's runs are left open...
    sim.state.latency = 0.0
    p.start_worker()
    sim.wait_reviewed(timeout=90)
    _clean(sim, reviewed=2)  # ...and the re-run completed them: none stuck
    next(procs, None)


def test_redis_restarted_mid_stream_loses_no_delivery(
    sim: World, procs: Processes, redis_server: RedisServer
) -> None:
    for n in range(1, 7):
        sim.open_pull_request(n)
    sim.state.latency = 0.2  # slow reviews: some jobs still wait in Redis when it goes
    for n in range(1, 5):
        assert sim.post(n).status_code == 202
    wait_for(lambda: _in_progress(sim) >= 3, "a review under way")
    redis_server.stop()  # no persistence: the jobs it held are gone
    for n in (5, 6):  # recorded in Postgres and accepted while Redis is down
        assert sim.post(n).status_code == 202
    time.sleep(1)
    redis_server.start()
    sim.state.latency = 0.0
    # The worker starts again once Redis answers; its reconciler queues what was only
    # recorded, and again what Redis lost.
    sim.wait_reviewed(timeout=100)
    _clean(sim, reviewed=6)


def test_postgres_down_for_seconds_refuses_then_recovers_every_delivery(
    sim: World, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    procs = _procs(sim, tmp_path / "logs", CAIRN_REDELIVERY_INTERVAL="1")
    next(procs)
    for n in range(1, PRS + 1):
        sim.open_pull_request(n)
    sim.state.latency = 0.1  # the first reviews are still running when Postgres goes
    for n in (1, 2):
        assert sim.post(n).status_code == 202
    wait_for(lambda: _in_progress(sim) >= 3, "a review under way")
    postgres_server.stop()
    try:
        # Not recorded, so not accepted: GitHub marks these failed.
        refused = [sim.post(n) for n in (3, 4)]
        assert [a.status_code for a in refused] == [503, 503]
        time.sleep(3)
    finally:
        postgres_server.start()
    sim.state.latency = 0.0
    # Interrupted jobs retry; the redelivery sweep (every minute) asks GitHub to send the
    # refused deliveries again.
    sim.wait_reviewed(timeout=150)
    _clean(sim)
    assert all(any(a.redelivery for a in sim.state.attempts(r.guid)) for r in refused)
    next(procs, None)


def _clear_of_the_sweeps() -> None:
    """Wait until the wall clock is between seconds 3 and 20 of a minute: the reconciler runs
    at second 0 and the redelivery sweep at second 30, neither within the next seconds."""
    while not 3 <= time.time() % 60 <= 20:
        time.sleep(0.2)


def test_a_review_redis_forgot_while_it_ran_is_queued_again_after_its_retry(
    sim: World, procs: Processes, redis_server: RedisServer
) -> None:
    # Redis loses its data while a review runs (a restart without persistence; flushed here,
    # at a known moment); the review then meets a GitHub outage and defers itself. arq puts
    # its id back in the queue without the job's data: the next pick-up finds it "expired" and
    # records a failed result, which makes every re-enqueue of that id a no-op for an hour.
    sim.open_pull_request(1)
    sim.state.latency = 0.3  # slow GitHub calls: the review is caught mid-way
    _clear_of_the_sweeps()
    assert sim.post(1).status_code == 202
    wait_for(lambda: _in_progress(sim) >= 3, "a review under way")
    Redis.from_url(redis_server.url).flushall()
    sim.state.fail_next(1, status=502)  # the review's next call: deferred by `retrying`
    sim.state.latency = 0.0
    wait_for(lambda: "expired" in procs.log("worker-0"), "arq to find the job expired", 30)
    # The reconciler (every minute) queues the job again: Postgres records it not done.
    sim.wait_reviewed(timeout=150)
    _clean(sim, reviewed=1)
