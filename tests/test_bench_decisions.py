"""The decisions benchmark's cases and scoring (the run itself is `python bench/decisions.py`)."""

from __future__ import annotations

from bench.decisions import ADRS, CASES, score, section


def test_the_cases_cover_the_languages_and_both_kinds_of_constraint() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.language for c in CASES} >= {"python", "typescript", "go"}
    kinds = {e[2] for c in CASES for e in c.expected}
    assert kinds == {"derived", "explicit"}
    assert sum(1 for c in CASES if not c.expected) >= 10  # near-misses and non-binding records
    assert all(key in ADRS for c in CASES for key in c.adrs)


def test_scoring_counts_pairs_by_origin_and_language() -> None:
    rows: list[dict[str, object]] = [
        {
            "id": "a",
            "language": "go",
            "note": "",
            "expected": [["x.go", "adr-0001", "derived"]],
            "got": [["x.go", "adr-0001", "derived"], ["y.go", "adr-0002", "explicit"]],
        },
        {
            "id": "b",
            "language": "python",
            "note": "",
            "expected": [["p.py", "adr-0003", "explicit"]],
            "got": [],
        },
    ]
    assert score(rows) == {
        "overall": {"tp": 1, "fp": 1, "fn": 1},
        "derived": {"tp": 1, "fp": 0, "fn": 0},
        "explicit": {"tp": 0, "fp": 1, "fn": 1},
        "go": {"tp": 1, "fp": 1, "fn": 0},
        "python": {"tp": 0, "fp": 0, "fn": 1},
    }
    text = section({"command": "c", "when": "d", "machine": "m", "seconds": 1.0, "cases": rows})
    assert "| derived | 1 | 0 | 0 | 1.00 | 1.00 |" in text
    assert "| a | go | `x.go` adr-0001 | `x.go` adr-0001, `y.go` adr-0002 | FP |" in text
    assert "Cases not right: a (); b ()" in text
