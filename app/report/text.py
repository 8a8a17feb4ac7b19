"""The terminal report: findings grouped by file, with the new code and where the original is.

    billing/invoice.py
      error    billing/invoice.py:12-30  duplication/clone
        parse_iso_date re-implements parse_date from billing/dates.py; reuse it.
          12 │ def parse_iso_date(value: str) -> date:
          13 │     year, month, day = value.split("-")
             ┆ … 17 more lines
        ↳ billing/dates.py:12-30 parse_date (similarity 0.94, renamed)

    1 finding in 1 file: 1 error

Colour (ANSI SGR codes, no dependency) only when asked for. Whatever the repository put in a
path, a message or a line of code is shown with control and bidirectional-override characters
escaped, so a hostile file can neither drive the terminal nor hide code from the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import groupby
from typing import Protocol

from app.report.labels import (
    CLONE_KINDS,
    SEVERITY_ORDER,
    evidence_label,
    finding_key,
    location,
    plural,
    rule_id,
    severity_counts,
)
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Finding, Severity
from checks.fix import Fix

#: Lines of new code shown under a finding, the "… more lines" marker included.
EXCERPT_LINES = 8

_RESET = "\x1b[0m"
_BOLD = "1"
_DIM = "2"
_SEVERITY_SGR = {Severity.ERROR: "1;31", Severity.WARNING: "33", Severity.NOTICE: "36"}
_KIND_SGR = {"exact": "1;31", "renamed": "33", "near-miss": "36"}
_LABEL_WIDTH = max(len(s.value) for s in SEVERITY_ORDER)
_KIND_WIDTH = max(len(k) for k in CLONE_KINDS)

# C0/C1 controls (tab excepted) and the Unicode bidi overrides behind "Trojan Source".
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class SourceLines(Protocol):
    """Lines ``start..end`` (1-based, inclusive) of ``path`` in the head revision, or None."""

    def __call__(self, path: str, start: int, end: int, /) -> list[str] | None: ...


def render_review(
    findings: Sequence[Finding],
    *,
    source: SourceLines | None,
    color: bool,
    decisions: DecisionNotes = NO_NOTES,
) -> str:
    """The findings of a review for a terminal, then the decisions related to the change and
    the decision log's problems (information, not findings); no trailing newline."""
    paint = _Painter(color)
    blocks: list[str] = []
    ordered = sorted(findings, key=finding_key)
    for path, group in groupby(ordered, key=lambda f: f.path):
        lines = [paint(safe(path), _BOLD)]
        for index, finding in enumerate(group):
            if index:
                lines.append("")
            lines.extend(_finding_lines(finding, source, paint))
        blocks.append("\n".join(lines))
    blocks += _decision_blocks(decisions, paint)
    blocks.append(_review_summary(ordered))
    return "\n\n".join(blocks)


def _decision_blocks(notes: DecisionNotes, paint: _Painter) -> list[str]:
    blocks = []
    if notes.relevant:
        lines = [paint("Decisions relevant to this change", _BOLD)]
        for r in notes.relevant:
            when = f", {r.date}" if r.date else ""
            lines.append(f"  {safe(r.label)} {safe(r.title)} ({safe(r.status)}{safe(when)})")
            lines.append(f"    {paint(safe(r.path), _DIM)}")
        blocks.append("\n".join(lines))
    if notes.problems:
        lines = [paint("Decision log problems", _BOLD)]
        lines += [f"  - {safe(p)}" for p in notes.problems]
        blocks.append("\n".join(lines))
    return blocks


def safe(text: str) -> str:
    """``text`` with control and bidi-override characters shown as escapes (``\\x1b``)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _Painter:
    """Wraps text in an SGR sequence, or leaves it alone when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}{_RESET}" if self.color and text else text


def _finding_lines(finding: Finding, source: SourceLines | None, paint: _Painter) -> list[str]:
    severity = finding.severity
    label = paint(severity.value, _SEVERITY_SGR[severity])
    padding = " " * (_LABEL_WIDTH - len(severity.value))
    where = safe(location(finding.path, finding.start_line, finding.end_line))
    rule = safe(rule_id(finding.check, finding.rule))
    lines = [f"  {label}{padding}  {where}  {paint(rule, _DIM)}"]
    lines.extend(f"    {safe(line)}" for line in finding.message.splitlines() or [""])
    if source is not None:
        lines.extend(_excerpt(finding, source, paint))
    for evidence in finding.evidence:
        lines.append(f"    {paint('↳', _DIM)} {safe(evidence_label(evidence))}")
    if finding.fix is not None:
        lines.extend(_fix_lines(finding.fix, paint))
    return lines


def _fix_lines(fix: Fix, paint: _Painter) -> list[str]:
    lines = [f"    {paint('fix', _BOLD)}: {safe(fix.description)}"]
    for edit in fix.edits:
        where = location(edit.path, edit.start_line, edit.end_line)
        lines.append(f"      {paint('replace ' + safe(where) + ' with', _DIM)}")
        lines.extend(f"      + {_code(line)}" for line in edit.replacement.split("\n"))
    return lines


def _excerpt(finding: Finding, source: SourceLines, paint: _Painter) -> list[str]:
    start, end = finding.start_line, max(finding.end_line, finding.start_line)
    if start < 1:
        return []
    total = end - start + 1
    shown = total if total <= EXCERPT_LINES else EXCERPT_LINES - 1
    code = source(finding.path, start, start + shown - 1)
    if not code:
        return []
    code = code[:shown]
    width = len(str(start + len(code) - 1))
    gutter = paint("│", _DIM)
    lines = [
        f"      {paint(str(number).rjust(width), _DIM)} {gutter} {_code(text)}"
        for number, text in enumerate(code, start)
    ]
    rest = total - len(code)
    if rest > 0:
        marker = f"… {plural(rest, 'more line')}"
        lines.append(f"      {' ' * width} {paint('┆', _DIM)} {paint(marker, _DIM)}")
    return lines


def _code(line: str) -> str:
    # Tabs expanded so the gutter stays aligned whatever the terminal's tab stops.
    return safe(line.rstrip("\r\n").expandtabs(4))


def _review_summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    files = len({f.path for f in findings})
    counts = severity_counts(findings)
    tally = ", ".join(plural(n, severity) for severity, n in counts.items() if n)
    return f"{plural(len(findings), 'finding')} in {plural(files, 'file')}: {tally}"
