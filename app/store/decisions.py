"""The decision log in Postgres: the ADRs of a repository's indexed tree, as parsed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from analyzers.adr import Adr, Constraint, reader_version
from analyzers.adr_prose import Mention


class DecisionRows:
    """The ``decisions`` table, for one pool (a part of ``Store``)."""

    pool: asyncpg.Pool

    async def decision_blobs(self, repo_id: int) -> dict[str, str]:
        """path → blob sha of the ADRs stored for the indexed tree ("" for a record an older
        parser read: it is read again)."""
        rows = await self.pool.fetch(
            "SELECT path, blob_sha, parser FROM decisions WHERE repo_id = $1", repo_id
        )
        version = reader_version()
        return {r["path"]: r["blob_sha"] if r["parser"] == version else "" for r in rows}

    async def save_decisions(
        self, repo_id: int, parsed: Sequence[tuple[str, Adr]], gone: Sequence[str]
    ) -> None:
        """Store (blob sha, record) pairs, replacing their paths; delete the ``gone`` paths."""
        async with self.pool.acquire() as conn, conn.transaction():
            paths = [*gone, *(a.path for _, a in parsed)]
            if paths:
                await conn.execute(
                    "DELETE FROM decisions WHERE repo_id = $1 AND path = ANY($2::text[])",
                    repo_id,
                    paths,
                )
            await conn.executemany(
                """
                INSERT INTO decisions (repo_id, path, blob_sha, number, title, status, date,
                    supersedes, superseded_by, decision, body, explicit, derived, problems,
                    parser)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                """,
                [_decision_record(repo_id, sha, a) for sha, a in parsed],
            )

    async def decisions(self, repo_id: int) -> list[Adr]:
        """Every ADR of the indexed tree, as parsed."""
        rows = await self.pool.fetch(
            "SELECT * FROM decisions WHERE repo_id = $1 ORDER BY number NULLS LAST, path",
            repo_id,
        )
        return [_adr(r) for r in rows]

    async def relevant_decisions(
        self, repo_id: int, words: Sequence[str], *, limit: int = 5
    ) -> list[str]:
        """Paths of the ADRs whose text matches the most of ``words`` (full-text search)."""
        terms = sorted({w.lower() for w in words if w.isalnum() and len(w) > 2})[:200]
        if not terms:
            return []
        rows = await self.pool.fetch(
            """
            SELECT path FROM (
                SELECT path, ts_rank(search, q) AS rank FROM decisions,
                    to_tsquery('english', $2) AS q
                WHERE repo_id = $1 AND search @@ q) hits
            ORDER BY rank DESC, path LIMIT $3
            """,
            repo_id,
            " | ".join(terms),
            limit,
        )
        return [r["path"] for r in rows]


def _decision_record(repo_id: int, sha: str, a: Adr) -> tuple[Any, ...]:
    explicit = [c.to_json() for c in a.constraints if c.explicit]
    # What was read from the prose: its rules and the reading they come from (the rules are
    # read again with the repository's vocabulary when a review needs them).
    derived = {
        "constraints": [c.to_json() for c in a.constraints if not c.explicit],
        "mentions": [m.to_json() for m in a.mentions],
        "stated_status": a.stated_status,
    }
    return (
        repo_id,
        a.path,
        sha,
        a.number,
        a.title,
        a.status,
        a.date,
        list(a.supersedes),
        list(a.superseded_by),
        a.decision,
        a.body,
        json.dumps(explicit),
        json.dumps(derived),
        json.dumps(list(a.problems)),
        reader_version(),
    )


def _adr(row: asyncpg.Record) -> Adr:
    derived = json.loads(row["derived"])
    if isinstance(derived, list):  # a record stored by an older parser: read again on index
        derived = {"constraints": derived}
    constraints = [*json.loads(row["explicit"]), *derived.get("constraints", [])]
    return Adr(
        path=row["path"],
        number=row["number"],
        title=row["title"],
        status=row["status"],
        date=row["date"],
        decision=row["decision"],
        body=row["body"],
        supersedes=tuple(row["supersedes"]),
        superseded_by=tuple(row["superseded_by"]),
        constraints=tuple(Constraint.from_json(c) for c in constraints),
        problems=tuple(json.loads(row["problems"])),
        mentions=tuple(Mention.from_json(m) for m in derived.get("mentions", [])),
        stated_status=str(derived.get("stated_status", "")),
    )
