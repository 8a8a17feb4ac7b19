"""``cairn action`` as a runner starts it: real event payloads, a git workspace with a planted
duplicate, and ``GITHUB_API_URL`` pointing at the GitHub simulator; and the composite action's
own steps, run with bash as a runner would.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from analyzers.diff import parse_patch, parse_unified_diff
from app.action import escape_data, escape_property, workflow_command
from app.git import GitRepo
from app.github import Installation
from app.store import Store
from checks.finding import Evidence, Finding, Severity
from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module
from tests.conftest import FIXTURES, GitRepoBuilder
from tests.github_sim import State, serve

pytestmark = pytest.mark.slow  # real bash steps, a pip install, the simulator over HTTP

CAIRN = Path(sys.executable).parent / "cairn"
ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = ROOT / "action" / "action.yml"
INSTALLATION = 31
PAYLOAD = json.loads((FIXTURES / "webhooks" / "pull_request.opened.json").read_text())
REPO = PAYLOAD["repository"]["full_name"]  # "Codertocat/Hello-World"
NUMBER = PAYLOAD["number"]
BASE = {
    "billing/dates.py": module(PARSE_DATE),
    "billing/invoices.py": module(INVOICE_TOTAL),
}
HEAD = {**BASE, "exports/csv.py": module(PARSE_DATE_RENAMED, UNRELATED)}
# the simulator's commits carry this stamp: the workspace's commits do too, so shas match
STAMP = "@1700000000 +0000"


@dataclass
class World:
    state: State
    api_url: str
    token: str
    workspace: Path
    base: str
    head: str
    tmp: Path
    env: dict[str, str]

    def event(self, name: str = "pull_request", **changes: Any) -> Path:
        """A real ``pull_request`` payload, on the simulator's repository and the workspace's
        commits; ``changes`` as "dotted.path": value."""
        payload = copy.deepcopy(PAYLOAD)
        payload["pull_request"]["base"]["sha"] = self.base
        payload["pull_request"]["head"]["sha"] = self.head
        for dotted, value in changes.items():
            *keys, last = dotted.split(".")
            node = payload
            for key in keys:
                node = node[key]
            node[last] = value
        path = self.tmp / f"event-{name}.json"
        path.write_text(json.dumps(payload))
        return path

    def run(
        self, *args: str, event: Path | None = None, name: str = "pull_request", **env: str
    ) -> subprocess.CompletedProcess[str]:
        for f in ("output", "summary"):
            (self.tmp / f).unlink(missing_ok=True)
        full = dict(
            self.env,
            GITHUB_EVENT_NAME=name,
            GITHUB_EVENT_PATH=str(event or self.event(name)),
            GITHUB_OUTPUT=str(self.tmp / "output"),
            GITHUB_STEP_SUMMARY=str(self.tmp / "summary"),
            **env,
        )
        return subprocess.run(
            [str(CAIRN), "action", *args],
            env=full,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            timeout=240,
        )

    def outputs(self) -> dict[str, str]:
        lines = (self.tmp / "output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)

    def summary(self) -> str:
        return (self.tmp / "summary").read_text()


def runner_env(cairn_env: dict[str, str]) -> dict[str, str]:
    """The test's environment without the GITHUB_* of whatever runs the tests."""
    return {k: v for k, v in cairn_env.items() if not k.startswith(("GITHUB_", "RUNNER_"))}


@pytest.fixture
def world(
    cairn_env: dict[str, str],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    monkeypatch.setenv("GIT_AUTHOR_DATE", STAMP)
    monkeypatch.setenv("GIT_COMMITTER_DATE", STAMP)
    ws = GitRepoBuilder(tmp_path / "workspace")
    ws.write(BASE)
    base = ws.commit("base")
    ws.branch("feature")
    ws.write(HEAD)
    head = ws.commit("head")

    state = State()
    state.add_installation(INSTALLATION, 1, [REPO])
    assert state.commit(REPO, BASE, "base", branch="main") == base
    assert state.commit(REPO, HEAD, "head", parents=[base]) == head
    state.open_pull_request(REPO, base, head, number=NUMBER)
    token = state.issue_token(INSTALLATION).value
    with serve(state) as api_url:
        env = dict(
            runner_env(cairn_env),
            GITHUB_REPOSITORY=REPO,
            GITHUB_SHA=head,
            GITHUB_API_URL=api_url,
            GITHUB_SERVER_URL="https://github.example.com",
            GITHUB_TOKEN=token,
            GITHUB_WORKSPACE=str(ws.root),
            RUNNER_TEMP=str(tmp_path),
        )
        yield World(state, api_url, token, ws.root, base, head, tmp_path, env)
    assert state.unknown_routes == []


def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    return schema


def test_pull_request_publishes_check_runs_comment_sarif_summary_outputs(world: World) -> None:
    sarif = world.tmp / "out" / "cairn.sarif"
    proc = world.run("--sarif-file", str(sarif))
    assert proc.returncode == 0, proc.stderr  # the duplicate is a warning; fail-on is error
    assert "::" not in proc.stdout  # published: no workflow commands

    state = world.state
    runs = {r.name: (r.head_sha, r.status, r.conclusion) for r in state.runs(REPO)}
    assert runs == {
        "cairn/duplication": (world.head, "completed", "neutral"),
        "cairn/patterns": (world.head, "completed", "success"),
        "cairn/decisions": (world.head, "completed", "success"),
    }
    dup = state.check_run(REPO, "cairn/duplication")
    [annotation] = dup.annotations
    assert annotation["path"] == "exports/csv.py"
    assert dup.summary is not None
    assert "https://github.example.com/Codertocat/Hello-World/blob/" in dup.summary
    [comment] = state.review_comments(REPO, NUMBER)
    assert comment.path == "exports/csv.py"
    assert comment.commit_id == world.head
    assert "billing/dates.py" in comment.body

    log = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.FormatChecker()).validate(
        log
    )
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "exports/csv.py"

    assert world.outputs() == {
        "duplication": "1",
        "patterns": "0",
        "decisions": "0",
        "findings": "1",
        "conclusion": "neutral",
    }
    summary = world.summary()
    assert summary.startswith("## Cairn: neutral")
    assert "exports/csv.py" in summary and "billing/dates.py" in summary
    assert "1 new inline comments" in summary

    # a re-run of the job: new check runs, nothing commented twice; fail-on decides the exit
    again = world.run("--fail-on", "warning")
    assert again.returncode == 1, again.stderr
    assert len(state.review_comments(REPO, NUMBER)) == 1
    assert len(state.reviews[(REPO, NUMBER)]) == 1
    assert world.outputs()["conclusion"] == "failure"
    assert "0 new inline comments, 1 already commented" in world.summary()
    assert all(r.status == "completed" for r in state.runs(REPO))


def test_no_comment_keeps_to_check_runs(world: World) -> None:
    proc = world.run("--no-comment")
    assert proc.returncode == 0, proc.stderr
    assert world.state.check_run(REPO, "cairn/duplication").conclusion == "neutral"
    assert world.state.review_comments(REPO, NUMBER) == []


def test_a_broken_configuration_completes_neutral_runs_and_exits_2(
    world: World, tmp_path: Path
) -> None:
    config = tmp_path / "broken.yml"
    config.write_text("duplication:\n  min_tokens: lots\nfail_on: sometimes\n")
    proc = world.run("--config", str(config))
    assert proc.returncode == 2
    assert "min_tokens: must be a whole number" in proc.stderr
    runs = world.state.runs(REPO)
    assert {(r.name, r.status, r.conclusion) for r in runs} == {
        (name, "completed", "neutral")
        for name in ("cairn/duplication", "cairn/patterns", "cairn/decisions")
    }
    for run in runs:  # fail_on (not a mapping) concerns every check; min_tokens one
        assert run.summary is not None and "fail_on: must be a mapping" in run.summary
        assert ("min_tokens" in run.summary) == (run.name == "cairn/duplication")
    assert "min_tokens" in world.summary() and "(line 2)" in world.summary()
    assert world.state.review_comments(REPO, NUMBER) == []


@pytest.mark.parametrize(
    ("setting", "conclusion", "code"),
    [
        pytest.param("", "neutral", 0, id="default-neutral"),
        pytest.param("not_reviewed: failure\n", "failure", 1, id="not_reviewed-failure"),
    ],
)
def test_a_killed_analysis_concludes_as_not_reviewed_says(
    world: World, tmp_path: Path, setting: str, conclusion: str, code: int
) -> None:
    config = tmp_path / "cairn.yml"
    config.write_text(setting)
    proc = world.run("--config", str(config), CAIRN_ANALYSIS_TIMEOUT="0.001")
    assert proc.returncode == code, proc.stderr
    runs = world.state.runs(REPO)
    assert {(r.name, r.status, r.conclusion, r.title) for r in runs} == {
        (name, "completed", conclusion, "Not reviewed")
        for name in ("cairn/duplication", "cairn/patterns", "cairn/decisions")
    }
    assert "Not reviewed: " in world.summary()
    assert world.outputs()["conclusion"] == conclusion


def test_a_broken_patterns_section_leaves_the_other_checks_running(
    world: World, tmp_path: Path
) -> None:
    config = tmp_path / "patterns.yml"
    config.write_text("patterns:\n  layers:\n    - {name: api}\n")
    proc = world.run("--config", str(config))
    assert proc.returncode == 2
    assert "patterns.layers[0].paths: must list at least one glob (line 3)" in proc.stderr
    runs = {r.name: (r.status, r.conclusion, r.title) for r in world.state.runs(REPO)}
    assert runs["cairn/patterns"] == ("completed", "neutral", "1 problem in .cairn.yml")
    assert runs["cairn/duplication"][:2] == ("completed", "neutral")  # with its finding
    assert runs["cairn/decisions"][:2] == ("completed", "success")
    [comment] = world.state.review_comments(REPO, NUMBER)  # duplication still reviewed
    assert comment.path == "exports/csv.py"
    assert "patterns.layers[0].paths" in world.summary()


def test_a_read_only_token_falls_back_to_workflow_commands(world: World) -> None:
    world.state.fail_next(3, status=403)  # creating the three check runs is forbidden
    proc = world.run()
    assert proc.returncode == 0, proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert line.startswith("::warning file=exports/csv.py,line=")
    assert ",title=duplication/" in line
    assert "%0A" in line  # the evidence on its own line, escaped
    assert world.state.runs(REPO) == []
    assert world.state.review_comments(REPO, NUMBER) == []
    assert "annotations on this job only" in world.summary()
    assert world.outputs()["findings"] == "1"


def test_no_token_and_a_fork_never_call_github(world: World) -> None:
    proc = world.run(GITHUB_TOKEN="")
    assert proc.returncode == 0, proc.stderr
    assert "::warning file=exports/csv.py" in proc.stdout
    assert "no token" in world.summary()

    fork = world.event(**{"pull_request.head.repo.full_name": "someone/Hello-World"})
    proc = world.run("--fail-on", "warning", event=fork)
    assert proc.returncode == 1, proc.stderr
    assert "::warning file=exports/csv.py" in proc.stdout
    assert "fork" in world.summary()
    assert world.state.requests == []


def test_push_indexes_and_reports_nothing(world: World) -> None:
    push = json.loads((FIXTURES / "webhooks" / "push.json").read_text())
    push["after"] = world.head
    event = world.tmp / "push.json"
    event.write_text(json.dumps(push))
    proc = world.run(event=event, name="push")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "Indexed" in world.summary()
    assert world.state.requests == []


def test_a_shallow_checkout_fetches_the_base(world: World, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", "--branch=feature", f"file://{world.workspace}", clone],
        check=True,
    )
    assert not GitRepo(clone).has_commit(world.base)
    proc = world.run("--no-comment", GITHUB_WORKSPACE=str(clone))
    assert proc.returncode == 0, proc.stderr
    assert GitRepo(clone).has_commit(world.base)
    assert world.outputs()["duplication"] == "1"

    missing = world.event(**{"pull_request.base.sha": "0" * 40})
    proc = world.run(event=missing, GITHUB_WORKSPACE=str(clone))
    assert proc.returncode == 2
    assert "base commit 000000000000 is not in the checkout" in proc.stderr
    assert "fetch-depth: 0" in proc.stderr


def test_diff_with_context_gives_githubs_hunks(world: World) -> None:
    git = GitRepo(world.workspace)
    ours = {
        d.path: d.hunks for d in parse_unified_diff(git.diff(world.base, world.head, context=3))
    }
    pr = world.state.pulls[(REPO, NUMBER)]
    assert ours == {
        f.filename: parse_patch(
            f.patch or "", old_path=None, new_path=f.filename, status="added"
        ).hunks
        for f in pr.files
    }


async def test_installation_from_token(world: World) -> None:
    gh = Installation.from_token(world.token, world.api_url)
    pr = await gh.pull_request(REPO, NUMBER)
    assert (pr.head_sha, pr.base_sha) == (world.head, world.base)


@pytest.mark.parametrize(
    ("message", "escaped"),
    [
        pytest.param("100% sure\r\nreally", "100%25 sure%0D%0Areally", id="data"),
        pytest.param("a: b, c", "a: b, c", id="colon-comma-kept-in-data"),
    ],
)
def test_escape_data(message: str, escaped: str) -> None:
    assert escape_data(message) == escaped


def test_workflow_command_escapes_properties() -> None:
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    f = Finding(
        check="duplication",
        rule="clone",
        path="dir,with:odd/x.py",
        start_line=3,
        end_line=9,
        message="`f` re-implements `g`: reuse it.",
        severity=Severity.ERROR,
        evidence=(Evidence("lib.py", 1, 4, name="g"),),
    )
    assert workflow_command(f) == (
        "::error file=dir%2Cwith%3Aodd/x.py,line=3,endLine=9,title=duplication/clone (error)"
        "::`f` re-implements `g`: reuse it.%0Alib.py:1-4 g"
    )


# --- the composite action itself -----------------------------------------------------------


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION_YML.read_text())
    return data


def test_action_yml_is_valid_against_schemastore() -> None:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "github-actions.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(action())
    meta = action()
    assert set(meta["inputs"]) == {
        "github-token",
        "config",
        "fail-on",
        "comment",
        "sarif-file",
        "python-version",
    }
    assert meta["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert set(meta["outputs"]) == {
        "findings",
        "duplication",
        "patterns",
        "decisions",
        "conclusion",
    }
    assert meta["runs"]["using"] == "composite"


_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def test_composite_steps_run_with_bash(world: World, tmp_path: Path) -> None:
    """Every ``run:`` step in order, as a runner runs it (the ``uses:`` steps aside)."""
    # the action's own checkout: pip builds in the source tree, so not in the shared one
    source = tmp_path / "cairn-src"
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    for rel in filter(None, files.split("\0")):
        if (ROOT / rel).is_file() and not rel.startswith(("bench/", "tests/")):
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, source / rel)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    sarif = world.tmp / "action.sarif"
    inputs = {name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()}
    inputs |= {"github-token": world.token, "sarif-file": str(sarif)}
    context = {
        "github.token": world.token,
        "github.action_path": str(source / "action"),
        "runner.temp": str(runner_temp),
        "steps.python.outputs.python-path": sys.executable,
        **{f"inputs.{k}": v for k, v in inputs.items()},
    }

    def substitute(text: str) -> str:
        return _EXPRESSION.sub(lambda m: context[m[1]], text)

    env = dict(
        world.env,
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(world.event()),
        GITHUB_ACTION_PATH=str(source / "action"),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_OUTPUT=str(world.tmp / "output"),
        GITHUB_STEP_SUMMARY=str(world.tmp / "summary"),
    )
    env.pop("CAIRN_HOME")  # the action puts it under $RUNNER_TEMP
    ran = []
    for step in action()["runs"]["steps"]:
        if "uses" in step:
            continue
        assert step["shell"] == "bash"
        step_env = {k: substitute(str(v)) for k, v in (step.get("env") or {}).items()}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"])],
            env=env | step_env,
            cwd=world.workspace,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, (step["name"], proc.stdout, proc.stderr)
        ran.append(step["name"])
    assert ran == ["Install Cairn", "Review"]
    assert (runner_temp / "cairn-venv" / "bin" / "cairn").exists()
    assert (runner_temp / "cairn" / "pg").is_dir()  # the index, ready for actions/cache
    assert world.outputs()["duplication"] == "1"
    assert world.outputs()["conclusion"] == "neutral"
    assert world.state.check_run(REPO, "cairn/duplication").conclusion == "neutral"
    assert len(world.state.review_comments(REPO, NUMBER)) == 1
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert not (world.workspace / "app").exists()  # nothing of Cairn's in the workspace
