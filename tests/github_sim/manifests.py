"""GitHub's App manifest flow, simulated: the web page an App is registered at from a posted
manifest, and the API call that hands its credentials over.

https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

- ``POST /settings/apps/new?state=S`` (or ``/organizations/{org}/settings/apps/new``) with the
  form field ``manifest`` (JSON): GitHub shows a page where the user may rename the App and
  clicks "Create GitHub App"; here that click is taken as given. The App is registered and the
  browser redirected (302) to the manifest's ``redirect_url`` with ``code`` and ``state``.
- ``POST /app-manifests/{code}/conversions`` (also under GHES's ``/api/v3``), no
  authentication: 201 with the App, its ``pem``, ``webhook_secret``, ``client_id`` and
  ``client_secret``. A code works once, for an hour. The App then exists in ``State``: its JWT
  authenticates, and its webhook URL and secret are the state's.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.github_sim.keys import rsa_keypair
from tests.github_sim.state import State

CODE_LIFETIME = 3600.0  # seconds: "You must complete this step ... within one hour"


@dataclass
class Pending:
    """A manifest GitHub registered, waiting for its code to be exchanged."""

    manifest: dict[str, Any]
    owner: str
    owner_type: str  # "User" | "Organization"
    created: float = field(default_factory=time.time)


@dataclass
class Registered:
    """An App registered from a manifest, with the credentials handed over once."""

    id: int
    slug: str
    owner: str
    owner_type: str
    manifest: dict[str, Any]
    private_key: str
    webhook_secret: str
    client_id: str
    client_secret: str


@dataclass
class Manifests:
    """The flow's state for one ``State``."""

    user: str = "octocat"  # who is signed in on the simulated github.com
    pending: dict[str, Pending] = field(default_factory=dict)
    registered: list[Registered] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)  # every manifest posted, as sent
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(90_001))
    _keys: itertools.count[int] = field(default_factory=lambda: itertools.count(100))


_BY_STATE: weakref.WeakKeyDictionary[State, Manifests] = weakref.WeakKeyDictionary()


def manifests(state: State) -> Manifests:
    """The manifest flow's state of ``state`` (made on first use)."""
    found = _BY_STATE.get(state)
    if found is None:
        found = _BY_STATE[state] = Manifests()
    return found


def _problem(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def routes(state: State) -> list[Route]:
    """The web pages and the API route of the flow, for the simulator's Starlette app."""

    async def register(request: Request) -> Response:
        flow = manifests(state)
        org = request.path_params.get("org")
        state.requests.append(f"POST {request.url.path}")
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        try:
            manifest = json.loads(form["manifest"][0])
        except (KeyError, IndexError, ValueError):
            return _problem(400, "Invalid GitHub App configuration: manifest is not JSON")
        if not isinstance(manifest, dict):
            return _problem(400, "Invalid GitHub App configuration: manifest is not an object")
        flow.posted.append(manifest)
        hook = manifest.get("hook_attributes")
        problems = [
            *(["url wasn't supplied"] if not manifest.get("url") else []),
            *(
                ["hook_attributes.url wasn't supplied"]
                if isinstance(hook, dict) and not hook.get("url")
                else []
            ),
            *(["redirect_url wasn't supplied"] if not manifest.get("redirect_url") else []),
        ]
        name = str(manifest.get("name") or "")
        if not name:
            problems.append("name can't be blank")
        taken = {_slug(str(r.manifest.get("name", ""))) for r in flow.registered}
        if _slug(name) in taken:
            problems.append(f"Name '{name}' is already taken")
        if problems:
            return _problem(422, "Invalid GitHub App configuration: " + "; ".join(problems))
        code = secrets.token_hex(20)
        owner, owner_type = (org, "Organization") if org else (flow.user, "User")
        flow.pending[code] = Pending(manifest=manifest, owner=owner, owner_type=owner_type)
        query = {"code": code}
        if "state" in request.query_params:
            query["state"] = request.query_params["state"]
        target = str(manifest["redirect_url"])
        joiner = "&" if urlsplit(target).query else "?"
        return RedirectResponse(f"{target}{joiner}{urlencode(query)}", status_code=302)

    async def convert(request: Request) -> Response:
        flow = manifests(state)
        state.requests.append(f"POST {request.url.path}")
        with state.lock:
            pending = flow.pending.pop(request.path_params["code"], None)
            if pending is None or time.time() - pending.created > CODE_LIFETIME:
                return JSONResponse({"message": "Not Found", "status": "404"}, status_code=404)
            private, public = rsa_keypair(next(flow._keys))
            name = str(pending.manifest["name"])
            app = Registered(
                id=next(flow._ids),
                slug=_slug(name),
                owner=pending.owner,
                owner_type=pending.owner_type,
                manifest=pending.manifest,
                private_key=private,
                webhook_secret=secrets.token_hex(20),
                client_id=f"Iv1.{secrets.token_hex(8)}",
                client_secret=secrets.token_hex(20),
            )
            flow.registered.append(app)
            state.register_app(app.id, public, slug=app.slug)
            hook = pending.manifest.get("hook_attributes") or {}
            if hook.get("url"):
                state.webhook_url = str(hook["url"])
            state.webhook_secret = app.webhook_secret
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        web = str(request.base_url).rstrip("/")
        body = {
            "id": app.id,
            "slug": app.slug,
            "node_id": f"A_{app.id}",
            "client_id": app.client_id,
            "owner": {"login": app.owner, "id": 1, "type": app.owner_type},
            "name": name,
            "description": pending.manifest.get("description"),
            "external_url": pending.manifest.get("url"),
            "html_url": f"{web}/apps/{app.slug}",
            "created_at": now,
            "updated_at": now,
            "permissions": pending.manifest.get("default_permissions", {}),
            "events": pending.manifest.get("default_events", []),
            "installations_count": 0,
            "client_secret": app.client_secret,
            "webhook_secret": app.webhook_secret,
            "pem": app.private_key,
        }
        return JSONResponse(body, status_code=201)

    return [
        Route("/settings/apps/new", register, methods=["POST"]),
        Route("/organizations/{org}/settings/apps/new", register, methods=["POST"]),
        Route("/app-manifests/{code}/conversions", convert, methods=["POST"]),
        Route("/api/v3/app-manifests/{code}/conversions", convert, methods=["POST"]),
    ]
