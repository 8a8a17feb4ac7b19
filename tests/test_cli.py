"""End to end: the ``cairn`` executable on real git repositories and the embedded Postgres."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module
from tests.conftest import FIXTURES, GitRepoBuilder

pytestmark = pytest.mark.slow  # a cairn process per test

CAIRN = Path(sys.executable).parent / "cairn"


def cairn(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CAIRN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=240
    )


@pytest.fixture
def planted(repo: GitRepoBuilder) -> GitRepoBuilder:
    repo.write(
        {"billing/dates.py": module(PARSE_DATE), "billing/invoices.py": module(INVOICE_TOTAL)}
    )
    repo.commit("billing")
    repo.branch("feature/export")
    repo.write({"exports/csv.py": module(PARSE_DATE_RENAMED, UNRELATED)})
    repo.commit("export")
    return repo


def test_review_flags_the_planted_duplicate(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    proc = cairn(cairn_env, "review", "--repo", str(planted.root), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    [finding] = doc["findings"]
    assert finding["path"] == "exports/csv.py"
    assert finding["check"] == "duplication"
    assert finding["evidence"][0]["path"] == "billing/dates.py"
    assert finding["evidence"][0]["name"] == "parse_iso_date"
    assert finding["evidence"][0]["kind"] == "renamed"
    assert finding["fingerprint"]

    again = cairn(cairn_env, "review", "--repo", str(planted.root), "--format", "json")
    assert json.loads(again.stdout)["findings"][0]["fingerprint"] == finding["fingerprint"]


def test_review_text_and_fail_on(cairn_env: dict[str, str], planted: GitRepoBuilder) -> None:
    proc = cairn(cairn_env, "review", "--fail-on", "error", cwd=planted.root)
    assert proc.returncode == 0, proc.stderr
    assert "exports/csv.py" in proc.stdout and "billing/dates.py" in proc.stdout
    assert "\x1b[" not in proc.stdout  # not a terminal: no colour
    assert "to_day" in proc.stdout  # the excerpt of the new code


def test_review_sarif_is_valid(
    cairn_env: dict[str, str], planted: GitRepoBuilder, tmp_path: Path
) -> None:
    out = tmp_path / "cairn.sarif"
    proc = cairn(
        cairn_env, "review", "--repo", str(planted.root), "--format", "sarif", "-o", str(out)
    )
    assert proc.returncode == 1, proc.stderr
    log = json.loads(out.read_text())
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    [result] = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "exports/csv.py"
    assert (
        result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == "billing/dates.py"
    )


def test_scan_json(cairn_env: dict[str, str], planted: GitRepoBuilder) -> None:
    proc = cairn(cairn_env, "scan", "--repo", str(planted.root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == 2
    (family,) = doc["families"]
    assert [(m["path"], m["name"]) for m in family["members"]] == [
        ("billing/dates.py", "parse_iso_date"),
        ("exports/csv.py", "to_day"),
    ]
    assert family["kinds"] == ["renamed"] and family["section"] == "production"
    assert doc["summary"]["by_section"]["production"]["families"] == 1


def test_scan_formats_baseline_and_new_only(
    cairn_env: dict[str, str], planted: GitRepoBuilder, tmp_path: Path
) -> None:
    root = str(planted.root)
    baseline = tmp_path / "baseline.json"
    first = cairn(cairn_env, "scan", "--repo", root, "--format", "json", "-o", str(baseline))
    assert first.returncode == 0, first.stderr
    planted.write(
        {
            "tests/test_dates.py": module(PARSE_DATE.replace("parse_iso_date", "check_date")),
            "reports/copy.py": module(INVOICE_TOTAL),
            "tests/one.py": module(UNRELATED),
            "tests/two.py": module(UNRELATED),
        }
    ).commit("more copies")

    text = cairn(cairn_env, "scan", "--repo", root)
    assert text.returncode == 0, text.stderr
    assert "reports/copy.py" in text.stdout and "billing/invoices.py" in text.stdout
    assert "tests/test_dates.py" in text.stdout  # a test copy of production duplication
    assert "tests/one.py" not in text.stdout  # the tests' own duplication: its own section
    assert "Not listed: tests (--all lists them)." in text.stdout
    assert "tests/one.py" in cairn(cairn_env, "scan", "--repo", root, "--all").stdout

    argv = ["scan", "--repo", root, "--format", "json", "--baseline", str(baseline)]
    new = json.loads(cairn(cairn_env, *argv).stdout)
    assert sorted([m["path"] for m in f["members"]] for f in new["families"]) == [
        ["billing/dates.py", "exports/csv.py", "tests/test_dates.py"],  # grew: a new copy
        ["billing/invoices.py", "reports/copy.py"],
    ]
    assert new["summary"]["families"] == 3  # totals count every family
    assert new["summary"]["by_section"]["tests"]["families"] == 1

    html = cairn(cairn_env, "scan", "--repo", root, "--format", "html", "--all")
    assert html.returncode == 0, html.stderr
    assert html.stdout.startswith("<!DOCTYPE html>") and "<script" not in html.stdout
    assert "def invoice_total" in html.stdout  # the code, side by side
    assert "By directory" in html.stdout

    sarif = json.loads(cairn(cairn_env, "scan", "--repo", root, "--format", "sarif").stdout)
    assert len(sarif["runs"][0]["results"]) == 2

    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "clones": []}')
    refused = cairn(cairn_env, "scan", "--repo", root, "--baseline", str(bad))
    assert refused.returncode == 2 and "not a report of `cairn scan" in refused.stderr


def test_index_then_incremental(cairn_env: dict[str, str], planted: GitRepoBuilder) -> None:
    first = cairn(cairn_env, "index", "--repo", str(planted.root), "--ref", "main")
    assert first.returncode == 0, first.stderr
    assert "2 files" in first.stdout
    second = cairn(cairn_env, "index", "--repo", str(planted.root), "--ref", "main")
    assert "0 blobs parsed now" in second.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["review", "--base", "nope"], "unknown ref 'nope'", id="unknown-ref"),
        pytest.param(["scan", "--ref", "v9.9"], "unknown ref 'v9.9'", id="unknown-scan-ref"),
    ],
)
def test_bad_refs_exit_2(
    cairn_env: dict[str, str], planted: GitRepoBuilder, args: list[str], message: str
) -> None:
    proc = cairn(cairn_env, *args, "--repo", str(planted.root))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_a_repository_and_empty_repository(cairn_env: dict[str, str], tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = cairn(cairn_env, "review", "--repo", str(plain))
    assert proc.returncode == 2 and "is not a git repository" in proc.stderr
    empty = GitRepoBuilder(tmp_path / "empty")
    proc = cairn(cairn_env, "index", "--repo", str(empty.root))
    assert proc.returncode == 2 and "no commits yet" in proc.stderr


def test_broken_config_lists_every_error(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    planted.write({".cairn.yml": "duplication:\n  min_tokens: lots\n  treshold: 0.9\n"}).commit(
        "config"
    )
    # the branch's own file, asked for with --head-config (by default the base's is read)
    proc = cairn(
        cairn_env, "review", "--repo", str(planted.root), "--base", "main", "--head-config"
    )
    assert proc.returncode == 2
    assert "min_tokens: must be a whole number" in proc.stderr
    assert "treshold: unknown key (did you mean 'threshold'?)" in proc.stderr


@pytest.mark.parametrize(
    "switch_off",
    [
        pytest.param("duplication: {exclude: ['**']}\n", id="exclude-everything"),
        pytest.param("duplication: {min_tokens: 100000}\n", id="raise-the-floor"),
    ],
)
def test_a_branch_cannot_switch_its_own_gate_off(
    cairn_env: dict[str, str], planted: GitRepoBuilder, switch_off: str
) -> None:
    planted.write({".cairn.yml": switch_off}).commit("nothing to see here")

    proc = cairn(cairn_env, "review", "--repo", str(planted.root), "--base", "main")
    assert proc.returncode == 1, proc.stderr  # the base's configuration: the copy is found

    tried = cairn(
        cairn_env, "review", "--repo", str(planted.root), "--base", "main", "--head-config"
    )
    assert tried.returncode == 0, tried.stderr  # only when asked for, the branch's own


def test_database_without_pgvector_exits_2(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    env = dict(cairn_env, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres")
    proc = cairn(env, "index", "--repo", str(planted.root))
    assert proc.returncode == 2
    assert "no 'vector' extension" in proc.stderr


def test_demo(cairn_env: dict[str, str], tmp_path: Path) -> None:
    proc = cairn(cairn_env, "demo", "--dir", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "exports/csv_export.py" in proc.stdout
    assert "billing/dates.py" in proc.stdout and "parse_iso_date" in proc.stdout
    # one finding of each check
    for check in ("duplication/clone", "patterns/wrapped-dependency", "decisions/adr-0001"):
        assert check in proc.stdout, proc.stdout
    assert "3 findings in 1 file: 3 warnings" in proc.stdout


def test_help_says_what_each_command_does(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["review", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # as argparse wraps it for the terminal
    assert "duplicated code, broken patterns and overridden decisions" in out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    assert "130 interrupted" in " ".join(capsys.readouterr().out.split())


def test_two_processes_index_the_same_repository_at_once(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    procs = [
        subprocess.Popen(
            [str(CAIRN), "index", "--repo", str(planted.root)],
            env=cairn_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    parsed = sorted(int(out.split("(")[1].split(" blobs")[0]) for out, _ in outputs)
    assert parsed == [0, 3]  # one of them parsed the three blobs; the other found them indexed


def test_unreachable_database_exits_2(cairn_env: dict[str, str], planted: GitRepoBuilder) -> None:
    env = dict(cairn_env, DATABASE_URL="postgresql://cairn@127.0.0.1:9/cairn")
    proc = cairn(env, "review", "--repo", str(planted.root))
    assert proc.returncode == 2
    assert "cannot connect to DATABASE_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_file_of_55000_functions_is_reviewed_in_part_and_says_so(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    many = "".join(f"def f{i:05d}(): pass\n" for i in range(55_000))  # just under 1 MiB
    planted.write({"exports/many.py": many}).commit("many")
    proc = cairn(cairn_env, "review", "--repo", str(planted.root), "--base", "main")
    assert proc.returncode == 1, proc.stderr  # the planted duplicate is still found
    assert "skipped exports/many.py: in part: 55,000 functions and classes, the first 2,000" in (
        proc.stderr
    )


@pytest.mark.slow
def test_an_analysis_over_its_time_is_killed_and_the_review_says_why(
    cairn_env: dict[str, str], planted: GitRepoBuilder
) -> None:
    planted.git("checkout", "-q", "main")
    planted.write({"docs/adr/0001-keep.md": "# 1. Keep\n\nStatus: accepted\n"}).commit("log")
    planted.git("checkout", "-q", "-b", "big-log")
    # a decision log of twelve records at the reader's size cap (256 KiB each): a second or more
    # of reading per record, far more than the 3 s this review is given
    prose = "We will use PostgreSQL instead of MySQL, and not MongoDB or Redis for sessions.\n"
    planted.write(
        {
            f"docs/adr/{n:04d}-storage-{n}.md": f"# {n}. Storage {n}\n\nStatus: accepted\n\n"
            + prose * 3_300
            for n in range(2, 14)
        }
    )
    planted.commit("a big decision log")
    env = dict(cairn_env, CAIRN_ANALYSIS_TIMEOUT="3")
    started = time.monotonic()
    proc = cairn(env, "review", "--repo", str(planted.root), "--base", "main")
    assert proc.returncode == 2, proc.stderr
    assert "the analysis took longer than 3 s" in proc.stderr
    assert time.monotonic() - started < 60
