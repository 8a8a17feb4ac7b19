"""The repository scan: incremental between scans, families, and only this repository's pairs."""

from __future__ import annotations

from pathlib import Path

from app.clones import ScanResult, scan
from app.git import GitRepo
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


async def _scan(
    store: Store, repo: GitRepoBuilder, config: CairnConfig | None = None
) -> ScanResult:
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    return await scan(store, row, LocalSource(git), git.resolve("HEAD"), config or CairnConfig())


async def test_a_second_scan_compares_only_what_changed(store: Store, repo: GitRepoBuilder) -> None:
    repo.write({"a.py": module(PARSE_DATE), "d.py": module(UNRELATED, INVOICE_TOTAL)}).commit()
    first = await _scan(store, repo)
    assert first.families == [] and not first.incremental and first.compared == first.streams

    repo.write({"c.py": module(PARSE_DATE_NEAR_MISS)}).commit("a near-miss copy")
    second = await _scan(store, repo)
    assert second.incremental and second.compared == 1 < second.streams
    (family,) = second.families
    assert [m.unit.path for m in family.members] == ["a.py", "c.py"] and family.new

    third = await _scan(store, repo)  # nothing changed: nothing compared, the pair is kept
    assert third.compared == 0 and third.candidates == 0
    assert [f.id for f in third.families] == [family.id] and not third.families[0].new

    repo.remove("c.py").commit("gone again")
    assert (await _scan(store, repo)).families == []
    assert (await store.clone_pairs((await store.repository(f"local:{repo.root}")).id)).a.size == 0


async def test_other_settings_compare_everything_again(store: Store, repo: GitRepoBuilder) -> None:
    repo.write({"a.py": module(PARSE_DATE), "c.py": module(PARSE_DATE_NEAR_MISS)}).commit()
    assert len((await _scan(store, repo)).families) == 1
    strict = CairnConfig(DuplicationConfig(threshold=0.99))
    result = await _scan(store, repo, strict)
    assert not result.incremental and result.families == []


async def test_the_same_as_a_full_scan_after_many_commits(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write({"a.py": module(PARSE_DATE)}).commit()
    await _scan(store, repo)
    repo.write({"b.py": module(PARSE_DATE_RENAMED)}).commit()
    await _scan(store, repo)
    repo.write({"c.py": module(PARSE_DATE_NEAR_MISS), "d.py": module(INVOICE_TOTAL)}).commit()
    incremental = await _scan(store, repo)
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    full = await scan(store, row, LocalSource(git), git.resolve("HEAD"), CairnConfig(), full=True)
    assert not full.incremental
    assert [(f.id, f.links) for f in incremental.families] == [
        (f.id, f.links) for f in full.families
    ]


async def test_pairs_stay_with_their_repository(
    store: Store, repo: GitRepoBuilder, tmp_path: Path
) -> None:
    other = GitRepoBuilder(tmp_path / "tenant-b")
    other.write({"x.py": module(PARSE_DATE), "y.py": module(PARSE_DATE_NEAR_MISS)}).commit()
    assert len((await _scan(store, other)).families) == 1
    repo.write({"a.py": module(PARSE_DATE), "d.py": module(UNRELATED)}).commit()
    assert (await _scan(store, repo)).families == []
    row = await store.repository(f"local:{repo.root}")
    assert (await store.clone_pairs(row.id)).a.size == 0
