"""The merged pull requests the App recorded (``pull_requests``), read as decision history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

MAX_ROWS = 1000  # newest first: a path's history needs its latest changes, not all of them


@dataclass(frozen=True, slots=True)
class MergedPullRequest:
    """A recorded pull request: what it said and which files it changed."""

    number: int
    title: str
    body: str
    merged_at: datetime | None
    files: tuple[str, ...]


async def touching(
    pool: asyncpg.Pool, repo_id: int, paths: Sequence[str], mention: str = ""
) -> list[MergedPullRequest]:
    """The repository's recorded pull requests that changed one of ``paths``, or whose title or
    body matches the regular expression ``mention`` (when not empty), newest first."""
    rows = await pool.fetch(
        """
        SELECT number, title, body, merged_at, files FROM pull_requests
        WHERE repo_id = $1 AND (files && $2::text[]
            OR ($3 <> '' AND (title ~* $3 OR body ~* $3)))
        ORDER BY merged_at DESC NULLS LAST, number DESC LIMIT $4
        """,
        repo_id,
        list(paths),
        mention,
        MAX_ROWS,
    )
    return [
        MergedPullRequest(r["number"], r["title"], r["body"], r["merged_at"], tuple(r["files"]))
        for r in rows
    ]
