"""The webhook endpoint against real Postgres and real Redis, with real GitHub payloads."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus

from app.settings import Secret
from app.web import MAX_BODY, create_app
from tests.conftest import FIXTURES
from tests.github_sim import State
from tests.github_sim.keys import rsa_keypair
from tests.servers import RedisServer

SECRET = "It's a Secret to Everybody"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "webhooks" / f"{name}.json").read_text())
    return data


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# A Redis database of the tests' own on the machine's Redis, emptied before each test: arq's
# job ids are global to a database, so one test's job would deduplicate the next one's.
TEST_DB = 13  # of the session's own Redis (tests.conftest.session_redis)


@pytest.fixture
async def redis(session_redis: RedisServer) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings(port=session_redis.port, database=TEST_DB))
    await pool.flushdb()
    yield pool
    await pool.aclose()


@pytest.fixture
async def client(pool: asyncpg.Pool, redis: ArqRedis) -> AsyncIterator[httpx.AsyncClient]:
    await pool.execute("TRUNCATE deliveries")
    app = create_app(pool, redis, Secret(SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cairn.test") as c:
        yield c


async def deliver(
    client: httpx.AsyncClient,
    event: str,
    body: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    signature: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature if signature is not None else signed(raw),
        "Content-Type": "application/json",
    }
    return await client.post("/webhooks", content=raw, headers=headers)


async def queued(redis: ArqRedis) -> list[tuple[str, tuple[Any, ...], str]]:
    jobs = await redis.queued_jobs()
    return sorted((j.function, tuple(j.args), j.job_id or "") for j in jobs)


async def test_pull_request_opened_queues_one_review(
    client: httpx.AsyncClient, redis: ArqRedis, pool: asyncpg.Pool
) -> None:
    body = payload("pull_request.opened")
    response = await deliver(client, "pull_request", body, delivery="d-1")
    assert response.status_code == 202
    pr, repo = body["pull_request"], body["repository"]
    expected_id = f"review:{repo['id']}:{pr['head']['sha']}"
    assert await queued(redis) == [
        (
            "review_pull_request",
            (
                body["installation"]["id"],
                repo["id"],
                repo["full_name"],
                pr["number"],
                pr["head"]["sha"],
            ),
            expected_id,
        )
    ]
    row = await pool.fetchrow(
        "SELECT event, action, state, repo_id FROM deliveries WHERE id = 'd-1'"
    )
    assert dict(row) == {
        "event": "pull_request",
        "action": "opened",
        "state": "queued",
        "repo_id": repo["id"],
    }
    assert await ArqJob(expected_id, redis).status() == JobStatus.queued


async def test_a_redelivery_enqueues_nothing_new(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    body = payload("pull_request.synchronize")
    first = await deliver(client, "pull_request", body, delivery="d-2")
    again = await deliver(client, "pull_request", body, delivery="d-2")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["message"] == "duplicate delivery"
    assert len(await queued(redis)) == 1


async def test_a_push_to_a_pull_request_queues_one_review(
    client: httpx.AsyncClient, redis: ArqRedis, pool: asyncpg.Pool
) -> None:
    # GitHub sends an App with checks: write both pull_request synchronize and check_suite
    # requested for one push; only the first asks for a review
    state = State()
    state.register_app(4242, rsa_keypair()[1])
    state.add_installation(77, 4242, ["acme/shop"])
    base = state.commit("acme/shop", {"a.py": "a = 1\n"}, branch="main")
    pr = state.open_pull_request("acme/shop", base, state.commit("acme/shop", {"a.py": "a=2\n"}))

    for event, body in state.push_events("acme/shop", pr.number):
        assert (await deliver(client, event, body)).status_code == 202

    repo_id = state.repos["acme/shop"].id
    assert await queued(redis) == [
        (
            "review_pull_request",
            (77, repo_id, "acme/shop", pr.number, pr.head_sha),
            f"review:{repo_id}:{pr.head_sha}",
        )
    ]
    rows = await pool.fetch("SELECT event, state FROM deliveries ORDER BY event")
    assert [tuple(r) for r in rows] == [("check_suite", "ignored"), ("pull_request", "queued")]


@pytest.mark.parametrize("action", ["created", "completed"])
async def test_cairns_own_check_runs_are_not_work(
    client: httpx.AsyncClient, redis: ArqRedis, pool: asyncpg.Pool, action: str
) -> None:
    body = payload("check_run.rerequested")  # a real check_run payload
    body["action"] = action
    body["check_run"]["check_suite"]["pull_requests"] = [{"number": 1}]
    response = await deliver(client, "check_run", body, delivery=f"run-{action}")
    assert (response.status_code, response.json()["message"]) == (202, "nothing to do")
    assert await queued(redis) == []
    row = await pool.fetchrow("SELECT state, jobs FROM deliveries WHERE id = $1", f"run-{action}")
    assert (row["state"], json.loads(row["jobs"])) == ("ignored", [])


@pytest.mark.parametrize(
    ("signature", "status"),
    [
        pytest.param("", 401, id="missing"),
        pytest.param("sha256=" + "0" * 64, 401, id="wrong"),
        pytest.param("sha1=abc", 401, id="wrong-algorithm"),
    ],
)
async def test_unsigned_bodies_are_refused_and_queue_nothing(
    client: httpx.AsyncClient, redis: ArqRedis, signature: str, status: int
) -> None:
    response = await deliver(
        client, "pull_request", payload("pull_request.opened"), signature=signature
    )
    assert response.status_code == status
    assert await queued(redis) == []


async def test_signed_with_another_secret_is_refused(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    raw = json.dumps(payload("pull_request.opened")).encode()
    response = await deliver(client, "pull_request", raw, signature=signed(raw, "not the secret"))
    assert response.status_code == 401
    assert await queued(redis) == []


async def test_missing_headers_and_bad_json(client: httpx.AsyncClient) -> None:
    raw = b'{"action": "opened"'
    response = await client.post(
        "/webhooks",
        content=raw,
        headers={"X-Hub-Signature-256": signed(raw), "X-GitHub-Event": "push"},
    )
    assert response.status_code == 400
    response = await deliver(client, "push", raw)
    assert response.status_code == 400
    response = await deliver(client, "push", b"[1, 2]")
    assert response.status_code == 400


async def test_oversized_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/webhooks",
        content=b"x" * (MAX_BODY + 1),
        headers={
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "big",
            "X-Hub-Signature-256": "sha256=0",
        },
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("event", "name", "function"),
    [
        pytest.param("pull_request", "pull_request.reopened", "review_pull_request", id="reopened"),
        pytest.param("pull_request", "pull_request.closed", None, id="closed-unmerged"),
        pytest.param(
            "check_suite", "check_suite.rerequested", "review_pull_request", id="suite-rerequested"
        ),
        pytest.param("check_suite", "check_suite.requested", None, id="suite-requested"),
        pytest.param("check_run", "check_run.rerequested", None, id="run-rerequested-without-prs"),
        pytest.param("installation", "installation.created", "index_repository", id="installed"),
        pytest.param(
            "installation_repositories",
            "installation_repositories.removed",
            "forget_repositories",
            id="removed",
        ),
        pytest.param("ping", "ping", None, id="ping"),
        pytest.param("star", "ping", None, id="unknown-event"),
    ],
)
async def test_events_route_to_jobs(
    client: httpx.AsyncClient, redis: ArqRedis, event: str, name: str, function: str | None
) -> None:
    body = payload(name)
    response = await deliver(client, event, body)
    assert response.status_code == 202
    functions = {f for f, _, _ in await queued(redis)}
    assert functions == ({function} if function else set())


async def test_recorded_when_redis_is_down_and_queued_on_redelivery(
    pool: asyncpg.Pool, redis: ArqRedis
) -> None:
    await pool.execute("TRUNCATE deliveries")
    dead = ArqRedis(host="127.0.0.1", port=9)  # nothing listens there: Redis is "down"
    body = payload("pull_request.opened")
    raw = json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "d-down",
        "X-Hub-Signature-256": signed(raw),
    }
    for app_redis, expected in ((dead, "received"), (redis, "queued")):
        app = create_app(pool, app_redis, Secret(SECRET))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            response = await c.post("/webhooks", content=raw, headers=headers)
        assert response.status_code == 202
        assert await pool.fetchval("SELECT state FROM deliveries WHERE id = 'd-down'") == expected
    assert [f for f, _, _ in await queued(redis)] == ["review_pull_request"]
    await dead.aclose()


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}
