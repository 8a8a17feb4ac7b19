"""Cairn's errors, the one hierarchy. Everything Cairn raises on purpose is a ``CairnError``;
what is drawn here is defined here, but for the two that live lower because the core may not
import ``app``: the base (``analyzers.errors``) and ``ConfigError`` (``checks.config``).

```
* CairnError              (analyzers.errors) the base: a message for a person
  + ConfigError           (checks.config) bad .cairn.yml or settings: report, never retry;
                          .problems, .described (with lines)
  + EnvironmentProblem    no git, no database, no vector extension, a bad DATABASE_URL: exit 2
  + GitError              a git command failed: not a repository, an unknown ref
  + BaselineError         `cairn scan --baseline FILE` is not a report of `cairn scan`
  + AnalysisError         the bounded analysis could not finish; .reason for a check run
    - AnalysisKilled      killed at its wall-clock limit, or died (out of memory, a crash)
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
githubkit's errors become ``GitHubError``s in ``app.github.errors``, and nowhere else. A
finding is never an exception: violations are data (``checks.finding``). ``Terminated``
(``app.signals``) is no error: a ``BaseException`` that SIGTERM raises, as Ctrl-C raises
``KeyboardInterrupt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analyzers.errors import CairnError
from checks.config import ConfigError

__all__ = [
    "AnalysisError",
    "AnalysisKilled",
    "BaselineError",
    "CairnError",
    "ConfigError",
    "Conflict",
    "EnvironmentProblem",
    "Forbidden",
    "GitError",
    "GitHubError",
    "GitHubUnavailable",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unprocessable",
]


class EnvironmentProblem(CairnError):
    """Something outside Cairn is missing or unreachable (database, extension, git)."""


class GitError(CairnError):
    """A git command failed: not a repository, an unknown ref, a corrupt object."""


class BaselineError(CairnError):
    """The baseline file is not a report of ``cairn scan --format json``."""


class AnalysisError(CairnError):
    """The analysis could not finish; ``reason`` says why, in words for a check run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnalysisKilled(AnalysisError):
    """The child was killed at its wall-clock limit, or died (out of memory, a crash)."""


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
