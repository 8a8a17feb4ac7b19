"""The index in Postgres: repositories, files, code units, imports and clone scans.

Every query takes the repository id and filters on it; nothing here can return rows of
another repository than the one asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt

from analyzers.imports import Import, Resolved
from analyzers.units import CodeUnit
from app.store.decisions import DecisionRows
from app.store.mcp import save_unit_words
from checks.context import Declaration, LocatedUnit


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository as the index knows it."""

    id: int
    full_name: str
    indexed_sha: str | None


@dataclass(frozen=True, slots=True)
class ParsedBlob:
    """What indexing one blob produced; ``skipped`` says why it has no units."""

    sha: str
    language: str | None
    lines: int
    error_nodes: int
    skipped: str | None
    units: tuple[CodeUnit, ...] = ()  # units of MIN_TOKENS_FLOOR tokens or more, tokens left out
    streams: tuple[bytes, ...] = ()  # their tokens, little-endian uint32: cheap to pass around
    imports: tuple[Import, ...] = ()
    declarations: tuple[CodeUnit, ...] = ()  # every unit, whatever its size (its traits)
    words: tuple[tuple[str, str], ...] = ()  # per unit: (name words, body words), for search


_DECLARATION_COLUMNS = (
    "repo_id",
    "blob_sha",
    "ordinal",
    "kind",
    "name",
    "qualname",
    "line",
    "traits",
)


def local_repository_id(full_name: str) -> int:
    """A stable negative id for a repository that is not on GitHub (GitHub's ids are positive)."""
    digest = hashlib.blake2b(full_name.encode(), digest_size=8).digest()
    return -(int.from_bytes(digest, "big") >> 2) - 1


_UNIT_COLUMNS = (
    "repo_id",
    "blob_sha",
    "ordinal",
    "kind",
    "name",
    "qualname",
    "start_line",
    "end_line",
    "token_count",
    "raw_hash",
    "exact_hash",
    "tokens",
)
_SELECT_UNIT = (
    "f.path, u.kind, u.name, u.qualname, u.start_line, u.end_line, u.raw_hash, u.exact_hash,"
    " u.tokens"
)


@dataclass(frozen=True, slots=True)
class Streams:
    """Distinct normalised token streams of the indexed tree, laid end to end."""

    hashes: npt.NDArray[np.int64]  # exact_hash of each
    flat: npt.NDArray[np.uint32]
    lengths: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class StoredPairs:
    """Verified near-miss pairs of streams, by exact_hash (a < b)."""

    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float32]


class Store(DecisionRows):
    """Reads and writes the index of repositories."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def locked(self, repo_id: int) -> AsyncIterator[None]:
        """Hold the repository's lock (across processes) while the block runs: one indexing
        of a repository at a time."""
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", repo_id)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", repo_id)

    async def repository(
        self,
        full_name: str,
        *,
        repo_id: int | None = None,
        installation_id: int | None = None,
        default_branch: str | None = None,
    ) -> Repository:
        """Get or create the repository's row."""
        rid = repo_id if repo_id is not None else local_repository_id(full_name)
        try:
            return await self._upsert_repository(rid, full_name, installation_id, default_branch)
        except asyncpg.UniqueViolationError:
            # A concurrent first insert of the same row: Postgres arbitrates ON CONFLICT on the
            # id only, so the loser trips the unique full_name. The row exists now; take it.
            return await self._upsert_repository(rid, full_name, installation_id, default_branch)

    async def _upsert_repository(
        self, rid: int, full_name: str, installation_id: int | None, default_branch: str | None
    ) -> Repository:
        row = await self.pool.fetchrow(
            """
            INSERT INTO repositories (id, full_name, installation_id, default_branch)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET
                full_name = EXCLUDED.full_name,
                installation_id = COALESCE(EXCLUDED.installation_id, repositories.installation_id),
                default_branch = COALESCE(EXCLUDED.default_branch, repositories.default_branch)
            RETURNING id, full_name, indexed_sha
            """,
            rid,
            full_name,
            installation_id,
            default_branch,
        )
        return Repository(id=row["id"], full_name=row["full_name"], indexed_sha=row["indexed_sha"])

    async def delete_repository(self, repo_id: int) -> None:
        """Everything Cairn keeps about a repository goes (its rows cascade)."""
        await self.pool.execute("DELETE FROM repositories WHERE id = $1", repo_id)

    async def delete_installation(self, installation_id: int) -> int:
        """Delete every repository of an installation; how many there were."""
        rows = await self.pool.fetch(
            "DELETE FROM repositories WHERE installation_id = $1 RETURNING id", installation_id
        )
        return len(rows)

    async def known_blobs(self, repo_id: int) -> set[str]:
        rows = await self.pool.fetch("SELECT blob_sha FROM blobs WHERE repo_id = $1", repo_id)
        return {r["blob_sha"] for r in rows}

    async def tree(self, repo_id: int) -> dict[str, str]:
        rows = await self.pool.fetch("SELECT path, blob_sha FROM files WHERE repo_id = $1", repo_id)
        return {r["path"]: r["blob_sha"] for r in rows}

    async def save_blobs(self, repo_id: int, blobs: Sequence[ParsedBlob]) -> None:
        """Store parsed blobs and their units in one transaction (idempotent per blob)."""
        if not blobs:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            existing = {
                r["blob_sha"]
                for r in await conn.fetch(
                    "SELECT blob_sha FROM blobs WHERE repo_id = $1 AND blob_sha = ANY($2::text[])",
                    repo_id,
                    [b.sha for b in blobs],
                )
            }
            fresh = [b for b in blobs if b.sha not in existing]
            await conn.copy_records_to_table(
                "blobs",
                columns=("repo_id", "blob_sha", "language", "lines", "error_nodes", "skipped"),
                records=[
                    (repo_id, b.sha, b.language, b.lines, b.error_nodes, b.skipped) for b in fresh
                ],
            )
            await conn.copy_records_to_table(
                "units", columns=_UNIT_COLUMNS, records=_unit_records(repo_id, fresh)
            )
            await conn.copy_records_to_table(
                "blob_imports",
                columns=("repo_id", "blob_sha", "ordinal", "line", "name", "optional"),
                records=[
                    (repo_id, b.sha, i, imp.line, imp.name, imp.optional)
                    for b in fresh
                    for i, imp in enumerate(b.imports)
                ],
            )
            await conn.copy_records_to_table(
                "blob_declarations",
                columns=_DECLARATION_COLUMNS,
                records=[
                    (repo_id, b.sha, i, u.kind, u.name, u.qualname, u.start_line, list(u.traits))
                    for b in fresh
                    for i, u in enumerate(b.declarations)
                ],
            )
            worded = [(b.sha, i, w) for b in fresh for i, w in enumerate(b.words)]
            if worded:
                await save_unit_words(
                    conn,
                    repo_id,
                    [sha for sha, _, _ in worded],
                    [i for _, i, _ in worded],
                    [w[0] for _, _, w in worded],
                    [w[1] for _, _, w in worded],
                )

    async def set_tree(self, repo_id: int, tree: dict[str, str], commit: str) -> None:
        """Make ``tree`` (path → blob sha) the repository's indexed tree at ``commit``."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = {
                r["path"]: r["blob_sha"]
                for r in await conn.fetch(
                    "SELECT path, blob_sha FROM files WHERE repo_id = $1", repo_id
                )
            }
            gone = [p for p, sha in current.items() if tree.get(p) != sha]
            if gone:
                await conn.execute(
                    "DELETE FROM files WHERE repo_id = $1 AND path = ANY($2::text[])", repo_id, gone
                )
            added = [(repo_id, p, sha) for p, sha in tree.items() if current.get(p) != sha]
            if added:
                await conn.copy_records_to_table(
                    "files", columns=("repo_id", "path", "blob_sha"), records=added
                )
            await conn.execute(
                "UPDATE repositories SET indexed_sha = $2, indexed_at = now() WHERE id = $1",
                repo_id,
                commit,
            )
            if gone:
                # Blobs no tree refers to any more (their units cascade).
                await conn.execute(
                    """
                    DELETE FROM blobs b WHERE b.repo_id = $1 AND NOT EXISTS (
                        SELECT 1 FROM files f
                        WHERE f.repo_id = b.repo_id AND f.blob_sha = b.blob_sha)
                    """,
                    repo_id,
                )

    async def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load."""
        await self.pool.execute("ANALYZE repositories, blobs, files, units")

    async def skipped(self, repo_id: int) -> dict[str, int]:
        """How many files of the indexed tree were not parsed, by reason."""
        rows = await self.pool.fetch(
            """
            SELECT b.skipped, count(*) AS n FROM files f
            JOIN blobs b ON b.repo_id = f.repo_id AND b.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND b.skipped IS NOT NULL GROUP BY b.skipped
            """,
            repo_id,
        )
        return {r["skipped"]: r["n"] for r in rows}

    async def counts(self, repo_id: int) -> tuple[int, int]:
        """(files, units) of the indexed tree."""
        row = await self.pool.fetchrow(
            """
            SELECT (SELECT count(*) FROM files WHERE repo_id = $1) AS files,
                   (SELECT count(*) FROM files f JOIN units u
                      ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
                    WHERE f.repo_id = $1) AS units
            """,
            repo_id,
        )
        return row["files"], row["units"]

    async def extracted_imports(self, repo_id: int) -> dict[str, list[Import]]:
        """The imports of every file of the indexed tree, as written, by path."""
        rows = await self.pool.fetch(
            """
            SELECT f.path, i.line, i.name, i.optional FROM files f
            JOIN blob_imports i ON i.repo_id = f.repo_id AND i.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 ORDER BY f.path, i.ordinal
            """,
            repo_id,
        )
        out: dict[str, list[Import]] = {}
        for r in rows:
            out.setdefault(r["path"], []).append(
                Import(line=r["line"], name=r["name"], optional=r["optional"])
            )
        return out

    async def imports(self, repo_id: int, paths: Sequence[str] | None = None) -> list[Resolved]:
        """The resolved import graph of the indexed tree (of ``paths`` only, when given)."""
        rows = await self.pool.fetch(
            """
            SELECT path, line, name, internal, package, optional FROM imports
            WHERE repo_id = $1 AND ($2::text[] IS NULL OR path = ANY($2::text[]))
            ORDER BY path, line, name
            """,
            repo_id,
            None if paths is None else list(paths),
        )
        return [Resolved(**dict(r)) for r in rows]

    async def set_imports(self, repo_id: int, graph: Sequence[Resolved]) -> int:
        """Make ``graph`` the repository's import graph, by difference; return rows changed."""
        new = {(r.path, r.line, r.name): r for r in graph}
        async with self.pool.acquire() as conn, conn.transaction():
            old = {
                (r["path"], r["line"], r["name"]): Resolved(**dict(r))
                for r in await conn.fetch(
                    "SELECT path, line, name, internal, package, optional FROM imports"
                    " WHERE repo_id = $1",
                    repo_id,
                )
            }
            gone = [k for k, r in old.items() if new.get(k) != r]
            if gone:
                await conn.execute(
                    """
                    DELETE FROM imports i USING unnest($2::text[], $3::int[], $4::text[])
                        AS g(path, line, name)
                    WHERE i.repo_id = $1 AND i.path = g.path AND i.line = g.line
                      AND i.name = g.name
                    """,
                    repo_id,
                    [k[0] for k in gone],
                    [k[1] for k in gone],
                    [k[2] for k in gone],
                )
            added = [r for k, r in new.items() if old.get(k) != r]
            await conn.copy_records_to_table(
                "imports",
                columns=("repo_id", "path", "line", "name", "internal", "package", "optional"),
                records=[
                    (repo_id, r.path, r.line, r.name, r.internal, r.package, r.optional)
                    for r in added
                ],
            )
        return len(gone) + len(added)

    async def source_files(self, repo_id: int) -> list[str]:
        """Paths of the indexed tree's parsed source files (skipped ones left out)."""
        rows = await self.pool.fetch(
            """
            SELECT f.path FROM files f
            JOIN blobs b ON b.repo_id = f.repo_id AND b.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND b.skipped IS NULL ORDER BY f.path
            """,
            repo_id,
        )
        return [r["path"] for r in rows]

    async def declarations(self, repo_id: int) -> list[Declaration]:
        """Every function, method and class of the indexed tree, with its traits."""
        rows = await self.pool.fetch(
            """
            SELECT f.path, d.kind, d.name, d.qualname, d.line, d.traits FROM files f
            JOIN blob_declarations d ON d.repo_id = f.repo_id AND d.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 ORDER BY f.path, d.ordinal
            """,
            repo_id,
        )
        return [
            Declaration(
                path=r["path"],
                kind=r["kind"],
                name=r["name"],
                qualname=r["qualname"],
                line=r["line"],
                traits=tuple(r["traits"]),
            )
            for r in rows
        ]

    async def units(self, repo_id: int, *, min_tokens: int = 0) -> list[LocatedUnit]:
        """Every unit of the indexed tree (a blob at two paths counts twice)."""
        rows = await self.pool.fetch(
            f"""
            SELECT {_SELECT_UNIT} FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND u.token_count >= $2
            """,
            repo_id,
            min_tokens,
        )
        return [_located(r) for r in rows]

    async def streams(self, repo_id: int, *, min_tokens: int) -> Streams:
        """The distinct token streams of the indexed tree's units of ``min_tokens`` or more."""
        rows = await self.pool.fetch(
            """
            SELECT DISTINCT ON (u.exact_hash) u.exact_hash, u.tokens FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND u.token_count >= $2 ORDER BY u.exact_hash
            """,
            repo_id,
            min_tokens,
        )
        hashes = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        tokens = [r[1] for r in rows]
        lengths = np.fromiter((len(t) // 4 for t in tokens), dtype=np.int64, count=len(rows))
        flat = np.frombuffer(b"".join(tokens), dtype="<u4").astype(np.uint32)
        return Streams(hashes, flat, lengths)

    async def stream_hashes(self, repo_id: int, *, min_tokens: int) -> npt.NDArray[np.int64]:
        """The exact_hash of every distinct stream of the indexed tree (sorted)."""
        rows = await self.pool.fetch(
            """
            SELECT DISTINCT u.exact_hash FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND u.token_count >= $2 ORDER BY u.exact_hash
            """,
            repo_id,
            min_tokens,
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    async def units_by_hash(
        self, repo_id: int, hashes: Sequence[int], *, min_tokens: int
    ) -> list[LocatedUnit]:
        """The indexed tree's units whose stream is one of ``hashes``, with their tokens."""
        if not hashes:
            return []
        rows = await self.pool.fetch(
            f"""
            SELECT {_SELECT_UNIT} FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND u.exact_hash = ANY($2::bigint[]) AND u.token_count >= $3
            """,
            repo_id,
            list(hashes),
            min_tokens,
        )
        return [_located(r) for r in rows]

    async def unit_refs(self, repo_id: int, *, min_tokens: int) -> list[LocatedUnit]:
        """Every unit of the indexed tree of ``min_tokens`` or more, without its tokens (a blob
        at two paths counts twice)."""
        rows = await self.pool.fetch(
            """
            SELECT f.path, u.kind, u.name, u.qualname, u.start_line, u.end_line, u.raw_hash,
                   u.exact_hash, u.token_count FROM files f
            JOIN units u ON u.repo_id = f.repo_id AND u.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 AND u.token_count >= $2
            """,
            repo_id,
            min_tokens,
        )
        return [
            LocatedUnit(
                path=r["path"],
                unit=CodeUnit(
                    kind=r["kind"],
                    name=r["name"],
                    qualname=r["qualname"],
                    start_line=r["start_line"],
                    end_line=r["end_line"],
                    tokens=(),
                    raw_hash=r["raw_hash"],
                    exact_hash=r["exact_hash"],
                ),
                token_count=r["token_count"],
            )
            for r in rows
        ]

    # --- clone scans -------------------------------------------------------------------------

    async def clone_state(self, repo_id: int) -> tuple[str | None, npt.NDArray[np.int64]]:
        """The settings of the repository's last scan and the streams it compared (sorted)."""
        settings = await self.pool.fetchval(
            "SELECT settings FROM clone_scans WHERE repo_id = $1", repo_id
        )
        rows = await self.pool.fetch(
            "SELECT exact_hash FROM clone_streams WHERE repo_id = $1 ORDER BY exact_hash",
            repo_id,
        )
        return settings, np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    async def save_clone_scan(
        self,
        repo_id: int,
        settings: str,
        *,
        new: npt.NDArray[np.int64],
        gone: npt.NDArray[np.int64],
        pairs: StoredPairs,
        reset: bool,
    ) -> None:
        """Record a scan: its settings, the ``new`` streams it compared and the pairs it found;
        the ``gone`` streams (no unit has them any more) and their pairs are deleted. ``reset``
        drops every earlier stream and pair first."""
        async with self.pool.acquire() as conn, conn.transaction():
            if reset:
                await conn.execute("DELETE FROM clone_pairs WHERE repo_id = $1", repo_id)
                await conn.execute("DELETE FROM clone_streams WHERE repo_id = $1", repo_id)
            elif len(gone):
                await conn.execute(
                    "DELETE FROM clone_streams WHERE repo_id = $1 AND exact_hash = ANY($2)",
                    repo_id,
                    gone.tolist(),
                )
                await conn.execute(
                    """
                    DELETE FROM clone_pairs WHERE repo_id = $1
                      AND (a = ANY($2::bigint[]) OR b = ANY($2::bigint[]))
                    """,
                    repo_id,
                    gone.tolist(),
                )
            await conn.copy_records_to_table(
                "clone_streams",
                columns=("repo_id", "exact_hash"),
                records=[(repo_id, h) for h in new.tolist()],
            )
            await conn.copy_records_to_table(
                "clone_pairs",
                columns=("repo_id", "a", "b", "similarity"),
                records=[
                    (repo_id, a, b, s)
                    for a, b, s in zip(
                        pairs.a.tolist(), pairs.b.tolist(), pairs.similarity.tolist(), strict=True
                    )
                ],
            )
            await conn.execute(
                """
                INSERT INTO clone_scans (repo_id, settings) VALUES ($1, $2)
                ON CONFLICT (repo_id) DO UPDATE SET settings = $2, scanned_at = now()
                """,
                repo_id,
                settings,
            )

    async def scanned_units(self, repo_id: int) -> set[tuple[str, int]]:
        """(path, exact_hash) of every unit the repository's last scan saw."""
        rows = await self.pool.fetch(
            "SELECT path, exact_hash FROM clone_units WHERE repo_id = $1", repo_id
        )
        return {(r["path"], r["exact_hash"]) for r in rows}

    async def set_scanned_units(
        self, repo_id: int, units: set[tuple[str, int]], previous: set[tuple[str, int]]
    ) -> None:
        """Make ``units`` the ones the last scan saw, by difference with ``previous``."""
        gone, added = previous - units, units - previous
        async with self.pool.acquire() as conn, conn.transaction():
            if gone:
                await conn.execute(
                    """
                    DELETE FROM clone_units c USING unnest($2::text[], $3::bigint[]) AS g(p, h)
                    WHERE c.repo_id = $1 AND c.path = g.p AND c.exact_hash = g.h
                    """,
                    repo_id,
                    [p for p, _ in gone],
                    [h for _, h in gone],
                )
            await conn.copy_records_to_table(
                "clone_units",
                columns=("repo_id", "path", "exact_hash"),
                records=[(repo_id, p, h) for p, h in added],
            )

    async def clone_pairs(self, repo_id: int) -> StoredPairs:
        """Every stored near-miss pair of the repository's streams."""
        rows = await self.pool.fetch(
            "SELECT a, b, similarity FROM clone_pairs WHERE repo_id = $1", repo_id
        )
        count = len(rows)
        return StoredPairs(
            np.fromiter((r[0] for r in rows), dtype=np.int64, count=count),
            np.fromiter((r[1] for r in rows), dtype=np.int64, count=count),
            np.fromiter((r[2] for r in rows), dtype=np.float32, count=count),
        )


def _located(row: asyncpg.Record) -> LocatedUnit:
    tokens = tuple(np.frombuffer(row["tokens"], dtype="<u4").tolist())
    unit = CodeUnit(
        kind=row["kind"],
        name=row["name"],
        qualname=row["qualname"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        tokens=tokens,
        raw_hash=row["raw_hash"],
        exact_hash=row["exact_hash"],
    )
    return LocatedUnit(path=row["path"], unit=unit)


def _unit_records(repo_id: int, blobs: Iterable[ParsedBlob]) -> Iterable[tuple[Any, ...]]:
    for blob in blobs:
        for ordinal, (u, stream) in enumerate(zip(blob.units, blob.streams, strict=True)):
            yield (
                repo_id,
                blob.sha,
                ordinal,
                u.kind,
                u.name,
                u.qualname,
                u.start_line,
                u.end_line,
                len(stream) // 4,
                u.raw_hash,
                u.exact_hash,
                stream,
            )
