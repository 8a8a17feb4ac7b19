from __future__ import annotations

from analyzers import fingerprint as fp
from analyzers.parse import parse_file
from checks.config import DuplicationConfig
from checks.context import LocatedUnit
from checks.duplication import find_clones
from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, UNRELATED


def _units(path: str, source: str) -> list[LocatedUnit]:
    parsed = parse_file(path, source.encode())
    assert parsed is not None
    return [LocatedUnit(path, u) for u in parsed.units]


def _indent(code: str) -> str:
    return "".join("    " + line if line.strip() else line for line in code.splitlines(True))


def test_a_cloned_class_is_one_pair_not_one_per_method() -> None:
    body = _indent(PARSE_DATE) + "\n" + _indent(UNRELATED)
    a = _units("a.py", "class Dates:\n" + body)
    b = _units("b.py", "class Days:\n" + body.replace("parse_iso_date", "parse_day"))
    pairs = find_clones(a + b, DuplicationConfig())
    assert [(p.a.name, p.b.name) for p in pairs] == [("Dates", "Days")]


def test_a_unit_is_never_paired_with_one_nested_in_it() -> None:
    # The class is little more than its one method: alike, but not a clone of itself.
    units = _units("a.py", "class Holder:\n" + _indent(INVOICE_TOTAL))
    assert len(units) == 2
    assert find_clones(units, DuplicationConfig(min_lines=1)) == []


def test_prepared_similarity_equals_similarity() -> None:
    units = _units("x.py", PARSE_DATE + "\n" + UNRELATED + "\n" + INVOICE_TOTAL)
    streams = [u.unit.tokens for u in units]
    for a in streams:
        for b in streams:
            assert fp.prepared_similarity(fp.prepare(a), fp.prepare(b)) == fp.similarity(a, b)
