"""Hostile pull requests, reviewed by a real worker against the simulated GitHub: each ends in
three completed check runs whose summary says what was skipped and why, and none breaks the
review of an ordinary pull request sent after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.app.samples import PARSE_DATE_RENAMED, module
from tests.github_sim.state import PATCH_MAX_LINES, Submodule
from tests.reliability.harness import (
    BASE,
    REPO,
    RUN_NAMES,
    Processes,
    World,
    cairn,
    wait_for,
    world,
)
from tests.servers import PostgresServer, RedisServer

LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _many_files(count: int) -> dict[str, str | bytes]:
    return {
        f"generated_api/m{i:04d}.py": f"def handler_{i}(request):\n    return {i}\n"
        for i in range(count)
    }


def _nested_python(depth: int) -> str:
    return "VALUE = " + "[" * depth + "1" + "]" * depth + "\n"


def _nested_js(depth: int) -> str:
    return "export const value = " + "(" * depth + "1" + ")" * depth + ";\n"


@dataclass(frozen=True)
class Case:
    number: int
    files: dict[str, str | bytes | Submodule]  # on top of the base
    removed: tuple[str, ...] = ()
    summary: tuple[str, ...] = ()  # what every run's summary must say


CASES = {
    "3000-files": Case(
        1,
        _many_files(3_100),
        summary=("lists only 3,000 of this pull request's 3,100", "reviews at most 500"),
    ),
    "100000-line-diff": Case(
        2,
        {"billing/ledger.py": "".join(f"entry_{i} = {i}\n" for i in range(100_000))},
        summary=("`billing/ledger.py` skipped: too-large",),
    ),
    "binary-and-lfs": Case(
        3,
        {
            "assets/logo.png": PNG,
            "billing/blob.py": b"\x00\x01binary\x00" * 100,
            "models/weights.py": LFS_POINTER,
        },
        summary=("`billing/blob.py` skipped: binary", "`models/weights.py` skipped: lfs-pointer"),
    ),
    "non-utf8": Case(
        4,
        {"billing/legacy.py": "# -*- coding: latin-1 -*-\nNAME = 'café'\n".encode("latin-1")},
        summary=("billing/legacy.py",),
    ),
    "minified": Case(
        5,
        {"static/app.min.js": "var a=1;" * 40_000, "static/bundle.js": "var b=2;" * 40_000},
        summary=("`static/bundle.js` skipped: minified",),
    ),
    "deeply-nested": Case(
        6,
        {"billing/nested.py": _nested_python(5_000), "web/nested.js": _nested_js(5_000)},
    ),
    "submodule": Case(
        8,
        {"vendor/parser": Submodule("5" * 40), "vendor/parser.py": Submodule("6" * 40)},
        summary=("`vendor/parser` skipped: submodule", "`vendor/parser.py` skipped: submodule"),
    ),
    "renames-and-deletions": Case(
        7,
        {
            "billing/parsing.py": BASE["billing/dates.py"],
            "exports/csv.py": module(PARSE_DATE_RENAMED),
        },
        removed=("billing/dates.py", "reports/table.py"),
    ),
}


@pytest.fixture(scope="module")
def hostile(
    cairn_env: dict[str, str],
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[World, Processes]]:
    tmp = tmp_path_factory.mktemp("hostile")
    postgres_server.start()
    postgres_server.psql("CREATE DATABASE cairn_hostile")
    with (
        RedisServer() as redis,
        world(
            cairn_env,
            database_url=postgres_server.url_for("cairn_hostile"),
            redis_url=redis.url,
            home=tmp / "home",
        ) as w,
        cairn(w, tmp / "logs") as procs,
    ):
        yield w, procs
        assert not procs.tracebacks(), "\n".join(procs.tracebacks())


def _open(w: World, case: Case) -> str:
    files = {p: c for p, c in (BASE | case.files).items() if p not in case.removed}
    head = w.state.commit(REPO, files, f"hostile {case.number}", parents=[w.base])
    w.state.open_pull_request(REPO, w.base, head, number=case.number)
    w.heads[case.number] = head
    return head


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_pull_request_ends_in_completed_runs(
    hostile: tuple[World, Processes], name: str
) -> None:
    w, _ = hostile
    case = CASES[name]
    head = _open(w, case)
    if name == "100000-line-diff":  # like GitHub, the simulator leaves the patch out
        [huge] = [f for f in w.state.pulls[(REPO, case.number)].files if f.additions > 1]
        assert huge.patch is None and huge.additions == 100_000 > PATCH_MAX_LINES
    assert w.post(case.number).status_code == 202

    def completed() -> bool:
        runs = w.latest_runs(head)
        return len(runs) == 3 and all(status == "completed" for status, _ in runs.values())

    wait_for(completed, f"the runs of {name}", timeout=240)
    with w.state.lock:
        latest = {r.name: r for r in w.state.runs(REPO) if r.head_sha == head}
    assert set(latest) == set(RUN_NAMES)
    for run in latest.values():
        assert run.conclusion in ("success", "neutral"), (run.name, run.conclusion, run.summary)
        for words in case.summary:
            assert words in (run.summary or ""), (run.name, words, run.summary)


@pytest.mark.parametrize(
    "base_kind",
    [
        # the base branch was force-pushed: the old base commit is off the branch but GitHub
        # still serves it
        pytest.param("orphaned", id="base-off-the-branch"),
        # ... or GitHub no longer knows it at all
        pytest.param("unknown", id="base-unknown"),
    ],
)
def test_a_pull_request_whose_base_was_force_pushed_ends_in_completed_runs(
    hostile: tuple[World, Processes], base_kind: str
) -> None:
    w, _ = hostile
    number = 20 if base_kind == "orphaned" else 21
    old_base = w.state.commit(REPO, BASE | {"old.py": "X = 1\n"}, f"old base {number}")
    head = w.state.commit(
        REPO,
        BASE | {"old.py": "X = 1\n", "exports/csv.py": module(PARSE_DATE_RENAMED)},
        f"change {number}",
        parents=[old_base],
    )
    pr = w.state.open_pull_request(REPO, old_base, head, number=number)
    w.heads[number] = head
    if base_kind == "unknown":
        with w.state.lock:
            del w.state.repos[REPO].commits[old_base]
        assert pr.base_sha == old_base
    assert w.post(number).status_code == 202

    def completed() -> bool:
        runs = w.latest_runs(head)
        return len(runs) == 3 and all(status == "completed" for status, _ in runs.values())

    wait_for(completed, "the runs", timeout=120)
    with w.state.lock:
        latest = {r.name: r for r in w.state.runs(REPO) if r.head_sha == head}
    assert set(latest) == set(RUN_NAMES)
    for run in latest.values():
        if base_kind == "orphaned":  # reviewed against the old base: the copy is found
            assert run.conclusion in ("success", "neutral"), (run.name, run.summary)
        else:
            assert (run.conclusion, run.title) == ("neutral", "Not reviewed"), run
            assert f"base commit {old_base[:7]} is unknown to GitHub" in (run.summary or "")
    if base_kind == "orphaned":
        assert w.comments(number) == 1
