"""Findings and clone pairs shared by the report tests: small, but shaped like real output."""

from __future__ import annotations

from analyzers.units import CodeUnit
from app.report.scan import Selection, select
from checks.clones import SECTIONS, families
from checks.config import DuplicationConfig
from checks.context import LocatedUnit
from checks.finding import Evidence, Finding, Severity

CLONE = Finding(
    check="duplication",
    rule="clone",
    path="billing/invoice.py",
    start_line=12,
    end_line=15,
    message="parse_iso_date re-implements parse_date from billing/dates.py; reuse it.",
    severity=Severity.ERROR,
    evidence=(Evidence("billing/dates.py", 12, 30, "parse_date", 0.94, "renamed"),),
    fingerprint="3f9a0c1d2e4b5a6978877665",
)

LAYER = Finding(
    check="patterns",
    rule="layer",
    path="billing/invoice.py",
    start_line=3,
    end_line=3,
    message="app.store is imported from checks; the core never imports app.",
    severity=Severity.WARNING,
)

ADR = Finding(
    check="decisions",
    rule="adr-0007",
    path="users/delete.py",
    start_line=40,
    end_line=44,
    message="This hard-deletes users; ADR-0007 decided to soft-delete them for GDPR.",
    severity=Severity.WARNING,
    evidence=(
        Evidence("docs/adr/0007-soft-delete.md", 9, 9, "ADR-0007", note="Users are soft-deleted."),
    ),
    fingerprint="aa11bb22cc33dd44ee55ff66",
)

# A path with a space and non-ASCII characters, evidence named with brackets, no fingerprint.
UNICODE = Finding(
    check="duplication",
    rule="clone",
    path="src/my module/résumé_日本.py",
    start_line=1,
    end_line=20,
    message="format_name duplicates names[0] handling in src/names.py.",
    severity=Severity.NOTICE,
    evidence=(
        Evidence("src/names.py", 5, 9, "names[0]", 0.81, "near-miss"),
        Evidence("src/other names/ñ.py", 30, 31, "", None, "exact"),
    ),
)

# Evidence that points at no file (a decision recorded outside the repository).
NO_PATH = Finding(
    check="decisions",
    rule="adr-0012",
    path="api/routes.py",
    start_line=7,
    end_line=7,
    message="Public endpoints are versioned under /v2 since ADR-0012.",
    severity=Severity.ERROR,
    evidence=(Evidence("", 0, 0, "ADR-0012", note="All public routes carry a version."),),
)

REVIEW = (CLONE, LAYER, ADR)
ALL_FINDINGS = (CLONE, LAYER, ADR, UNICODE, NO_PATH)


def _unit(
    path: str, start: int, end: int, name: str, kind: str, stream: int, raw: int
) -> LocatedUnit:
    unit = CodeUnit(kind, name.rsplit(".", 1)[-1], name, start, end, (), raw, stream)
    return LocatedUnit(path, unit, token_count=60)


SCAN_UNITS = (
    _unit("billing/dates.py", 12, 30, "parse_date", "function", 1, 11),
    _unit("invoices/util.py", 40, 58, "parse_iso_date", "function", 1, 11),
    _unit("billing/dates.py", 60, 75, "Calendar.next_day", "method", 2, 21),
    _unit("src/my module/résumé_日本.py", 3, 18, "following_day", "function", 2, 22),
    _unit("api/handlers.py", 5, 25, "create_user", "function", 3, 31),
    _unit("api/handlers.py", 30, 52, "create_admin", "function", 4, 41),
    _unit("tests/test_dates.py", 1, 20, "test_parse", "function", 5, 51),
    _unit("tests/test_more.py", 1, 20, "test_parse_again", "function", 5, 51),
)
SCAN_LINKS = ((3, 4, 0.81),)
SCAN_FAMILIES = tuple(families(SCAN_UNITS, SCAN_LINKS, DuplicationConfig()))
SCAN_REPORT = select(SCAN_FAMILIES, Selection(sections=frozenset(SECTIONS)))


def numbered_source(path: str, start: int, end: int, /) -> list[str] | None:
    """Every file has lines ``<path> line <n>``: easy to spot in an excerpt."""
    return [f"{path} line {n}\n" for n in range(start, end + 1)]
