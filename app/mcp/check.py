"""``cairn mcp --check``: each tool once on the repository, through a real MCP client.

What the agent would see, tool by tool: the call and the text it returned. The sample comes
from the index: a function of the repository (the largest of 5 to 40 lines outside tests) is
looked up by its code and by its name's words, its file's conventions and decisions are
asked for, a new file holding a copy of it is reviewed, and ``why`` is asked about it.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any, TextIO

from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import TextContent

from analyzers.words import split_identifier
from app.mcp.workspace import Workspace

MAX_SHOWN = 40  # lines of each answer printed


async def run_check(server: MCPServer, ws: Workspace, out: TextIO) -> bool:
    """Run every tool once; True when none returned an error."""
    sample = await ws.words.sample_unit(ws.repo.id)
    where = ws.git.root.name if ws.git is not None else ws.name
    out.write(f"cairn mcp --check: {where} at {ws.commit[:10]}\n")
    if sample is None:
        out.write("the index holds no function or class: nothing to try the tools on\n")
        return False
    data = await ws.file(sample.path)
    lines = (data or b"").decode("utf-8", errors="replace").split("\n")
    code = "\n".join(lines[sample.start_line - 1 : sample.end_line])
    words = " ".join(split_identifier(sample.name))
    copy_path = posixpath.join("cairn_check", posixpath.basename(sample.path))
    calls: list[tuple[str, dict[str, Any]]] = [
        ("similar_code", {"code": code, "path": sample.path, "limit": 3}),
        ("similar_code", {"query": words, "limit": 3}),
        ("decisions_for", {"path": sample.path}),
        ("conventions_for", {"path": sample.path}),
        ("review_change", {"files": [{"path": copy_path, "content": code + "\n"}]}),
        ("why", {"path": sample.path, "line": sample.start_line}),
    ]
    ok = True
    async with Client(server) as client:
        listed = await client.list_tools()
        out.write(f"tools: {', '.join(t.name for t in listed.tools)}\n")
        resources = await client.list_resources()
        out.write(f"resources: {', '.join(str(r.uri) for r in resources.resources)}\n")
        for name, arguments in calls:
            shown = {k: _short(v) for k, v in arguments.items()}
            out.write(f"\n> {name} {json.dumps(shown, ensure_ascii=False)}\n")
            result = await client.call_tool(name, arguments)
            is_error = bool(getattr(result, "is_error", False))
            ok = ok and not is_error
            texts = [c.text for c in getattr(result, "content", []) if isinstance(c, TextContent)]
            body = "\n".join(texts).split("\n")
            if len(body) > MAX_SHOWN:
                body = [*body[:MAX_SHOWN], f"… {len(body) - MAX_SHOWN} more lines"]
            prefix = "error: " if is_error else ""
            for i, line in enumerate(body):
                text = f"{prefix if i == 0 else ''}{line}"
                out.write(f"  {text}\n" if text else "\n")
    out.write("\nall tools answered\n" if ok else "\nsome tools answered with an error\n")
    return ok


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 60:
        return value[:57].split("\n", 1)[0] + "…"
    if isinstance(value, list):
        return [{k: _short(v) for k, v in item.items()} for item in value]
    return value
