"""The real-log decisions benchmark's cases, edits and scoring (the run itself is
`python bench/decisions_real.py`, on local clones of the logs' repositories)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bench.decisions_real import (
    BENCH,
    CASES,
    apply_edit,
    load,
    origin,
    outcome,
    score,
    section,
    suite_of,
)
from bench.report import keep_sections

HELDOUT = BENCH / "decisions_heldout_cases.yml"
HELDOUT2 = BENCH / "decisions_heldout2_cases.yml"


def test_the_cases_cover_eight_logs_and_both_kinds_evenly() -> None:
    logs, cases = load()
    assert len(logs) >= 8 and len({g.repo.split("/")[0] for g in logs.values()}) >= 8
    assert len(cases) >= 120
    kinds = Counter(c.kind for c in cases)
    assert 0.4 <= kinds["violation"] / len(cases) <= 0.6
    assert {c.claims for c in cases} == {"dependency", "import", "command", "config"}
    assert all(len(g.commit) == 40 for g in logs.values())
    assert {c.log for c in cases} == set(logs)


def test_the_held_out_cases_are_on_six_other_logs() -> None:
    tuned, _ = load()
    logs, cases = load(HELDOUT)
    assert len(logs) >= 6 and not {g.repo for g in logs.values()} & {g.repo for g in tuned.values()}
    kinds = Counter(c.kind for c in cases)
    assert kinds["violation"] >= 40 and kinds["clean"] >= 40
    assert {c.claims for c in cases} == {"dependency", "import", "command", "config"}
    assert all(len(g.commit) == 40 for g in logs.values())
    assert {c.log for c in cases} == set(logs)


def test_the_second_held_out_round_is_on_four_logs_of_neither_earlier_file() -> None:
    tuned, _ = load()
    first, _ = load(HELDOUT)
    logs, cases = load(HELDOUT2)
    earlier = {g.repo for g in (*tuned.values(), *first.values())}
    assert len(logs) >= 4 and not {g.repo for g in logs.values()} & earlier
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 50 and kinds["violation"] >= 25 and kinds["clean"] >= 25
    assert all(len(g.commit) == 40 for g in logs.values())
    assert {c.log for c in cases} == set(logs)


def test_run_py_keeps_every_section_other_scripts_wrote() -> None:
    old = (BENCH / "RESULTS.md").read_text()
    kept = keep_sections("# Benchmarks\n\nspeed tables\n", old)
    assert kept.startswith("# Benchmarks\n\nspeed tables\n\n")
    for cases, tag in (
        (HELDOUT, "first-run"),
        (HELDOUT, "after-fixes"),
        (HELDOUT2, "round2-first-run"),
        (HELDOUT2, "round2-after-fixes"),
    ):
        suite = suite_of(cases, tag)
        begin, end = old.index(suite.begin), old.index(suite.end) + len(suite.end)
        assert old[begin:end] in kept
    for block in ("mcp", "fixes", "scan-speed", "rules", "reliability", "footprint"):
        begin = old.index(f"<!-- {block}:begin -->")
        end = old.index(f"<!-- {block}:end -->") + len(f"<!-- {block}:end -->")
        assert old[begin:end] in kept


def test_each_case_file_and_tag_has_a_section_of_its_own() -> None:
    tuned = suite_of(CASES)
    assert (tuned.block, tuned.figures.name) == ("decisions-real", "decisions_real.json")
    first = suite_of(HELDOUT, "first-run")
    assert first.block == "decisions-heldout-first-run"
    assert first.figures.name == "decisions_heldout_first_run.json"
    assert first.begin == "<!-- decisions-heldout-first-run:begin -->"
    assert suite_of(HELDOUT, "after-fixes").block != first.block


def test_edits_create_append_and_replace_keeping_line_ends() -> None:
    assert apply_edit(None, {"path": "a", "create": "x\n"}) == b"x\n"
    assert apply_edit(b"a\nb", {"path": "a", "append": "c\n"}) == b"a\nb\nc\n"
    crlf = apply_edit(b"a\r\nb\r\n", {"path": "a", "replace": {"find": "a\n", "with": "z\ny\n"}})
    assert crlf == b"z\r\ny\r\nb\r\n"
    with pytest.raises(ValueError, match="occurs 2 times"):
        apply_edit(b"a a", {"path": "f", "replace": {"find": "a", "with": "b"}})
    with pytest.raises(ValueError, match="exists"):
        apply_edit(b"", {"path": "f", "create": "x"})
    with pytest.raises(ValueError, match="no such file"):
        apply_edit(None, {"path": "f", "append": "x"})


def row(kind: str, expect: list[str], got: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "id": extra.get("id", "c"),
        "log": extra.get("log", "l"),
        "ecosystem": "python",
        "style": "nygard",
        "kind": kind,
        "claims": extra.get("claims", "dependency"),
        "record": "docs/adr/0001-a.md",
        "also": ["docs/adr/0002-b.md"],
        "note": "n",
        "expect": expect,
        "got": [
            {"path": p, "line": 1, "record": r, "origin": "stated", "message": "m"} for p, r in got
        ],
        "seconds": 0.1,
    }


def test_scoring_on_file_and_record_pairs() -> None:
    hit = row("violation", ["Pipfile"], [("Pipfile", "docs/adr/0002-b.md")])  # an `also` record
    assert outcome(hit) == (1, 0, 0)
    other = row("violation", ["Pipfile"], [("Pipfile", "docs/adr/0009-x.md")])
    assert outcome(other) == (0, 1, 1)
    clean = row("clean", [], [("a.py", "docs/adr/0001-a.md"), ("b.py", "docs/adr/0001-a.md")])
    assert outcome(clean) == (0, 2, 0)
    scores = score([hit, other, clean])
    assert scores["overall"] == {"tp": 1, "fp": 3, "fn": 1, "cases": 3, "right": 1}
    assert scores["kind:clean"]["right"] == 0


def test_the_section_lists_every_miss() -> None:
    doc = {
        "command": "python bench/decisions_real.py",
        "when": "2025-01-01",
        "machine": "2 cores",
        "seconds": 60.0,
        "logs": {"l": {"repo": "acme/shop", "commit": "0" * 40, "style": "nygard"}},
        "cases": [
            row("violation", ["Pipfile"], [], id="missed"),
            row("clean", [], [], id="fine"),
        ],
    }
    suite = suite_of(CASES)
    text = section(doc, suite)
    assert text.startswith(suite.begin) and text.rstrip().endswith(suite.end)
    assert "| missed | violation | dependency | `Pipfile` | – |" in text
    assert "| fine |" not in text
    assert "| overall | 2 | 1 | 0 | 0 | 1 | – | 0.00 |" in text


def test_the_origin_of_a_finding_is_read_from_its_message() -> None:
    assert origin("… decided: «x» (passing over `Flask`) …") == "weighed"
    assert origin("… decided: «x» (choosing `Django` for this) …") == "sibling"
    assert origin("… decided: «x» (its own change removed `pg`) …") == "evidence"
    assert origin("… decided: «x». Supersede the ADR or follow it.") == "stated"
