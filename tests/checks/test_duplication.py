from __future__ import annotations

from analyzers.parse import parse_file
from checks.clones import families
from checks.config import DuplicationConfig
from checks.context import LocatedUnit
from checks.duplication import sibling_pairs
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
    pairs = sibling_pairs(a + b, DuplicationConfig())
    assert [(p.a.name, p.b.name) for p in pairs] == [("Dates", "Days")]
    (family,) = families(a + b, [], DuplicationConfig())
    assert [m.unit.name for m in family.members] == ["Dates", "Days"]


def test_a_unit_is_never_paired_with_one_nested_in_it() -> None:
    # The class is little more than its one method: alike, but not a clone of itself.
    units = _units("a.py", "class Holder:\n" + _indent(INVOICE_TOTAL))
    assert len(units) == 2
    assert sibling_pairs(units, DuplicationConfig(min_lines=1)) == []
    holder, method = (u.unit.exact_hash for u in units)
    assert families(units, [(holder, method, 0.95)], DuplicationConfig(min_lines=1)) == []
