"""The GitHub App end to end: real `cairn serve` and `cairn worker` processes, real Redis and
Postgres, and the GitHub simulator. A signed `pull_request` delivery for a repository with a
planted duplicate ends with three completed check runs and an inline comment linking to the
original; a push that removes the duplicate resolves that thread; redeliveries change nothing.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from tests.app.samples import BASE, PARSE_DATE_RENAMED, module
from tests.conftest import FIXTURES
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair
from tests.github_sim.state import APP_PERMISSIONS
from tests.servers import RedisServer, free_port, wait_for

pytestmark = pytest.mark.slow  # cairn serve and worker processes, end to end

CAIRN = Path(sys.executable).parent / "cairn"
APP_ID, INSTALLATION, REPO = 4242, 77, "acme/shop"
SECRET = "e2e webhook secret"
REDIS_DB = 14  # the e2e test's own database of the session's Redis, emptied first


@pytest.fixture
async def fresh_database(pool: asyncpg.Pool) -> None:
    """The session's database without what earlier tests left: their deliveries would be
    duplicates of this test's ids, and their findings ledger would count this test's comments
    as already posted."""
    await pool.execute("TRUNCATE deliveries, repositories CASCADE")


@pytest.fixture
def world(
    cairn_env: dict[str, str], session_redis: RedisServer, fresh_database: None
) -> Iterator[tuple[State, str, dict[str, str]]]:
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    # granted contents: write, so fixed threads are resolved (app.yml asks for read: see README)
    permissions = {**APP_PERMISSIONS, "contents": "write"}
    state.add_installation(INSTALLATION, APP_ID, [REPO], permissions=permissions)
    with serve(state) as api_url:
        env = dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET=SECRET,
            GITHUB_API_URL=api_url,
            REDIS_URL=f"redis://127.0.0.1:{session_redis.port}/{REDIS_DB}",
        )
        redis.Redis(port=session_redis.port, db=REDIS_DB).flushdb()
        yield state, api_url, env
    assert not state.unknown_routes, state.unknown_routes


@pytest.fixture
def processes(world: tuple[State, str, dict[str, str]], tmp_path: Path) -> Iterator[str]:
    _, _, env = world
    port = free_port()
    logs = {name: tmp_path / f"{name}.log" for name in ("serve", "worker")}
    with logs["serve"].open("w") as serve_log, logs["worker"].open("w") as worker_log:
        server = subprocess.Popen(
            [str(CAIRN), "serve", "--port", str(port)], env=env, stderr=serve_log
        )
        worker = subprocess.Popen([str(CAIRN), "worker"], env=env, stderr=worker_log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _healthy(url), "cairn serve to answer /healthz", timeout=60)
            yield url
        finally:
            for proc in (server, worker):
                proc.terminate()
            for proc in (server, worker):
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    for log in logs.values():
        text = log.read_text()
        assert "Traceback" not in text, text


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def delivery(state: State, action: str, number: int) -> dict[str, Any]:
    """A real `pull_request` payload from GitHub, carrying the simulated repository's values."""
    payload: dict[str, Any] = copy.deepcopy(
        json.loads((FIXTURES / "webhooks" / "pull_request.opened.json").read_text())
    )
    repo, pr = state.repos[REPO], state.pulls[(REPO, number)]
    payload["action"] = action
    payload["installation"]["id"] = INSTALLATION
    payload["repository"].update(id=repo.id, full_name=REPO, default_branch=repo.default_branch)
    payload["number"] = number
    payload["pull_request"].update(number=number, draft=False)
    payload["pull_request"]["head"]["sha"] = pr.head_sha
    payload["pull_request"]["base"]["sha"] = pr.base_sha
    return payload


def post(url: str, event: str, payload: dict[str, Any], delivery_id: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return httpx.post(f"{url}/webhooks", content=body, headers=headers, timeout=5)


def completed_runs(state: State, head: str) -> dict[str, str | None]:
    with state.lock:
        return {
            run.name: run.conclusion
            for run in state.runs(REPO)
            if run.head_sha == head and run.status == "completed"
        }


def test_a_pull_request_is_reviewed_and_kept_tidy_across_pushes(
    world: tuple[State, str, dict[str, str]], processes: str
) -> None:
    state, _, _ = world
    url = processes
    base = state.commit(REPO, BASE, "base", branch="main")
    head = state.commit(
        REPO, BASE | {"exports/csv.py": module(PARSE_DATE_RENAMED)}, "export", parents=[base]
    )
    state.open_pull_request(REPO, base, head, title="Export invoices", number=1)

    opened = delivery(state, "opened", 1)
    assert post(url, "pull_request", opened, "delivery-1").status_code == 202
    wait_for(lambda: len(completed_runs(state, head)) == 3, "three completed check runs")
    assert completed_runs(state, head) == {
        "cairn/duplication": "neutral",
        "cairn/patterns": "success",
        "cairn/decisions": "success",
    }
    [comment] = state.review_comments(REPO, 1)
    assert (comment.path, comment.start_line, comment.line) == ("exports/csv.py", 4, 18)
    assert f"/{REPO}/blob/{base}/billing/dates.py#L4-L17" in comment.body
    assert "parse_iso_date" in comment.body

    # A redelivery of the same webhook changes nothing.
    assert post(url, "pull_request", opened, "delivery-1").json()["message"] == "duplicate delivery"
    time.sleep(2)
    assert len(state.review_comments(REPO, 1)) == 1
    assert len(state.runs(REPO)) == 3

    # A push that removes the duplicate: its thread is resolved, nothing new is posted.
    export = "import csv\n\n\ndef export(rows, out):\n    csv.writer(out).writerows(rows)\n"
    fixed = state.commit(
        REPO, BASE | {"exports/csv.py": export}, "reuse the parser", parents=[head]
    )
    state.open_pull_request(REPO, base, fixed, title="Export invoices", number=1)
    sync = delivery(state, "synchronize", 1)
    assert post(url, "pull_request", sync, "delivery-2").status_code == 202
    wait_for(lambda: len(completed_runs(state, fixed)) == 3, "the second push's check runs")
    wait_for(
        lambda: all(t.is_resolved for t in state.threads(REPO, 1)), "the thread to be resolved"
    )
    comments = state.review_comments(REPO, 1)
    assert [c.id for c in comments if c.in_reply_to_id is None] == [comment.id]
    [reply] = [c for c in comments if c.in_reply_to_id == comment.id]
    assert fixed[:7] in reply.body

    assert post(url, "pull_request", sync, "delivery-2").json()["message"] == "duplicate delivery"
    time.sleep(2)
    assert len(state.review_comments(REPO, 1)) == 2
    assert len(state.runs(REPO)) == 6

    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    assert 'cairn_webhook_deliveries_total{event="pull_request",state="queued"} 2' in metrics
    assert 'cairn_jobs_total{function="review_pull_request",outcome="ok"} 2' in metrics
    assert 'cairn_findings{check="duplication",state="fixed"} 1' in metrics
    assert re.search(r'cairn_github_calls_total\{status="2xx"\} [1-9]', metrics)
    assert re.search(r"cairn_github_rate_limit_remaining \d+", metrics)
    assert "cairn_github_refusals_total{" not in metrics  # the thread was resolved
    private, _ = rsa_keypair()
    assert SECRET not in metrics and private.splitlines()[1] not in metrics
