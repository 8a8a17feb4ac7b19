"""Fixes on fixture repositories (Python, TypeScript, Go): offered, applied, parsed, run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.shapes import syntax_errors
from app.git import GitRepo
from app.review import ReviewResult, review
from app.source import LocalSource
from app.store import Store
from checks.config import parse_config
from checks.finding import Finding
from checks.fix import apply_edits, edits_of
from tests.conftest import FIXTURES, GitRepoBuilder

CASES = FIXTURES / "fixes"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


async def _review_case(store: Store, repo: GitRepoBuilder, case: str) -> ReviewResult:
    base = _tree(CASES / case / "base")
    repo.write(base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(_tree(CASES / case / "head"))
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    config = parse_config(base.get(".cairn.yml"))
    return await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), config
    )


def _applied(repo: GitRepoBuilder, finding: Finding) -> dict[str, str]:
    """The fix applied to the working tree; the edited files' new text."""
    assert finding.fix is not None
    out = {}
    for path in finding.fix.paths:
        target = repo.root / path
        text = apply_edits(target.read_text(), edits_of(finding.fix, path))
        target.write_text(text)
        assert syntax_errors(path, text.encode()) == 0, text
        out[path] = text
    return out


def _with_fix(result: ReviewResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule and f.fix is not None]


async def test_python_copies_become_an_import_and_a_delegation_that_behave_alike(
    store: Store, repo: GitRepoBuilder
) -> None:
    result = await _review_case(store, repo, "py-clone")
    fixed = {f.start_line: f for f in _with_fix(result, "clone")}
    assert sorted(fixed) == [13, 29]
    # Same parameter names and defaults: an import under the copy's name.
    assert [(e.start_line, e.end_line, e.replacement) for e in fixed[29].fix.edits] == [  # type: ignore[union-attr]
        (29, 41, "from billing.dates import parse_iso_date as parse_date")
    ]
    # Parameters renamed: a one-line delegating function keeps the copy's signature.
    assert fixed[13].fix.edits[0].replacement == (  # type: ignore[union-attr]
        "from billing.dates import parse_iso_date\n"
        "def to_day(raw, fallback=None):\n"
        "    return parse_iso_date(raw, fallback)"
    )
    before = _run_samples(repo.root)
    for line in (29, 13):  # bottom first: the line numbers of the other stay true
        _applied(repo, fixed[line])
    after = _run_samples(repo.root)
    assert before == after
    assert "def to_day" in (repo.root / "exports/csv_export.py").read_text()


def _run_samples(root: Path) -> list[str]:
    code = (
        "import json\n"
        "from billing.dates import parse_iso_date\n"
        "from exports.csv_export import to_day, parse_date\n"
        "out = []\n"
        "for f in (parse_iso_date, to_day, parse_date):\n"
        "    for args in (('2024-03-01',), ('2024-03-01T10:00:00',), (None, 'x'), ('  ', 7),"
        " ('2024-3',), (20240301,)):\n"
        "        try:\n"
        "            out.append(repr(f(*args)))\n"
        "        except ValueError as exc:\n"
        "            out.append('ValueError: ' + str(exc))\n"
        "    out.append(repr(f(value='2024-01-02') if f is not to_day else f(raw='2024-01-02')))\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    results: list[str] = json.loads(done.stdout)
    third = len(results) // 3
    assert results[:third] == results[third : 2 * third] == results[2 * third :]
    return results


async def test_no_python_fix_when_the_import_would_be_a_cycle(
    store: Store, repo: GitRepoBuilder
) -> None:
    base = _tree(CASES / "py-clone" / "base")
    base["billing/dates.py"] = "from exports import csv_export\n" + base["billing/dates.py"]
    repo.write(base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(_tree(CASES / "py-clone" / "head"))
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), parse_config(None)
    )
    clones = [f for f in result.findings if f.rule == "clone"]
    assert len(clones) == 2 and all(f.fix is None for f in clones)


async def test_no_fix_for_a_copy_whose_literals_differ(store: Store, repo: GitRepoBuilder) -> None:
    base = _tree(CASES / "py-clone" / "base")
    head = _tree(CASES / "py-clone" / "head")
    head["exports/csv_export.py"] = head["exports/csv_export.py"].replace(
        'split("T", 1)', 'split("T", 2)'
    )
    repo.write(base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(head)
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), parse_config(None)
    )
    clones = [f for f in result.findings if f.rule == "clone"]
    assert len(clones) == 2
    assert [f.fix for f in clones] == [None, None]  # a renamed literal changes what it does


async def test_typescript_copy_becomes_an_import_kept_exported(
    store: Store, repo: GitRepoBuilder
) -> None:
    result = await _review_case(store, repo, "ts-clone")
    [finding] = _with_fix(result, "clone")
    assert finding.fix is not None
    assert [(e.path, e.start_line, e.end_line, e.replacement) for e in finding.fix.edits] == [
        (
            "src/exports/csv.ts",
            5,
            21,
            'import { parseIsoDate as toDay } from "../billing/dates";\nexport { toDay };',
        )
    ]
    _applied(repo, finding)


async def test_go_copy_in_the_same_package_delegates(store: Store, repo: GitRepoBuilder) -> None:
    result = await _review_case(store, repo, "go-clone")
    [finding] = _with_fix(result, "clone")
    assert finding.fix is not None
    assert finding.fix.edits[0].replacement == (
        "func toDay(raw string, format string) (time.Time, error) {\n"
        "\treturn parseISODate(raw, format)\n"
        "}"
    )
    _applied(repo, finding)


@pytest.mark.parametrize(
    ("case", "path", "line", "expected"),
    [
        pytest.param("py-prefer", "shop/rates.py", 3, "from shop.http import get", id="python"),
        pytest.param(
            "ts-prefer", "src/orders/sync.ts", 1, 'import { get } from "../lib/http";', id="ts"
        ),
    ],
)
async def test_prefer_rule_rewrites_the_import(
    store: Store, repo: GitRepoBuilder, case: str, path: str, line: int, expected: str
) -> None:
    result = await _review_case(store, repo, case)
    [finding] = _with_fix(result, "http-client")
    assert finding.fix is not None
    assert [(e.path, e.start_line, e.end_line, e.replacement) for e in finding.fix.edits] == [
        (path, line, line, expected)
    ]
    _applied(repo, finding)
    if case == "py-prefer":  # the call sites stay: `get` is now the shop's own
        _python(repo.root, "import shop.http, shop.rates; print(shop.rates.get is shop.http.get)")


async def test_prefer_rule_in_go_offers_no_fix(store: Store, repo: GitRepoBuilder) -> None:
    result = await _review_case(store, repo, "go-prefer")
    flagged = [f for f in result.findings if f.rule == "http-client"]
    assert flagged and all(f.fix is None for f in flagged)  # a Go package's name differs


@pytest.mark.parametrize(
    ("case", "path", "expected"),
    [
        pytest.param("py-naming", "billing/money.py", "def parse_amount(text):", id="python"),
        pytest.param(
            "ts-naming",
            "src/billing/money.ts",
            "export function parseAmount(text: string): number {",
            id="ts",
        ),
        pytest.param(
            "go-naming", "billing/money.go", "func parseAmount(text string) (int, error) {", id="go"
        ),
    ],
)
async def test_naming_rule_renames_a_new_unit(
    store: Store, repo: GitRepoBuilder, case: str, path: str, expected: str
) -> None:
    result = await _review_case(store, repo, case)
    [finding] = _with_fix(result, "billing-functions")
    assert finding.fix is not None
    [edit] = finding.fix.edits
    assert (edit.path, edit.replacement) == (path, expected)
    _applied(repo, finding)
    if case == "py-naming":
        code = "from billing.money import parse_amount; print(parse_amount('12.5') == 1250)"
        _python(repo.root, code)


def _python(root: Path, code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout == "True\n"


async def test_no_rename_when_the_change_uses_the_name(store: Store, repo: GitRepoBuilder) -> None:
    base = _tree(CASES / "py-naming" / "base")
    head = _tree(CASES / "py-naming" / "head")
    head["billing/total.py"] = (
        "from billing.money import parseAmount\n\nTOTAL = parseAmount('1.50')\n"
    )
    repo.write(base)
    repo.commit("base")
    repo.branch("feature")
    repo.write(head)
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"),
        parse_config(base[".cairn.yml"]),
    )  # fmt: skip
    flagged = [f for f in result.findings if f.rule == "billing-functions"]
    assert flagged and all(f.fix is None for f in flagged)


async def test_a_mined_naming_convention_renames_too(store: Store, repo: GitRepoBuilder) -> None:
    names = ["parse_total", "format_money", "round_cents", "add_tax", "split_lines", "net_price"]
    repo.write({f"billing/{n}.py": f"def {n}(value):\n    return value\n" for n in names})
    repo.commit("base")
    repo.branch("feature")
    repo.write({"billing/money.py": "def parseAmount(text):\n    return int(text)\n"})
    repo.commit("change")
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await review(
        store, row, LocalSource(git), git.resolve("main"), git.resolve("HEAD"), parse_config(None)
    )
    [finding] = [f for f in result.findings if f.rule == "naming"]
    assert finding.fix is not None
    assert [e.replacement for e in finding.fix.edits] == ["def parse_amount(text):"]
