"""Nothing lost: the reconciler queues what Redis could not take, the redelivery sweep asks
GitHub (the simulator) to send again what never reached Cairn.

Real Postgres, real Redis, Cairn's real webhook endpoint served on loopback, and the simulator
sending signed deliveries to it and recording each attempt the way GitHub does.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import uvicorn
from arq.connections import ArqRedis
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus

from app import worker as worker_module
from app.github import GitHubApp
from app.reconcile import EPOCH_KEY, reconcile
from app.redelivery import redeliver
from app.settings import Secret, Settings
from app.web import create_app
from app.worker import build_worker
from tests.conftest import FIXTURES
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair

APP_ID, INSTALLATION = 5151, 71
SECRET = "recovery test webhook secret"

pytestmark = [
    pytest.mark.slow,  # servers stopped and started, periodic sweeps
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "webhooks" / f"{name}.json").read_text())
    return data


def pull_request(number: int) -> dict[str, Any]:
    """A real `pull_request.opened` payload for pull request ``number`` of installation 71."""
    body = copy.deepcopy(payload("pull_request.opened"))
    body["installation"]["id"] = INSTALLATION
    body["pull_request"]["number"] = number
    body["pull_request"]["head"]["sha"] = f"{number:040x}"
    return body


def review_job_id(body: dict[str, Any]) -> str:
    return f"review:{body['repository']['id']}:{body['pull_request']['head']['sha']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def cairn(pool: asyncpg.Pool, redis: ArqRedis) -> AsyncIterator[str]:
    """Cairn's webhook endpoint on loopback (on this test's event loop); its URL."""
    await pool.execute("TRUNCATE deliveries")
    port = _free_port()
    config = uvicorn.Config(
        create_app(pool, redis, Secret(SECRET)),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}/webhooks"
    server.should_exit = True
    await task


@pytest.fixture
async def github() -> AsyncIterator[tuple[State, GitHubApp]]:
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, ["acme/shop"])
    state.webhook_secret = SECRET
    with serve(state) as api_url:
        async with GitHubApp(APP_ID, private, api_url) as app:
            yield state, app
    assert state.unknown_routes == []


async def send(state: State, event: str, body: dict[str, Any]) -> str:
    """The simulator delivers one event (from a thread: the receiver runs on this loop)."""
    attempt = await asyncio.to_thread(state.deliver, event, body)
    return attempt.guid


async def until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


# --- the reconciler --------------------------------------------------------------------------


async def test_the_reconciler_queues_what_was_recorded_while_redis_was_down(
    pool: asyncpg.Pool, redis: ArqRedis, github: tuple[State, GitHubApp]
) -> None:
    await pool.execute("TRUNCATE deliveries")
    state, _ = github
    dead = ArqRedis(host="127.0.0.1", port=9)  # nothing listens there: Redis is "down"
    bodies = [pull_request(n) for n in (1, 2, 3)]
    # the endpoint with Redis down: recorded, answered 202, queued nothing
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(pool, dead, Secret(SECRET)),
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="warning",
        )
    )
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, "the Redis-less endpoint")
    state.webhook_url = f"http://127.0.0.1:{port}/webhooks"
    guids = [await send(state, "pull_request", body) for body in bodies]
    server.should_exit = True
    await task
    await dead.aclose()
    assert [a.status_code for a in state.hook_deliveries] == [202, 202, 202]
    assert await redis.queued_jobs() == []
    states = await pool.fetch("SELECT state FROM deliveries WHERE id = ANY($1)", guids)
    assert [r["state"] for r in states] == ["received"] * 3

    # one job is already queued (say, by a redelivery that raced the sweep): arq keeps one
    await redis.enqueue_job("review_pull_request", _job_id=review_job_id(bodies[0]))
    done = await reconcile(pool, redis)
    assert (done.deliveries, done.jobs) == (3, 2)
    queued = sorted(j.job_id or "" for j in await redis.queued_jobs())
    assert queued == sorted(review_job_id(b) for b in bodies)
    states = await pool.fetch("SELECT state FROM deliveries WHERE id = ANY($1)", guids)
    assert [r["state"] for r in states] == ["queued"] * 3

    again = await reconcile(pool, redis)  # idempotent: nothing left to do
    assert (again.deliveries, again.jobs) == (0, 0)
    assert len(await redis.queued_jobs()) == 3


async def test_a_worker_reconciles_at_start_up(
    pool: asyncpg.Pool, redis: ArqRedis, redis_url: str, cairn_env: dict[str, str]
) -> None:
    await pool.execute("TRUNCATE deliveries")
    job = {"function": "forget_repositories", "args": [INSTALLATION, []], "job_id": "forget:x"}
    await pool.execute(
        "INSERT INTO deliveries (id, event, action, installation_id, state, jobs) "
        "VALUES ('g-startup', 'installation_repositories', 'removed', $1, 'received', $2)",
        INSTALLATION,
        json.dumps([job]),
    )
    private, _ = rsa_keypair()
    env = dict(
        cairn_env,
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_PRIVATE_KEY=private,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL="http://127.0.0.1:9",  # never called: the jobs here need no GitHub
        REDIS_URL=redis_url,
        CAIRN_REDELIVERY_INTERVAL="0",
    )
    worker = build_worker(Settings.from_env(env), burst=True, maintenance=True)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    assert await pool.fetchval("SELECT state FROM deliveries WHERE id = 'g-startup'") == "queued"
    info = await ArqJob("forget:x", redis).result_info()
    assert info is not None and info.success and info.result == "forgot 0 repositories"


async def test_the_reconciler_queues_again_the_jobs_not_done_that_redis_no_longer_holds(
    pool: asyncpg.Pool, redis: ArqRedis, redis_url: str, cairn_env: dict[str, str]
) -> None:
    await pool.execute("TRUNCATE deliveries, job_runs")
    jobs = [
        {"function": "forget_repositories", "args": [INSTALLATION, []], "job_id": f"forget:{k}"}
        for k in ("done", "expired", "running")
    ]
    await pool.execute(
        "INSERT INTO deliveries (id, event, action, installation_id, state, jobs) "
        "VALUES ('g-lost', 'installation_repositories', 'removed', $1, 'queued', $2)",
        INSTALLATION,
        json.dumps(jobs),
    )
    await pool.execute(
        "INSERT INTO job_runs (job_id, attempt, done_at) VALUES ('forget:done', 1, now())"
    )
    await redis.set(EPOCH_KEY, "1")  # Redis did not lose its data: this is not that sweep
    await redis.set("arq:in-progress:forget:running", b"1", ex=600)  # a worker runs it
    # What a deferred attempt leaves when Redis lost the job's data meanwhile: its id in the
    # queue, no data. arq finds it "expired" and records a failed result.
    await redis.zadd("arq:queue", {"forget:expired": 1})
    env = dict(
        cairn_env,
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_PRIVATE_KEY=rsa_keypair()[0],
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL="http://127.0.0.1:9",  # never called: the jobs here need no GitHub
        REDIS_URL=redis_url,
        CAIRN_REDELIVERY_INTERVAL="0",
    )

    async def burst() -> None:
        worker = build_worker(Settings.from_env(env), burst=True, maintenance=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    await burst()
    info = await ArqJob("forget:expired", redis).result_info()
    assert info is not None and not info.success  # expired: a re-enqueue would be a no-op
    assert await redis.enqueue_job("forget_repositories", _job_id="forget:expired") is None

    done = await reconcile(pool, redis)
    assert done.recovered == 1  # neither the done one nor the running one
    assert await ArqJob("forget:expired", redis).status() == JobStatus.queued
    assert (await reconcile(pool, redis)).recovered == 0  # queued now: nothing to do
    await burst()
    info = await ArqJob("forget:expired", redis).result_info()
    assert info is not None and info.success
    row = await pool.fetchrow(
        "SELECT done_at, requeued FROM job_runs WHERE job_id = 'forget:expired'"
    )
    assert row["done_at"] is not None and row["requeued"] == 1
    assert (await reconcile(pool, redis)).recovered == 0


# --- redelivery ------------------------------------------------------------------------------


async def test_failed_and_unknown_deliveries_are_redelivered_once(
    pool: asyncpg.Pool, redis: ArqRedis, github: tuple[State, GitHubApp], cairn: str
) -> None:
    state, app = github
    # Cairn is down: the oldest delivery finds no one listening.
    state.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"
    lost = await send(state, "pull_request", pull_request(1))
    state.webhook_url = cairn
    # Signed with a secret Cairn does not know (being rotated): refused with 401.
    state.webhook_secret = "the old secret"
    refused = await send(state, "pull_request", pull_request(2))
    state.webhook_secret = SECRET
    # Delivered fine, but Cairn has no record of it (its database was restored from a backup).
    forgotten = await send(state, "pull_request", pull_request(3))
    await pool.execute("DELETE FROM deliveries WHERE id = $1", forgotten)
    # Failed four days ago: GitHub no longer redelivers it.
    state.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"
    ancient = await send(state, "pull_request", pull_request(4))
    state.hook_deliveries[-1].delivered_at -= 4 * 86_400
    state.webhook_url = cairn
    # 110 deliveries that went fine: the lost one is on GitHub's second page (100 a page).
    fine = [await send(state, "ping", payload("ping")) for _ in range(110)]
    assert {a.status_code for a in state.hook_deliveries} == {0, 401, 202}

    report = await redeliver(app, pool, redis)

    assert report.asked == {lost: "failed", refused: "failed", forgotten: "unknown"}
    await until(
        lambda: all(len(state.attempts(g)) == 2 for g in (lost, refused, forgotten)),
        "the redeliveries",
    )
    for guid in (lost, refused, forgotten):
        retry = state.attempts(guid)[-1]
        assert (retry.redelivery, retry.status, retry.status_code) == (True, "OK", 202)
    assert len(state.attempts(ancient)) == 1
    assert all(len(state.attempts(g)) == 1 for g in fine)
    recorded = {r["id"] for r in await pool.fetch("SELECT id FROM deliveries")}
    assert {lost, refused, forgotten} <= recorded and ancient not in recorded
    # every pull request that reached Cairn, late or not, has its review queued once
    queued = sorted(j.job_id or "" for j in await redis.queued_jobs())
    assert queued == sorted(review_job_id(pull_request(n)) for n in (1, 2, 3))
    assert await ArqJob(review_job_id(pull_request(1)), redis).status() == JobStatus.queued

    # The next sweep finds every event delivered: nothing is asked twice.
    again = await redeliver(app, pool, redis)
    assert again.asked == {}
    assert len(state.hook_deliveries) == 114 + 3


async def test_a_delivery_that_keeps_failing_is_asked_for_once_per_window(
    pool: asyncpg.Pool, redis: ArqRedis, github: tuple[State, GitHubApp], cairn: str
) -> None:
    state, app = github
    state.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"  # Cairn stays down
    guid = await send(state, "pull_request", pull_request(7))

    first = await redeliver(app, pool, redis, window=timedelta(seconds=1))
    await until(lambda: len(state.attempts(guid)) == 2, "the redelivery")
    second = await redeliver(app, pool, redis, window=timedelta(seconds=1))
    assert (first.asked, second.asked) == ({guid: "failed"}, {})
    assert state.attempts(guid)[-1].status == "failed to connect to host"

    await asyncio.sleep(1.1)  # the window has passed: asked again
    third = await redeliver(app, pool, redis, window=timedelta(seconds=1))
    assert third.asked == {guid: "failed"}
    await until(lambda: len(state.attempts(guid)) == 3, "the second redelivery")


async def test_nothing_older_than_the_bound_is_listed_or_asked_for(
    pool: asyncpg.Pool, redis: ArqRedis, github: tuple[State, GitHubApp], cairn: str
) -> None:
    state, app = github
    state.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"
    guid = await send(state, "pull_request", pull_request(8))
    state.hook_deliveries[-1].delivered_at -= 3600
    later = datetime.now(UTC)

    report = await redeliver(app, pool, redis, now=later, max_age=timedelta(minutes=30))

    assert (report.listed, report.asked) == (0, {})
    assert len(state.attempts(guid)) == 1


async def test_the_workers_periodic_sweep_asks_github_as_the_app(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    redis_url: str,
    github: tuple[State, GitHubApp],
    cairn: str,
    cairn_env: dict[str, str],
) -> None:
    state, app = github
    state.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"
    guid = await send(state, "pull_request", pull_request(9))
    state.webhook_url = cairn
    private, _ = rsa_keypair()
    env = dict(
        cairn_env,
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_PRIVATE_KEY=private,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL=app.api_url,
        REDIS_URL=redis_url,
    )
    ctx: dict[str, Any] = {"settings": Settings.from_env(env), "redis": redis}
    await worker_module.startup(ctx)
    try:
        outcome = await worker_module.redeliver_deliveries(ctx)
    finally:
        await worker_module.shutdown(ctx)

    assert outcome == "asked for 1 redeliveries of 1 listed"
    await until(lambda: len(state.attempts(guid)) == 2, "the redelivery")
    assert await pool.fetchval("SELECT state FROM deliveries WHERE id = $1", guid) == "queued"


async def test_a_sweep_with_github_unreachable_logs_one_line(
    redis: ArqRedis, redis_url: str, cairn_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Every sweep meets the outage again: one warning each, not a traceback."""
    private, _ = rsa_keypair()
    env = dict(
        cairn_env,
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_PRIVATE_KEY=private,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL=f"http://127.0.0.1:{_free_port()}",  # nothing listens there
        REDIS_URL=redis_url,
    )
    ctx: dict[str, Any] = {"settings": Settings.from_env(env), "redis": redis}
    await worker_module.startup(ctx)
    try:
        with caplog.at_level(logging.WARNING):
            outcome = await worker_module.redeliver_deliveries(ctx)
    finally:
        await worker_module.shutdown(ctx)

    assert outcome == "skipped: GitHub did not list the deliveries; the next sweep tries again"
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.exc_info is None
    assert record.getMessage().startswith(
        "redeliver_deliveries: GitHub did not list the deliveries: "
    )
    assert "\n" not in record.getMessage()
