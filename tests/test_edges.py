"""What a user meets at the edges, through real ``cairn`` processes: an environment problem is
one line and exit code 2; Ctrl-C is one line and 130; the embedded Postgres stops when the last
process using it exits; the worker says what it serves when it starts.

Ctrl-C is sent as a terminal sends it: SIGINT to the whole process group (the indexer's parsing
processes included).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import GitRepoBuilder
from tests.github_sim.keys import rsa_keypair
from tests.servers import RedisServer, free_port, wait_for

pytestmark = pytest.mark.slow

CAIRN = Path(sys.executable).parent / "cairn"


def cairn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CAIRN), *args], env=env, capture_output=True, text=True, timeout=120)


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``cairn`` in a process group of its own, as a shell starts a foreground job."""
    return subprocess.Popen(
        [str(CAIRN), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def ctrl_c(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGINT to the process group, as a terminal's Ctrl-C; what the process printed."""
    os.killpg(proc.pid, signal.SIGINT)
    return proc.communicate(timeout=60)


@pytest.fixture
def small(repo: GitRepoBuilder) -> GitRepoBuilder:
    repo.write({"billing/dates.py": "def parse(value):\n    return value.split('-')\n"})
    repo.commit("billing")
    return repo


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        pytest.param("DATABASE_URL", "not-a-url", "not a Postgres URL", id="not-a-url"),
        pytest.param(
            "DATABASE_URL", "http://user:hunter2@db.invalid/x", "not a Postgres URL", id="http"
        ),
        pytest.param(
            "DATABASE_URL",
            "postgresql://user:hunter2@127.0.0.1:99999/x",
            "port must be 0-65535",
            id="port-out-of-range",
        ),
        pytest.param(
            "DATABASE_URL",
            "postgresql://user:hunter2@127.0.0.1/x?sslmode=bogus",
            "sslmode",
            id="bad-parameter",
        ),
        pytest.param("CAIRN_HOME", "{file}/cairn", "Not a directory", id="home-in-a-file"),
    ],
)
def test_an_environment_problem_is_one_line_and_exit_2(
    cairn_env: dict[str, str],
    small: GitRepoBuilder,
    tmp_path: Path,
    variable: str,
    value: str,
    says: str,
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    env = dict(cairn_env, **{variable: value.format(file=a_file)})
    proc = cairn(env, "index", "--repo", str(small.root))
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("cairn: error: ") and says in line, line
    assert "hunter2" not in proc.stderr


def test_git_refusing_a_repository_of_another_owner_is_reported_as_such(
    cairn_env: dict[str, str], small: GitRepoBuilder
) -> None:
    # git's own switch for its tests: as if the repository belonged to another user
    env = dict(cairn_env, GIT_TEST_ASSUME_DIFFERENT_OWNER="1")
    proc = cairn(env, "review", "--repo", str(small.root / "billing"))
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert "owned by another user" in line, line
    assert f"safe.directory {small.root}" in line
    assert "not a git repository" not in line


def _parsing_processes(proc: subprocess.Popen[str]) -> bool:
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    if proc.poll() is not None:
        raise AssertionError(f"cairn index ended before it was interrupted: {proc.stderr}")
    for child in children:
        try:
            if "multiprocessing" in " ".join(child.cmdline()):
                return True
        except psutil.Error:  # gone meanwhile (git cat-file, a zombie)
            continue
    return False


def test_ctrl_c_while_indexing_is_one_line_and_130(
    cairn_env: dict[str, str], repo: GitRepoBuilder
) -> None:
    # enough new blobs for the parsing processes (indexer.PARALLEL_FROM) and a few seconds
    body = "".join(
        f"def step_{i}(rows, limit):\n    total = 0\n    for row in rows[:limit]:\n"
        f"        total += row * {i} - len(str(row))\n    return total\n\n"
        for i in range(20)
    )
    repo.write({f"pkg/mod_{n}.py": f"# module {n}\n{body}" for n in range(4000)})
    repo.commit("many modules")
    proc = start(cairn_env, "index", "--repo", str(repo.root))
    try:
        wait_for(
            lambda: _parsing_processes(proc), "the parsing processes", timeout=60, interval=0.02
        )
        out, err = ctrl_c(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.splitlines() == [
        "cairn: error: interrupted; the index is unchanged where it was not finished"
    ], err
    assert out == ""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded Postgres that only the processes these tests start use (the session's is
    held by the test process itself); each test leaves it stopped."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture
def app_env(cairn_env: dict[str, str], home: Path) -> Iterator[dict[str, str]]:
    """The App's settings and a Redis of the test's own."""
    private, _ = rsa_keypair()
    with RedisServer() as redis:
        yield dict(
            cairn_env,
            CAIRN_HOME=str(home),
            GITHUB_APP_ID="4242",
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET="webhook-secret-never-printed",
            REDIS_URL=redis.url,
            CAIRN_REDELIVERY_INTERVAL="0",
        )


def _postgres_running(env: dict[str, str]) -> bool:
    return (Path(env["CAIRN_HOME"]) / "pg" / "postmaster.pid").exists()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_ctrl_c_and_sigterm_stop_serve_and_the_last_one_out_stops_postgres(
    app_env: dict[str, str],
) -> None:
    port = free_port()
    serve = start(app_env, "serve", "--port", str(port))
    worker = start(app_env, "worker")
    try:
        assert worker.stderr is not None and serve.stderr is not None
        started = worker.stderr.readline()  # the worker's first line: it has connected
        assert serve.stderr.readline().startswith("cairn serve: ")
        assert _postgres_running(app_env)

        os.killpg(serve.pid, signal.SIGTERM)  # how a service manager stops it
        _, err = serve.communicate(timeout=60)
        assert serve.returncode == 0, err
        assert "Traceback" not in err and "index" not in err, err
        assert _postgres_running(app_env), "the worker still uses the embedded Postgres"

        _, err = ctrl_c(worker)
        assert worker.returncode == 130, err
        assert err.splitlines() == ["cairn: stopped"], err
        assert not _postgres_running(app_env), "the last user out stops the embedded Postgres"
    finally:
        for proc in (serve, worker):
            if proc.poll() is None:
                proc.kill()
    # what, where and how much; never a secret
    assert started.startswith("cairn worker: queue arq:queue on " + app_env["REDIS_URL"]), started
    assert "10 jobs at once (2 per installation)" in started
    assert f"database embedded Postgres in {app_env['CAIRN_HOME']}/pg" in started
    assert "GitHub App 4242 at https://api.github.com" in started
    assert "webhook-secret" not in started and "PRIVATE KEY" not in started


def test_ctrl_c_on_serve_says_it_stopped(app_env: dict[str, str]) -> None:
    port = free_port()
    serve = start(app_env, "serve", "--port", str(port))
    try:
        assert serve.stderr is not None
        started = serve.stderr.readline()  # printed once connected, as it starts serving
        wait_for(lambda: _listening(port), "cairn serve to listen", timeout=60)
        _, err = ctrl_c(serve)
    finally:
        if serve.poll() is None:
            serve.kill()
    assert serve.returncode == 130, err
    assert err.splitlines()[-1] == "cairn: stopped", err
    assert "index" not in err and "Traceback" not in err, err
    assert not _postgres_running(app_env)
    # where it listens, what it uses
    assert started == (
        f"cairn serve: webhooks at http://127.0.0.1:{port}/webhooks, database embedded Postgres"
        f" in {app_env['CAIRN_HOME']}/pg, Redis {app_env['REDIS_URL']}\n"
    )


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(app_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = cairn(app_env, "serve", "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"cairn: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_a_killed_user_does_not_keep_postgres_running(
    app_env: dict[str, str], small: GitRepoBuilder
) -> None:
    """A process killed outright (SIGKILL) cannot say it is gone; the next one out counts only
    live users and stops the server."""
    port = free_port()
    serve = start(app_env, "serve", "--port", str(port))
    try:
        assert serve.stderr is not None
        assert serve.stderr.readline().startswith("cairn serve: ")  # it has the database
    finally:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.communicate(timeout=60)
    assert _postgres_running(app_env)
    proc = cairn(app_env, "index", "--repo", str(small.root))
    assert proc.returncode == 0, proc.stderr
    assert not _postgres_running(app_env)
