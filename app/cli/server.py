"""``cairn setup``, ``cairn serve``, ``cairn worker`` and ``cairn db``: running the GitHub App."""

from __future__ import annotations

import argparse
import asyncio
import errno
from typing import Any

from app.cli.common import env_file_arg, status, stopped
from app.settings import Settings, redacted
from app.signals import stop_signals_recorded
from app.store import database

MCP_PROCESSES = 2  # analysis processes of /mcp (snippets, mined rules)


def add_commands(sub: Any) -> None:
    """Register ``cairn setup``, ``cairn serve``, ``cairn worker`` and ``cairn db``."""
    p = sub.add_parser("db", help="database maintenance")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply pending migrations")
    up.set_defaults(run=_db_upgrade)

    p = sub.add_parser(
        "setup", help="register Cairn as a GitHub App (GitHub's manifest flow), write .env"
    )
    p.add_argument(
        "--url",
        required=True,
        help="the public URL GitHub reaches `cairn serve` at; webhooks go to URL/webhooks",
    )
    p.add_argument("--org", help="register the App for this organisation (default: your account)")
    p.add_argument("--name", default="Cairn", help="the App's name (editable on GitHub's page)")
    p.add_argument(
        "--host", default="127.0.0.1", help="where the page listens (default: 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=8000, help="its port (default: 8000, as serve)")
    p.add_argument("--force", action="store_true", help="replace an App the env file holds")
    env_file_arg(p, "where to write the App's id, private key and webhook secret")
    p.set_defaults(run=_setup, interrupted="error: interrupted; nothing was written")

    p = sub.add_parser("serve", help="the GitHub App's webhook endpoint (POST /webhooks)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    env_file_arg(p, "settings the environment leaves unset (cairn setup writes it)")
    p.set_defaults(run=_serve, server=True)

    p = sub.add_parser("worker", help="the GitHub App's worker: reviews, indexing (arq on Redis)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    env_file_arg(p, "settings the environment leaves unset (cairn setup writes it)")
    p.set_defaults(run=_worker, server=True)


async def _setup(args: argparse.Namespace, settings: Settings) -> int:
    from app.settings import GITHUB_API
    from app.setup import SetupOptions, check_public_url, register

    options = SetupOptions(
        public_url=check_public_url(args.url),
        env_file=args.env_file.resolve(),
        api_url=settings.env.get("GITHUB_API_URL", "").strip().rstrip("/") or GITHUB_API,
        org=args.org,
        name=args.name,
        host=args.host,
        port=args.port,
        force=args.force,
    )
    app = await register(options, status)
    status(
        f"registered the GitHub App {app.name} (id {app.app_id}); its id, private key and "
        f"webhook secret are in {options.env_file}\n"
        f"install it on repositories: {app.html_url}/installations/new\n"
        "then run `cairn serve` and `cairn worker` here (they read that file)"
    )
    return 0


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from arq.connections import ArqRedis

    from app.analysis import Analysis
    from app.mcp.http import mcp_route
    from app.setup import listen
    from app.web import create_app

    app = settings.app()
    timeout, memory = settings.analysis_bounds()
    sock = listen(args.host, args.port)  # the port taken: one line, exit 2
    async with (
        database.connect(settings) as pool,
        Analysis(MCP_PROCESSES, timeout=timeout, memory_mb=memory) as analysis,
        mcp_route(pool, analysis) as mcp,  # /mcp: its session manager runs around serve()
    ):
        # No ping at start: deliveries are recorded even while Redis is down.
        redis = ArqRedis.from_url(app.redis_url)
        web = create_app(
            pool,
            redis,
            app.webhook_secret,
            review_drafts=app.review_drafts,
            metrics_token=app.metrics_token,
            body_timeout=app.body_timeout,
        )
        web.router.routes.append(mcp)
        server = uvicorn.Server(
            uvicorn.Config(
                web,
                host=args.host,
                port=args.port,
                log_level="info",
                access_log=False,
                # at most this many requests at once (a 503 past it): 25 MB bodies are read
                # before their signature can be checked, so connections bound the memory
                # (uvicorn counts the connection asking: N + 1 lets N in)
                limit_concurrency=app.max_requests + 1,
                timeout_keep_alive=5,
                # What the app needs open is opened here, around serve(): a Ctrl-C while
                # uvicorn waited for a lifespan startup printed its traceback.
                lifespan="off",
            )
        )
        status(
            f"cairn serve: webhooks at http://{args.host}:{sock.getsockname()[1]}/webhooks, "
            "database "
            f"{settings.database_shown}, Redis {redacted(app.redis_url)}"
        )
        _quiet_closed_listener()
        try:
            # uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again
            with stop_signals_recorded() as received:
                await server.serve(sockets=[sock])
        finally:
            await redis.aclose()
            sock.close()
    return stopped(args, received[0]) if received else 0


def _quiet_closed_listener() -> None:
    """Leave out asyncio's traceback for a connection that waited in the listening socket's
    backlog when a stop closed that socket (a Ctrl-C as serve starts, before uvicorn handles
    signals): the stop says one line. Only a closed listening socket makes accept() EBADF."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        closed = isinstance(exc, OSError) and exc.errno == errno.EBADF
        if closed and "_accept_connection" in str(context.get("message", "")):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


async def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from app.worker import run_worker

    signum = await run_worker(settings, burst=args.burst, announce=status)
    return 0 if signum is None else stopped(args, signum)


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    async with database.connect(settings, migrate=False) as pool:
        applied = await database.upgrade(pool)
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0
