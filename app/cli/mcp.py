"""``cairn mcp`` (the MCP server over stdio, or ``--check``) and ``cairn token`` (the HTTP
transport's bearer tokens: create, list, revoke)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

from app.analysis import Analysis
from app.errors import CairnError
from app.mcp.check import run_check
from app.mcp.server import LocalResolver, add_log_resources, add_record_resources, build_server
from app.mcp.tools import SIMILAR_MIN_TOKENS, decision_log
from app.mcp.workspace import Workspace, open_local
from app.settings import Settings
from app.store import database
from app.store.mcp import McpStore

logger = logging.getLogger(__name__)

ANALYSIS_PROCESSES = 2  # of the stdio server: one agent asks one thing at a time


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``cairn mcp`` and ``cairn token``."""
    p = sub.add_parser(
        "mcp",
        help="serve the repository's index, conventions and decisions to coding agents "
        "(Model Context Protocol, stdio)",
    )
    p.add_argument("--repo", type=Path, default=Path.cwd(), help="repository path (default: .)")
    p.add_argument(
        "--ref", default="HEAD", help="the commit to index and answer for (default: HEAD)"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="run each tool once on the repository, print what it returned, and exit",
    )
    p.set_defaults(run=_mcp)

    p = sub.add_parser(
        "token", help="bearer tokens of the MCP endpoint on `cairn serve` (/mcp), per installation"
    )
    tsub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    c = tsub.add_parser(
        "create", help="a new token for the installation of OWNER/NAME (printed once)"
    )
    c.add_argument(
        "--repo", required=True, metavar="OWNER/NAME", help="a repository the App indexed"
    )
    c.set_defaults(run=_token_create)
    ls = tsub.add_parser("list", help="the tokens (never their values), live and revoked")
    ls.add_argument("--repo", metavar="OWNER/NAME", help="only those of this installation")
    ls.set_defaults(run=_token_list)
    r = tsub.add_parser("revoke", help="revoke a token by its id (cairn token list)")
    r.add_argument("id", type=int, help="the token's id")
    r.set_defaults(run=_token_revoke)


async def _mcp(args: argparse.Namespace, settings: Settings) -> int:
    timeout, memory = settings.analysis_bounds()
    async with (
        database.connect(settings) as pool,
        Analysis(ANALYSIS_PROCESSES, timeout=timeout, memory_mb=memory) as analysis,
    ):
        ws = await open_local(pool, args.repo, args.ref, analysis, settings.env, index=False)
        server = build_server(LocalResolver(ws))
        add_log_resources(server, ws)
        if args.check:
            await ws.warm(SIMILAR_MIN_TOKENS)
            add_record_resources(server, ws, list((await decision_log(ws)).records))
            ok = await run_check(server, ws, sys.stdout)
            return 0 if ok else 1
        print(
            f"cairn mcp: {ws.git.root if ws.git else ws.name} at {args.ref}, database "
            f"{settings.database_shown}; serving on stdio (indexing first)",
            file=sys.stderr,
        )
        # Served at once: an agent's client does not wait for a first index of a large
        # repository to start; a call made before it is done waits for it.
        warming = asyncio.create_task(_warm(server, ws))
        try:
            await server.run_stdio_async()
        finally:
            warming.cancel()
    return 0


async def _warm(server: MCPServer, ws: Workspace) -> None:
    try:
        await ws.warm(SIMILAR_MIN_TOKENS)
        add_record_resources(server, ws, list((await decision_log(ws)).records))
    except CairnError as exc:  # the calls will say it again, each to its agent
        logger.warning("cairn mcp: could not index %s: %s", ws.name, exc)


async def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    name = _full_name(args.repo)
    async with database.connect(settings) as pool:
        store = McpStore(pool)
        installation = await store.installation_of(name)
        if installation is None:
            raise CairnError(
                f"{name} is not a repository of an installation of the App (install the App "
                "on it, and let it be indexed, first)"
            )
        token_id, token = await store.create_token(installation, name)
    print(
        f"token {token_id} for installation {installation} (every repository of it); shown "
        "once, keep it secret. Revoke it with `cairn token revoke "
        f"{token_id}`.",
        file=sys.stderr,
    )
    print(token)
    return 0


async def _token_list(args: argparse.Namespace, settings: Settings) -> int:
    name = _full_name(args.repo) if args.repo else None
    async with database.connect(settings) as pool:
        found = await McpStore(pool).tokens(name)
    if not found:
        print("no tokens")
        return 0
    for t in found:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "live"
        print(
            f"{t.id:>4}  installation {t.installation_id}  {t.repository}  "
            f"created {t.created_at:%Y-%m-%d %H:%M}  {state}"
        )
    return 0


async def _token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async with database.connect(settings) as pool:
        done = await McpStore(pool).revoke_token(args.id)
    if not done:
        raise CairnError(f"no live token has the id {args.id} (cairn token list)")
    print(f"revoked token {args.id}")
    return 0


def _full_name(value: str) -> str:
    name = value.strip().strip("/")
    owner, _, repo = name.partition("/")
    if not owner or not repo or "/" in repo or len(name) > 200:
        raise CairnError(f"{value!r}: give the repository as OWNER/NAME")
    return name


__all__ = ["add_commands"]
