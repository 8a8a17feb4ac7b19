"""githubkit's errors translated into Cairn's, once, here (the classes and their drawing are
in ``app.errors``). githubkit's own retries are off: a job that meets ``RateLimited`` or
``GitHubUnavailable`` is retried by the queue, which can wait without holding a worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from app.errors import (
    Conflict,
    Forbidden,
    GitHubError,
    GitHubUnavailable,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "GitHubError",
    "GitHubUnavailable",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unprocessable",
    "translate",
    "translated",
]


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
