"""Registering the App from a manifest (``cairn setup``): the code exchange."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from githubkit import GitHub, UnauthAuthStrategy

from app.github.client import GITHUB_API, json_body
from app.github.errors import GitHubError, translated
from app.settings import Secret


@dataclass(frozen=True, slots=True)
class RegisteredApp:
    """What GitHub answers once it has registered an App from a manifest."""

    app_id: int
    slug: str
    name: str
    html_url: str  # the App's page: its installations are at html_url + "/installations/new"
    private_key: Secret
    webhook_secret: Secret
    client_id: str
    client_secret: Secret


async def app_from_manifest(
    code: str, api_url: str = GITHUB_API, *, transport: httpx.AsyncBaseTransport | None = None
) -> RegisteredApp:
    """Exchange the temporary ``code`` GitHub redirected with for the registered App.

    ``POST /app-manifests/{code}/conversions``, unauthenticated; the code is single-use and
    expires an hour after the registration:
    https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
    """
    github = GitHub(
        UnauthAuthStrategy(),
        base_url=api_url.rstrip("/") + "/",
        timeout=30.0,
        async_transport=transport or httpx.AsyncHTTPTransport(),
        auto_retry=False,
        http_cache=False,
        user_agent="cairn-review (setup)",
    )
    async with github:
        with translated():
            response = await github.rest.apps.async_create_from_manifest(code)
    raw = json_body(response)
    try:
        return RegisteredApp(
            app_id=int(raw["id"]),
            slug=str(raw["slug"]),
            name=str(raw.get("name") or raw["slug"]),
            html_url=str(raw["html_url"]),
            private_key=Secret(str(raw["pem"])),
            webhook_secret=Secret(str(raw["webhook_secret"])),
            client_id=str(raw.get("client_id") or ""),
            client_secret=Secret(str(raw.get("client_secret") or "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GitHubError(f"GitHub's answer to the manifest conversion lacks {exc}") from exc
