from __future__ import annotations

from pathlib import Path

from app.clones import scan
from app.git import GitRepo
from app.review import ReviewResult, review
from app.source import LocalSource
from app.store import Store
from checks.config import CairnConfig, DuplicationConfig
from tests.app.samples import (
    INVOICE_TOTAL,
    PARSE_DATE,
    PARSE_DATE_NEAR_MISS,
    PARSE_DATE_RENAMED,
    UNRELATED,
    module,
)
from tests.conftest import GitRepoBuilder


async def _review(
    store: Store,
    repo: GitRepoBuilder,
    base: str = "main",
    head: str = "HEAD",
    config: CairnConfig | None = None,
) -> ReviewResult:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    return await review(
        store, row, LocalSource(git), git.resolve(base), git.resolve(head), config or CairnConfig()
    )


def _base(repo: GitRepoBuilder) -> None:
    repo.write(
        {
            "billing/dates.py": module(PARSE_DATE),
            "billing/invoices.py": module(INVOICE_TOTAL),
            "reports/table.py": module(UNRELATED),
        }
    )
    repo.commit("base")
    repo.branch("feature")


async def test_renamed_copy_is_flagged_with_the_original(
    store: Store, repo: GitRepoBuilder
) -> None:
    _base(repo)
    repo.write({"exports/csv.py": module(PARSE_DATE_RENAMED)})
    repo.commit("export")

    result = await _review(store, repo)

    assert len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.check, finding.rule, finding.path) == ("duplication", "clone", "exports/csv.py")
    assert (finding.start_line, finding.end_line) == (4, 18)
    original = finding.evidence[0]
    assert (original.path, original.name, original.start_line) == (
        "billing/dates.py",
        "parse_iso_date",
        4,
    )
    assert original.kind == "renamed"
    assert "reuse it" in finding.message and "billing/dates.py:4" in finding.message


async def test_near_miss_copy_is_flagged(store: Store, repo: GitRepoBuilder) -> None:
    _base(repo)
    repo.write({"imports/reader.py": module(PARSE_DATE_NEAR_MISS)})
    repo.commit("reader")
    result = await _review(store, repo)
    assert [(f.path, f.evidence[0].path, f.evidence[0].kind) for f in result.findings] == [
        ("imports/reader.py", "billing/dates.py", "near-miss")
    ]


async def test_a_move_is_not_a_duplicate(store: Store, repo: GitRepoBuilder) -> None:
    _base(repo)
    repo.write({"common/dates.py": module(PARSE_DATE)})
    repo.remove("billing/dates.py")
    repo.commit("move dates to common")
    result = await _review(store, repo)
    assert result.findings == []


async def test_unrelated_new_code_is_not_flagged(store: Store, repo: GitRepoBuilder) -> None:
    _base(repo)
    repo.write(
        {
            "reports/extra.py": module(
                INVOICE_TOTAL.replace("invoice_total", "grand_total").replace("tax_rate", "rate"),
                header="",
            )
        }
    )
    repo.write({"reports/table.py": module(UNRELATED, header="")})
    repo.commit("same as base for table; a renamed invoice_total")
    result = await _review(store, repo)
    # Only the copy of invoice_total is a duplicate; editing table.py's header is not.
    assert [(f.path, f.evidence[0].name) for f in result.findings] == [
        ("reports/extra.py", "invoice_total")
    ]


async def test_editing_existing_duplication_is_not_reported_again(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write({"a.py": module(PARSE_DATE), "b.py": module(PARSE_DATE_RENAMED)})
    repo.commit("duplication that predates the change")
    repo.branch("feature")
    repo.write({"b.py": module(PARSE_DATE_RENAMED.replace("bad date", "invalid date"))})
    repo.commit("reword an error")
    result = await _review(store, repo)
    # No new clone: only the notice that a.py's copy was left as it was (edited-copy).
    assert [(f.rule, f.severity, [e.path for e in f.evidence]) for f in result.findings] == [
        ("edited-copy", "notice", ["a.py"])
    ]


async def test_copies_within_the_change_are_flagged(store: Store, repo: GitRepoBuilder) -> None:
    _base(repo)
    helper = UNRELATED.replace("render_table", "render_grid")
    repo.write(
        {
            "new/one.py": module(helper, header=""),
            "new/two.py": module(helper.replace("render_grid", "grid_text"), header=""),
        }
    )
    repo.commit("two copies of a new helper")
    result = await _review(store, repo)
    rules = sorted((f.rule, f.path) for f in result.findings)
    # Both also copy reports/table.py at base, which is what the reviewer must see first.
    assert rules == [("clone", "new/one.py"), ("clone", "new/two.py")]

    repo.checkout("main").branch("feature2")
    fresh = (
        PARSE_DATE.replace("parse_iso_date", "parse_stamp")
        .replace('"-"', '":"')
        .replace("date(year, month, day)", "time(year, month, day)")
    )
    repo.write(
        {
            "t/one.py": module(fresh, header=""),
            "t/two.py": module(fresh.replace("parse_stamp", "stamp"), header=""),
        }
    )
    repo.remove("billing/dates.py")  # the original goes away: only the sibling pair remains
    repo.commit("two copies, no original left")
    result = await _review(store, repo, base="main", head="feature2")
    assert [(f.rule, f.path, f.evidence[0].path) for f in result.findings] == [
        ("clone-in-change", "t/two.py", "t/one.py")
    ]


async def test_config_thresholds_and_excludes_apply(store: Store, repo: GitRepoBuilder) -> None:
    _base(repo)
    repo.write(
        {"legacy/csv.py": module(PARSE_DATE_RENAMED), "exports/csv.py": module(PARSE_DATE_RENAMED)}
    )
    repo.commit("two copies")
    excluded = CairnConfig(DuplicationConfig(exclude=("legacy/**",)))
    result = await _review(store, repo, config=excluded)
    assert {f.path for f in result.findings} == {"exports/csv.py"}
    strict = CairnConfig(DuplicationConfig(min_tokens=500))
    assert (await _review(store, repo, config=strict)).findings == []


async def test_findings_never_cite_another_repository(
    store: Store, repo: GitRepoBuilder, tmp_path: Path
) -> None:
    other = GitRepoBuilder(tmp_path / "tenant-b")
    other.write({"vendor_b/dates.py": module(PARSE_DATE)}).commit()
    git_b = GitRepo(other.root)
    row_b = await store.repository(f"local:{other.root}")
    await scan(store, row_b, LocalSource(git_b), git_b.resolve("HEAD"), CairnConfig())

    repo.write({"reports/table.py": module(UNRELATED)}).commit("base without the date parser")
    repo.branch("feature")
    repo.write({"exports/csv.py": module(PARSE_DATE_RENAMED)}).commit()
    result = await _review(store, repo)
    assert result.findings == []


async def test_scan_reports_one_family_of_the_three_copies(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write(
        {
            "a.py": module(PARSE_DATE),
            "b.py": module(PARSE_DATE_RENAMED),
            "c.py": module(PARSE_DATE_NEAR_MISS),
            "d.py": module(UNRELATED, INVOICE_TOTAL),
        }
    )
    repo.commit()
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    result = await scan(store, row, LocalSource(git), git.resolve("HEAD"), CairnConfig())
    (family,) = result.families
    assert [m.unit.path for m in family.members] == ["a.py", "b.py", "c.py"]
    assert family.kinds == ("renamed", "near-miss")
    pairs = sorted((c.a.path, c.b.path, c.kind) for c in family.pairs())
    assert pairs == [
        ("a.py", "b.py", "renamed"),
        ("a.py", "c.py", "near-miss"),
        ("b.py", "c.py", "near-miss"),
    ]


async def test_a_copied_module_is_one_file_copy_finding(store: Store, repo: GitRepoBuilder) -> None:
    repo.write({"billing/core.py": module(PARSE_DATE, INVOICE_TOTAL, UNRELATED)})
    repo.commit("base")
    repo.branch("feature")
    repo.write({"legacy/core_copy.py": module(PARSE_DATE, INVOICE_TOTAL, UNRELATED)})
    repo.commit("copy the module")

    result = await _review(store, repo)

    [finding] = result.findings
    assert (finding.rule, finding.path) == ("file-copy", "legacy/core_copy.py")
    assert "copies 3 units of `billing/core.py` (3 exact)" in finding.message
    assert [e.name for e in finding.evidence] == ["parse_iso_date", "invoice_total", "render_table"]
