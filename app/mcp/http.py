"""The MCP tools over streamable HTTP at ``/mcp`` on ``cairn serve``, per installation.

Every request carries ``Authorization: Bearer <token>`` (``cairn token create --repo
OWNER/NAME``); the token is looked up by its hash, and a missing, unknown or revoked one is a
401 before any MCP message is read. A call answers only for the repositories of the token's
installation (by default the one it was created for): any other name is refused with the same
words whether it exists or not. The transport is stateless (each POST its own exchange, JSON
answers), so a call is always judged by its own request's token.

Over HTTP a repository is read from the index the App keeps (no checkout): ``similar_code``
(both modes, without the units' source), ``decisions_for`` and ``conventions_for`` answer;
``why`` and ``review_change`` need the repository's git and say so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.analysis import Runner
from app.mcp.server import build_server
from app.mcp.workspace import ToolFailure, Workspace, open_indexed
from app.store.database import Pool
from app.store.mcp import McpStore

logger = logging.getLogger(__name__)

PATH = "/mcp"
MAX_TOKEN = 200  # characters of a bearer token read at most
GRANT = "cairn_grant"  # the request scope's state key: (installation id, repository)
MAX_BODY = 4 << 20  # bytes of one MCP request


class TokenGate:
    """ASGI: the MCP app behind bearer tokens of ``mcp_tokens``."""

    def __init__(self, store: McpStore, app: ASGIApp) -> None:
        self.store = store
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            await _refuse(send, "a bearer token is required: cairn token create --repo OWNER/NAME")
            return
        grant = await self.store.token_grant(token) if len(token) <= MAX_TOKEN else None
        if grant is None:
            await _refuse(send, "the token is unknown or revoked")
            return
        state = dict(scope.get("state") or {})
        state[GRANT] = grant
        await self.app({**scope, "state": state}, receive, send)


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="cairn"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InstallationResolver:
    """Over HTTP: the repository a call names, if the token's installation has it."""

    def __init__(self, pool: Pool, analysis: Runner) -> None:
        self.pool = pool
        self.store = McpStore(pool)
        self.analysis = analysis

    async def workspace(self, ctx: Context, repo: str | None) -> Workspace:
        request: Any = ctx.request_context.request
        grant = getattr(getattr(request, "state", None), GRANT, None)
        if grant is None:
            raise ToolFailure("this call carries no token")
        installation, default = grant
        wanted = (repo or default).strip().strip("/").lower()
        repos = await self.store.installation_repositories(installation)
        found = {name.lower(): rid for name, rid in repos.items()}.get(wanted)
        if found is None:
            raise ToolFailure(f"{repo or default} is not a repository of this token's installation")
        return await open_indexed(self.pool, found, self.analysis)


@asynccontextmanager
async def mcp_route(pool: Pool, analysis: Runner) -> AsyncIterator[Route]:
    """The ``/mcp`` route of ``cairn serve``, its session manager running for the span of
    the ``with`` (``cairn serve`` runs uvicorn without a lifespan)."""
    server = build_server(InstallationResolver(pool, analysis), http=True)
    server.streamable_http_app(  # creates the session manager; its own routes are not used
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_BODY,
        # no DNS-rebinding guard: a browser page cannot add the bearer token every call needs
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    gate = TokenGate(McpStore(pool), StreamableHTTPASGIApp(manager))
    async with manager.run():
        yield Route(PATH, gate)
