"""The App's jobs and the Action, end to end, with every GitHub call held to the contract.

Where ``test_verbs`` calls each verb with chosen arguments, here the calls carry what Cairn
really sends: check-run summaries and annotations of real findings, review comments, replies,
the thread queries of a fixed finding. ``ContractTransport`` checks each call against the
published description (github.com's, and a GHES release's with the simulator playing that
GHES) and forwards it to the simulator, which answers as GitHub does.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from graphql import GraphQLSchema
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import worker
from app.github import GitHubApp
from app.settings import Secret, Settings
from app.store import Store
from checks.config import CONFIG_FILE
from tests.app.samples import BASE, PARSE_DATE_RENAMED, module
from tests.conftest import FIXTURES, GitRepoBuilder
from tests.contract.conftest import description
from tests.contract.graphql import GraphQLContract
from tests.contract.openapi import ContractTransport
from tests.github_sim import State, transport
from tests.github_sim.keys import rsa_keypair
from tests.servers import RedisServer

CAIRN = Path(sys.executable).parent / "cairn"
APP_ID, INSTALLATION, REPO, EMPTY = 4242, 61, "acme/shop", "acme/empty"
REDIS_DB = 9  # of the session's own Redis: the recheck limit and refusals are kept there
DUPLICATE = {"exports/csv.py": module(PARSE_DATE_RENAMED)}
RULES = (
    "patterns:\n  forbid:\n"
    "    - {id: no-print, paths: ['exports/**'], calls: [print], message: Log it.}\n"
)
STAMP = "@1700000000 +0000"  # the simulator's commits carry it: the workspace's do too


@contextmanager
def serve_contract(contract: ContractTransport) -> Iterator[str]:
    """The contract transport as an HTTP server on 127.0.0.1, for a process of its own."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"]
        forwarded = httpx.Request(request.method, str(request.url), headers=headers, content=raw)
        answer = await contract.handle_async_request(forwarded)
        body = await answer.aread()
        kept = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        }
        return Response(body, status_code=answer.status_code, headers=kept)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PATCH"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the proxy did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["api.github.com", "ghes-3.17"])
async def test_the_apps_jobs_keep_the_contract(
    name: str,
    contract_cache: Path,
    graphql_schema: GraphQLSchema,
    store: Store,
    cairn_env: dict[str, str],
    session_redis: RedisServer,
) -> None:
    ghes = name.startswith("ghes-")
    state = State()
    state.ghes = name.removeprefix("ghes-") if ghes else None
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, [REPO, EMPTY])
    graphql = GraphQLContract(graphql_schema)
    contract = ContractTransport(
        description(name, contract_cache),
        base_path="/api/v3" if ghes else "",
        inner=transport(state),
        graphql=graphql.check,
    )
    api_url = "http://github.sim/api/v3" if ghes else "http://github.sim"
    settings = Settings.from_env(
        dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET="s",
            GITHUB_API_URL=api_url,
        )
    )
    repo_id = state.repos[REPO].id
    base_files = BASE | {CONFIG_FILE: RULES}
    base = state.commit(REPO, base_files, "base", branch="main")
    head = state.commit(
        REPO,
        base_files | DUPLICATE | {"exports/log.py": "def hello():\n    print('hi')\n"},
        "head",
        [base],
    )
    state.open_pull_request(REPO, base, head, number=1)
    fixed = state.commit(REPO, base_files | {"exports/csv.py": "X = 1\n"}, "fix", [head])

    state.grant(REPO, "alice", "write")  # commands are taken from write access only
    redis = Redis.from_url(f"redis://127.0.0.1:{session_redis.port}/{REDIS_DB}")
    await redis.flushdb()
    async with GitHubApp(APP_ID, Secret(private), api_url, transport=contract) as app:
        ctx: dict[str, Any] = {
            "cairn": worker.WorkerState(settings, settings.app(), store.pool, app),
            "redis": redis,
        }
        outcomes = [
            await worker.index_repository(ctx, INSTALLATION, repo_id, REPO, None),
            await worker.index_repository(ctx, INSTALLATION, state.repos[EMPTY].id, EMPTY, None),
            await worker.review_pull_request(ctx, INSTALLATION, repo_id, REPO, 1, head),
        ]
        [top] = [c for c in state.review_comments(REPO, 1) if c.path == "exports/csv.py"]
        command = state.next_id()
        outcomes.append(
            await worker.ignore_finding(
                ctx, INSTALLATION, repo_id, REPO, 1, top.id, command, "alice", "", "MEMBER"
            )
        )
        outcomes.append(
            await worker.recheck_pull_request(
                ctx, INSTALLATION, repo_id, REPO, 1, "alice", "MEMBER", top.id
            )
        )
        state.open_pull_request(REPO, base, fixed, number=1)
        outcomes.append(
            await worker.review_pull_request(ctx, INSTALLATION, repo_id, REPO, 1, fixed)
        )
        outcomes.append(await worker.record_pull_request(ctx, INSTALLATION, repo_id, REPO, 1))
    await redis.aclose()

    assert contract.violations == []
    assert state.unknown_routes == []
    assert outcomes[1] == "empty repository: nothing to index"
    assert outcomes[3] == "no reason given" and outcomes[4].startswith(
        "2 findings: 0 posted, 2 kept"
    ), outcomes
    assert "2 fixed" in outcomes[5], outcomes
    operations = {c.operation for c in contract.calls}
    assert {
        "checks/create",
        "checks/update",
        "pulls/create-review",
        "pulls/list-comments-for-review",
        "pulls/create-reply-for-review-comment",
        "git/get-tree",
        "repos/get-commit",
        "repos/get-collaborator-permission-level",
        "apps/get-authenticated",
    } <= operations
    annotated = [
        a
        for c in contract.calls
        if c.operation == "checks/update"
        for a in (c.body.get("output") or {}).get("annotations", [])
    ]
    assert {a["annotation_level"] for a in annotated} >= {"warning", "failure"}
    assert len(graphql.documents) == 2  # the threads query and the (refused) resolution


@pytest.mark.slow
def test_the_action_keeps_the_contract(
    contract_cache: Path, cairn_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", STAMP)
    monkeypatch.setenv("GIT_COMMITTER_DATE", STAMP)
    event = json.loads((FIXTURES / "webhooks" / "pull_request.opened.json").read_text())
    repo, number = event["repository"]["full_name"], event["number"]
    ws = GitRepoBuilder(tmp_path / "workspace")
    ws.write(BASE)
    base = ws.commit("base")
    ws.branch("feature")
    ws.write(BASE | DUPLICATE)
    head = ws.commit("head")
    state = State()
    state.add_installation(31, 1, [repo])
    assert state.commit(repo, BASE, "base", branch="main") == base
    assert state.commit(repo, BASE | DUPLICATE, "head", parents=[base]) == head
    state.open_pull_request(repo, base, head, number=number)
    event["pull_request"]["base"]["sha"], event["pull_request"]["head"]["sha"] = base, head
    (tmp_path / "event.json").write_text(json.dumps(event))
    contract = ContractTransport(
        description("api.github.com", contract_cache), inner=transport(state)
    )
    with serve_contract(contract) as api_url:
        env = {k: v for k, v in cairn_env.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        env |= {
            "GITHUB_WORKSPACE": str(ws.root),
            "GITHUB_SERVER_URL": "https://github.example.com",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
            "GITHUB_REPOSITORY": repo,
            "GITHUB_SHA": head,
            "GITHUB_API_URL": api_url,
            "GITHUB_TOKEN": state.issue_token(31).value,
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
            "RUNNER_TEMP": str(tmp_path / "runner"),
        }
        done = subprocess.run(
            [str(CAIRN), "action"],
            env=env,
            cwd=ws.root,
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert contract.violations == []
    assert done.returncode == 0, done.stderr
    assert [c.path for c in state.review_comments(repo, number)] == ["exports/csv.py"]
    assert {"checks/create", "checks/update", "pulls/create-review"} <= {
        c.operation for c in contract.calls
    }
