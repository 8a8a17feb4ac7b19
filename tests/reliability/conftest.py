"""The reliability tests' servers: a Redis per test, a Postgres per session (both test-only)."""

from pathlib import Path

import pytest

from tests.servers import database_url, postgres_server, redis_server

__all__ = ["database_url", "postgres_server", "redis_server"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The reliability suite is slow (real servers, faults, hundreds of deliveries): it is
    left out of the fast loop, ``pytest -m "not slow"``."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
