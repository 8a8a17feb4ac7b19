"""The in-memory clone engine: band candidates joined with numpy, verified natively."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzers import fingerprint as fp
from analyzers.candidates import StreamIndex, band_pairs, verify
from analyzers.parse import parse_file

CLONES = Path(__file__).parent.parent / "fixtures" / "languages" / "python" / "clones"
NAMES = ["normpath.py", "normpath_edited.py", "dedent.py", "close_matches.py"]


def tokens(name: str) -> tuple[int, ...]:
    parsed = parse_file(name, (CLONES / name).read_bytes())
    assert parsed is not None
    return next(u.tokens for u in parsed.units if u.kind != "class")


def index(names: list[str]) -> StreamIndex:
    streams = [tokens(n) for n in names]
    return StreamIndex.build(range(len(streams)), *fp.flatten(streams), workers=2)


def test_pairs_finds_the_near_miss_clone_and_nothing_else() -> None:
    found = index(NAMES).pairs(0.7, workers=2)
    assert list(zip(found.left.tolist(), found.right.tolist(), strict=True)) == [(0, 1)]
    expected = fp.similarity(tokens("normpath.py"), tokens("normpath_edited.py"))
    assert float(found.similarity[0]) == pytest.approx(expected, abs=1e-6)
    assert found.candidates >= 1


def test_only_pairs_with_a_new_stream_are_compared_when_asked() -> None:
    engine = index(NAMES)
    assert len(engine.pairs(0.7, new=np.array([False, False, True, True])).left) == 0
    found = engine.pairs(0.7, new=np.array([False, True, False, False]))
    assert (found.left.tolist(), found.right.tolist()) == ([0], [1])


def test_matches_of_probes_against_the_index() -> None:
    engine = index(["normpath.py", "dedent.py", "close_matches.py"])
    matches = engine.matches([tokens("normpath_edited.py"), tokens("dedent.py"), ()], 0.7)
    assert [j for j, _ in matches[0]] == [0]
    assert matches[1] == [(1, 1.0)]
    assert matches[2] == []


def test_crowded_buckets_are_left_out_and_pairs_are_distinct() -> None:
    keys = np.zeros((70, 3), dtype=np.int64)  # one bucket of 70 rows per band: crowded
    keys[:3, 0] = 5  # and a small bucket of three rows (band 0)
    keys[3:, 0] = np.arange(3, 70) + 100
    keys[:, 1] = np.arange(70) + 1000
    left, right, capped = band_pairs(keys)
    assert (left.tolist(), right.tolist()) == ([0, 0, 1], [1, 2, 2]) and not capped


def test_candidates_are_capped_smallest_buckets_first() -> None:
    keys = np.zeros((12, 2), dtype=np.int64)
    keys[:2, 0] = 1  # a bucket of 2 rows (1 pair)
    keys[2:, 0] = 2  # a bucket of 10 rows (45 pairs)
    keys[:, 1] = np.arange(12) + 100  # band 1: no shared key
    left, right, capped = band_pairs(keys, limit=1)
    assert (left.tolist(), right.tolist(), capped) == ([0], [1], True)
    assert len(band_pairs(keys, limit=46)[0]) == 46


def test_an_empty_index() -> None:
    engine = StreamIndex.build([], *fp.flatten([]))
    assert len(engine.pairs(0.7).left) == 0
    assert engine.matches([(1, 2, 3)], 0.7) == [[]]


def all_units() -> list[tuple[int, ...]]:
    """Every unit of the clone fixtures and of the analyzers' own sources: real streams."""
    sources = [*CLONES.glob("*.py"), *Path(fp.__file__).parent.glob("*.py")]
    out = []
    for path in sorted(sources):
        parsed = parse_file(path.name, path.read_bytes())
        assert parsed is not None
        out.extend(u.tokens for u in parsed.units if len(u.tokens) >= 20)
    return out


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_the_bag_bound_never_drops_a_pair_that_verifies(threshold: float) -> None:
    streams = all_units()
    engine = StreamIndex.build(range(len(streams)), *fp.flatten(streams))
    n = len(streams)
    left, right = (ix.ravel() for ix in np.triu_indices(n, 1))
    kept = engine.bags.may_reach(engine.bags, left, right, threshold, workers=2)
    texts = engine.texts.texts
    scores = verify([texts[i] for i in left], [texts[j] for j in right], threshold)
    assert n > 100
    assert not (scores >= threshold)[~kept].any()  # the bound is exact: nothing lost
    assert (scores >= threshold).any()  # some pairs verify, so the check means something
    assert (~kept).mean() > 0.3  # and it spares the alignment of many pairs


def test_the_bag_bound_drops_a_pair_whose_tokens_differ() -> None:
    a = tuple(range(50))  # 49 bigrams each, none shared, fewer than the buckets: no collision
    b = tuple(range(1000, 1050))
    engine = StreamIndex.build([0, 1], *fp.flatten([a, b]))
    one, two = np.array([0]), np.array([1])
    assert engine.bags.may_reach(engine.bags, one, two, 0.7).tolist() == [False]
    assert engine.bags.may_reach(engine.bags, one, one, 0.7).tolist() == [True]
