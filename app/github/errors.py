"""GitHub's refusals as Cairn's errors, translated from githubkit's once, here.

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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from analyzers.errors import CairnError


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


def translate(exc: GitHubException) -> GitHubError:
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
def translated() -> Iterator[None]:
    try:
        yield
    except GitHubException as e:
        raise translate(e) from e
