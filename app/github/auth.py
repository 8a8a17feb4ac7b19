"""The App and its tokens: ``GitHubApp`` holds the App's id and private key and exchanges
them for installation tokens, cached in memory per installation until five minutes before they
expire (never logged)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import httpx
from githubkit import GitHub
from githubkit.auth import AppAuthStrategy, BaseAuthStrategy
from githubkit.cache import MemCacheStrategy

from app.github.client import API_VERSION, GITHUB_API, Installation, json_body, json_list
from app.github.errors import translated
from app.github.models import HookDelivery, parse_hook_delivery
from app.settings import Secret

logger = logging.getLogger(__name__)

TOKEN_MARGIN = 300.0  # seconds before expires_at when a cached installation token is renewed


@dataclass(slots=True)
class _Token:
    value: str
    renew_at: float  # time.time() after which the token is exchanged again


class _InstallationAuth(httpx.Auth):
    """Sends the installation's token; after a 401, exchanges a fresh one and retries once."""

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self._app, self._installation_id = app, installation_id

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._app._token(self._installation_id)
        request.headers["Authorization"] = f"token {token}"
        response = yield request
        if response.status_code == 401:  # revoked, or expired earlier than announced
            self._app._forget(self._installation_id, token)
            request.headers["Authorization"] = (
                f"token {await self._app._token(self._installation_id)}"
            )
            yield request


@dataclass(frozen=True)
class _InstallationStrategy(BaseAuthStrategy):
    app: GitHubApp
    installation_id: int

    def get_auth_flow(self, github: Any) -> httpx.Auth:
        return _InstallationAuth(self.app, self.installation_id)


class _SharedTransport(httpx.AsyncBaseTransport):
    """One connection pool under githubkit's short-lived clients, which close their transport.

    Without it every call builds a client, an SSL context (~30 ms) and a new connection.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Left open: ``GitHubApp.aclose`` closes the pool."""


class GitHubApp:
    """A GitHub App: its id, its private key, the API it talks to (github.com or a GHES).

    Use it as ``async with GitHubApp(...) as app`` (or call ``aclose``): it owns a
    connection pool.
    """

    def __init__(
        self,
        app_id: int,
        private_key: Secret | str,
        api_url: str = GITHUB_API,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: the simulator in-process
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = private_key.reveal() if isinstance(private_key, Secret) else private_key
        self.app_id = app_id
        self.api_url = api_url
        self._transport = _SharedTransport(transport or httpx.AsyncHTTPTransport())
        self._options: dict[str, Any] = {
            "base_url": api_url.rstrip("/") + "/",
            "timeout": timeout,
            "async_transport": self._transport,
            "auto_retry": False,  # the queue retries, see the module docstring
            "http_cache": False,
            # GitHub is the judge of a body: its 422 becomes Unprocessable, one error path
            # instead of pydantic errors from githubkit's (possibly older) schema
            "rest_api_validate_body": False,
            # githubkit's default cache is process-wide and keys the App JWT by app id only:
            # a second App with the same id (another GHES host, a rotated key) would reuse it
            "cache_strategy": MemCacheStrategy(),
            "user_agent": f"cairn-review (app {app_id})",
        }
        self._github = GitHub(AppAuthStrategy(app_id, key), **self._options)
        self._rest = self._github.rest(API_VERSION)
        self._clock = clock
        self._tokens: dict[int, _Token] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._bot_login: str | None = None

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self.app_id}, api_url={self.api_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.inner.aclose()

    def installation(self, installation_id: int) -> Installation:
        """The App acting as one of its installations."""
        github = GitHub(_InstallationStrategy(self, installation_id), **self._options)
        return Installation(installation_id, github, app_id=self.app_id)

    async def hook_deliveries(self, since: datetime) -> list[HookDelivery]:
        """The App's webhook deliveries since ``since`` (newest first), every page.

        GitHub lists newest first and pages by cursor (the ``Link`` header's next URL); paging
        stops at the first page that reaches past ``since``.
        https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
        """
        out: list[HookDelivery] = []
        cursor: str | None = None
        while True:
            with translated():
                if cursor is None:
                    response = await self._rest.apps.async_list_webhook_deliveries(per_page=100)
                else:
                    response = await self._rest.apps.async_list_webhook_deliveries(
                        per_page=100, cursor=cursor
                    )
            page = [parse_hook_delivery(raw) for raw in json_list(response)]
            out.extend(d for d in page if d.delivered_at >= since)
            following = response.raw_response.links.get("next", {}).get("url")
            cursor = httpx.URL(following).params.get("cursor") if following else None
            if not page or cursor is None or min(d.delivered_at for d in page) < since:
                return out

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send a delivery again (it answers 202 and sends it later).
        https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
        """
        with translated():
            await self._rest.apps.async_redeliver_webhook_delivery(delivery_id)

    async def _token(self, installation_id: int) -> str:
        """The installation's token, exchanged for the App's JWT when missing or near expiry."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:  # one exchange at a time per installation
            cached = self._tokens.get(installation_id)
            if cached is not None and self._clock() < cached.renew_at:
                return cached.value
            with translated():
                response = await self._rest.apps.async_create_installation_access_token(
                    installation_id
                )
            raw = json_body(response)
            expires = datetime.fromisoformat(str(raw["expires_at"]).replace("Z", "+00:00"))
            token = _Token(str(raw["token"]), expires.timestamp() - TOKEN_MARGIN)
            self._tokens[installation_id] = token
            logger.info(
                "installation token exchanged",
                extra={"installation": installation_id, "expires_at": raw["expires_at"]},
            )
            return token.value

    async def bot_login(self) -> str:
        """The login of the App's bot user (``<slug>[bot]``): who its comments are by.
        https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app
        """
        if self._bot_login is None:
            with translated():
                response = await self._rest.apps.async_get_authenticated()
            self._bot_login = f"{json_body(response)['slug']}[bot]"
        return self._bot_login

    def _forget(self, installation_id: int, token: str) -> None:
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.value == token:
            del self._tokens[installation_id]
