"""``cairn setup``: register Cairn as a GitHub App through GitHub's manifest flow.

https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

1. ``cairn setup --url https://cairn.example.com`` serves a page on this machine. Its button
   posts the manifest (the permissions and events of ``app.yml``, the webhook at the public URL)
   to ``<github>/settings/apps/new``, or to the organisation's, where the user names the App.
2. GitHub redirects back to the page with a temporary ``code`` and the ``state`` it was given.
3. ``POST /app-manifests/{code}/conversions`` answers with the App's id, private key and
   webhook secret, which are written to the ``.env`` that ``cairn serve`` and ``cairn worker``
   read. Nothing secret is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
import secrets
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.errors import CairnError, EnvironmentProblem
from app.github import GitHubError, RegisteredApp, app_from_manifest
from app.settings import GITHUB_API, env_line, read_env_file, web_url

# What the App asks for and subscribes to; app.yml shows the same (tests/test_manifest.py).
PERMISSIONS = {
    "checks": "write",  # the cairn/duplication, cairn/patterns and cairn/decisions check runs
    "pull_requests": "write",  # the review with inline comments, replies, resolving threads
    "contents": "read",  # trees, blobs and .cairn.yml, to index and review
    "metadata": "read",  # required by every App
    "issues": "read",  # /cairn recheck and /cairn ignore commands in PR conversations
}
EVENTS = [
    "pull_request",
    "pull_request_review_comment",
    "issue_comment",
    "check_suite",
    "check_run",
    "push",
]
HOMEPAGE = "https://github.com/cairn-review/cairn"
DESCRIPTION = (
    "Reviews pull requests with the knowledge of the whole codebase and of the team's "
    "decisions: flags duplicated code, broken patterns and overridden architecture decisions."
)
WRITTEN = ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_API_URL")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")  # GitHub's codes are 20 hex bytes


@dataclass(frozen=True, slots=True)
class SetupOptions:
    public_url: str  # where GitHub reaches `cairn serve`: the webhook is <public_url>/webhooks
    env_file: Path
    api_url: str = GITHUB_API
    org: str | None = None
    name: str = "Cairn"
    host: str = "127.0.0.1"
    port: int = 8000
    force: bool = False  # replace the App an existing env file names


def check_public_url(url: str) -> str:
    """``url`` without a trailing slash; ConfigError-like CairnError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise CairnError(f"--url must be the http(s) URL GitHub reaches Cairn at, not {url!r}")
    return url.rstrip("/")


def manifest(options: SetupOptions, redirect_url: str) -> dict[str, Any]:
    """The manifest GitHub registers the App from."""
    return {
        "name": options.name,
        "url": HOMEPAGE,
        "description": DESCRIPTION,
        "hook_attributes": {"url": f"{options.public_url}/webhooks", "active": True},
        "redirect_url": redirect_url,
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def registration_url(options: SetupOptions, state: str) -> str:
    """Where the manifest is posted: the user's settings, or the organisation's."""
    where = f"/organizations/{options.org}" if options.org else ""
    return f"{web_url(options.api_url)}{where}/settings/apps/new?{urlencode({'state': state})}"


def check_env_file(options: SetupOptions) -> None:
    """CairnError when the env file already names an App and ``--force`` was not given."""
    existing = read_env_file(options.env_file)
    if existing.get("GITHUB_APP_ID") and not options.force:
        raise CairnError(
            f"{options.env_file} already holds the GitHub App {existing['GITHUB_APP_ID']}; "
            "pass --force to register another and replace it"
        )


def write_env_file(path: Path, app: RegisteredApp, api_url: str) -> None:
    """Write the App's credentials into ``path`` (readable by its owner only), keeping the
    file's other lines; atomically, so a reader never sees half of it."""
    values = {
        "GITHUB_APP_ID": str(app.app_id),
        "GITHUB_PRIVATE_KEY": app.private_key.reveal(),
        "GITHUB_WEBHOOK_SECRET": app.webhook_secret.reveal(),
    }
    if api_url.rstrip("/") != GITHUB_API:
        values["GITHUB_API_URL"] = api_url.rstrip("/")
    kept = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if key not in WRITTEN:
                kept.append(line)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        *kept,
        f"# The GitHub App {app.slug} ({app.html_url}), registered by cairn setup on {stamp}",
        *(env_line(key, value) for key, value in values.items()),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".env.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        # mkstemp made it readable by its owner only; replace keeps that mode
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def listen(host: str, port: int) -> socket.socket:
    """A listening socket; EnvironmentProblem saying why not (the port in use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(16)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


class Registration:
    """The local pages of one registration: the form, and the callback GitHub redirects to."""

    def __init__(
        self,
        options: SetupOptions,
        port: int,
        *,
        transport: Any = None,  # tests: an httpx transport to the simulator
    ) -> None:
        self.options = options
        self.state = secrets.token_urlsafe(24)
        self.port = port
        self.done: asyncio.Future[RegisteredApp] = asyncio.get_running_loop().create_future()
        self._transport = transport
        public = urlsplit(options.public_url)
        # the hosts the page may be opened at; the redirect goes back to the same one
        self._origins = {
            f"{options.host}:{port}": f"http://{options.host}:{port}",
            f"localhost:{port}": f"http://localhost:{port}",
            f"127.0.0.1:{port}": f"http://127.0.0.1:{port}",
            public.netloc: options.public_url,
        }

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.page, methods=["GET"]),
                Route("/callback", self.callback, methods=["GET"]),
            ]
        )

    def _origin(self, request: Request) -> str | None:
        return self._origins.get(request.headers.get("host", ""))

    async def page(self, request: Request) -> Response:
        origin = self._origin(request)
        if origin is None:
            return _page("Unknown address", "<p>Open this page at the address cairn printed.</p>")
        body = manifest(self.options, f"{origin}/callback")
        owner = f"the organisation {self.options.org}" if self.options.org else "your account"
        form = (
            f"<p>Cairn will be registered on {_e(web_url(self.options.api_url))} for {_e(owner)}, "
            f"with its webhook at <code>{_e(body['hook_attributes']['url'])}</code>. "
            "GitHub lets you change its name before it creates it.</p>"
            f'<form method="post" action="{_e(registration_url(self.options, self.state))}">'
            f'<input type="hidden" name="manifest" value="{_e(json.dumps(body))}">'
            '<button type="submit">Register the GitHub App</button></form>'
        )
        return _page("Register Cairn as a GitHub App", form)

    async def callback(self, request: Request) -> Response:
        if self.done.done():
            return _page("Already registered", "<p>This registration is complete.</p>", 410)
        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        if not secrets.compare_digest(state, self.state) or not _CODE.fullmatch(code):
            # not the redirect of the registration this page started
            return _page("Unexpected request", "<p>This is not the page's registration.</p>", 400)
        try:
            app = await app_from_manifest(code, self.options.api_url, transport=self._transport)
            write_env_file(self.options.env_file, app, self.options.api_url)
        except (GitHubError, OSError) as exc:
            problem = CairnError(f"the registration failed: {exc}")
            self.done.set_exception(problem)
            return _page("Registration failed", f"<p>{_e(str(problem))}</p>", 502)
        self.done.set_result(app)
        install = f"{app.html_url}/installations/new"
        return _page(
            f"Registered {app.name}",
            f"<p>The GitHub App <strong>{_e(app.name)}</strong> (id {app.app_id}) is registered "
            f"and its credentials are in <code>{_e(str(self.options.env_file))}</code>.</p>"
            f'<p>Next: <a href="{_e(install)}">install it on repositories</a>, then run '
            "<code>cairn serve</code> and <code>cairn worker</code>.</p>",
        )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )


async def register(
    options: SetupOptions, announce: Callable[[str], None], *, transport: Any = None
) -> RegisteredApp:
    """Serve the registration page until GitHub's redirect has been exchanged for the App's
    credentials, written to ``options.env_file``."""
    import uvicorn

    check_env_file(options)
    sock = listen(options.host, options.port)
    port = int(sock.getsockname()[1])
    registration = Registration(options, port, transport=transport)
    server = uvicorn.Server(
        uvicorn.Config(registration.app(), log_level="warning", access_log=False, lifespan="off")
    )
    # signals stay with the CLI: Ctrl-C stops setup like any other command
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    announce(
        f"open http://{options.host}:{port}/ in a browser (or {options.public_url}/ if it "
        "reaches this machine) and register the App on "
        f"{web_url(options.api_url)}; waiting for GitHub's redirect"
    )
    try:
        waiting: set[asyncio.Future[Any]] = {serving, registration.done}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not registration.done.done():
            raise EnvironmentProblem("the registration page stopped before GitHub's redirect")
        return registration.done.result()
    finally:
        server.should_exit = True
        await asyncio.wait({serving}, timeout=5)
        sock.close()
