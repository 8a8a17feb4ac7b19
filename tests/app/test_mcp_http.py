"""``/mcp`` over streamable HTTP behind installation tokens, through the SDK's own client and a
real uvicorn server: no token, a wrong one, a revoked one and another installation's are
refused; a repository never indexed is a clear tool error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from starlette.applications import Starlette

from app.analysis import Inline
from app.demo import build_demo
from app.git import GitRepo
from app.indexer import index_commit
from app.mcp.http import mcp_route
from app.source import LocalSource
from app.store import Store
from app.store.mcp import McpStore, hash_token
from tests.app.test_mcp import PARSE_ISO_DATE_COPY

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("mcp-http") / "demo")


@pytest.fixture
async def tokens(store: Store, pool: asyncpg.Pool, demo: Path) -> dict[str, str]:
    """acme/billing (installation 1, indexed), acme/empty (installation 1, never indexed),
    other/thing (installation 2); a token of each installation and a revoked one."""
    await pool.execute("TRUNCATE mcp_tokens")
    git = GitRepo(demo)
    billing = await store.repository("acme/billing", repo_id=101, installation_id=1)
    await index_commit(store, billing, LocalSource(git), git.resolve("main"))
    await store.repository("acme/empty", repo_id=102, installation_id=1)
    other = await store.repository("other/thing", repo_id=201, installation_id=2)
    await index_commit(store, other, LocalSource(git), git.resolve("main"))
    words = McpStore(pool)
    _, one = await words.create_token(1, "acme/billing")
    _, two = await words.create_token(2, "other/thing")
    revoked_id, revoked = await words.create_token(1, "acme/billing")
    assert await words.revoke_token(revoked_id)
    return {"one": one, "two": two, "revoked": revoked}


@asynccontextmanager
async def serving(pool: asyncpg.Pool) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    async with mcp_route(pool, Inline()) as route:
        server = uvicorn.Server(
            uvicorn.Config(Starlette(routes=[route]), lifespan="off", log_level="warning")
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.should_exit = True
            await task
            sock.close()


async def call(
    url: str, token: str | None, tool: str, **arguments: Any
) -> tuple[bool, dict[str, Any], str]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"} if token else None)
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    return bool(result.is_error), result.structured_content or {}, text


async def test_a_token_answers_for_its_installation_only(
    pool: asyncpg.Pool, tokens: dict[str, str]
) -> None:
    async with serving(pool) as url:
        error, doc, text = await call(url, tokens["one"], "decisions_for", technology="requests")
        assert not error, text
        assert doc["decisions"][0]["label"] == "ADR-0001"
        # the words are indexed with the units, by whoever indexes (here as the App's worker)
        error, doc, text = await call(url, tokens["one"], "similar_code", query="parse iso date")
        assert not error, text
        assert doc["results"][0]["name"] == "parse_iso_date" and doc["results"][0]["source"] is None
        # a snippet is probed against the App's index; the source is not read over HTTP
        error, doc, text = await call(
            url, tokens["one"], "similar_code", code=PARSE_ISO_DATE_COPY, language="python"
        )
        assert not error, text
        top = doc["results"][0]
        assert (top["path"], top["name"], top["clone_kind"]) == (
            "billing/dates.py",
            "parse_iso_date",
            "renamed",
        )
        assert top["source"] is None
        error, doc, text = await call(
            url, tokens["one"], "similar_code", code="def f(v):\n  return v\n", language="python"
        )
        assert not error and "units of 20 tokens or more are compared" in text, text
        # another installation's repository: refused as if it did not exist
        error, _, text = await call(
            url, tokens["one"], "decisions_for", technology="requests", repo="other/thing"
        )
        assert error and "not a repository of this token's installation" in text
        error, _, text = await call(
            url, tokens["two"], "decisions_for", technology="requests", repo="acme/billing"
        )
        assert error and "not a repository of this token's installation" in text
        error, _, text = await call(url, tokens["one"], "decisions_for", repo="no/such")
        assert error and "not a repository of this token's installation" in text
        # the installation's repository that was never indexed
        error, _, text = await call(
            url, tokens["one"], "conventions_for", path="a.py", repo="acme/empty"
        )
        assert error and "has not been indexed yet" in text
        # what needs a checkout says so
        error, _, text = await call(url, tokens["one"], "why", path="billing/dates.py")
        assert error and "cairn mcp --repo" in text
        # the server goes on
        error, doc, _ = await call(url, tokens["two"], "decisions_for", technology="requests")
        assert not error and doc["decisions"]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no-token"),
        pytest.param("Bearer cairn_mcp_wrong", id="wrong-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="not-bearer"),
        pytest.param("Bearer " + "x" * 5000, id="huge-token"),
        pytest.param("revoked", id="revoked-token"),
    ],
)
async def test_refused_without_a_live_token(
    pool: asyncpg.Pool, tokens: dict[str, str], header: str | None
) -> None:
    if header == "revoked":
        header = f"Bearer {tokens['revoked']}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    if header is not None:
        headers["Authorization"] = header
    async with serving(pool) as url, httpx2.AsyncClient() as http:
        answer = await http.post(url, json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
        # and the SDK's client cannot connect with it
        token = header.removeprefix("Bearer ") if header and header.startswith("Bearer") else None
        with pytest.RaisesGroup(
            pytest.RaisesGroup(pytest.RaisesExc(MCPError, match="error response"))
        ):
            await call(url, token, "decisions_for")
        # the same request with a live token is answered
        headers["Authorization"] = f"Bearer {tokens['one']}"
        answer = await http.post(url, json=body, headers=headers)
        assert answer.status_code == 200, answer.text


async def test_tokens_are_stored_hashed_and_revocable(
    pool: asyncpg.Pool, tokens: dict[str, str]
) -> None:
    stored = {r["token_hash"] for r in await pool.fetch("SELECT token_hash FROM mcp_tokens")}
    assert tokens["one"] not in stored and hash_token(tokens["one"]) in stored
    words = McpStore(pool)
    assert await words.token_grant(tokens["one"]) == (1, "acme/billing")
    assert await words.token_grant(tokens["revoked"]) is None
    [live] = [t for t in await words.tokens("acme/billing") if t.revoked_at is None]
    assert await words.revoke_token(live.id)
    assert await words.token_grant(tokens["one"]) is None
    assert not await words.revoke_token(live.id)  # already revoked
