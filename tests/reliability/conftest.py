"""The reliability tests' servers: a Redis per test, a Postgres per session (both test-only)."""

from tests.servers import database_url, postgres_server, redis_server

__all__ = ["database_url", "postgres_server", "redis_server"]
