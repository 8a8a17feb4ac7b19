"""``cairn review --apply`` and the fixes in JSON and SARIF, end to end on a fixture repository."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from analyzers.shapes import syntax_errors
from tests.conftest import FIXTURES, GitRepoBuilder
from tests.test_cli import cairn

pytestmark = pytest.mark.slow  # a cairn process per test


def _fixture(repo: GitRepoBuilder) -> GitRepoBuilder:
    case = FIXTURES / "fixes" / "py-clone"
    for side in ("base", "head"):
        root = case / side
        repo.write(
            {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}
        )
        repo.commit(side)
        if side == "base":
            repo.branch("feature")
    return repo


def test_json_and_sarif_carry_the_fixes(cairn_env: dict[str, str], repo: GitRepoBuilder) -> None:
    _fixture(repo)
    proc = cairn(
        cairn_env, "review", "--repo", str(repo.root), "--base", "main", "--format", "json"
    )
    doc = json.loads(proc.stdout)
    fixes = {f["start_line"]: f["fix"] for f in doc["findings"] if f["rule"] == "clone"}
    assert fixes[29] == {
        "description": "Use `parse_iso_date` from `billing/dates.py` instead of the copy "
        "`parse_date`.",
        "edits": [
            {
                "path": "exports/csv_export.py",
                "start_line": 29,
                "end_line": 41,
                "replacement": "from billing.dates import parse_iso_date as parse_date",
            }
        ],
    }
    proc = cairn(
        cairn_env, "review", "--repo", str(repo.root), "--base", "main", "--format", "sarif"
    )
    log = json.loads(proc.stdout)
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)
    results = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r
        for r in log["runs"][0]["results"]
    }
    [change] = results[29]["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "exports/csv_export.py"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 29, "endLine": 41},
            "insertedContent": {"text": "from billing.dates import parse_iso_date as parse_date"},
        }
    ]


def test_apply_writes_the_fixes_and_the_module_still_works(
    cairn_env: dict[str, str], repo: GitRepoBuilder
) -> None:
    _fixture(repo)
    proc = cairn(cairn_env, "review", "--repo", str(repo.root), "--base", "main", "--apply")
    assert proc.returncode == 0, proc.stderr
    assert "fixed exports/csv_export.py:29-41 (duplication/clone, -13 +1 lines)" in proc.stderr
    assert "fixed exports/csv_export.py:13-26 (duplication/clone, -14 +3 lines)" in proc.stderr
    assert "2 of 2 fixes applied" in proc.stderr
    text = (repo.root / "exports/csv_export.py").read_text()
    assert "from billing.dates import parse_iso_date as parse_date\n" in text
    assert "    return parse_iso_date(raw, fallback)\n" in text
    assert syntax_errors("exports/csv_export.py", text.encode()) == 0
    run = subprocess.run(
        [sys.executable, "-c", "from exports.csv_export import to_day, parse_date;"
         "print(to_day('2024-03-01T10:00'), parse_date(None, 5))"],
        cwd=repo.root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert run.stdout == "2024-03-01 5\n"


def test_apply_never_touches_a_dirty_file(cairn_env: dict[str, str], repo: GitRepoBuilder) -> None:
    _fixture(repo)
    target = repo.root / "exports/csv_export.py"
    dirty = target.read_text() + "\n# work in progress\n"
    target.write_text(dirty)
    proc = cairn(cairn_env, "review", "--repo", str(repo.root), "--base", "main", "--apply")
    assert proc.returncode == 1
    assert "not applied exports/csv_export.py:13 (duplication/clone): dirty" in proc.stderr
    assert "0 of 2 fixes applied" in proc.stderr
    assert target.read_text() == dirty
