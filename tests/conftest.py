"""Shared fixtures: a real Postgres with pgvector (embedded or DATABASE_URL), git repositories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from app.settings import Settings
from app.store import Store, database
from tests.servers import RedisServer


@pytest.fixture(scope="session")
def cairn_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for Cairn in tests (and for the ``cairn`` subprocesses tests start)."""
    env = dict(os.environ)
    env["CAIRN_HOME"] = str(tmp_path_factory.mktemp("cairn-home"))
    return env


@pytest.fixture(scope="session")
def session_redis() -> Iterator[RedisServer]:
    """A Redis of the session's own on a free port: tests that queue jobs use a database of
    it each, so two test sessions on one machine never share (or flush) each other's queues."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis server of the test's own (never the machine's shared one), for tests that stop
    it, flush it or watch every key in it."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test's own Redis."""
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    yield pool
    await pool.aclose()


@pytest.fixture(scope="session")
def settings(cairn_env: dict[str, str]) -> Settings:
    return Settings.from_env(cairn_env)


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    async with database.connect(settings) as pool:
        yield pool


@pytest.fixture
async def store(pool: asyncpg.Pool) -> Store:
    await pool.execute("TRUNCATE repositories CASCADE")
    return Store(pool)


class GitRepoBuilder:
    """A real git repository in a temporary directory, built commit by commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(self.root),
                "-c",
                "user.name=Cairn Test",
                "-c",
                "user.email=test@cairn.invalid",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            check=True,
            capture_output=True,
        )
        return out.stdout.decode().strip()

    def write(self, files: dict[str, str | bytes]) -> GitRepoBuilder:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return self

    def remove(self, *paths: str) -> GitRepoBuilder:
        self.git("rm", "-q", *paths)
        return self

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str) -> GitRepoBuilder:
        self.git("checkout", "-q", "-b", name)
        return self

    def checkout(self, name: str) -> GitRepoBuilder:
        self.git("checkout", "-q", name)
        return self


@pytest.fixture
def repo(tmp_path: Path) -> GitRepoBuilder:
    return GitRepoBuilder(tmp_path / "repo")


FIXTURES = Path(__file__).parent / "fixtures"
