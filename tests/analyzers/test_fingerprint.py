"""MinHash, LSH bands, bigram texts and the verification score, on real code."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from analyzers import fingerprint as fp
from analyzers.parse import parse_file
from analyzers.units import CodeUnit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "languages"
CLONES = FIXTURES / "python" / "clones"


def function(name: str) -> CodeUnit:
    """The first function of a fixture in tests/fixtures/languages/python/clones."""
    parsed = parse_file(name, (CLONES / name).read_bytes())
    assert parsed is not None
    return next(unit for unit in parsed.units if unit.kind != "class")


def all_fixture_units() -> list[CodeUnit]:
    units: list[CodeUnit] = []
    for path in sorted(FIXTURES.rglob("*.*")):
        parsed = parse_file(str(path), path.read_bytes())
        assert parsed is not None
        units.extend(parsed.units)
    return units


def shingle_jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    k = fp.SHINGLE
    first = {a[i : i + k] for i in range(len(a) - k + 1)}
    second = {b[i : i + k] for i in range(len(b) - k + 1)}
    return len(first & second) / len(first | second)


def test_constants_fit_together() -> None:
    assert fp.BANDS * fp.ROWS == fp.NUM_PERM


def test_minhash_is_deterministic_uint32() -> None:
    tokens = function("normpath.py").tokens
    signature = fp.minhash(tokens)
    assert signature.dtype == np.uint32 and signature.shape == (fp.NUM_PERM,)
    assert np.array_equal(signature, fp.minhash(list(tokens)))
    assert not np.array_equal(signature, fp.minhash(function("dedent.py").tokens))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("normpath_edited.py", id="type-3-clone"),
        pytest.param("dedent.py", id="unrelated"),
        pytest.param("close_matches.py", id="unrelated-2"),
    ],
)
def test_minhash_estimates_shingle_jaccard(other: str) -> None:
    a, b = function("normpath.py").tokens, function(other).tokens
    estimate = float(np.mean(fp.minhash(a) == fp.minhash(b)))
    # The estimator's standard deviation is sqrt(J(1 - J) / 126) <= 0.045.
    assert estimate == pytest.approx(shingle_jaccard(a, b), abs=0.15)


def test_lsh_bands_are_63_bit_and_mix_in_the_band() -> None:
    bands = fp.lsh_bands(fp.minhash(function("normpath.py").tokens))
    assert len(bands) == fp.BANDS
    assert all(isinstance(key, int) and 0 <= key < 2**63 for key in bands)
    same_rows = fp.lsh_bands(np.zeros(fp.NUM_PERM, dtype=np.uint32))
    assert len(set(same_rows)) == fp.BANDS  # equal rows in different bands: different keys


def test_clones_share_a_band_and_unrelated_code_does_not() -> None:
    def bands(name: str) -> set[tuple[int, int]]:
        return set(enumerate(fp.lsh_bands(fp.minhash(function(name).tokens))))

    original = bands("normpath.py")
    assert original & bands("normpath_renamed.py") == original
    assert original & bands("normpath_edited.py")
    assert not original & bands("dedent.py")
    assert not original & bands("close_matches.py")


def test_sketch_equals_the_per_stream_functions() -> None:
    streams: list[tuple[int, ...]] = [u.tokens for u in all_fixture_units()]
    streams += [(), (7,), (7, 8), (1, 2, 3, 4), (1, 2, 3, 4, 5)]  # shorter than a shingle
    streams.append(tuple(range(10_000)))  # more shingles than one block
    signatures = fp.signatures(streams)
    assert signatures.shape == (len(streams), fp.NUM_PERM)
    for row, tokens in enumerate(streams):
        assert np.array_equal(signatures[row], fp.minhash(tokens)), row
    assert np.array_equal(fp.signatures_flat(*fp.flatten(streams)), signatures)
    keys = fp.band_keys(signatures)
    assert keys.dtype == np.int64 and keys.shape == (len(streams), fp.BANDS)
    assert keys[3].tolist() == fp.lsh_bands(signatures[3])


def test_sketch_of_nothing() -> None:
    assert fp.signatures([]).shape == (0, fp.NUM_PERM)


def test_short_streams_differ() -> None:
    assert not np.array_equal(fp.minhash((1, 2)), fp.minhash((2, 1)))
    assert not np.array_equal(fp.minhash((1,)), fp.minhash(()))


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        pytest.param("normpath.py", "normpath.py", 1.0, 1.0, id="identical"),
        pytest.param("normpath.py", "normpath_renamed.py", 1.0, 1.0, id="renamed"),
        pytest.param("normpath.py", "normpath_reformatted.py", 1.0, 1.0, id="reformatted"),
        pytest.param("normpath.py", "normpath_edited.py", 0.7, 0.99, id="type-3-edit"),
        pytest.param("normpath.py", "dedent.py", 0.0, 0.5, id="unrelated"),
        pytest.param("normpath.py", "close_matches.py", 0.0, 0.5, id="unrelated-2"),
        pytest.param("dedent.py", "close_matches.py", 0.0, 0.5, id="unrelated-3"),
    ],
)
def test_similarity_of_real_functions(a: str, b: str, low: float, high: float) -> None:
    first, second = function(a).tokens, function(b).tokens
    score = fp.similarity(first, second)
    assert low <= score <= high
    assert fp.similarity(second, first) == score


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param((), (), 1.0, id="both-empty"),
        pytest.param((), (1, 2), 0.0, id="one-empty"),
        pytest.param((5,), (5,), 1.0, id="single-same"),
        pytest.param((5,), (6,), 0.0, id="single-different"),
        pytest.param((1, 2, 3, 4), (1, 2, 3, 9), 2 * 2 / 6, id="last-changed"),
        pytest.param((1, 2, 3, 4), (4, 3, 2, 1), 0.0, id="reversed"),
    ],
)
def test_similarity_edge_cases(a: tuple[int, ...], b: tuple[int, ...], expected: float) -> None:
    assert fp.similarity(a, b) == pytest.approx(expected)
    assert fp.similarity(b, a) == pytest.approx(expected)


def lcs_dice(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The verification score by its definition: the Dice ratio of the bigrams' LCS, by the
    textbook dynamic programme (slow, obviously right)."""
    first: list[tuple[int, ...]] = list(itertools.pairwise(a)) or [(t,) for t in a]
    second: list[tuple[int, ...]] = list(itertools.pairwise(b)) or [(t,) for t in b]
    table = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i, x in enumerate(first):
        for j, y in enumerate(second):
            same = table[i][j] + 1
            table[i + 1][j + 1] = same if x == y else max(table[i][j + 1], table[i + 1][j])
    return 2 * table[-1][-1] / (len(first) + len(second))


def test_native_similarity_matches_the_definition_on_real_units() -> None:
    units = [u.tokens for u in all_fixture_units() if u.token_count >= 10][:40]
    for a, b in itertools.combinations(units, 2):
        if a != b:
            assert fp.similarity(a, b) == pytest.approx(lcs_dice(a, b), abs=1e-6)


def test_texts_share_an_alphabet_and_keep_unseen_bigrams_apart() -> None:
    texts = fp.Texts.fit([(1, 2, 3), (4,), (3, 2, 1)])
    assert len(texts.texts) == 3 and [len(t) for t in texts.texts] == [2, 1, 2]
    again = texts.encode_flat(*fp.flatten([(1, 2, 3), (9, 8, 7), (9, 8, 6)]))
    assert again[0] == texts.texts[0]
    assert not set(again[1]) & set("".join(texts.texts))  # unseen bigrams get codes of their own
    assert again[1][0] == again[2][0] and again[1][1] != again[2][1]


@pytest.mark.parametrize(
    ("other", "kind"),
    [
        pytest.param("normpath_reformatted.py", "exact", id="layout-only"),
        pytest.param("normpath_renamed.py", "renamed", id="renamed"),
        pytest.param("normpath_edited.py", "near-miss", id="edited"),
    ],
)
def test_clone_kind(other: str, kind: str) -> None:
    original, clone = function("normpath.py"), function(other)
    assert fp.clone_kind(original, clone) == kind
    assert fp.clone_kind(clone, original) == kind
