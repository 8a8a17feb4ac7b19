"""The per-installation limit: one installation's many pull requests never starve another's.

Real Redis for the slots; the fairness test runs real reviews through a burst-mode worker
against the simulator (slowed down so that reviews overlap) and reads the check runs' start
and completion times, as GitHub shows them.
"""

from __future__ import annotations

import itertools

import pytest
from arq.connections import ArqRedis

from app.concurrency import InstallationSlots
from app.settings import Settings
from app.store import Store
from app.worker import build_worker
from tests.app.samples import BASE, PARSE_DATE_RENAMED, module
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair

APP_ID, MONOREPO_INSTALLATION, SMALL_INSTALLATION = 6161, 81, 82
MONOREPO, SMALL = "giant/monorepo", "tiny/service"

pytestmark = [
    pytest.mark.slow,  # many jobs on real workers
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_slots_are_limited_reentrant_and_lapse(redis: ArqRedis) -> None:
    clock = Clock()
    slots = InstallationSlots(redis, limit=2, lease=30, clock=clock)
    assert await slots.acquire(1, "review:a")
    assert await slots.acquire(1, "review:b")
    assert not await slots.acquire(1, "review:c")  # both taken
    assert await slots.acquire(2, "review:c")  # another installation has its own
    assert await slots.acquire(1, "review:a")  # a job's re-run keeps the slot it holds
    await slots.release(1, "review:b")
    assert await slots.acquire(1, "review:c")
    assert sorted(await slots.holders(1)) == ["review:a", "review:c"]

    # The holders' worker was killed: no release ever comes. Their lease lapses.
    clock.now += 31
    assert await slots.acquire(1, "review:d")
    assert await slots.holders(1) == ["review:d"]


async def test_waits_are_counted_per_job(redis: ArqRedis) -> None:
    slots = InstallationSlots(redis, limit=1, lease=30)
    assert await slots.waits("review:x") == 0
    assert await slots.waited("review:x") == 1
    assert await slots.waited("review:x") == 2
    assert await slots.waits("review:x") == 2
    assert await slots.waits("review:y") == 0


def test_a_limit_below_one_is_refused(redis: ArqRedis) -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        InstallationSlots(redis, limit=0, lease=30)


async def test_a_monorepo_with_many_pull_requests_does_not_starve_another_installation(
    store: Store, redis: ArqRedis, redis_url: str, cairn_env: dict[str, str]
) -> None:
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(MONOREPO_INSTALLATION, APP_ID, [MONOREPO])
    state.add_installation(SMALL_INSTALLATION, APP_ID, [SMALL])
    jobs = []
    for repo, installation, count in (
        (MONOREPO, MONOREPO_INSTALLATION, 4),
        (SMALL, SMALL_INSTALLATION, 1),
    ):
        base = state.commit(repo, BASE, "base", branch="main")
        for number in range(1, count + 1):
            copy = {f"exports/csv_{number}.py": module(PARSE_DATE_RENAMED)}
            head = state.commit(repo, BASE | copy, f"head {number}", parents=[base])
            state.open_pull_request(repo, base, head, number=number)
            args = (installation, state.repos[repo].id, repo, number, head)
            jobs.append((args, f"review:{state.repos[repo].id}:{head}"))
    state.latency = 0.03  # every GitHub answer takes a little while: reviews overlap
    with serve(state) as api_url:
        env = dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET="unused",
            GITHUB_API_URL=api_url,
            REDIS_URL=redis_url,
            CAIRN_INSTALLATION_CONCURRENCY="1",
            CAIRN_CONCURRENCY_RETRY="0.2",
        )
        # the monorepo's four reviews are queued first, the small service's last
        for args, job_id in jobs:
            assert await redis.enqueue_job("review_pull_request", *args, _job_id=job_id)
        worker = build_worker(Settings.from_env(env), burst=True)
        try:
            await worker.async_run()
        finally:
            await worker.close()
    assert state.unknown_routes == []

    for repo, count in ((MONOREPO, 4), (SMALL, 1)):
        runs = state.runs(repo)
        assert len(runs) == 3 * count
        assert {(r.status, r.conclusion is not None) for r in runs} == {("completed", True)}

    def spans(repo: str) -> list[tuple[float, float]]:
        """Each review's span: its first run opened, its last run completed."""
        by_head: dict[str, list[float]] = {}
        for r in state.runs(repo):
            assert r.completed_at is not None
            by_head.setdefault(r.head_sha, []).extend([r.started_at, r.completed_at])
        return sorted((min(t), max(t)) for t in by_head.values())

    monorepo = spans(MONOREPO)
    # one review of the monorepo at a time (CAIRN_INSTALLATION_CONCURRENCY=1)
    for (_, end), (start, _) in itertools.pairwise(monorepo):
        assert end <= start
    # the small service, queued behind all four, was reviewed while the monorepo's went on
    [(small_start, small_end)] = spans(SMALL)
    assert small_end < monorepo[-1][0]
    assert small_start < monorepo[1][0]
    assert await InstallationSlots(redis, 1, 30).holders(MONOREPO_INSTALLATION) == []
