"""Attacks on the App, through real ``cairn serve`` and ``cairn worker`` processes, the
simulator and test-only Redis and Postgres (SECURITY.md): an outsider cannot turn a failing
check green, and no pull request's content holds another installation's review.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.publish import FINDING_MARKER
from tests.app.samples import BASE
from tests.reliability.harness import (
    APP_ID,
    FIXTURES,
    INSTALLATION,
    REPO,
    RUN_NAMES,
    Processes,
    World,
    cairn,
    wait_for,
    world,
)
from tests.servers import PostgresServer, RedisServer

pytestmark = pytest.mark.slow

EVIL, EVIL_INSTALLATION = "evil/bombs", 78
NO_PRINT = """\
patterns:
  forbid:
    - {id: no-print, paths: ["exports/**"], calls: [print], message: Log through exports.log.}
"""
# 381 bytes that PyYAML's safe_load expands into 9**8 nodes
BOMB = (
    "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 8))
    + "status: *a7\n"
)
CATASTROPHIC_ADR = f"""\
# 1. Keep exports plain

Status: accepted

```cairn
cairn:
  forbid:
    - {{regex: '(a+)+$', message: no runs of a}}
    - {{query: '(module {"(_)* " * 100})', language: python, message: no modules}}
```
"""
ANALYSIS_TIMEOUT = 8  # CAIRN_ANALYSIS_TIMEOUT of these processes


def _payload(fixture: str, **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(
        json.loads((FIXTURES / "webhooks" / f"{fixture}.json").read_text())
    )
    for path, value in values.items():
        node = data
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return data


def _opened(w: World, repo: str, installation: int, number: int) -> dict[str, Any]:
    r, pr = w.state.repos[repo], w.state.pulls[(repo, number)]
    payload = _payload(
        "pull_request.opened",
        installation__id=installation,
        number=number,
        pull_request__number=number,
        pull_request__draft=False,
    )
    payload["repository"].update(id=r.id, full_name=repo, default_branch=r.default_branch)
    payload["pull_request"]["head"]["sha"] = pr.head_sha
    payload["pull_request"]["base"]["sha"] = pr.base_sha
    return payload


def _command(w: World, number: int, body: str, who: str, association: str, parent: int) -> None:
    r = w.state.repos[REPO]
    payload = _payload(
        "pull_request_review_comment.created",
        installation={"id": INSTALLATION},
        comment__body=body,
        comment__id=w.state.next_id(),
        comment__in_reply_to_id=parent,
        comment__author_association=association,
        comment__user={"login": who, "id": 1, "type": "User"},
        pull_request__number=number,
    )
    payload["repository"].update(id=r.id, full_name=REPO, default_branch=r.default_branch)
    assert w.state.deliver("pull_request_review_comment", payload).status_code == 202


@pytest.fixture(scope="module")
def app(
    cairn_env: dict[str, str],
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[World, Processes]]:
    tmp = tmp_path_factory.mktemp("security")
    postgres_server.start()
    postgres_server.psql("CREATE DATABASE cairn_security")
    env = dict(cairn_env, CAIRN_ANALYSIS_TIMEOUT=str(ANALYSIS_TIMEOUT), CAIRN_RECHECK_INTERVAL="1")
    with (
        RedisServer() as redis,
        world(
            env,
            database_url=postgres_server.url_for("cairn_security"),
            redis_url=redis.url,
            home=tmp / "home",
        ) as w,
    ):
        w.state.add_installation(EVIL_INSTALLATION, APP_ID, [EVIL])
        with cairn(w, tmp / "logs") as procs:
            yield w, procs
            assert not procs.tracebacks(), "\n".join(procs.tracebacks())


def _latest(w: World, repo: str, head: str) -> dict[str, tuple[str, str | None, str]]:
    with w.state.lock:
        return {
            r.name: (r.status, r.conclusion, r.summary or "")
            for r in w.state.runs(repo)
            if r.head_sha == head
        }


def _completed(w: World, repo: str, head: str, after: int = 0) -> bool:
    with w.state.lock:
        runs = [r for r in w.state.runs(repo) if r.head_sha == head][after:]
    return len(runs) >= 3 and all(r.status == "completed" for r in runs[-3:])


def test_a_catastrophic_pull_request_of_one_installation_does_not_hold_anothers_review(
    app: tuple[World, Processes],
) -> None:
    w, _ = app
    evil_base = {**BASE, "docs/adr/0001-keep-exports-plain.md": CATASTROPHIC_ADR}
    base = w.state.commit(EVIL, evil_base, "base", branch="main")
    head_files = {
        **evil_base,
        "exports/runs.py": "RUNS = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'\n",
        "docs/adr/0002-bomb.md": f"---\n{BOMB}---\n# 2. Bomb\n",
        # forty decision records at the reader's size cap (256 KiB each): a second or more of
        # reading each, far more than the analysis is given
        **{
            f"docs/adr/{n:04d}-storage-{n}.md": f"# {n}. Storage {n}\n\nStatus: accepted\n\n"
            + "We will use PostgreSQL instead of MySQL, and not MongoDB or Redis for sessions.\n"
            * 3_300
            for n in range(3, 43)
        },
    }
    evil_head = w.state.commit(EVIL, head_files, "hostile", parents=[base])
    w.state.open_pull_request(EVIL, base, evil_head, number=1)
    w.open_pull_request(1)  # installation B: one planted duplicate

    assert (
        w.state.deliver("pull_request", _opened(w, EVIL, EVIL_INSTALLATION, 1)).status_code == 202
    )
    time.sleep(1.0)  # the hostile review has started
    sent = time.monotonic()
    assert w.post(1).status_code == 202

    wait_for(lambda: w.reviewed(1), "installation B's review", timeout=30)
    assert time.monotonic() - sent < 30
    assert w.comments(1) == 1

    # the hostile one ends too, in completed runs that say why it was not (fully) reviewed
    wait_for(
        lambda: _completed(w, EVIL, evil_head), "the hostile runs", timeout=ANALYSIS_TIMEOUT * 6
    )
    runs = _latest(w, EVIL, evil_head)
    assert set(runs) == set(RUN_NAMES)
    for name, (_, conclusion, summary) in runs.items():
        assert conclusion == "neutral", (name, conclusion, summary)
        assert f"the analysis took longer than {ANALYSIS_TIMEOUT} s" in summary, summary


def test_an_outsiders_ignore_and_recheck_leave_the_failing_run_failing(
    app: tuple[World, Processes],
) -> None:
    w, _ = app
    number = 2
    # the rule is the base's (a pull request cannot configure its own review)
    base = w.state.commit(REPO, {**BASE, ".cairn.yml": NO_PRINT}, "rules", parents=[w.base])
    files = {**BASE, ".cairn.yml": NO_PRINT, "exports/csv.py": "def log(x):\n    print(x)\n"}
    head = w.state.commit(REPO, files, "prints", parents=[base])
    w.state.open_pull_request(REPO, base, head, number=number)
    w.heads[number] = head
    assert w.post(number).status_code == 202
    wait_for(lambda: _completed(w, REPO, head), "the first review", timeout=60)
    assert _latest(w, REPO, head)["cairn/patterns"][1] == "failure"
    with w.state.lock:
        [finding] = [c for c in w.state.review_comments(REPO, number) if c.in_reply_to_id is None]
    assert FINDING_MARKER.search(finding.body)

    for association in ("NONE", "CONTRIBUTOR"):
        _command(
            w, number, "/cairn ignore fine by me @org/team", "mallory", association, finding.id
        )
    _command(w, number, "/cairn recheck", "mallory", "NONE", finding.id)

    def answered() -> bool:
        with w.state.lock:
            return any(
                c.in_reply_to_id == finding.id for c in w.state.review_comments(REPO, number)
            )

    wait_for(answered, "the refusal", timeout=30)
    time.sleep(3)  # time for anything else the commands might (wrongly) have queued
    with w.state.lock:
        replies = [c.body for c in w.state.review_comments(REPO, number) if c.in_reply_to_id]
        patterns_runs = [r for r in w.state.runs(REPO, "cairn/patterns") if r.head_sha == head]
    assert len(replies) == 1 and "only from people with write access" in replies[0]
    assert "@" not in replies[0]
    assert len(patterns_runs) == 1 and patterns_runs[0].conclusion == "failure"

    # the same from a maintainer: recorded, and the recheck's run succeeds
    w.state.grant(REPO, "maria", "maintain")
    _command(w, number, "/cairn ignore logging lands next sprint", "maria", "MEMBER", finding.id)
    wait_for(
        lambda: len([c for c in w.state.review_comments(REPO, number) if c.in_reply_to_id]) == 2,
        "the acknowledgement",
        timeout=30,
    )
    time.sleep(1.5)  # past CAIRN_RECHECK_INTERVAL since the refused recheck
    _command(w, number, "/cairn recheck", "maria", "MEMBER", finding.id)
    wait_for(lambda: _completed(w, REPO, head, after=3), "the recheck", timeout=60)
    assert _latest(w, REPO, head)["cairn/patterns"][1] == "success"


def _slow_client(url: str) -> socket.socket:
    """A client that sends its headers and then one byte of a 1,000-byte body."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        b"POST /webhooks HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\n"
        b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow\r\nContent-Length: 1000\r\n\r\n{"
    )
    return sock


def test_slow_clients_are_cut_off_and_cannot_take_every_connection(
    cairn_env: dict[str, str], postgres_server: PostgresServer, tmp_path: Path
) -> None:
    postgres_server.start()
    postgres_server.psql("CREATE DATABASE cairn_slow")
    env = dict(cairn_env, CAIRN_BODY_TIMEOUT="2", CAIRN_MAX_REQUESTS="2")
    with (
        RedisServer() as redis,
        world(
            env,
            database_url=postgres_server.url_for("cairn_slow"),
            redis_url=redis.url,
            home=tmp_path / "home",
        ) as w,
        cairn(w, tmp_path / "logs", workers=0) as procs,
    ):
        slow = [_slow_client(procs.url) for _ in range(2)]
        time.sleep(0.3)
        busy = httpx.get(f"{procs.url}/healthz", timeout=10)
        assert busy.status_code == 503  # over CAIRN_MAX_REQUESTS: refused, not queued
        started = time.monotonic()
        answers = [sock.recv(200) for sock in slow]
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers
        assert time.monotonic() - started < 5
        for sock in slow:
            sock.close()
        assert httpx.get(f"{procs.url}/healthz", timeout=10).status_code == 200
