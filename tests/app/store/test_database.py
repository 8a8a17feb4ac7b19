from __future__ import annotations

import asyncpg
import pytest

from app.errors import EnvironmentProblem
from app.settings import Settings
from app.store import database


async def test_migrations_are_recorded_and_idempotent(pool: asyncpg.Pool) -> None:
    versions = [r["version"] for r in await pool.fetch("SELECT version FROM schema_migrations")]
    assert versions == [v for v, _, _ in database.migration_files()]
    assert await database.upgrade(pool) == []
    assert (
        await pool.fetchval("SELECT extname FROM pg_extension WHERE extname = 'vector'") == "vector"
    )


async def test_vector_codec_round_trips(pool: asyncpg.Pool) -> None:
    value = await pool.fetchval("SELECT '[1, 2.5, -3]'::vector")
    assert value.tolist() == [1.0, 2.5, -3.0]


async def test_server_without_pgvector_is_refused_clearly(tmp_path: object) -> None:
    # The machine's own PostgreSQL has no pgvector: exactly the case a user hits.
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
            "CAIRN_HOME": str(tmp_path),
        }
    )
    with pytest.raises(EnvironmentProblem, match="no 'vector' extension"):
        async with database.connect(settings):
            pass


async def test_unreachable_database_is_an_environment_problem(tmp_path: object) -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "CAIRN_HOME": str(tmp_path)}
    )
    with pytest.raises(EnvironmentProblem, match="cannot connect to DATABASE_URL"):
        async with database.connect(settings):
            pass


def test_settings_hide_the_database_url() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u:hunter2@db/x", "CAIRN_HOME": "/tmp/x"}
    )
    assert "hunter2" not in repr(settings)


async def test_a_connection_opened_before_the_extension_existed_gets_the_codec(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes starting at once on a new database: this one's pool holds a connection
    # opened before the other one created the vector extension, and finds nothing to migrate.
    settings = Settings.from_env({"CAIRN_HOME": str(tmp_path)})
    real_upgrade = database.upgrade

    async def the_other_process_migrates_first(pool: asyncpg.Pool) -> list[str]:
        other = await asyncpg.create_pool(database.database_url(settings), min_size=1, max_size=1)
        try:
            await real_upgrade(other)
        finally:
            await other.close()
        applied = await real_upgrade(pool)
        assert applied == []
        return applied

    monkeypatch.setattr(database, "upgrade", the_other_process_migrates_first)
    async with database.connect(settings) as pool:
        assert (await pool.fetchval("SELECT '[1, 2]'::vector")).tolist() == [1.0, 2.0]
        assert (await pool.fetchval("SELECT $1::vector", [3.0, 4.0])).tolist() == [3.0, 4.0]
