"""The index in Postgres: the only module that speaks SQL.

Every query takes the repository id and filters on it; nothing here can return rows of
another repository than the one asked for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np

from analyzers.adr import Adr, Constraint, reader_version
from analyzers.adr_prose import Mention
from analyzers.imports import Import, Resolved
from analyzers.units import CodeUnit
from checks.context import Declaration, LocatedUnit


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository as the index knows it."""

    id: int
    full_name: str
    indexed_sha: str | None


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """A unit with the fingerprints the index keeps for it."""

    unit: CodeUnit
    minhash: bytes  # uint32 little-endian
    bands: tuple[int, ...]
    embedding: np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True, slots=True)
class ParsedBlob:
    """What indexing one blob produced; ``skipped`` says why it has no units."""

    sha: str
    language: str | None
    lines: int
    error_nodes: int
    skipped: str | None
    units: tuple[StoredUnit, ...] = ()
    imports: tuple[Import, ...] = ()
    declarations: tuple[CodeUnit, ...] = ()  # every unit, whatever its size (its traits)


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


# Units this large are in the ANN (HNSW) index; must match the index's predicate.
VECTOR_MIN_TOKENS = 50

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
    "minhash",
    "bands",
    "embedding",
)
_SELECT_UNIT = (
    "f.path, u.kind, u.name, u.qualname, u.start_line, u.end_line, u.raw_hash, u.exact_hash,"
    " u.tokens, u.bands, u.minhash"
)


class Store:
    """Reads and writes the index of repositories."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

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
                columns=("repo_id", "blob_sha", "ordinal", "line", "name"),
                records=[
                    (repo_id, b.sha, i, imp.line, imp.name)
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
            SELECT f.path, i.line, i.name FROM files f
            JOIN blob_imports i ON i.repo_id = f.repo_id AND i.blob_sha = f.blob_sha
            WHERE f.repo_id = $1 ORDER BY f.path, i.ordinal
            """,
            repo_id,
        )
        out: dict[str, list[Import]] = {}
        for r in rows:
            out.setdefault(r["path"], []).append(Import(line=r["line"], name=r["name"]))
        return out

    async def imports(self, repo_id: int, paths: Sequence[str] | None = None) -> list[Resolved]:
        """The resolved import graph of the indexed tree (of ``paths`` only, when given)."""
        rows = await self.pool.fetch(
            """
            SELECT path, line, name, internal, package FROM imports
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
                    "SELECT path, line, name, internal, package FROM imports WHERE repo_id = $1",
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
                columns=("repo_id", "path", "line", "name", "internal", "package"),
                records=[(repo_id, r.path, r.line, r.name, r.internal, r.package) for r in added],
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

    async def candidates(
        self, repo_id: int, probes: Sequence[StoredUnit], *, min_tokens: int, neighbours: int = 8
    ) -> list[list[LocatedUnit]]:
        """For each probe, units of the indexed tree that may duplicate it (unverified).

        Three sources: the same normalised hash, a shared LSH band, and the nearest
        embeddings by cosine distance (pgvector HNSW).
        """
        if not probes:
            return []
        async with self.pool.acquire() as conn:
            by_hash = await conn.fetch(
                f"""
                SELECT {_SELECT_UNIT} FROM units u
                JOIN files f ON f.repo_id = u.repo_id AND f.blob_sha = u.blob_sha
                WHERE u.repo_id = $1 AND u.exact_hash = ANY($2::bigint[]) AND u.token_count >= $3
                """,
                repo_id,
                list({p.unit.exact_hash for p in probes}),
                min_tokens,
            )
            banded: list[list[asyncpg.Record]] = []
            nearest: list[list[asyncpg.Record]] = []
            for probe in probes:
                # One query per probe: with a few hundred keys in one array the planner
                # misjudges `&&` and scans the whole table (2.5 s on Django, 4 ms this way).
                banded.append(
                    await conn.fetch(
                        f"""
                        SELECT {_SELECT_UNIT} FROM units u
                        JOIN files f ON f.repo_id = u.repo_id AND f.blob_sha = u.blob_sha
                        WHERE u.repo_id = $1 AND u.bands && $2::bigint[] AND u.token_count >= $3
                        """,
                        repo_id,
                        list(probe.bands),
                        min_tokens,
                    )
                )
                if probe.unit.token_count < VECTOR_MIN_TOKENS:
                    nearest.append([])
                    continue
                # The literal predicate matches the partial HNSW index (migrations/0001).
                nearest.append(
                    await conn.fetch(
                        f"""
                        SELECT {_SELECT_UNIT} FROM (
                            SELECT * FROM units WHERE repo_id = $1 AND token_count >= 50
                            ORDER BY embedding <=> $2 LIMIT $3) u
                        JOIN files f ON f.repo_id = u.repo_id AND f.blob_sha = u.blob_sha
                        """,
                        repo_id,
                        probe.embedding,
                        neighbours,
                    )
                )
        hashed = [_located(r) for r in by_hash]
        out = []
        for probe, band_rows, near in zip(probes, banded, nearest, strict=True):
            found = [u for u in hashed if u.unit.exact_hash == probe.unit.exact_hash]
            found += [_located(r) for r in band_rows]
            found += [_located(r) for r in near]
            out.append(found)
        return out

    # --- the decision log --------------------------------------------------------------------

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
    return LocatedUnit(
        path=row["path"], unit=unit, bands=tuple(row["bands"]), minhash=row["minhash"]
    )


def _unit_records(repo_id: int, blobs: Iterable[ParsedBlob]) -> Iterable[tuple[Any, ...]]:
    for blob in blobs:
        for ordinal, stored in enumerate(blob.units):
            u = stored.unit
            yield (
                repo_id,
                blob.sha,
                ordinal,
                u.kind,
                u.name,
                u.qualname,
                u.start_line,
                u.end_line,
                u.token_count,
                u.raw_hash,
                u.exact_hash,
                np.asarray(u.tokens, dtype="<u4").tobytes(),
                stored.minhash,
                list(stored.bands),
                stored.embedding,
            )
