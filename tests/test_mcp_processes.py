"""``cairn mcp`` and ``cairn token`` as processes: the stdio server driven by the SDK's own
client over its stdin and stdout, ``--check``, the token commands, and ``/mcp`` on a real
``cairn serve``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from app.demo import build_demo
from app.git import GitRepo
from app.indexer import index_commit
from app.source import LocalSource
from app.store import Store
from tests.github_sim.keys import rsa_keypair
from tests.servers import RedisServer, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.db]  # cairn processes

CAIRN = Path(sys.executable).parent / "cairn"


def cairn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CAIRN), *args], env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("mcp-proc") / "demo")


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def test_stdio_server_answers_and_survives_bad_input(
    cairn_env: dict[str, str], demo: Path, store: Store
) -> None:
    params = StdioServerParameters(
        command=str(CAIRN), args=["mcp", "--repo", str(demo), "--ref", "main"], env=cairn_env
    )
    async with Client(params, read_timeout_seconds=120) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"similar_code", "decisions_for", "conventions_for", "review_change", "why"}
        git = GitRepo(demo)
        copy = git.file_at(git.resolve("feature/export"), "exports/csv_export.py")
        assert copy is not None
        result = await client.call_tool(
            "review_change",
            {"files": [{"path": "exports/csv_export.py", "content": copy.decode()}]},
        )
        assert not result.is_error, _text(result)
        rules = {(f["check"], f["rule"]) for f in result.structured_content["findings"]}
        assert rules == {
            ("duplication", "clone"),
            ("patterns", "wrapped-dependency"),
            ("decisions", "adr-0001"),
        }
        for tool, arguments in [
            ("similar_code", {"code": "a" * (1 << 20), "language": "python"}),
            ("why", {"path": "no/such/file.py"}),
            ("review_change", {"files": [{"path": "x.py", "content": "\x00binary"}]}),
            ("conventions_for", {"path": "../outside.py"}),
        ]:
            bad = await client.call_tool(tool, arguments)
            assert bad.is_error, (tool, _text(bad))
        good = await client.call_tool("similar_code", {"query": "parse iso date"})
        assert not good.is_error and good.structured_content["results"][0]["name"] == (
            "parse_iso_date"
        )
        record = await client.read_resource("cairn://decisions/ADR-0001")
        assert "httpx" in record.contents[0].text  # type: ignore[union-attr]


def test_check_runs_every_tool_once(cairn_env: dict[str, str], demo: Path) -> None:
    proc = cairn(cairn_env, "mcp", "--check", "--repo", str(demo), "--ref", "main")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for tool in ("similar_code", "decisions_for", "conventions_for", "review_change", "why"):
        assert f"> {tool} " in out
    assert "billing/dates.py:6-19 parse_iso_date (function; exact, 100% similar)" in out
    assert "duplication/clone" in out and out.rstrip().endswith("all tools answered")


def test_mcp_on_a_directory_that_is_no_repository_is_one_line(
    cairn_env: dict[str, str], tmp_path: Path
) -> None:
    proc = cairn(cairn_env, "mcp", "--repo", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"cairn: error: {tmp_path} is not a git repository (or any parent up to the filesystem "
        "root)"
    ]


async def test_token_commands(cairn_env: dict[str, str], store: Store, pool: asyncpg.Pool) -> None:
    await pool.execute("TRUNCATE mcp_tokens")
    proc = cairn(cairn_env, "token", "create", "--repo", "acme/unknown")
    assert proc.returncode == 2
    assert "acme/unknown is not a repository of an installation" in proc.stderr
    await store.repository("acme/billing", repo_id=301, installation_id=7)
    proc = cairn(cairn_env, "token", "create", "--repo", "acme/billing")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("cairn_mcp_") and len(token) > 40
    assert "shown once" in proc.stderr and token not in proc.stderr
    listed = cairn(cairn_env, "token", "list", "--repo", "acme/billing")
    assert "installation 7  acme/billing" in listed.stdout and "live" in listed.stdout
    assert token not in listed.stdout
    token_id = listed.stdout.split()[0]
    assert cairn(cairn_env, "token", "revoke", token_id).returncode == 0
    assert "revoked" in cairn(cairn_env, "token", "list").stdout
    again = cairn(cairn_env, "token", "revoke", token_id)
    assert again.returncode == 2 and "no live token" in again.stderr


async def test_serve_answers_mcp_with_a_token(
    cairn_env: dict[str, str], store: Store, pool: asyncpg.Pool, demo: Path
) -> None:
    await pool.execute("TRUNCATE mcp_tokens")
    git = GitRepo(demo)
    repo = await store.repository("acme/billing", repo_id=401, installation_id=9)
    await index_commit(store, repo, LocalSource(git), git.resolve("main"))
    created = cairn(cairn_env, "token", "create", "--repo", "acme/billing")
    token = created.stdout.strip()
    private, _ = rsa_keypair()
    port = free_port()
    with RedisServer() as redis:
        env = dict(
            cairn_env,
            GITHUB_APP_ID="4242",
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET="webhook-secret",
            REDIS_URL=redis.url,
        )
        serve = subprocess.Popen(
            [str(CAIRN), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert serve.stderr is not None
            assert serve.stderr.readline().startswith("cairn serve: ")
            url = f"http://127.0.0.1:{port}/mcp"
            wait_for(lambda: _listening(port), "cairn serve to listen", timeout=60)
            http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
            async with http, Client(streamable_http_client(url, http_client=http)) as client:
                result = await client.call_tool("decisions_for", {"technology": "requests"})
            assert not result.is_error, _text(result)
            assert result.structured_content["decisions"][0]["label"] == "ADR-0001"
        finally:
            os.killpg(serve.pid, 15)
            _, err = serve.communicate(timeout=60)
        assert serve.returncode == 0, err
        assert "Traceback" not in err, err


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
