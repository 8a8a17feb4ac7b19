"""``cairn mcp``'s tools through the SDK's own client (in process), on the demo repository.

``review_change`` is held to ``cairn review``: the findings of the feature branch's files sent
as a draft are those of the review of the branch itself, fingerprints and messages alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from mcp import Client, MCPError
from mcp.server.mcpserver import MCPServer

from app.analysis import Analysis, Inline
from app.demo import build_demo
from app.git import GitRepo
from app.mcp.server import LocalResolver, add_static_resources, build_server
from app.mcp.tools import decision_log
from app.mcp.workspace import Workspace, open_local
from app.report import document
from app.review import review
from app.source import LocalSource
from app.store import Store
from checks.config import CairnConfig

pytestmark = pytest.mark.db


PARSE_ISO_DATE_COPY = """
def to_date(raw, fallback=None):
    'A date from text.'
    if raw is None:
        return fallback
    s = str(raw).strip()
    if not s:
        return fallback
    if "T" in s:
        s = s.split("T", 1)[0]
    bits = s.split("-")
    if len(bits) != 3:
        raise ValueError(f"bad date: {raw!r}")
    y, m, d = (int(b) for b in bits)
    return date(y, m, d)
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("mcp") / "demo")


@pytest.fixture
async def ws(store: Store, pool: asyncpg.Pool, demo: Path) -> Workspace:
    return await open_local(pool, demo, "main", Inline(), dict(os.environ))


@pytest.fixture
async def client(ws: Workspace) -> MCPServer:
    """The server; each call connects the SDK's client to it (a client held across a
    fixture's setup and teardown would cross tasks, which anyio refuses)."""
    server = build_server(LocalResolver(ws))
    add_static_resources(server, ws, list((await decision_log(ws)).records))
    return server


async def call(server: MCPServer, tool: str, **arguments: Any) -> tuple[bool, dict[str, Any], str]:
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    return bool(result.is_error), result.structured_content or {}, text


async def test_tools_are_listed_with_input_schemas(client: MCPServer) -> None:
    async with Client(client, mode="legacy") as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    assert set(tools) == {
        "similar_code",
        "decisions_for",
        "conventions_for",
        "review_change",
        "why",
    }
    assert tools["review_change"].input_schema["properties"]["files"]
    assert tools["conventions_for"].input_schema["required"] == ["path"]


async def test_similar_code_finds_the_original_of_a_renamed_copy(client: MCPServer) -> None:
    snippet = PARSE_ISO_DATE_COPY
    error, doc, text = await call(client, "similar_code", code=snippet, language="python")
    assert not error, text
    top = doc["results"][0]
    assert (top["path"], top["name"], top["start_line"]) == (
        "billing/dates.py",
        "parse_iso_date",
        6,
    )
    assert top["clone_kind"] == "renamed" and top["similarity"] == 1.0
    assert top["source"].startswith("def parse_iso_date(value, default=None):")
    assert "billing/dates.py:6-19 parse_iso_date" in text


async def test_similar_code_unrelated_snippet_finds_nothing(client: MCPServer) -> None:
    error, doc, text = await call(
        client, "similar_code", code="def add(a, b):\n    return a + b\n", path="x/y.py"
    )
    assert not error and doc["results"] == [] and text.startswith("no units like the snippet")


async def test_similar_code_query_ranks_by_words(client: MCPServer) -> None:
    error, doc, _ = await call(client, "similar_code", query="where do we parse ISO dates?")
    assert not error
    assert doc["results"][0]["name"] == "parse_iso_date"
    assert doc["words"] == ["where", "do", "we", "parse", "iso", "dates"]


async def test_decisions_for_a_technology_and_a_path(client: MCPServer) -> None:
    error, doc, text = await call(client, "decisions_for", technology="requests")
    assert not error, text
    [adr] = doc["decisions"]
    assert adr["label"] == "ADR-0001" and adr["status"] == "accepted"
    assert adr["constraints"][0]["avoid"] == "requests"
    assert adr["constraints"][0]["prefer"] == "httpx"
    assert any(e["kind"] == "pull-request" and e["ref"] == "5" for e in adr["made_by"])
    error, doc, _ = await call(client, "decisions_for", technology="kafka")
    assert not error and doc["decisions"] == []
    error, doc, _ = await call(client, "decisions_for", path="web/app.ts")  # no language match
    assert not error


async def test_conventions_for_lists_the_mined_wrapper(client: MCPServer) -> None:
    error, doc, text = await call(client, "conventions_for", path="exports/csv_export.py")
    assert not error, text
    wrapped = [r for r in doc["mined"] if r["kind"] == "wrapped-dependency"]
    assert wrapped and "billing/storage.py" in wrapped[0]["description"]
    error, doc, _ = await call(client, "conventions_for", path="billing/storage.py")
    assert not [r for r in doc["mined"] if r["kind"] == "wrapped-dependency"]  # the wrapper itself


async def test_review_change_is_cairn_review(
    client: MCPServer, ws: Workspace, store: Store, demo: Path
) -> None:
    git = GitRepo(demo)
    base, head = git.resolve("main"), git.resolve("feature/export")
    expected = await review(store, ws.repo, LocalSource(git), base, head, CairnConfig())
    assert len(expected.findings) == 3
    changed = [d.new_path for d in await LocalSource(git).diff(base, head) if d.new_path]
    files = [{"path": p, "content": git.file_at(head, p).decode()} for p in changed]  # type: ignore[union-attr]
    error, doc, text = await call(client, "review_change", files=files)
    assert not error, text
    want = document.review_document(expected.findings, expected.decisions)
    assert doc["findings"] == want["findings"]
    assert doc["decisions"] == want["decisions"]
    assert "duplication/clone" in text and "decisions/adr-0001" in text
    # the same change as a diff
    diff = git.command("diff", base, head).decode()
    error, doc, _ = await call(client, "review_change", diff=diff)
    assert not error and doc["findings"] == want["findings"]


async def test_review_change_writes_nothing_to_the_repository(
    client: MCPServer, demo: Path
) -> None:
    before = GitRepo(demo).command("count-objects", "-v").decode()
    error, _, text = await call(
        client, "review_change", files=[{"path": "new/mod.py", "content": "X = 'unique 4711'\n"}]
    )
    assert not error, text
    assert GitRepo(demo).command("count-objects", "-v").decode() == before


async def test_why_is_cairn_why(client: MCPServer) -> None:
    error, doc, text = await call(client, "why", path="billing/dates.py", line=6)
    assert not error, text
    assert doc["path"] == "billing/dates.py" and doc["items"]
    assert "touched lines 6-19 (parse_iso_date)" in text


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        pytest.param("why", {"path": "no/such.py"}, "is not a file", id="why-unknown-path"),
        pytest.param(
            "why", {"path": "../../etc/passwd"}, "outside the repository", id="why-escape"
        ),
        pytest.param(
            "similar_code",
            {"code": "x" * (300 << 10), "language": "python"},
            "over the",
            id="huge-snippet",
        ),
        pytest.param(
            "similar_code",
            {"code": "def f():\x00\n  pass", "language": "python"},
            "binary",
            id="binary-snippet",
        ),
        pytest.param("similar_code", {"code": "x = 1", "language": "cobol"}, "language", id="lang"),
        pytest.param("similar_code", {}, "either `code`", id="nothing-asked"),
        pytest.param(
            "review_change",
            {"files": [{"path": "a.py", "content": "\x00\x01\x02"}]},
            "binary",
            id="binary-file",
        ),
        pytest.param(
            "review_change",
            {"files": [{"path": "/etc/passwd", "content": "x"}]},
            "outside the repository",
            id="absolute-path",
        ),
        pytest.param(
            "review_change",
            {"diff": "--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-a\n+b\n"},
            "does not apply",
            id="diff-not-applying",
        ),
        pytest.param(
            "review_change",
            {"files": [{"path": "gone.py", "content": None}]},
            "nothing to delete",
            id="delete-unknown",
        ),
        pytest.param("conventions_for", {"path": ""}, "needs a path", id="empty-path"),
        pytest.param("why", {"path": "a/" * 600}, "1000 characters", id="huge-path"),
        pytest.param("similar_code", {"query": "dates " * 200}, "at most 500", id="huge-query"),
    ],
)
async def test_bad_input_is_a_clear_tool_error_and_the_server_goes_on(
    client: MCPServer, tool: str, arguments: dict[str, Any], says: str
) -> None:
    error, _, text = await call(client, tool, **arguments)
    assert error and says in text, text
    error, doc, _ = await call(client, "decisions_for", technology="requests")
    assert not error and doc["decisions"]


async def test_resources_are_the_log_each_record_and_the_configuration(
    client: MCPServer,
) -> None:
    async with Client(client, mode="legacy") as c:
        uris = {str(r.uri) for r in (await c.list_resources()).resources}
        assert {"cairn://decisions", "cairn://configuration", "cairn://decisions/ADR-0001"} <= uris
        record = await c.read_resource("cairn://decisions/ADR-0001")
        assert "Use httpx" in record.contents[0].text  # type: ignore[union-attr]
        log = await c.read_resource("cairn://decisions")
        assert '"label": "ADR-0001"' in log.contents[0].text  # type: ignore[union-attr]
        config = await c.read_resource("cairn://configuration")
        assert "defaults apply" in config.contents[0].text  # type: ignore[union-attr]
        with pytest.raises(MCPError, match="no decision record"):
            await c.read_resource("cairn://decisions/ADR-0099")


async def test_similar_code_runs_in_a_bounded_analysis_process(
    store: Store, pool: asyncpg.Pool, demo: Path
) -> None:
    """As `cairn mcp` runs it: the snippet is parsed in a child process (what it is sent must
    pickle)."""
    async with Analysis(1, timeout=60) as analysis:
        ws = await open_local(pool, demo, "main", analysis, dict(os.environ))
        server = build_server(LocalResolver(ws))
        error, doc, text = await call(
            server, "similar_code", code=PARSE_ISO_DATE_COPY, path="exports/when.py"
        )
    assert not error, text
    assert doc["results"][0]["name"] == "parse_iso_date"
