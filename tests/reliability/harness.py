"""The world the reliability tests and ``bench/reliability.py`` run Cairn in.

Real processes only: ``cairn serve`` and any number of ``cairn worker`` subprocesses, the
GitHub simulator (a real HTTP server in a thread), and the test-only Redis and Postgres of
``tests.servers``. ``World`` builds pull requests that each hold one planted duplicate (so each
review posts exactly one inline comment), sends signed deliveries, and tallies what a person
would see on GitHub: reviewed heads, lost ones, duplicate comments, stuck check runs.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.publish import CHECKS, FINDING_MARKER
from tests.app.samples import BASE, PARSE_DATE_RENAMED, module
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair
from tests.github_sim.state import HookDelivery
from tests.servers import free_port, wait_for

CAIRN = Path(sys.executable).parent / "cairn"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_ID, INSTALLATION, REPO = 4242, 77, "acme/shop"
SECRET = "reliability webhook secret"
RUN_NAMES = tuple(f"cairn/{check}" for check in CHECKS)
REVIEWED = {"success", "neutral"}  # the conclusions of a finished review of these changes


@dataclass(frozen=True, slots=True)
class Tally:
    """What GitHub shows for the pull requests a test sent deliveries for."""

    sent: int  # pull request heads a delivery asked to review
    reviewed: int  # heads whose latest run of every check completed as a review
    lost: int  # heads with no completed review
    duplicate_comments: int  # Cairn comments beyond the first per finding and pull request
    stuck_runs: int  # check runs not completed
    failed_runs: int  # latest runs of a head that completed as "failure"

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass
class Processes:
    """``cairn serve`` and ``cairn worker`` subprocesses, their logs kept in ``logs``."""

    env: dict[str, str]
    logs: Path
    url: str = ""
    server: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _files: list[Any] = field(default_factory=list)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        self._files.append(log)
        return subprocess.Popen([str(CAIRN), *args], env=self.env, stderr=log, stdout=log)

    def start_server(self) -> str:
        port = free_port()
        self.server = self._spawn("serve", "serve", "--port", str(port))
        self.url = f"http://127.0.0.1:{port}"
        wait_for(self._listening, "cairn serve to answer", timeout=60)
        return self.url

    def _listening(self) -> bool:
        assert self.server is not None
        if self.server.poll() is not None:
            raise AssertionError(f"cairn serve exited: {self.log('serve')}")
        try:
            httpx.get(f"{self.url}/healthz", timeout=1)
            return True
        except httpx.HTTPError:
            return False

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(f"worker-{len(self.workers)}", "worker")
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no cleanup, no goodbye: whatever the worker was doing stays half-done."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def all_logs(self) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)

    def tracebacks(self) -> list[str]:
        """The log records with a traceback, less asyncpg's own warning that it is still
        reconnecting its pool (expected while Postgres is down)."""
        found = []
        for record in re.split(r"\n(?=(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)[ :])", self.all_logs()):
            if "Traceback" in record and not record.startswith(
                "WARNING asyncpg.pool: Failed to restore the pool connection floor"
            ):
                found.append(record)
        return found

    def close(self) -> None:
        procs = [p for p in [self.server, *self.workers] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in self._files:
            f.close()


class World:
    """The simulated GitHub with one installation and repository, and Cairn's processes."""

    def __init__(self, state: State, api_url: str, env: dict[str, str]) -> None:
        self.state = state
        self.api_url = api_url
        self.env = env
        self.base = state.commit(REPO, BASE, "base", branch="main")
        self.heads: dict[int, str] = {}  # pull request number -> head sha to review
        self._deliveries = 0

    def open_pull_request(self, number: int, files: dict[str, str | bytes] | None = None) -> str:
        """A pull request whose head copies ``parse_iso_date`` under another name (one finding),
        or changes ``files`` on top of the base."""
        change: dict[str, str | bytes] = (
            files if files is not None else {f"exports/csv_{number}.py": module(PARSE_DATE_RENAMED)}
        )
        head = self.state.commit(REPO, BASE | change, f"change {number}", parents=[self.base])
        self.state.open_pull_request(REPO, self.base, head, title=f"Change {number}", number=number)
        self.heads[number] = head
        return head

    def payload(self, number: int, action: str = "opened") -> dict[str, Any]:
        """GitHub's real ``pull_request`` payload, with the simulated repository's values."""
        payload: dict[str, Any] = copy.deepcopy(
            json.loads((FIXTURES / "webhooks" / "pull_request.opened.json").read_text())
        )
        repo, pr = self.state.repos[REPO], self.state.pulls[(REPO, number)]
        payload["action"] = action
        payload["installation"]["id"] = INSTALLATION
        payload["repository"].update(id=repo.id, full_name=REPO, default_branch=repo.default_branch)
        payload["number"] = number
        payload["pull_request"].update(number=number, draft=False)
        payload["pull_request"]["head"]["sha"] = pr.head_sha
        payload["pull_request"]["base"]["sha"] = pr.base_sha
        return payload

    def delivery_id(self) -> str:
        self._deliveries += 1
        return f"delivery-{self._deliveries}"

    def post(
        self, number: int, delivery_id: str | None = None, action: str = "opened"
    ) -> HookDelivery:
        """GitHub sends one signed ``pull_request`` delivery to Cairn (recorded as an attempt
        that the redelivery sweep can list and ask to send again)."""
        return self.state.deliver(
            "pull_request", self.payload(number, action), guid=delivery_id or self.delivery_id()
        )

    def connect(self, url: str) -> None:
        """Point the App's webhook at a running ``cairn serve``."""
        self.state.webhook_url = f"{url}/webhooks"

    # --- what GitHub shows ------------------------------------------------------------------

    def latest_runs(self, head: str) -> dict[str, tuple[str, str | None]]:
        """The latest check run of each name on ``head``: (status, conclusion)."""
        with self.state.lock:
            latest = {}
            for run in self.state.runs(REPO):
                if run.head_sha == head:
                    latest[run.name] = (run.status, run.conclusion)
            return latest

    def reviewed(self, number: int) -> bool:
        runs = self.latest_runs(self.heads[number])
        return all(runs.get(name, ("", None))[1] in REVIEWED for name in RUN_NAMES) and all(
            status == "completed" for status, _ in runs.values()
        )

    def all_reviewed(self) -> bool:
        return all(self.reviewed(n) for n in self.heads)

    def wait_reviewed(self, timeout: float = 120.0) -> None:
        wait_for(self.all_reviewed, f"{len(self.heads)} reviewed pull requests", timeout)

    def tally(self) -> Tally:
        with self.state.lock:
            stuck = sum(1 for run in self.state.runs(REPO) if run.status != "completed")
            duplicates = 0
            for number in self.heads:
                markers: Counter[str] = Counter()
                for comment in self.state.review_comments(REPO, number):
                    if comment.in_reply_to_id is None:
                        markers.update(FINDING_MARKER.findall(comment.body))
                duplicates += sum(count - 1 for count in markers.values() if count > 1)
        reviewed = sum(1 for n in self.heads if self.reviewed(n))
        failed = sum(
            1
            for head in self.heads.values()
            for _, conclusion in self.latest_runs(head).values()
            if conclusion == "failure"
        )
        return Tally(
            sent=len(self.heads),
            reviewed=reviewed,
            lost=len(self.heads) - reviewed,
            duplicate_comments=duplicates,
            stuck_runs=stuck,
            failed_runs=failed,
        )

    def comments(self, number: int) -> int:
        """Cairn's top-level comments on a pull request."""
        with self.state.lock:
            return sum(
                1 for c in self.state.review_comments(REPO, number) if c.in_reply_to_id is None
            )


def signed_headers(body: bytes, delivery_id: str, event: str = "pull_request") -> dict[str, str]:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }


@contextmanager
def world(
    base_env: dict[str, str], *, database_url: str, redis_url: str, home: Path
) -> Iterator[World]:
    """The simulator with Cairn's installation, and the environment for Cairn's processes."""
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    state.webhook_secret = SECRET
    with serve(state) as api_url:
        env = dict(
            base_env,
            CAIRN_HOME=str(home),
            CAIRN_LOG_LEVEL="INFO",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET=SECRET,
            GITHUB_API_URL=api_url,
        )
        yield World(state, api_url, env)
    assert not state.unknown_routes, state.unknown_routes


@contextmanager
def cairn(w: World, logs: Path, *, workers: int = 1) -> Iterator[Processes]:
    """``cairn serve`` (the App's webhook URL) and ``workers`` workers, stopped (SIGTERM) at
    the end."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = Processes(w.env, logs)
    with ExitStack() as stack:
        stack.callback(procs.close)
        w.connect(procs.start_server())
        for _ in range(workers):
            procs.start_worker()
        yield procs
