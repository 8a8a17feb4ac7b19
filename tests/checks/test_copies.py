"""A copied module is one "file-copy" finding listing its copied units: the duplication check
with a fake index port (every unit at base is a candidate), no database."""

from __future__ import annotations

from collections.abc import Sequence

from analyzers.diff import FileDiff
from analyzers.parse import parse_file
from analyzers.units import CodeUnit
from checks.config import CairnConfig
from checks.context import Change, ChangedUnit, CheckContext, LocatedUnit
from checks.duplication import DuplicationCheck
from checks.finding import Finding
from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module

# Four distinct functions of one module (each long enough to be compared).
FOUR = [
    PARSE_DATE,
    INVOICE_TOTAL,
    UNRELATED,
    '''\
def order_total(orders, shipping=None):
    """Every order's amount, shipping included, in cents."""
    cents = 0
    for order in orders:
        for item in order.get("items", []):
            cents += int(item["price"] * 100) * item.get("count", 1)
        if shipping is not None and order.get("ships"):
            cents += shipping.get(order["country"], shipping["default"])
    return cents
''',
]


class BaseIndex:
    """The index port over a few files at base: every unit is a candidate."""

    def __init__(self, files: dict[str, str]) -> None:
        self.units: list[LocatedUnit] = []
        for path, source in files.items():
            parsed = parse_file(path, source.encode())
            assert parsed is not None
            self.units += [LocatedUnit(path, u) for u in parsed.units]

    def candidates(self, unit: CodeUnit) -> Sequence[LocatedUnit]:
        return self.units


def _review(base: dict[str, str], head: dict[str, str]) -> list[Finding]:
    units = []
    diffs = []
    for path, source in head.items():
        parsed = parse_file(path, source.encode())
        assert parsed is not None
        units += [ChangedUnit(path, u) for u in parsed.units]
        lines = source.count("\n")
        diffs.append(FileDiff(None, path, "added", added=((1, lines),)))
    change = Change("base", "head", files=tuple(diffs), units=tuple(units))
    return DuplicationCheck().run(change, CheckContext(index=BaseIndex(base), config=CairnConfig()))


def test_a_new_module_copying_an_existing_one_is_one_finding_listing_each_unit() -> None:
    base = {"billing/dates.py": module(*FOUR)}
    copied = module(*(f.replace("def ", "def copied_") for f in FOUR))
    [finding] = _review(base, {"legacy/dates_copy.py": copied})
    assert (finding.rule, finding.path) == ("file-copy", "legacy/dates_copy.py")
    assert finding.start_line == 4 and finding.end_line == copied.count("\n")
    assert finding.message.startswith(
        "`legacy/dates_copy.py` copies 4 units of `billing/dates.py` (4 renamed): "
        "`parse_iso_date`, `invoice_total`, `render_table`, `order_total`."
    )
    assert [(e.path, e.name) for e in finding.evidence] == [
        ("billing/dates.py", "parse_iso_date"),
        ("billing/dates.py", "invoice_total"),
        ("billing/dates.py", "render_table"),
        ("billing/dates.py", "order_total"),
    ]
    assert finding.evidence[0].note == "copied as `copied_parse_iso_date` at line 4"
    assert finding.fingerprint  # stable: file and original, not lines


def test_two_copied_units_stay_two_findings() -> None:
    base = {"billing/dates.py": module(*FOUR)}
    found = _review(base, {"exports/csv.py": module(PARSE_DATE_RENAMED, FOUR[1])})
    assert [f.rule for f in found] == ["clone", "clone"]


def test_copies_of_units_of_different_files_are_not_one_file_copy() -> None:
    base = {
        "a.py": module(FOUR[0]),
        "b.py": module(FOUR[1]),
        "c.py": module(FOUR[2]),
        "d.py": module(FOUR[3]),
    }
    found = _review(base, {"new.py": module(*FOUR)})
    assert [f.rule for f in found] == ["clone"] * 4


def test_an_existing_file_that_gains_copies_keeps_one_finding_per_unit() -> None:
    """Only a new file is "a copy": an old file gaining copied units is edited, not copied."""
    base = {"billing/dates.py": module(*FOUR)}
    head = module(*(f.replace("def ", "def again_") for f in FOUR))
    parsed = parse_file("shop/util.py", head.encode())
    assert parsed is not None
    units = [ChangedUnit("shop/util.py", u) for u in parsed.units]
    diff = FileDiff("shop/util.py", "shop/util.py", "modified", added=((1, head.count("\n")),))
    change = Change("base", "head", files=(diff,), units=tuple(units))
    found = DuplicationCheck().run(
        change, CheckContext(index=BaseIndex(base), config=CairnConfig())
    )
    assert [f.rule for f in found] == ["clone"] * 4
