"""GitHub, at the edge: the only module that imports githubkit.

Cairn talks to GitHub as an App. ``GitHubApp`` holds the App's id and private key and
exchanges them for installation tokens, cached in memory per installation until five minutes
before they expire (never logged). ``Installation`` exposes verbs that say what they do
(``pull_request_files``, ``file_at``, ``create_check_run``, ``publish_review``) and return
Cairn's own frozen dataclasses, parsed leniently from GitHub's JSON: only the fields Cairn
uses are read, so a GitHub Enterprise Server with an older schema answers just as well.
The Action has no App: ``Installation.from_token`` gives the same verbs on a workflow's token.

githubkit's errors are translated here, once:

```
* CairnError
  + GitHubError           GitHub (or the way to it) refused; .status when it answered
    - RateLimited         .retry_after seconds: primary (x-ratelimit-remaining 0, until the
                          reset) or secondary (403/429 with Retry-After) → arq Retry(defer=...)
    - Unauthorized        401: a bad App key or JWT, a revoked installation token
    - Forbidden           403, or a GraphQL FORBIDDEN: the App lacks a permission
    - NotFound            404, or a GraphQL NOT_FOUND: no such thing, or not visible to us
    - Conflict            409: the repository is empty (it has no commit yet), among others
    - Unprocessable       422: .message and .errors as GitHub wrote them
    - GitHubUnavailable   5xx, timeouts, network errors: try again later
```
githubkit's own retries are off: a job that meets ``RateLimited`` or ``GitHubUnavailable``
is retried by the queue, which can wait without holding a worker.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self, cast
from urllib.parse import quote

import httpx
from githubkit import GitHub, UnauthAuthStrategy
from githubkit.auth import AppAuthStrategy, BaseAuthStrategy, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.response import Response

from analyzers.errors import CairnError
from app.settings import Secret

__all__ = [
    "Annotation",
    "CheckConclusion",
    "CheckRun",
    "CheckStatus",
    "CommentDraft",
    "Conflict",
    "Forbidden",
    "GitHubApp",
    "GitHubError",
    "GitHubUnavailable",
    "HookDelivery",
    "Installation",
    "NotFound",
    "PullFile",
    "PullRequest",
    "RateLimited",
    "Repository",
    "ReviewComment",
    "ReviewThread",
    "TreeItem",
    "Unauthorized",
    "Unprocessable",
]

logger = logging.getLogger(__name__)

GITHUB_API = "https://api.github.com"
# The REST API version Cairn speaks (X-GitHub-Api-Version): the one GitHub Enterprise Server
# serves as well as github.com. https://docs.github.com/en/rest/about-the-rest-api/api-versions
API_VERSION: Literal["2022-11-28"] = "2022-11-28"
# https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files: at most 3000 files
MAX_PULL_FILES = 3000
# https://docs.github.com/en/rest/checks/runs#update-a-check-run: at most 50 annotations
# per request; more are sent by further updates, and GitHub appends them to the run's.
MAX_ANNOTATIONS = 50
TOKEN_MARGIN = 300.0  # seconds before expires_at when a cached installation token is renewed

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal[
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"
]


# --- errors --------------------------------------------------------------------------------


class GitHubError(CairnError):
    """GitHub, or the network to it, refused a call."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(GitHubError):
    """A primary or secondary rate limit; try again in ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float, status: int | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # arq pickles a failed job's exception as its result; the default needs cls(*args)
        return (type(self), (str(self), self.retry_after, self.status))


class Unauthorized(GitHubError):
    """401: the App's credentials or the installation token were refused."""


class Forbidden(GitHubError):
    """403 without a rate limit: the App lacks a permission."""


class NotFound(GitHubError):
    """404: no such object, or one the installation cannot see."""


class Conflict(GitHubError):
    """409: GitHub's state refuses the call; an empty repository's git routes answer it."""


class Unprocessable(GitHubError):
    """422: GitHub understood the request and refused it; ``errors`` say why."""

    def __init__(self, message: str, errors: Sequence[str] = (), status: int = 422) -> None:
        super().__init__(f"{message}: {'; '.join(errors)}" if errors else message, status)
        self.errors = tuple(errors)


class GitHubUnavailable(GitHubError):
    """5xx, a timeout or a network error: GitHub could not answer now."""


def _message(response: httpx.Response) -> tuple[str, list[str]]:
    """GitHub's error ``message`` and ``errors`` (strings or objects with a message)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase, []
    if not isinstance(body, dict):
        return str(body)[:200], []
    errors = []
    for e in body.get("errors") or []:
        errors.append(
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
        )
    return str(body.get("message", "")), errors


def _translate(exc: GitHubException) -> GitHubError:
    """The Cairn error for a githubkit one."""
    if isinstance(exc, RequestError) and isinstance(exc.exc, GitHubError):
        return exc.exc  # raised inside our auth flow, already translated
    if isinstance(exc, RateLimitExceeded):
        retry_after = exc.retry_after.total_seconds()
        status = exc.response.status_code
        return RateLimited(f"rate limited for {retry_after:.0f} s", retry_after, status)
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        message, errors = _message(exc.response.raw_response)
        what = f"{exc.request.method} {exc.request.url.path}: {status} {message}"
        if status == 401:
            return Unauthorized(what, status)
        if status in (403, 429) and "secondary rate limit" in message:
            # no Retry-After: GitHub asks for at least a minute
            # https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
            return RateLimited(what, 60.0, status)
        if status == 403:
            return Forbidden(what, status)
        if status == 404:
            return NotFound(what, status)
        if status == 409:
            return Conflict(what, status)
        if status == 422:
            return Unprocessable(what, errors)
        if status >= 500:
            return GitHubUnavailable(what, status)
        return GitHubError(f"{what} {errors}" if errors else what, status)
    if isinstance(exc, RequestTimeout):
        return GitHubUnavailable(f"timed out: {exc.request.method} {exc.request.url.path}")
    if isinstance(exc, RequestError) and isinstance(exc.exc, httpx.TransportError):
        return GitHubUnavailable(f"network error: {exc.exc!r}")
    if isinstance(exc, GraphQLFailed):
        failures = exc.response.errors or []
        text = "; ".join(e.message for e in failures)
        if any(e.type == "NOT_FOUND" for e in failures):
            return NotFound(text)
        if any(e.type == "FORBIDDEN" for e in failures):
            return Forbidden(f"GraphQL: {text}", 403)
        return GitHubError(f"GraphQL: {text}")
    return GitHubError(repr(exc))


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except GitHubException as e:
        raise _translate(e) from e


# --- Cairn's view of GitHub's objects ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository the installation can see."""

    id: int
    full_name: str
    default_branch: str
    private: bool


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull request at its current head."""

    number: int
    title: str
    body: str
    state: str
    draft: bool
    author: str
    head_sha: str
    head_ref: str
    head_repo: str  # "owner/name": differs from the base repository for a fork
    base_sha: str
    base_ref: str
    changed_files: int
    html_url: str


@dataclass(frozen=True, slots=True)
class PullFile:
    """One file of a pull request; ``patch`` is None for binary and very large diffs."""

    path: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    sha: str  # the blob at the head ("" for a removed file on some servers)
    additions: int
    deletions: int
    patch: str | None
    previous_path: str | None = None


@dataclass(frozen=True, slots=True)
class TreeItem:
    """An entry of a recursive git tree listing."""

    path: str
    mode: str
    type: str  # blob | tree | commit (a submodule)
    sha: str
    size: int | None


@dataclass(frozen=True, slots=True)
class Annotation:
    """A check-run annotation on lines of a file at the run's head sha."""

    path: str
    start_line: int
    end_line: int
    level: Literal["notice", "warning", "failure"]
    message: str
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.level,
            "message": self.message,
        }
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True, slots=True)
class CommentDraft:
    """An inline comment to publish in a review; lines must lie inside the file's diff."""

    path: str
    line: int
    body: str
    side: Literal["LEFT", "RIGHT"] = "RIGHT"
    start_line: int | None = None  # for a comment over several lines
    start_side: Literal["LEFT", "RIGHT"] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "side": self.side,
            "body": self.body,
        }
        if self.start_line is not None:
            out["start_line"] = self.start_line
            out["start_side"] = self.start_side or self.side
        return out


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """A published review comment (or a reply to one).

    ``commit_id`` moves to each new head of the pull request; ``original_commit_id`` is the
    commit it was made on. ``line`` and ``side`` are None once the line left the diff (an
    outdated comment), and in the "legacy" shape that a review's comment list answers.
    """

    id: int
    path: str
    line: int | None
    side: str | None
    start_line: int | None
    body: str
    author: str
    commit_id: str
    in_reply_to_id: int | None
    original_commit_id: str = ""


@dataclass(frozen=True, slots=True)
class CheckRun:
    """A check run as listed for a commit."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_id: int | None  # the App that created it


@dataclass(frozen=True, slots=True)
class HookDelivery:
    """One attempt to deliver one of the App's webhook events (its ``guid``)."""

    id: int  # this attempt: what a redelivery request names
    guid: str  # the event: X-GitHub-Delivery, shared by its redeliveries
    delivered_at: datetime
    redelivery: bool
    status: str  # "OK", or what went wrong ("Invalid HTTP Response: 502", "timed out")
    status_code: int  # the answer's status; 0 when there was none
    event: str
    action: str | None

    @property
    def failed(self) -> bool:
        return self.status_code >= 400 or self.status_code == 0 or self.status != "OK"


@dataclass(frozen=True, slots=True)
class ReviewThread:
    """A review thread: its GraphQL node id, whether it is resolved, its comments' ids."""

    id: str
    is_resolved: bool
    comment_ids: tuple[int, ...]


# --- parsing (lenient: only the fields Cairn reads) ----------------------------------------


def _body(response: Response[Any, Any]) -> Any:
    return response.raw_response.json()


def _json_list(response: Response[Any, Any]) -> list[Any]:
    body = _body(response)
    if not isinstance(body, list):
        raise GitHubError(f"expected a list from {response.raw_request.url.path}")
    return body


def _repository(raw: Any) -> Repository:
    return Repository(
        int(raw["id"]), str(raw["full_name"]), str(raw["default_branch"]), bool(raw["private"])
    )


def _pull_request(raw: Any) -> PullRequest:
    head, base = raw["head"], raw["base"]
    return PullRequest(
        number=int(raw["number"]),
        title=str(raw.get("title") or ""),
        body=str(raw.get("body") or ""),
        state=str(raw.get("state") or "open"),
        draft=bool(raw.get("draft")),
        author=str((raw.get("user") or {}).get("login", "")),
        head_sha=str(head["sha"]),
        head_ref=str(head.get("ref", "")),
        head_repo=str((head.get("repo") or {}).get("full_name", "")),
        base_sha=str(base["sha"]),
        base_ref=str(base.get("ref", "")),
        changed_files=int(raw.get("changed_files") or 0),
        html_url=str(raw.get("html_url") or ""),
    )


def _pull_file(raw: Any) -> PullFile:
    return PullFile(
        path=str(raw["filename"]),
        status=str(raw["status"]),
        sha=str(raw.get("sha") or ""),
        additions=int(raw.get("additions") or 0),
        deletions=int(raw.get("deletions") or 0),
        patch=raw.get("patch"),
        previous_path=raw.get("previous_filename"),
    )


def _review_comment(raw: Any) -> ReviewComment:
    commit_id = str(raw.get("commit_id") or "")
    side = raw.get("side")
    return ReviewComment(
        id=int(raw["id"]),
        path=str(raw["path"]),
        line=raw.get("line"),
        side=str(side) if side else None,
        start_line=raw.get("start_line"),
        body=str(raw.get("body") or ""),
        author=str((raw.get("user") or {}).get("login", "")),
        commit_id=commit_id,
        in_reply_to_id=raw.get("in_reply_to_id"),
        original_commit_id=str(raw.get("original_commit_id") or commit_id),
    )


def _check_run(raw: Any) -> CheckRun:
    app = raw.get("app") or {}
    return CheckRun(
        id=int(raw["id"]),
        name=str(raw["name"]),
        head_sha=str(raw.get("head_sha") or ""),
        status=str(raw.get("status") or ""),
        conclusion=raw.get("conclusion"),
        app_id=int(app["id"]) if isinstance(app, dict) and app.get("id") is not None else None,
    )


def _hook_delivery(raw: Any) -> HookDelivery:
    return HookDelivery(
        id=int(raw["id"]),
        guid=str(raw["guid"]),
        delivered_at=datetime.fromisoformat(str(raw["delivered_at"]).replace("Z", "+00:00")),
        redelivery=bool(raw.get("redelivery")),
        status=str(raw.get("status") or ""),
        status_code=int(raw.get("status_code") or 0),
        event=str(raw.get("event") or ""),
        action=raw.get("action"),
    )


def _published(draft: CommentDraft, published: Sequence[ReviewComment]) -> ReviewComment | None:
    """The published comment of a draft: the same file and body (GitHub may normalise line
    ends and trailing space), else the same file and place when the answer names places."""
    here = [c for c in published if c.path == draft.path]
    text = " ".join(draft.body.split())
    same = [c for c in here if " ".join(c.body.split()) == text]
    if same:
        return same[0]
    place = [c for c in here if c.line is not None and (c.line, c.side) == (draft.line, draft.side)]
    return place[0] if place else None


def _base64(text: Any) -> bytes | None:
    """GitHub's base64 content (wrapped at 60 characters), or None when it is not base64."""
    try:
        return base64.b64decode("".join(str(text).split()), validate=True)
    except binascii.Error:
        return None


def _split(repo: str) -> tuple[str, str]:
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"a repository is 'owner/name', not {repo!r}")
    return owner, name


# --- the App and its installations ---------------------------------------------------------


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
            with _translated():
                if cursor is None:
                    response = await self._rest.apps.async_list_webhook_deliveries(per_page=100)
                else:
                    response = await self._rest.apps.async_list_webhook_deliveries(
                        per_page=100, cursor=cursor
                    )
            page = [_hook_delivery(raw) for raw in _json_list(response)]
            out.extend(d for d in page if d.delivered_at >= since)
            following = response.raw_response.links.get("next", {}).get("url")
            cursor = httpx.URL(following).params.get("cursor") if following else None
            if not page or cursor is None or min(d.delivered_at for d in page) < since:
                return out

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send a delivery again (it answers 202 and sends it later).
        https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
        """
        with _translated():
            await self._rest.apps.async_redeliver_webhook_delivery(delivery_id)

    async def _token(self, installation_id: int) -> str:
        """The installation's token, exchanged for the App's JWT when missing or near expiry."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:  # one exchange at a time per installation
            cached = self._tokens.get(installation_id)
            if cached is not None and self._clock() < cached.renew_at:
                return cached.value
            with _translated():
                response = await self._rest.apps.async_create_installation_access_token(
                    installation_id
                )
            raw = _body(response)
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
            with _translated():
                response = await self._rest.apps.async_get_authenticated()
            self._bot_login = f"{_body(response)['slug']}[bot]"
        return self._bot_login

    def _forget(self, installation_id: int, token: str) -> None:
        cached = self._tokens.get(installation_id)
        if cached is not None and cached.value == token:
            del self._tokens[installation_id]


class Installation:
    """The App as one installation: reads pull requests and code, writes checks and reviews."""

    def __init__(
        self, installation_id: int, github: GitHub[Any], *, app_id: int | None = None
    ) -> None:
        self.installation_id = installation_id
        self.app_id = app_id  # None with a plain token: whose runs are whose is unknown
        self._github = github
        self._rest = github.rest(API_VERSION)

    def __repr__(self) -> str:
        return f"Installation({self.installation_id})"

    @classmethod
    def from_token(
        cls,
        token: Secret | str,
        api_url: str = GITHUB_API,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Installation:
        """The same verbs with a plain token (a workflow's ``GITHUB_TOKEN``): no App, no JWT.

        Its ``installation_id`` is 0; what the token may do is GitHub's to say (a read-only
        token's writes raise ``Forbidden``).
        """
        value = token.reveal() if isinstance(token, Secret) else token
        github = GitHub(
            TokenAuthStrategy(value),
            base_url=api_url.rstrip("/") + "/",
            timeout=timeout,
            async_transport=transport,
            auto_retry=False,
            http_cache=False,
            rest_api_validate_body=False,
            user_agent="cairn-review (token)",
        )
        return cls(0, github)

    # --- reading -----------------------------------------------------------------------

    async def repository(self, repo: str) -> Repository:
        with _translated():
            response = await self._rest.repos.async_get(*_split(repo))
        return _repository(_body(response))

    async def pull_request(self, repo: str, number: int) -> PullRequest:
        with _translated():
            response = await self._rest.pulls.async_get(*_split(repo), number)
        return _pull_request(_body(response))

    async def pull_request_files(self, repo: str, number: int) -> list[PullFile]:
        """Every file of the pull request, all pages; GitHub lists at most 3000."""
        owner, name = _split(repo)
        files: list[PullFile] = []
        pages = self._github.rest.paginate(
            self._rest.pulls.async_list_files,
            map_func=_json_list,
            owner=owner,
            repo=name,
            pull_number=number,
            per_page=100,
        )
        with _translated():
            async for raw in pages:
                files.append(_pull_file(raw))
                if len(files) >= MAX_PULL_FILES:
                    break
        return files

    async def tree(self, repo: str, sha: str) -> list[TreeItem]:
        """Every entry under a commit or tree, recursively."""
        with _translated():
            response = await self._rest.git.async_get_tree(*_split(repo), sha, recursive="1")
        raw = _body(response)
        if raw.get("truncated"):
            # GitHub stops at 100,000 entries or 7 MB; the caller sees a partial tree
            logger.warning("git tree truncated by GitHub", extra={"repo": repo, "sha": sha})
        return [
            TreeItem(str(e["path"]), str(e["mode"]), str(e["type"]), str(e["sha"]), e.get("size"))
            for e in raw["tree"]
        ]

    async def blob(self, repo: str, sha: str) -> bytes:
        with _translated():
            response = await self._rest.git.async_get_blob(*_split(repo), sha)
        raw = _body(response)
        if raw.get("encoding") == "base64":
            content = _base64(raw["content"])
            if content is None:
                raise GitHubError(f"blob {sha} of {repo}: its content is not base64")
            return content
        return str(raw["content"]).encode("utf-8")

    async def file_at(self, repo: str, ref: str, path: str) -> bytes | None:
        """A file's content at a ref, or None when there is no file at that path."""
        owner, name = _split(repo)
        try:
            with _translated():
                # githubkit puts the path in the URL as it is: a '#' or '?' in it would end
                # the path and read another file
                response = await self._rest.repos.async_get_content(
                    owner, name, quote(path, safe="/"), ref=ref
                )
        except NotFound:
            return None
        raw = _body(response)
        if not isinstance(raw, dict) or raw.get("type") != "file":
            return None  # a directory, a symlink or a submodule
        if raw.get("encoding") == "base64" and raw.get("content"):
            content = _base64(raw["content"])
            if content is not None:
                return content
        # over 1 MB the contents API leaves content empty (encoding "none"), and content that
        # does not decode is read again from its blob, the source of truth
        return await self.blob(repo, str(raw["sha"]))

    async def review_comments(self, repo: str, number: int) -> list[ReviewComment]:
        """Every review comment of the pull request, replies included, oldest first."""
        owner, name = _split(repo)
        pages = self._github.rest.paginate(
            self._rest.pulls.async_list_review_comments,
            map_func=_json_list,
            owner=owner,
            repo=name,
            pull_number=number,
            per_page=100,
        )
        with _translated():
            return [_review_comment(raw) async for raw in pages]

    async def permission(self, repo: str, login: str) -> str:
        """``login``'s role on the repository: admin, maintain, write, triage, read or none.
        https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
        """
        owner, name = _split(repo)
        try:
            with _translated():
                response = await self._rest.repos.async_get_collaborator_permission_level(
                    owner, name, login
                )
        except NotFound:  # no such user
            return "none"
        raw = _body(response)
        return str(raw.get("role_name") or raw.get("permission") or "none")

    async def review_threads(self, repo: str, number: int) -> list[ReviewThread]:
        """The pull request's review threads (GraphQL: REST has no threads)."""
        owner, name = _split(repo)
        threads: list[ReviewThread] = []
        cursor: str | None = None
        while True:
            variables = {"owner": owner, "name": name, "number": number, "cursor": cursor}
            with _translated():
                data = await self._github.async_graphql(_THREADS_QUERY, variables)
            pull = ((data.get("repository") or {}).get("pullRequest")) or {}
            page = pull.get("reviewThreads")
            if page is None:
                raise NotFound(f"pull request {repo}#{number}")
            for node in page["nodes"]:
                # a BigInt, sent as a string: comment ids passed 2**31 (an Int's limit)
                ids = tuple(int(c["fullDatabaseId"]) for c in node["comments"]["nodes"])
                threads.append(ReviewThread(str(node["id"]), bool(node["isResolved"]), ids))
            if not page["pageInfo"]["hasNextPage"]:
                return threads
            cursor = page["pageInfo"]["endCursor"]

    async def check_runs(
        self,
        repo: str,
        ref: str,
        *,
        name: str | None = None,
        status: CheckStatus | None = None,
    ) -> list[CheckRun]:
        """The check runs on a commit, oldest first; this App's only when its id is known;
        with ``name`` and ``status``, only those.
        https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
        """
        owner, repo_name = _split(repo)
        options: dict[str, Any] = {"per_page": 100, "filter_": "all"}
        if name is not None:
            options["check_name"] = name
        if status is not None:
            options["status"] = status
        if self.app_id is not None:
            options["app_id"] = self.app_id
        runs: list[CheckRun] = []
        page = 1
        while True:
            with _translated():
                response = await self._rest.checks.async_list_for_ref(
                    owner, repo_name, ref, page=page, **options
                )
            body = _body(response)
            batch = [_check_run(raw) for raw in body.get("check_runs") or []]
            runs.extend(r for r in batch if self.app_id is None or r.app_id in (None, self.app_id))
            if len(batch) < 100 or page * 100 >= int(body.get("total_count") or 0):
                return sorted(runs, key=lambda r: r.id)
            page += 1

    # --- writing -----------------------------------------------------------------------

    async def create_check_run(
        self,
        repo: str,
        name: str,
        head_sha: str,
        *,
        status: CheckStatus = "in_progress",
        external_id: str | None = None,
        details_url: str | None = None,
    ) -> int:
        """A new check run on ``head_sha``; returns its id."""
        body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if external_id is not None:
            body["external_id"] = external_id
        if details_url is not None:
            body["details_url"] = details_url
        with _translated():
            response = await self._rest.checks.async_create(*_split(repo), data=cast(Any, body))
        return int(_body(response)["id"])

    async def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: CheckStatus | None = None,
        conclusion: CheckConclusion | None = None,
        title: str,
        summary: str,
        text: str | None = None,
        annotations: Sequence[Annotation] = (),
    ) -> None:
        """Set a run's output; annotations go in batches of 50, the status with the last."""
        batches = [
            annotations[i : i + MAX_ANNOTATIONS]
            for i in range(0, len(annotations), MAX_ANNOTATIONS)
        ] or [()]
        owner, name = _split(repo)
        for i, batch in enumerate(batches):
            output: dict[str, Any] = {"title": title, "summary": summary}
            if text is not None:
                output["text"] = text
            if batch:
                output["annotations"] = [a.to_json() for a in batch]
            body: dict[str, Any] = {"output": output}
            # complete the run only with the last batch: a required check must not turn
            # green while its annotations are still arriving
            if i == len(batches) - 1:
                if status is not None:
                    body["status"] = status
                if conclusion is not None:
                    body["conclusion"] = conclusion
            with _translated():
                await self._rest.checks.async_update(
                    owner, name, check_run_id, data=cast(Any, body)
                )

    async def publish_review(
        self,
        repo: str,
        number: int,
        commit_id: str,
        body: str,
        comments: Sequence[CommentDraft],
    ) -> list[int]:
        """One COMMENT review with inline comments; the comments' ids, in ``comments`` order.

        GitHub creates a review whole or not at all: one comment outside the diff raises
        ``Unprocessable`` and nothing is published. The review's comments are listed in
        GitHub's "legacy" shape, which may leave out ``line`` and ``side``: each draft is
        matched to what was published by its body (Cairn's carry a unique marker), by place
        only when GitHub gave one.
        """
        owner, name = _split(repo)
        payload = {
            "commit_id": commit_id,
            "event": "COMMENT",
            "body": body,
            "comments": [c.to_json() for c in comments],
        }
        with _translated():
            response = await self._rest.pulls.async_create_review(
                owner, name, number, data=cast(Any, payload)
            )
            review_id = int(_body(response)["id"])
            pages = self._github.rest.paginate(
                self._rest.pulls.async_list_comments_for_review,
                map_func=_json_list,
                owner=owner,
                repo=name,
                pull_number=number,
                review_id=review_id,
                per_page=100,
            )
            published = [_review_comment(raw) async for raw in pages]
        # the review answer carries no comment ids: match each draft to what was published
        ids: list[int] = []
        left = list(published)
        for draft in comments:
            match = _published(draft, left)
            if match is None:
                raise GitHubError(f"review {review_id}: no comment at {draft.path}:{draft.line}")
            left.remove(match)
            ids.append(match.id)
        return ids

    async def commit_sha(self, repo: str, ref: str) -> str:
        """The commit a branch, tag or sha names."""
        with _translated():
            response = await self._rest.repos.async_get_commit(*_split(repo), ref)
        return str(_body(response)["sha"])

    async def comment(self, repo: str, number: int, body: str) -> int:
        """A comment in the pull request's conversation; returns its id."""
        with _translated():
            response = await self._rest.issues.async_create_comment(
                *_split(repo), number, body=body
            )
        return int(_body(response)["id"])

    async def reply(self, repo: str, number: int, comment_id: int, body: str) -> int:
        """A reply in the thread of ``comment_id``; returns the reply's id."""
        with _translated():
            response = await self._rest.pulls.async_create_reply_for_review_comment(
                *_split(repo), number, comment_id, body=body
            )
        return int(_body(response)["id"])

    async def resolve_thread(self, thread_id: str) -> None:
        """Mark a review thread resolved (its GraphQL node id, from ``review_threads``)."""
        with _translated():
            await self._github.async_graphql(_RESOLVE_MUTATION, {"threadId": thread_id})


_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        nodes { id isResolved comments(first: 100) { nodes { fullDatabaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

_RESOLVE_MUTATION = """
mutation($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } }
}
"""


# --- registering the App from a manifest (cairn setup) -------------------------------------


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
        with _translated():
            response = await github.rest.apps.async_create_from_manifest(code)
    raw = _body(response)
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
