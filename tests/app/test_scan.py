"""The repository scan: incremental between scans, families, and only this repository's pairs."""

from __future__ import annotations

from pathlib import Path

from analyzers.parse import parse_file
from app.clones import BaseIndexes, ScanResult, review_candidates, scan
from app.git import GitRepo
from app.indexer import index_commit
from app.source import LocalSource
from app.store import Store
from checks.config import CairnConfig, DuplicationConfig
from tests.app.samples import (
    INVOICE_TOTAL,
    PARSE_DATE,
    PARSE_DATE_NEAR_MISS,
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

    repo.write({"e.py": module(PARSE_DATE)}).commit("an exact copy: a known stream, a new unit")
    fourth = await _scan(store, repo)
    assert fourth.compared == 0  # no new stream to compare
    (grown,) = fourth.families
    assert [m.unit.path for m in grown.members] == ["a.py", "c.py", "e.py"] and grown.new

    repo.remove("c.py", "e.py").commit("gone again")
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
    repo.write({"b.py": module(PARSE_DATE_NEAR_MISS)}).commit()
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


async def test_a_reviews_base_index_is_kept_until_the_tree_changes(
    store: Store, repo: GitRepoBuilder
) -> None:
    repo.write({"a.py": module(PARSE_DATE), "d.py": module(UNRELATED)}).commit()
    git = GitRepo(repo.root)
    row = await store.repository(f"local:{repo.root}")
    await index_commit(store, row, LocalSource(git), git.resolve("HEAD"))
    indexes = BaseIndexes(size=1)
    cfg = DuplicationConfig()
    first = await indexes.engine(store, row.id, min_tokens=cfg.min_tokens, workers=1)
    assert await indexes.engine(store, row.id, min_tokens=cfg.min_tokens, workers=1) is first

    probe = parse_file("n.py", module(PARSE_DATE_NEAR_MISS).encode())
    assert probe is not None
    (found,) = await review_candidates(store, row.id, [probe.units[0]], cfg, indexes=indexes)
    assert [u.path for u in found] == ["a.py"]

    repo.write({"b.py": module(PARSE_DATE_NEAR_MISS)}).commit()
    await index_commit(store, row, LocalSource(git), git.resolve("HEAD"))
    again = await indexes.engine(store, row.id, min_tokens=cfg.min_tokens, workers=1)
    assert again is not first and len(again) == len(first) + 1
    (found,) = await review_candidates(store, row.id, [probe.units[0]], cfg, indexes=indexes)
    assert sorted(u.path for u in found) == ["a.py", "b.py"]
