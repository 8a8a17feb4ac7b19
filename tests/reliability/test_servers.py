"""The test-only servers: real processes on their own ports that stop and start again."""

from __future__ import annotations

import asyncpg
import pytest
import redis

from tests.servers import PostgresServer, RedisServer


def test_redis_stops_and_starts_on_the_same_port(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.set("k", "v")
    port = redis_server.port
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.start()
    assert redis_server.port == port
    assert client.ping()
    assert client.get("k") is None  # no persistence: a restart starts empty


async def test_postgres_keeps_its_data_across_a_restart(
    postgres_server: PostgresServer, database_url: str
) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    await conn.execute("CREATE TABLE t (v vector(3))")
    await conn.execute("INSERT INTO t VALUES ('[1,2,3]')")
    postgres_server.stop()
    with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
        await conn.fetchval("SELECT count(*) FROM t")
    postgres_server.start()
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT v::text FROM t") == "[1,2,3]"
    finally:
        await conn.close()
