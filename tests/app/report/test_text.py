from __future__ import annotations

import re

import pytest

from app.report.text import EXCERPT_LINES, SourceLines, render_review
from checks.finding import Evidence, Finding, Severity
from tests.app.report.cases import (
    ADR,
    CLONE,
    LAYER,
    NO_PATH,
    REVIEW,
    UNICODE,
    numbered_source,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def no_source(path: str, start: int, end: int, /) -> list[str] | None:
    return None


def test_review_layout() -> None:
    expected = """\
billing/invoice.py
  warning  billing/invoice.py:3  patterns/layer
    app.store is imported from checks; the core never imports app.
      3 │ billing/invoice.py line 3

  error    billing/invoice.py:12-15  duplication/clone
    parse_iso_date re-implements parse_date from billing/dates.py; reuse it.
      12 │ billing/invoice.py line 12
      13 │ billing/invoice.py line 13
      14 │ billing/invoice.py line 14
      15 │ billing/invoice.py line 15
    ↳ billing/dates.py:12-30 parse_date (similarity 0.94, renamed)

users/delete.py
  warning  users/delete.py:40-44  decisions/adr-0007
    This hard-deletes users; ADR-0007 decided to soft-delete them for GDPR.
      40 │ users/delete.py line 40
      41 │ users/delete.py line 41
      42 │ users/delete.py line 42
      43 │ users/delete.py line 43
      44 │ users/delete.py line 44
    ↳ docs/adr/0007-soft-delete.md:9 ADR-0007: Users are soft-deleted.

3 findings in 2 files: 1 error, 2 warnings"""
    # Input order is scrambled on purpose: files sorted, findings by line.
    assert render_review([ADR, CLONE, LAYER], source=numbered_source, color=False) == expected


@pytest.mark.parametrize(
    ("findings", "source", "present", "absent"),
    [
        pytest.param(
            [CLONE],
            numbered_source,
            [
                "error    billing/invoice.py:12-15  duplication/clone",
                CLONE.message,
                "12 │ billing/invoice.py line 12",
                "15 │ billing/invoice.py line 15",
                "↳ billing/dates.py:12-30 parse_date (similarity 0.94, renamed)",
                "1 finding in 1 file: 1 error",
            ],
            ["more line"],
            id="excerpt-and-evidence",
        ),
        pytest.param(
            [UNICODE],
            numbered_source,
            [
                "notice   src/my module/résumé_日本.py:1-20  duplication/clone",
                " 1 │ src/my module/résumé_日本.py line 1",
                f" {EXCERPT_LINES - 1} │ src/my module/résumé_日本.py line {EXCERPT_LINES - 1}",
                f"┆ … {20 - EXCERPT_LINES + 1} more lines",
                "↳ src/names.py:5-9 names[0] (similarity 0.81, near-miss)",
                "↳ src/other names/ñ.py:30-31 (exact)",
            ],
            [f"line {EXCERPT_LINES}\n"],
            id="long-span-is-cut",
        ),
        pytest.param(
            [NO_PATH],
            numbered_source,
            ["7 │ api/routes.py line 7", "↳ ADR-0012: All public routes carry a version."],
            [],
            id="evidence-without-a-file",
        ),
        pytest.param(
            [CLONE],
            None,
            ["billing/invoice.py:12-15", "↳ billing/dates.py:12-30 parse_date"],
            ["│"],
            id="no-source",
        ),
        pytest.param(
            [CLONE],
            no_source,
            ["billing/invoice.py:12-15", "↳ billing/dates.py:12-30 parse_date"],
            ["│"],
            id="source-without-the-file",
        ),
        pytest.param(
            [*REVIEW, UNICODE, NO_PATH],
            None,
            ["5 findings in 4 files: 2 errors, 2 warnings, 1 notice"],
            [],
            id="summary-all-severities",
        ),
        pytest.param([], numbered_source, ["No findings."], ["\n"], id="nothing"),
    ],
)
def test_review_contents(
    findings: list[Finding], source: SourceLines | None, present: list[str], absent: list[str]
) -> None:
    out = render_review(findings, source=source, color=False)
    for text in present:
        assert text in out
    for text in absent:
        assert text not in out
    assert not ANSI.search(out) and "\x1b" not in out


def test_excerpt_asks_only_for_the_lines_it_shows() -> None:
    asked: list[tuple[str, int, int]] = []

    def source(path: str, start: int, end: int, /) -> list[str] | None:
        asked.append((path, start, end))
        return numbered_source(path, start, end)

    render_review([UNICODE, CLONE], source=source, color=False)
    assert asked == [
        ("billing/invoice.py", 12, 15),
        ("src/my module/résumé_日本.py", 1, EXCERPT_LINES - 1),
    ]


def test_colour_marks_severity_and_dims_line_numbers() -> None:
    out = render_review([CLONE, LAYER, UNICODE], source=numbered_source, color=True)
    assert "\x1b[1;31merror\x1b[0m" in out
    assert "\x1b[33mwarning\x1b[0m" in out
    assert "\x1b[36mnotice\x1b[0m" in out
    assert "\x1b[2m12\x1b[0m \x1b[2m│\x1b[0m billing/invoice.py line 12" in out
    # Without the escapes it is the plain report, character for character.
    assert ANSI.sub("", out) == render_review(
        [CLONE, LAYER, UNICODE], source=numbered_source, color=False
    )


HOSTILE = Finding(
    check="duplication",
    rule="clone",
    path="evil\x1b]0;pwned\x07.py",
    start_line=1,
    end_line=1,
    message="looks fine\x1b[2K\rreally",
    severity=Severity.WARNING,
    evidence=(Evidence("x.py", 1, 1, "f\u202egnp.exe", note="\x9b31m"),),
)


def hostile_source(path: str, start: int, end: int, /) -> list[str] | None:
    return ["if admin:\u202e } \u2066 { \x1b[8mhidden\x1b[0m"]


@pytest.mark.parametrize("color", [False, True])
def test_repository_text_cannot_drive_the_terminal(color: bool) -> None:
    out = render_review([HOSTILE], source=hostile_source, color=color)
    # Only our own SGR sequences survive; every other control or bidi character is escaped.
    assert "\x1b" not in ANSI.sub("", out)
    for char in ("\x07", "\r", "\x9b", "\u202e", "\u2066"):
        assert char not in out
    assert "evil\\x1b]0;pwned\\x07.py" in out
    assert "looks fine\\x1b[2K\n    really" in out  # a carriage return breaks the line
    assert "f\\u202egnp.exe" in out
    assert "\\x1b[8mhidden\\x1b[0m" in out
