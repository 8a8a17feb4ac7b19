"""Faults under real processes: a worker killed mid-job, Redis restarted and Postgres stopped
mid-stream of deliveries, GitHub answering 502s and secondary rate limits. Each ends with every
pull request reviewed once: none lost, no comment twice, no check run left in progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.harness import Processes, World, cairn, world
from tests.servers import RedisServer

PRS = 4


@pytest.fixture
def sim(
    cairn_env: dict[str, str], database_url: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[World]:
    with world(
        cairn_env, database_url=database_url, redis_url=redis_server.url, home=tmp_path / "home"
    ) as w:
        yield w


@pytest.fixture
def procs(sim: World, tmp_path: Path) -> Iterator[Processes]:
    with cairn(sim.env, tmp_path / "logs") as p:
        yield p
    assert "Traceback" not in p.all_logs(), p.all_logs()


def test_every_delivery_is_reviewed_once(sim: World, procs: Processes) -> None:
    for n in range(1, PRS + 1):
        sim.open_pull_request(n)
        _, answer = sim.post(procs.url, n)
        assert answer.status_code == 202, answer.text
    sim.wait_reviewed()
    tally = sim.tally()
    assert tally.as_dict() == {
        "sent": PRS,
        "reviewed": PRS,
        "lost": 0,
        "duplicate_comments": 0,
        "stuck_runs": 0,
        "failed_runs": 0,
    }
    assert all(sim.comments(n) == 1 for n in sim.heads)


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
        _, answer = sim.post(procs.url, n)
        assert answer.status_code == 202, answer.text
    sim.wait_reviewed(timeout=150)
    assert not sim.state.faults  # every injected fault was met
    tally = sim.tally()
    assert (tally.reviewed, tally.lost, tally.duplicate_comments, tally.stuck_runs) == (
        PRS,
        0,
        0,
        0,
    )
    assert all(sim.comments(n) == 1 for n in sim.heads)
    worker = procs.log("worker-0")
    assert "trying again in" in worker  # deferred, not failed
