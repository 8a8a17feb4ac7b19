"""The findings ledger in Postgres: what Cairn reported on each pull request, what silenced it.

With ``app.store``, the only module that speaks SQL. Every query takes the repository id and
filters on it; nothing here can return rows of another repository than the one asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from app.report.labels import rule_id
from checks.finding import Finding, Severity

State = Literal["open", "fixed", "dismissed"]

# Hashed with the repository and number into the key of a pull request's advisory lock.
_LOCK_SPACE = b"cairn:pull-request"


@dataclass(frozen=True, slots=True)
class Entry:
    """A finding as the ledger remembers it."""

    fingerprint: str
    check: str
    rule: str
    path: str
    start_line: int
    end_line: int
    message: str
    severity: Severity
    head_sha: str
    state: State
    comment_id: int | None
    thread_id: str | None
    fixed_sha: str | None


@dataclass(frozen=True, slots=True)
class Suppression:
    """A recorded dismissal: of one finding (``fingerprint``) or of a rule (``check/rule``)."""

    id: int
    fingerprint: str | None
    rule: str | None
    reason: str
    author: str
    comment_id: int | None
    created_at: datetime

    def matches(self, finding: Finding) -> bool:
        if self.fingerprint is not None and self.fingerprint == finding.fingerprint:
            return True
        return self.rule is not None and self.rule == rule_id(finding.check, finding.rule)


@dataclass(frozen=True, slots=True)
class Seen:
    """A finding seen on a head: its ledger state, and its comment once posted."""

    finding: Finding
    state: State = "open"
    comment_id: int | None = None


class Ledger:
    """Reads and writes the findings, suppressions and pull-request history of repositories.

    On a pool, each call takes a connection of its own; ``exclusive`` gives a ledger bound to
    the one connection that holds a pull request's lock.
    """

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    @asynccontextmanager
    async def exclusive(self, repo_id: int, number: int) -> AsyncIterator[Ledger]:
        """Hold the pull request's advisory lock: one publisher at a time per pull request.

        A session lock on one connection, held for the block, on which the yielded ledger
        runs every query (so a job needs one connection, however many wait for the lock).
        Postgres releases the lock if the process dies: a killed job never wedges the PR.
        """
        digest = hashlib.blake2b(
            _LOCK_SPACE + repo_id.to_bytes(8, "big", signed=True) + number.to_bytes(4, "big"),
            digest_size=8,
        ).digest()
        key = int.from_bytes(digest, "big", signed=True)
        async with self.db.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", key)
            try:
                yield Ledger(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def findings(self, repo_id: int, number: int) -> dict[str, Entry]:
        """Every finding recorded on the pull request, by fingerprint."""
        rows = await self.db.fetch(
            """
            SELECT fingerprint, check_name, rule, path, start_line, end_line, message, severity,
                   head_sha, state, comment_id, thread_id, fixed_sha
            FROM findings WHERE repo_id = $1 AND pr_number = $2
            """,
            repo_id,
            number,
        )
        return {
            r["fingerprint"]: Entry(
                fingerprint=r["fingerprint"],
                check=r["check_name"],
                rule=r["rule"],
                path=r["path"],
                start_line=r["start_line"],
                end_line=r["end_line"],
                message=r["message"],
                severity=Severity(r["severity"]),
                head_sha=r["head_sha"],
                state=r["state"],
                comment_id=r["comment_id"],
                thread_id=r["thread_id"],
                fixed_sha=r["fixed_sha"],
            )
            for r in rows
        }

    async def record(self, repo_id: int, number: int, head_sha: str, seen: Sequence[Seen]) -> None:
        """Upsert the findings seen on ``head_sha``; a known comment id is never forgotten."""
        if not seen:
            return
        await self.db.executemany(
            """
            INSERT INTO findings (repo_id, pr_number, fingerprint, check_name, rule, path,
                                  start_line, end_line, message, severity, head_sha, state,
                                  comment_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (repo_id, pr_number, fingerprint) DO UPDATE SET
                check_name = EXCLUDED.check_name,
                rule = EXCLUDED.rule,
                path = EXCLUDED.path,
                start_line = EXCLUDED.start_line,
                end_line = EXCLUDED.end_line,
                message = EXCLUDED.message,
                severity = EXCLUDED.severity,
                head_sha = EXCLUDED.head_sha,
                state = EXCLUDED.state,
                comment_id = COALESCE(EXCLUDED.comment_id, findings.comment_id),
                fixed_sha = NULL,
                fixed_at = NULL,
                last_seen_at = now()
            """,
            [
                (
                    repo_id,
                    number,
                    s.finding.fingerprint,
                    s.finding.check,
                    s.finding.rule,
                    s.finding.path,
                    s.finding.start_line,
                    s.finding.end_line,
                    s.finding.message,
                    s.finding.severity.value,
                    head_sha,
                    s.state,
                    s.comment_id,
                )
                for s in seen
            ],
        )

    async def mark_fixed(
        self, repo_id: int, number: int, fixed: Mapping[str, str | None], head_sha: str
    ) -> None:
        """Mark open findings fixed on ``head_sha``; ``fixed`` maps fingerprint → thread id."""
        if not fixed:
            return
        await self.db.executemany(
            """
            UPDATE findings SET state = 'fixed', fixed_sha = $4, fixed_at = now(),
                                thread_id = COALESCE($5, thread_id)
            WHERE repo_id = $1 AND pr_number = $2 AND fingerprint = $3 AND state = 'open'
            """,
            [(repo_id, number, fp, head_sha, thread) for fp, thread in fixed.items()],
        )

    async def dismiss(self, repo_id: int, number: int, fingerprint: str) -> bool:
        """Mark a finding dismissed (someone said why, see ``suppress``); False if unknown."""
        status: str = await self.db.execute(
            """
            UPDATE findings SET state = 'dismissed'
            WHERE repo_id = $1 AND pr_number = $2 AND fingerprint = $3
            """,
            repo_id,
            number,
            fingerprint,
        )
        return status != "UPDATE 0"

    async def suppressions(self, repo_id: int, number: int | None = None) -> list[Suppression]:
        """The suppressions that apply to pull request ``number`` (the repository's and its
        own), or with no number every suppression of the repository; oldest first."""
        rows = await self.db.fetch(
            """
            SELECT id, fingerprint, rule, reason, author, comment_id, created_at
            FROM suppressions
            WHERE repo_id = $1 AND ($2::bigint IS NULL OR pr_number IS NULL OR pr_number = $2)
            ORDER BY created_at, id
            """,
            repo_id,
            number,
        )
        return [
            Suppression(
                id=r["id"],
                fingerprint=r["fingerprint"],
                rule=r["rule"],
                reason=r["reason"],
                author=r["author"],
                comment_id=r["comment_id"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def suppress(
        self,
        repo_id: int,
        *,
        reason: str,
        author: str,
        fingerprint: str | None = None,
        rule: str | None = None,
        comment_id: int | None = None,
        number: int | None = None,
    ) -> int:
        """Record a suppression of a finding or of a rule (``check/rule``), in pull request
        ``number`` only or (None) in the whole repository; returns its id."""
        if fingerprint is None and rule is None:
            raise ValueError("a suppression names a fingerprint or a rule")
        sid: int = await self.db.fetchval(
            """
            INSERT INTO suppressions
                (repo_id, fingerprint, rule, reason, author, comment_id, pr_number)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """,
            repo_id,
            fingerprint,
            rule,
            reason,
            author,
            comment_id,
            number,
        )
        return sid

    async def save_pull_request(
        self,
        repo_id: int,
        number: int,
        *,
        title: str,
        body: str = "",
        labels: Iterable[str] = (),
        files: Iterable[str] = (),
        merged_at: datetime | None = None,
    ) -> None:
        """Upsert a pull request of the decision history."""
        await self.db.execute(
            """
            INSERT INTO pull_requests (repo_id, number, title, body, labels, files, merged_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (repo_id, number) DO UPDATE SET
                title = EXCLUDED.title, body = EXCLUDED.body, labels = EXCLUDED.labels,
                files = EXCLUDED.files, merged_at = EXCLUDED.merged_at
            """,
            repo_id,
            number,
            title,
            body,
            list(labels),
            list(files),
            merged_at,
        )


async def finding_counts(db: asyncpg.Pool) -> list[tuple[str, str, int]]:
    """(check, state, how many) of the findings on every pull request, for the metrics."""
    rows = await db.fetch(
        "SELECT check_name, state, count(*) AS n FROM findings GROUP BY 1, 2 ORDER BY 1, 2"
    )
    return [(r["check_name"], r["state"], r["n"]) for r in rows]
