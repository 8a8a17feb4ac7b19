"""The SQL of ``cairn mcp``: unit words for full-text search, and the HTTP transport's tokens.

Every query is scoped by repository, or by installation for tokens. A token is stored as its
SHA-256 only (tokens are 256 random bits: no slow hash is needed against guessing).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

TOKEN_PREFIX = "cairn_mcp_"
MAX_HITS = 50


@dataclass(frozen=True, slots=True)
class WordHit:
    """A unit found by its words."""

    path: str
    kind: str
    name: str
    qualname: str
    start_line: int
    end_line: int
    rank: float


@dataclass(frozen=True, slots=True)
class UnitToWord:
    """A unit of a blob that has no words stored yet."""

    blob_sha: str
    path: str  # one path of the blob in the indexed tree
    ordinal: int
    name: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token, never the token itself."""

    id: int
    installation_id: int
    repository: str
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


async def save_unit_words(
    conn: asyncpg.Connection,
    repo_id: int,
    shas: Sequence[str],
    ordinals: Sequence[int],
    heads: Sequence[str],
    bodies: Sequence[str],
) -> None:
    """Store units' words in one statement (indexing calls it in its transaction): the name's
    words weigh most (A), the identifiers, docstrings and comments less (C)."""
    await conn.execute(
        """
        INSERT INTO unit_words (repo_id, blob_sha, ordinal, words)
        SELECT $1, s, o, setweight(to_tsvector('english', h), 'A')
                         || setweight(to_tsvector('english', b), 'C')
        FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS t(s, o, h, b)
        ON CONFLICT DO NOTHING
        """,
        repo_id,
        list(shas),
        list(ordinals),
        list(heads),
        list(bodies),
    )


class McpStore:
    """Reads and writes what ``cairn mcp`` keeps in Postgres."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def indexed_repository(self, repo_id: int) -> tuple[str, str | None] | None:
        """(full name, indexed sha) of a repository; None when there is no such row."""
        row = await self.pool.fetchrow(
            "SELECT full_name, indexed_sha FROM repositories WHERE id = $1", repo_id
        )
        return None if row is None else (row["full_name"], row["indexed_sha"])

    # --- words -------------------------------------------------------------------------------

    async def units_without_words(self, repo_id: int) -> list[UnitToWord]:
        """The units of the indexed tree whose blob has no words yet (one path per blob)."""
        rows = await self.pool.fetch(
            """
            SELECT DISTINCT ON (u.blob_sha, u.ordinal)
                u.blob_sha, f.path, u.ordinal, u.name, u.start_line, u.end_line
            FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            LEFT JOIN unit_words w ON w.repo_id = u.repo_id AND w.blob_sha = u.blob_sha
                AND w.ordinal = u.ordinal
            WHERE f.repo_id = $1 AND w.ordinal IS NULL
            ORDER BY u.blob_sha, u.ordinal, f.path
            """,
            repo_id,
        )
        return [UnitToWord(*r) for r in rows]

    async def save_words(self, repo_id: int, words: Sequence[tuple[str, int, str, str]]) -> None:
        """Store (blob sha, ordinal, name words, body words) of units; name words weigh most."""
        if not words:
            return
        async with self.pool.acquire() as conn:
            await save_unit_words(
                conn,
                repo_id,
                [w[0] for w in words],
                [w[1] for w in words],
                [w[2] for w in words],
                [w[3] for w in words],
            )

    async def search_units(
        self, repo_id: int, words: Sequence[str], *, limit: int = 10
    ) -> list[WordHit]:
        """Units of the indexed tree whose words match ``words``: all of them when some do,
        else any, ranked by Postgres's ts_rank_cd (a unit at several paths is listed once per
        path)."""
        terms = [w for w in words if w.isalnum()][:64]
        if not terms:
            return []
        limit = max(1, min(limit, MAX_HITS))
        for joiner in (" & ", " | "):
            rows = await self.pool.fetch(
                """
                SELECT f.path, u.kind, u.name, u.qualname, u.start_line, u.end_line,
                       ts_rank_cd(w.words, q) AS rank
                FROM to_tsquery('english', $2) AS q, unit_words w
                JOIN units u ON u.repo_id = w.repo_id AND u.blob_sha = w.blob_sha
                    AND u.ordinal = w.ordinal
                JOIN files f ON f.repo_id = u.repo_id AND f.blob_sha = u.blob_sha
                WHERE w.repo_id = $1 AND w.words @@ q
                ORDER BY rank DESC, u.token_count DESC, f.path, u.start_line
                LIMIT $3
                """,
                repo_id,
                joiner.join(terms),
                limit,
            )
            if rows:
                return [WordHit(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6])) for r in rows]
        return []

    async def sample_unit(self, repo_id: int) -> WordHit | None:
        """A function of the indexed tree to try the tools on: the largest of 5 to 40 lines,
        outside tests, else the largest unit."""
        row = await self.pool.fetchrow(
            """
            SELECT f.path, u.kind, u.name, u.qualname, u.start_line, u.end_line,
                   (u.end_line - u.start_line + 1 BETWEEN 5 AND 40
                    AND u.kind IN ('function', 'method')
                    AND f.path !~* '(^|/)(tests?|spec)(/|_)|_test\\.|test_') AS fits
            FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1
            ORDER BY fits DESC, u.token_count DESC, f.path, u.start_line
            LIMIT 1
            """,
            repo_id,
        )
        if row is None:
            return None
        return WordHit(row[0], row[1], row[2], row[3], row[4], row[5], 0.0)

    # --- tokens ------------------------------------------------------------------------------

    async def installation_of(self, full_name: str) -> int | None:
        """The installation a repository the App indexed belongs to; None when unknown."""
        value = await self.pool.fetchval(
            "SELECT installation_id FROM repositories WHERE lower(full_name) = lower($1)",
            full_name,
        )
        return None if value is None else int(value)

    async def create_token(self, installation_id: int, repository: str) -> tuple[int, str]:
        """A new token for the installation: (its id, the token, shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = await self.pool.fetchval(
            """
            INSERT INTO mcp_tokens (installation_id, repository, token_hash)
            VALUES ($1, $2, $3) RETURNING id
            """,
            installation_id,
            repository,
            hash_token(token),
        )
        return int(token_id), token

    async def token_grant(self, token: str) -> tuple[int, str] | None:
        """(installation, the repository it was created for) of a live token; None for an
        unknown or revoked one."""
        row = await self.pool.fetchrow(
            "SELECT installation_id, repository FROM mcp_tokens "
            "WHERE token_hash = $1 AND revoked_at IS NULL",
            hash_token(token),
        )
        return None if row is None else (int(row[0]), str(row[1]))

    async def revoke_token(self, token_id: int) -> bool:
        """Revoke a token by its id; False when no live token has it."""
        row = await self.pool.fetchrow(
            "UPDATE mcp_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL "
            "RETURNING id",
            token_id,
        )
        return row is not None

    async def tokens(self, repository: str | None = None) -> list[TokenInfo]:
        """Every token (of the repository's installation, when given), oldest first."""
        rows = await self.pool.fetch(
            """
            SELECT t.id, t.installation_id, t.repository, t.created_at, t.revoked_at
            FROM mcp_tokens t
            WHERE $1::text IS NULL OR t.installation_id IN (
                SELECT installation_id FROM repositories WHERE lower(full_name) = lower($1))
            ORDER BY t.id
            """,
            repository,
        )
        return [TokenInfo(*r) for r in rows]

    async def installation_repositories(self, installation_id: int) -> dict[str, int]:
        """full name → id of the installation's repositories."""
        rows = await self.pool.fetch(
            "SELECT full_name, id FROM repositories WHERE installation_id = $1", installation_id
        )
        return {r["full_name"]: int(r["id"]) for r in rows}
