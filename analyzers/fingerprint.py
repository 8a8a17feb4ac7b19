"""Fingerprints of token streams: MinHash and LSH bands, and the verifying score.

Candidates for "this unit duplicates that one" come from LSH bands of a MinHash signature
(``analyzers.candidates`` joins them in memory); every candidate is then verified with
``similarity``, an exact alignment score computed in native code (rapidfuzz).

All hashing is fixed-seed arithmetic on numpy arrays: the same tokens give the same signature
and bands in every process, on every machine.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Indel

from analyzers.units import CodeUnit

NUM_PERM = 126  # MinHash permutations: the signature's length
BANDS = 42  # LSH bands of ROWS signature values each: BANDS * ROWS == NUM_PERM
# A pair becomes a candidate at Jaccard ~ (1 / BANDS) ** (1 / ROWS) ≈ 0.29. Measured on the
# 17,430 distinct streams of Django's units of 50+ tokens against every pair verified by brute
# force (bench/README.md): 42×3 bands find 97 % of the pairs that verify at 0.8 and 65 % at 0.7
# with 1.3 M candidates; 32×4 found 92 % and 51 % with 0.4 M. Verification is native now, so
# the extra candidates cost little. (A SourcererCC-style prefix filter over the same tokens,
# exact by construction, kept 40 % of all pairs as candidates: normalised code has too small a
# vocabulary for prefixes to prune.)
ROWS = 3

# MinHash shingles are 5 normalised tokens. Normalised streams have a tiny alphabet ($ID, $LIT,
# punctuation, keywords), so short shingles are shared by any two pieces of code: measured on
# Django's functions (60-600 tokens), unrelated pairs of similar size have a mean shingle
# Jaccard of 0.18 at k=3, 0.11 at k=4 and 0.06 at k=5, so 1.4% of them become LSH candidates at
# k=4 against 0.2% at k=5, while clones with 20% of their statements edited stay candidates 97%
# of the time at k=5 (87% at 30%). Longer shingles lose type-3 clones: 92% at k=6.
SHINGLE = 5

_U64 = np.uint64
_MASK63 = (1 << 63) - 1
_MIX_INT = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: the multiplier of Fibonacci hashing
_MIX = _U64(_MIX_INT)
_MASK64 = (1 << 64) - 1
_CHUNK = 4096  # shingles permuted per block: caps the (NUM_PERM, block) buffer at 2 MiB
_EMPTY = np.iinfo(np.uint32).max  # the signature value of a stream without shingles

_rng = np.random.Generator(np.random.PCG64(0x0CA1A))  # fixed seed: signatures are persisted
# Permutation i maps a shingle's 32-bit key x to (a_i * x + b_i) mod 2^32, a_i odd: a bijection,
# and cheap, since numpy multiplies uint32 vectors with SIMD (uint64 products it does not).
# Linear maps are not min-wise independent on structured keys, but these keys are the high
# half of a well-mixed 64-bit hash: measured on pairs of Django functions, the estimates'
# error matches MinHash theory, sqrt(J(1 - J) / NUM_PERM), as closely as multiply-shift's on
# 64-bit arithmetic (RMSE 0.034 for both), at 40% of its cost.
_PERM_A = (_rng.integers(0, 1 << 32, NUM_PERM, dtype=np.uint64) | _U64(1)).astype(np.uint32)
_PERM_B = _rng.integers(0, 1 << 32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
_PERM_A, _PERM_B = _PERM_A[:, None], _PERM_B[:, None]
_BAND_SEEDS = _rng.integers(0, 1 << 63, BANDS, dtype=np.uint64)

Signature = npt.NDArray[np.uint32]
_Ints = npt.NDArray[np.int64]
_Hashes = npt.NDArray[np.uint64]


def signatures(streams: Sequence[Sequence[int]]) -> Signature:
    """``minhash`` of every stream, vectorised across them: (streams, NUM_PERM) uint32."""
    return _Flat(*flatten(streams)).minhashes()


def signatures_flat(flat: npt.NDArray[np.uint32], lengths: _Ints) -> Signature:
    """``signatures`` of streams laid end to end in ``flat``, ``lengths`` tokens each."""
    return _Flat(flat, lengths).minhashes()


def minhash(tokens: Sequence[int]) -> Signature:
    """The MinHash signature (NUM_PERM uint32) of the token stream's SHINGLE-token shingles."""
    signature: Signature = _Flat(*flatten([tokens])).minhashes()[0]
    return signature


def band_keys(signatures: Signature) -> _Ints:
    """The LSH band keys of many signatures: (n, BANDS) non-negative int64."""
    rows = np.asarray(signatures, dtype=np.uint64).reshape(-1, BANDS, ROWS)
    keys = np.broadcast_to(_BAND_SEEDS, rows.shape[:2]).copy()
    for row in range(ROWS):
        keys ^= rows[:, :, row]
        keys *= _MIX
        keys ^= keys >> _U64(31)
    return (keys & _U64(_MASK63)).astype(np.int64)


def lsh_bands(signature: Signature) -> list[int]:
    """One 63-bit key per band of ROWS signature values, the band's index mixed in."""
    keys: list[int] = band_keys(signature)[0].tolist()
    return keys


class _Flat:
    """Token streams laid end to end in one array, to hash all their shingles at once."""

    def __init__(self, flat: npt.NDArray[np.uint32], lengths: _Ints) -> None:
        self.count = len(lengths)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.starts = np.zeros(self.count, dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=self.starts[1:])
        self.ids = flat.astype(np.uint64)

    def shingles(self, k: int) -> tuple[_Hashes, _Ints]:
        """A hash of each run of ``k`` tokens (of the whole stream when shorter), and its stream.

        Runs never straddle two streams; the result is ordered by stream.
        """
        lengths = self.lengths
        width = np.minimum(lengths, k)  # a stream shorter than k is one shingle
        runs = np.where(lengths > 0, lengths - width + 1, 0)
        owners = np.repeat(np.arange(self.count), runs)
        first_run = np.cumsum(runs) - runs
        positions = np.arange(len(owners)) + np.repeat(self.starts - first_run, runs)
        # Every run of k tokens in the flat array, streams' boundaries ignored, by k contiguous
        # passes; then the runs that start inside a stream and end in it are picked out.
        ids, count = self.ids, max(len(self.ids) - k + 1, 0)
        every = np.full(count, _U64(k), dtype=np.uint64)
        for offset in range(k):
            every ^= ids[offset : offset + count]
            every *= _MIX
        if count:
            hashes = every[np.minimum(positions, count - 1)]
        else:
            hashes = np.zeros(len(owners), dtype=np.uint64)
        for index in np.flatnonzero(width[owners] < k).tolist():
            # A stream shorter than k is one run over all of it: rare, hashed alone, in Python
            # ints (numpy warns about uint64 scalar overflow; arrays wrap silently).
            start, length = int(positions[index]), int(width[owners[index]])
            value = length
            for token in ids[start : start + length].tolist():
                value = ((value ^ token) * _MIX_INT) & _MASK64
            hashes[index] = value
        hashes ^= hashes >> _U64(29)  # fold the well-mixed high bits into the low ones
        return hashes, owners

    def minhashes(self) -> Signature:
        """The MinHash signature of every stream: the least of each permutation of its shingles."""
        hashes, owners = self.shingles(SHINGLE)
        keys = (hashes >> _U64(32)).astype(np.uint32)
        signatures = np.full((self.count, NUM_PERM), _EMPTY, dtype=np.uint32)
        present = np.flatnonzero(np.bincount(owners, minlength=self.count))
        bounds = np.searchsorted(owners, present)  # where each present stream's shingles begin
        ends = np.append(bounds[1:], len(keys))
        scratch = np.empty((NUM_PERM, min(_CHUNK, len(keys))), dtype=np.uint32)
        first = 0
        while first < len(present):
            # A block of whole streams with at most _CHUNK shingles, or one larger stream.
            stop = max(int(np.searchsorted(ends, bounds[first] + _CHUNK, "right")), first + 1)
            low, high = int(bounds[first]), int(ends[stop - 1])
            least = np.full((NUM_PERM, stop - first), _EMPTY, dtype=np.uint32)
            for begin in range(low, high, _CHUNK):
                block = keys[begin : min(begin + _CHUNK, high)]
                # In place, in one buffer: fresh temporaries cost more in page faults than
                # the arithmetic.
                permuted = scratch[:, : len(block)]
                np.multiply(_PERM_A, block, out=permuted)
                permuted += _PERM_B
                cuts = np.clip(bounds[first:stop] - begin, 0, len(block) - 1)
                np.minimum(least, np.minimum.reduceat(permuted, cuts, axis=1), out=least)
            signatures[present[first:stop]] = least.T
            first = stop
        return signatures


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """How much of two token streams aligns, in [0, 1]: the clone verification score.

    The Dice ratio of the longest common subsequence of the streams' token *bigrams*,
    2·LCS / (len(a') + len(b')): rapidfuzz's normalised Indel similarity of the two streams
    written as strings of bigram code points (``Texts``), computed bit-parallel in C++. An
    alignment tolerates statements added, removed or changed anywhere (type-3 clones) and is
    symmetric by construction. Bigrams rather than tokens because normalised streams have a
    tiny alphabet: measured on Django, unrelated functions of similar size score 0.55 on average
    on plain tokens (0.64 at the 99th percentile) and 0.36 on bigrams (0.50), while clones with
    10/20/30% of their statements edited score 0.91/0.83/0.75 on bigrams.
    """
    if tuple(a) == tuple(b):
        return 1.0
    if not a or not b:
        return 0.0
    texts = Texts.fit([a, b]).texts
    return float(Indel.normalized_similarity(texts[0], texts[1]))


# Bigram codes are Unicode code points from _FIRST_CODE on, surrogates skipped, so a stream's
# bigrams make a str that rapidfuzz aligns in native code.
_FIRST_CODE = 0x100
_SURROGATES = (0xD800, 0xE000)
MAX_BIGRAMS = 0x110000 - _FIRST_CODE - (_SURROGATES[1] - _SURROGATES[0])


def flatten(streams: Sequence[Sequence[int]]) -> tuple[npt.NDArray[np.uint32], _Ints]:
    """Streams laid end to end (uint32 token ids) and their lengths."""
    lengths = np.fromiter(map(len, streams), dtype=np.int64, count=len(streams))
    chain = itertools.chain.from_iterable(streams)
    flat = np.fromiter(chain, dtype=np.uint32, count=int(lengths.sum()))
    return flat, lengths


def bigrams(flat: npt.NDArray[np.uint32], lengths: _Ints) -> tuple[_Hashes, _Ints]:
    """Each stream's consecutive token pairs packed in a uint64 (a one-token stream: the token
    itself), laid end to end, and how many each stream has."""
    n = len(lengths)
    ends = np.cumsum(lengths)
    wide = flat.astype(np.uint64)
    pairs = (wide[:-1] << _U64(32)) | wide[1:] if len(wide) > 1 else np.zeros(0, np.uint64)
    keep = np.ones(len(pairs), dtype=bool)
    last = ends[(lengths > 0)] - 1  # a stream's last token starts no bigram of its own
    keep[last[last < len(pairs)]] = False
    grams = pairs[keep]
    counts = np.maximum(lengths - 1, 0)
    single = np.flatnonzero(lengths == 1)
    if len(single):
        owners = np.repeat(np.arange(n), counts)
        owners = np.concatenate([owners, single])
        grams = np.concatenate([grams, wide[ends[single] - 1]])
        grams = grams[np.argsort(owners, kind="stable")]
        counts[single] = 1
    return grams, counts


class Texts:
    """Token streams as strings of bigram code points, for native alignment.

    The code of a bigram is its rank in a sorted alphabet fitted on a set of streams; streams
    encoded later share those codes, and their bigrams outside the alphabet get codes past it
    (they can only match each other). Exact: two bigrams never share a code while the alphabet
    holds fewer than MAX_BIGRAMS (past that, codes wrap and alignment scores may rise a little).
    """

    def __init__(self, alphabet: _Hashes, texts: list[str]) -> None:
        self.alphabet = alphabet
        self.texts = texts

    @classmethod
    def fit(cls, streams: Sequence[Sequence[int]]) -> Texts:
        """The texts of ``streams``, with an alphabet of their bigrams."""
        return cls.fit_flat(*flatten(streams))

    @classmethod
    def fit_flat(cls, flat: npt.NDArray[np.uint32], lengths: _Ints) -> Texts:
        tokens, dense = _dense(flat)
        width = len(tokens)
        if width * (width + 1) > _DENSE_LIMIT:  # a huge token alphabet: sort the bigrams
            grams, counts = bigrams(flat, lengths)
            alphabet, codes = np.unique(grams, return_inverse=True)
            return cls(alphabet, _strings(codes.astype(np.int64), counts))
        # Bigrams of dense token ids index a table of width² (+ width one-token streams):
        # counting beats sorting millions of 64-bit keys.
        pairs, counts = _pairs(dense, lengths, width)
        present = np.zeros(width * (width + 1), dtype=bool)
        present[pairs] = True
        used = np.flatnonzero(present)
        wide = tokens.astype(np.uint64)
        packed = np.where(
            used < width * width,
            (wide[np.minimum(used // width, width - 1)] << _U64(32)) | wide[used % width],
            wide[np.maximum(used - width * width, 0) % width],
        )
        order = np.argsort(packed, kind="stable")
        rank = np.empty(len(used), dtype=np.int64)
        rank[order] = np.arange(len(used))
        table = np.zeros(len(present), dtype=np.int64)
        table[used] = rank
        return cls(packed[order], _strings(table[pairs], counts))

    def encode_flat(self, flat: npt.NDArray[np.uint32], lengths: _Ints) -> list[str]:
        """Texts of more streams in this alphabet."""
        grams, counts = bigrams(flat, lengths)
        codes = np.searchsorted(self.alphabet, grams)
        known = codes < len(self.alphabet)
        known[known] = self.alphabet[codes[known]] == grams[known]
        if not known.all():
            _, unseen = np.unique(grams[~known], return_inverse=True)
            codes[~known] = len(self.alphabet) + unseen
        return _strings(codes.astype(np.int64), counts)


_DENSE_LIMIT = 1 << 26  # table entries (bytes) the dense bigram path may allocate
_SAMPLE = 64  # every 64th token guesses the alphabet; the rest are checked against it


def _dense(flat: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.uint32], _Ints]:
    """The sorted distinct token ids and each token's index among them. Normalised streams
    have a few hundred distinct tokens: a sample finds nearly all, a search checks every token
    and the few missing are added (exact, and cheaper than sorting every token)."""
    if not len(flat):
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    tokens = np.unique(flat[::_SAMPLE])
    where = np.minimum(np.searchsorted(tokens, flat), len(tokens) - 1)
    missing = tokens[where] != flat
    if missing.any():
        tokens = np.union1d(tokens, flat[missing])
        where = np.searchsorted(tokens, flat)
    return tokens, where.astype(np.int64)


def _pairs(dense: _Ints, lengths: _Ints, width: int) -> tuple[_Ints, _Ints]:
    """``bigrams`` of dense token ids: a*width + b per pair, width² + a for a one-token
    stream."""
    n = len(lengths)
    ends = np.cumsum(lengths)
    pairs = dense[:-1] * width + dense[1:] if len(dense) > 1 else np.zeros(0, np.int64)
    keep = np.ones(len(pairs), dtype=bool)
    last = ends[(lengths > 0)] - 1
    keep[last[last < len(pairs)]] = False
    codes = pairs[keep]
    counts = np.maximum(lengths - 1, 0)
    single = np.flatnonzero(lengths == 1)
    if len(single):
        owners = np.concatenate([np.repeat(np.arange(n), counts), single])
        codes = np.concatenate([codes, width * width + dense[ends[single] - 1]])
        codes = codes[np.argsort(owners, kind="stable")]
        counts[single] = 1
    return codes, counts


def _strings(codes: _Ints, counts: _Ints) -> list[str]:
    points = codes % MAX_BIGRAMS + _FIRST_CODE
    points[points >= _SURROGATES[0]] += _SURROGATES[1] - _SURROGATES[0]
    data = points.astype("<u4").tobytes()
    out: list[str] = []
    offset = 0
    for count in counts.tolist():
        out.append(data[4 * offset : 4 * (offset + count)].decode("utf-32-le"))
        offset += count
    return out


def clone_kind(a: CodeUnit, b: CodeUnit) -> str:
    """The clone's type: "exact" (layout, comments aside), "renamed" (same tokens), "near-miss"."""
    if a.raw_hash == b.raw_hash:
        return "exact"
    if a.exact_hash == b.exact_hash:
        return "renamed"
    return "near-miss"
