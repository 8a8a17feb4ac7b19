"""Clone candidates and their verification, in memory: the engine behind scan and review.

A ``StreamIndex`` holds distinct normalised token streams (one per ``exact_hash``: units with
the same stream are renamed or exact copies of each other and are paired without alignment).
Candidates are the pairs that share an LSH band of their MinHash signatures; the band keys are
sorted once and every bucket is joined with numpy, never pair by pair in Python. A candidate
whose bags of bigrams cannot overlap enough is dropped exactly (an alignment keeps no more
bigrams than the two bags share); the rest are verified by ``fingerprint.similarity``'s
alignment, in rapidfuzz's native code, on ``workers`` threads (it releases the GIL, so both
cores work).

Scan: ``pairs`` (all pairs, or only those involving streams marked new: the incremental scan).
Review: ``matches`` of a few probe streams against the index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import Indel

from analyzers import fingerprint as fp

# A band bucket this large is a shape shared by too many streams to pair them all (measured
# on Django: boilerplate such as ``setUp`` methods); verifying n² pairs would dominate.
MAX_BUCKET = 64
# Candidate pairs one scan gathers at most (16 bytes each while they are sorted): a tree built
# to be one giant near-duplicate cannot exhaust memory. Crowded buckets go first when it binds;
# Django's whole scan needs 1.4 M, the 1.2 M-line JDK 2.2 M.
MAX_CANDIDATES = 20_000_000
VERIFY_CHUNK = 200_000  # candidate pairs verified per call: bounds memory, paces the progress
SKETCH_CHUNK = 4_000  # streams sketched per task
# Buckets of a stream's bag of bigrams: on Django's scan, 128 drop 65 % of the LSH candidates
# before alignment (64: 52 %, 256: 67 % at twice the cost), none of which could verify.
BAG_BUCKETS = 128
BAG_CHUNK = 50_000  # candidate pairs bounded per task

Ints = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]  # (done, total) candidate pairs verified


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Pairs:
    """Verified pairs of streams (indexes into the index, ``left < right``) and their scores."""

    left: Ints
    right: Ints
    similarity: npt.NDArray[np.float32]
    candidates: int  # how many were verified to find them
    capped: bool = False  # MAX_CANDIDATES was reached: the most crowded buckets were left out


class StreamIndex:
    """Distinct token streams, sketched and written as bigram texts."""

    def __init__(
        self,
        hashes: Ints,
        lengths: Ints,
        texts: fp.Texts,
        keys: Ints,
    ) -> None:
        self.hashes = hashes  # (n,) exact_hash of each stream
        self.lengths = lengths  # (n,) tokens
        self.texts = texts
        self.keys = keys  # (n, BANDS) LSH band keys
        self.bags = Bags.of(texts.texts)
        self._buckets: tuple[Ints, Ints] | None = None  # keys sorted, with their rows

    def buckets(self) -> tuple[Ints, Ints]:
        """Every band key sorted, and the row each belongs to: sorted once, on the first
        probe (a warm index then answers a probe in milliseconds, not a sort of all keys)."""
        if self._buckets is None:
            n, bands = self.keys.shape
            flat_keys = self.keys.ravel()
            owners = np.repeat(np.arange(n, dtype=np.int64), bands)
            order = np.argsort(flat_keys, kind="stable")
            self._buckets = flat_keys[order], owners[order]
        return self._buckets

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def build(
        cls,
        hashes: Sequence[int] | Ints,
        flat: npt.NDArray[np.uint32],
        lengths: Ints,
        *,
        workers: int = 1,
    ) -> StreamIndex:
        """The index of streams laid end to end in ``flat`` (``lengths`` tokens each)."""
        hashes = np.asarray(hashes, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        return cls(hashes, lengths, fp.Texts.fit_flat(flat, lengths), _keys(flat, lengths, workers))

    def pairs(
        self,
        threshold: float,
        *,
        new: npt.NDArray[np.bool_] | None = None,
        workers: int = 1,
        progress: Progress = _no_progress,
    ) -> Pairs:
        """Every candidate pair (with a new stream in it, when ``new`` is given) that verifies
        at ``threshold``."""
        left, right, capped = band_pairs(self.keys, new=new)
        left, right = _may_reach(self.lengths, left, right, threshold)
        candidates = len(left)
        kept = self.bags.may_reach(self.bags, left, right, threshold, workers=workers)
        left, right = left[kept], right[kept]
        texts = self.texts.texts
        scores = verify(
            [texts[i] for i in left.tolist()],
            [texts[j] for j in right.tolist()],
            threshold,
            workers=workers,
            progress=progress,
        )
        kept = scores >= threshold
        return Pairs(left[kept], right[kept], scores[kept], candidates, capped)

    def matches(
        self, probes: Sequence[Sequence[int]], threshold: float, *, workers: int = 1
    ) -> list[list[tuple[int, float]]]:
        """For each probe stream, the indexed streams it verifies against (index, score),
        best first."""
        if not probes or not len(self):
            return [[] for _ in probes]
        flat, lengths = fp.flatten(probes)
        probe_keys = _keys(flat, lengths, 1)
        probe_texts = self.texts.encode_flat(flat, lengths)
        owners, found = _probe_pairs(self.buckets(), len(self), probe_keys)
        owners, found = _may_reach_probe(lengths, self.lengths, owners, found, threshold)
        kept = Bags.of(probe_texts).may_reach(self.bags, owners, found, threshold, workers=workers)
        owners, found = owners[kept], found[kept]
        texts = self.texts.texts
        scores = verify(
            [probe_texts[i] for i in owners.tolist()],
            [texts[j] for j in found.tolist()],
            threshold,
            workers=workers,
        )
        out: list[list[tuple[int, float]]] = [[] for _ in probes]
        for i, j, score in zip(owners.tolist(), found.tolist(), scores.tolist(), strict=True):
            if score >= threshold:
                out[i].append((j, score))
        for row in out:
            row.sort(key=lambda m: -m[1])
        return out


def _keys(flat: npt.NDArray[np.uint32], lengths: Ints, workers: int) -> Ints:
    """LSH band keys of every stream; sketched in chunks on ``workers`` threads (numpy
    releases the GIL in its array operations)."""
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    chunks = [
        (first, min(first + SKETCH_CHUNK, len(lengths)))
        for first in range(0, len(lengths), SKETCH_CHUNK)
    ]

    def sketch(chunk: tuple[int, int]) -> Ints:
        first, stop = chunk
        flat_chunk = flat[starts[first] : starts[stop]]
        signatures = fp.signatures_flat(flat_chunk, lengths[first:stop])
        return fp.band_keys(signatures)

    if not chunks:
        return np.zeros((0, fp.BANDS), dtype=np.int64)
    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(sketch, chunks))
    else:
        parts = [sketch(chunk) for chunk in chunks]
    return np.concatenate(parts)


def band_pairs(
    keys: Ints, *, new: npt.NDArray[np.bool_] | None = None, limit: int = MAX_CANDIDATES
) -> tuple[Ints, Ints, bool]:
    """Distinct pairs (i < j) of rows sharing a band key in a bucket of at most MAX_BUCKET
    rows; with ``new``, only pairs with a new row in them. Buckets are taken smallest first
    until ``limit`` pairs are gathered (the flag says whether some were left out)."""
    n, bands = keys.shape
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty, False
    # A band's keys already mix in the band's index (fingerprint.band_keys).
    flat_keys = keys.ravel()
    owners = np.repeat(np.arange(n, dtype=np.int64), bands)
    order = np.argsort(flat_keys, kind="stable")
    flat_keys, owners = flat_keys[order], owners[order]
    starts = np.flatnonzero(np.r_[True, flat_keys[1:] != flat_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(flat_keys)])
    found: list[Ints] = []
    gathered = 0
    capped = False
    for size in np.unique(sizes).tolist():
        if size < 2 or size > MAX_BUCKET:
            continue
        if gathered >= limit:
            capped = True
            break
        members = owners[starts[sizes == size][:, None] + np.arange(size)]  # (buckets, size)
        if new is not None:
            members = members[new[members].any(axis=1)]
        first, second = np.triu_indices(size, 1)
        a, b = members[:, first].ravel(), members[:, second].ravel()
        if new is not None:
            touched = new[a] | new[b]
            a, b = a[touched], b[touched]
        found.append(np.minimum(a, b) * n + np.maximum(a, b))
        gathered += len(found[-1])
    if not found:
        return empty, empty, capped
    unique = _distinct(np.concatenate(found))
    return unique // n, unique % n, capped


def _probe_pairs(buckets: tuple[Ints, Ints], n: int, probe_keys: Ints) -> tuple[Ints, Ints]:
    """(probe, indexed row) pairs sharing a band key whose bucket in the index is not crowded;
    ``buckets`` are the index's keys sorted with their rows (``StreamIndex.buckets``)."""
    flat_keys, owners = buckets
    bands = probe_keys.shape[1]
    wanted = probe_keys.ravel()
    probe_owner = np.repeat(np.arange(len(probe_keys), dtype=np.int64), bands)
    low = np.searchsorted(flat_keys, wanted, "left")
    high = np.searchsorted(flat_keys, wanted, "right")
    count = high - low
    count[count > MAX_BUCKET] = 0
    total = int(count.sum())
    if not total:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    probes = np.repeat(probe_owner, count)
    offsets = np.repeat(low - np.cumsum(count) + count, count) + np.arange(total)
    unique = _distinct(probes * n + owners[offsets])
    return unique // n, unique % n


def _distinct(values: Ints) -> Ints:
    """Sorted distinct values: a sort and a mask (numpy's hashing ``unique`` is slower here)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _may_reach(lengths: Ints, left: Ints, right: Ints, threshold: float) -> tuple[Ints, Ints]:
    """Pairs whose sizes allow the alignment ratio to reach the threshold at all."""
    a, b = lengths[left], lengths[right]
    keep = 2 * np.minimum(a, b) >= threshold * (a + b)
    return left[keep], right[keep]


def _may_reach_probe(
    probe_lengths: Ints, lengths: Ints, owners: Ints, found: Ints, threshold: float
) -> tuple[Ints, Ints]:
    a, b = probe_lengths[owners], lengths[found]
    keep = 2 * np.minimum(a, b) >= threshold * (a + b)
    return owners[keep], found[keep]


@dataclass(frozen=True, slots=True)
class Bags:
    """Each text's code points counted into ``BAG_BUCKETS`` buckets (by code modulo).

    An alignment of two texts keeps at most ``sum(min(a[c], b[c]))`` characters over codes
    ``c``, and summing codes into buckets can only raise that sum: so ``2 * overlap / (len(a)
    + len(b))`` bounds the alignment's similarity from above, and a pair below the threshold
    by it cannot verify.
    """

    counts: npt.NDArray[Any]  # (n, BAG_BUCKETS) counts: 16 bits, or 32 for a very long text
    lengths: Ints  # (n,) characters of each text

    @classmethod
    def of(cls, texts: Sequence[str]) -> Bags:
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        flat = np.bincount(
            rows * BAG_BUCKETS + (codes % BAG_BUCKETS), minlength=len(texts) * BAG_BUCKETS
        )
        # A bucket holds at most its text's length: 16 bits unless a text is longer.
        wide = len(lengths) and int(lengths.max()) > np.iinfo(np.uint16).max
        counts = flat.astype(np.uint32 if wide else np.uint16)
        return cls(counts.reshape(len(texts), BAG_BUCKETS), lengths)

    def may_reach(
        self, other: Bags, mine: Ints, theirs: Ints, threshold: float, *, workers: int = 1
    ) -> npt.NDArray[np.bool_]:
        """For each pair (``mine[i]`` here, ``theirs[i]`` in ``other``): whether its bags
        overlap enough for the alignment to reach ``threshold``."""

        def chunk(start: int) -> npt.NDArray[np.bool_]:
            a, b = mine[start : start + BAG_CHUNK], theirs[start : start + BAG_CHUNK]
            overlap = np.minimum(self.counts[a], other.counts[b]).sum(axis=1, dtype=np.int64)
            # The same margin as a float score at the threshold: never drop a pair on rounding.
            reach: npt.NDArray[np.bool_] = (
                2 * overlap >= threshold * (self.lengths[a] + other.lengths[b]) - 1e-6
            )
            return reach

        starts = range(0, len(mine), BAG_CHUNK)
        if workers > 1 and len(starts) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                parts = list(pool.map(chunk, starts))
        else:
            parts = [chunk(start) for start in starts]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def verify(
    first: Sequence[str],
    second: Sequence[str],
    threshold: float,
    *,
    workers: int = 1,
    progress: Progress = _no_progress,
) -> npt.NDArray[np.float32]:
    """Alignment scores of ``first[i]`` with ``second[i]``; 0 where below ``threshold``."""
    total = len(first)
    out = np.zeros(total, dtype=np.float32)
    for start in range(0, total, VERIFY_CHUNK):
        stop = min(start + VERIFY_CHUNK, total)
        out[start:stop] = process.cpdist(
            first[start:stop],
            second[start:stop],
            scorer=Indel.normalized_similarity,
            score_cutoff=threshold,
            workers=workers,
            dtype=np.float32,
        )
        progress(stop, total)
    return out
