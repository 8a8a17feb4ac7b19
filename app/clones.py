"""Clone detection over the index: the repository scan (incremental) and a review's candidates.

Both run the same engine (``analyzers.candidates.StreamIndex``) on the distinct token streams
of the indexed tree. A scan compares only the streams no earlier scan of the repository with
the same settings compared (units added or changed since), keeps the pairs it verifies in
Postgres and reads the others back; a review probes the changed units against an index of
the base that a long-lived process (the App's worker) keeps between reviews.

Parallelism is one parameter, ``workers``: the engine's native verification and sketching run
on that many threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np
import numpy.typing as npt

from analyzers.candidates import MAX_CANDIDATES, StreamIndex
from analyzers.units import CodeUnit
from app.indexer import IndexReport, index_commit
from app.source import Source
from app.store import Repository, Store, StoredPairs
from checks.clones import CloneFamily, families
from checks.config import CairnConfig, DuplicationConfig
from checks.context import LocatedUnit

logger = logging.getLogger(__name__)

# Part of a scan's settings: a new engine version recomputes the stored pairs.
ENGINE_VERSION = "lsh42x3-bigram-indel-1"
CACHED_INDEXES = 4  # base indexes a worker keeps between reviews (LRU, one per repository)


def default_workers() -> int:
    """Threads for the engine: every core, up to 8."""
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(slots=True)
class ScanResult:
    """A scan's families and what it took to find them."""

    families: list[CloneFamily]
    index: IndexReport
    streams: int = 0  # distinct streams of reportable size in the tree
    compared: int = 0  # of them, compared this time (new since the last scan, or all)
    candidates: int = 0  # candidate pairs verified
    pairs: int = 0  # near-miss pairs known after the scan
    incremental: bool = False
    capped: bool = False  # the candidate limit bound: some crowded buckets were not compared
    seconds: dict[str, float] = field(default_factory=dict)  # stage → seconds


class ScanProgress:
    """A progress bar of the verification on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def stage(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r\x1b[Kcomparing [{bar}] {done:,}/{total:,} candidate pairs")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def scan_settings(cfg: DuplicationConfig) -> str:
    """What the stored pairs depend on: another value rescans every stream."""
    return f"{ENGINE_VERSION}:threshold={cfg.threshold:g}:min_tokens={cfg.min_tokens}"


async def scan(
    store: Store,
    repo: Repository,
    source: Source,
    commit: str,
    config: CairnConfig,
    *,
    progress_stream: TextIO | None = None,
    workers: int | None = None,
    full: bool = False,
) -> ScanResult:
    """The clone families of the repository at ``commit``; compares only what changed since
    the last scan with the same settings (everything when ``full``)."""
    workers = workers or default_workers()
    cfg = config.duplication
    timings: dict[str, float] = {}
    started = time.monotonic()
    report = await index_commit(store, repo, source, commit, progress_stream=progress_stream)
    timings["index"] = time.monotonic() - started
    progress = ScanProgress(progress_stream)

    mark = time.monotonic()
    progress.stage("loading the index…")
    settings = scan_settings(cfg)
    previous, scanned = await store.clone_state(repo.id)
    reset = full or previous != settings
    present = await store.stream_hashes(repo.id, min_tokens=cfg.min_tokens)
    known = np.zeros(0, dtype=np.int64) if reset else scanned
    new_mask = ~np.isin(present, known)
    gone = np.setdiff1d(known, present)
    timings["load"] = time.monotonic() - mark

    found = StoredPairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    candidates = 0
    capped = False
    if new_mask.any():
        mark = time.monotonic()
        streams = await store.streams(repo.id, min_tokens=cfg.min_tokens)
        present = streams.hashes  # the same, unless the tree changed in between
        new_mask = ~np.isin(present, known)
        gone = np.setdiff1d(known, present)
        progress.stage(f"sketching {len(present):,} token streams…")
        engine = StreamIndex.build(streams.hashes, streams.flat, streams.lengths, workers=workers)
        timings["sketch"] = time.monotonic() - mark
        mark = time.monotonic()
        pairs = engine.pairs(
            cfg.threshold,
            new=None if reset else new_mask,
            workers=workers,
            progress=progress,
        )
        candidates, capped = pairs.candidates, pairs.capped
        if capped:
            logger.warning(
                "%s: over %d candidate pairs; the most crowded LSH buckets were not compared",
                repo.full_name,
                MAX_CANDIDATES,
                extra={"repo": repo.full_name, "sha": commit},
            )
        a, b = engine.hashes[pairs.left], engine.hashes[pairs.right]
        found = StoredPairs(np.minimum(a, b), np.maximum(a, b), pairs.similarity)
        timings["compare"] = time.monotonic() - mark
    mark = time.monotonic()
    await store.save_clone_scan(
        repo.id,
        settings,
        new=present[new_mask],
        gone=gone,
        pairs=found,
        reset=reset,
    )
    stored = await store.clone_pairs(repo.id)
    units = await store.unit_refs(repo.id, min_tokens=cfg.min_tokens)
    seen = {(u.path, u.unit.exact_hash) for u in units}
    before = await store.scanned_units(repo.id)
    await store.set_scanned_units(repo.id, seen, before)
    timings["store"] = time.monotonic() - mark
    mark = time.monotonic()
    progress.stage("grouping clones into families…")
    links = list(zip(stored.a.tolist(), stored.b.tolist(), stored.similarity.tolist(), strict=True))
    # New: a unit at a path where the last scan did not see its stream (added, changed, or
    # copied there). A first scan, or one after the settings changed, has nothing to compare.
    new_units = frozenset(seen - before) if before and previous is not None else frozenset()
    result = families(units, links, cfg, new_units=new_units)
    timings["families"] = time.monotonic() - mark
    progress.done()
    logger.info(
        "scanned %s: %s",
        repo.full_name,
        ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in timings.items()),
        extra={"repo": repo.full_name, "sha": commit},
    )
    return ScanResult(
        families=result,
        index=report,
        streams=len(present),
        compared=int(new_mask.sum()),
        candidates=candidates,
        pairs=len(stored.a),
        incremental=not reset,
        capped=capped,
        seconds=timings,
    )


@dataclass(slots=True)
class _CachedIndex:
    hashes: npt.NDArray[np.int64]
    engine: StreamIndex


class BaseIndexes:
    """Engines over repositories' indexed trees, kept between reviews (least recently used
    dropped first); an entry is rebuilt when its tree's streams differ."""

    def __init__(self, size: int = CACHED_INDEXES) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[int, int], _CachedIndex] = OrderedDict()

    async def engine(
        self, store: Store, repo_id: int, *, min_tokens: int, workers: int
    ) -> StreamIndex:
        key = (repo_id, min_tokens)
        hashes = await store.stream_hashes(repo_id, min_tokens=min_tokens)
        cached = self._cache.get(key)
        if cached is not None and np.array_equal(cached.hashes, hashes):
            self._cache.move_to_end(key)
            return cached.engine
        streams = await store.streams(repo_id, min_tokens=min_tokens)
        # Off the event loop: numpy and rapidfuzz release the GIL, so the worker's other jobs
        # (and its webhook-facing calls) go on while a large base is sketched.
        engine = await asyncio.to_thread(
            StreamIndex.build, streams.hashes, streams.flat, streams.lengths, workers=workers
        )
        self._cache[key] = _CachedIndex(streams.hashes, engine)
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return engine


BASE_INDEXES = BaseIndexes()


async def review_candidates(
    store: Store,
    repo_id: int,
    units: Sequence[CodeUnit],
    cfg: DuplicationConfig,
    *,
    workers: int | None = None,
    indexes: BaseIndexes = BASE_INDEXES,
) -> list[list[LocatedUnit]]:
    """For each changed unit, the units at base it verifies against (best first)."""
    if not units:
        return []
    workers = workers or default_workers()
    engine = await indexes.engine(store, repo_id, min_tokens=cfg.min_tokens, workers=workers)
    matches = await asyncio.to_thread(
        engine.matches, [u.tokens for u in units], cfg.threshold, workers=workers
    )
    wanted = sorted({int(engine.hashes[j]) for row in matches for j, _ in row})
    located = await store.units_by_hash(repo_id, wanted, min_tokens=cfg.min_tokens)
    by_hash: dict[int, list[LocatedUnit]] = {}
    for u in located:
        by_hash.setdefault(u.unit.exact_hash, []).append(u)
    return [[u for j, _ in row for u in by_hash.get(int(engine.hashes[j]), [])] for row in matches]
