"""How findings and clone pairs are named in every report: spans, rule ids, order, counts.

Shared by the text, JSON and SARIF renderers so that the three never disagree about what
``billing/dates.py:12-30`` or ``duplication/clone`` means, or about the order things come in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from checks.finding import Evidence, Finding, Severity

#: Most severe first: the order of severities in summaries.
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTICE)

#: The clone kinds ``checks`` produces, most alike first; unknown kinds sort after, by name.
CLONE_KINDS = ("exact", "renamed", "near-miss")


def span(start: int, end: int) -> str:
    """``12-30``, or ``12`` for a single line; empty when the lines are unknown (< 1)."""
    if start < 1:
        return ""
    return str(start) if end <= start else f"{start}-{end}"


def location(path: str, start: int, end: int) -> str:
    """``path:12-30``, the form terminals and editors turn into links."""
    lines = span(start, end)
    return f"{path}:{lines}" if lines else path


def rule_id(check: str, rule: str) -> str:
    """The one identifier of a rule across reports: ``duplication/clone``."""
    return f"{check}/{rule}"


def finite(value: float | None) -> float | None:
    """``value``, or None when it is missing, NaN or infinite (which JSON cannot carry)."""
    if value is None or not math.isfinite(value):
        return None
    return value


def likeness(similarity: float | None, kind: str) -> str:
    """``similarity 0.94, renamed``; empty when neither is known."""
    parts = []
    known = finite(similarity)
    if known is not None:
        parts.append(f"similarity {known:.2f}")
    if kind:
        parts.append(kind)
    return ", ".join(parts)


def evidence_label(evidence: Evidence) -> str:
    """``billing/dates.py:12-30 parse_date (similarity 0.94, renamed): note``."""
    text = location(evidence.path, evidence.start_line, evidence.end_line)
    if evidence.name:
        text = f"{text} {evidence.name}" if text else evidence.name
    details = likeness(evidence.similarity, evidence.kind)
    if details:
        text = f"{text} ({details})"
    if evidence.note:
        text = f"{text}: {evidence.note}"
    return text


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 finding``, ``3 findings``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def finding_key(finding: Finding) -> tuple[str, int, int, int, str, str, str, str]:
    """Order of findings in every report: by file, then line, then most severe first."""
    return (
        finding.path,
        finding.start_line,
        finding.end_line,
        -finding.severity.rank,
        finding.check,
        finding.rule,
        finding.message,
        finding.fingerprint,
    )


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per severity, most severe first, every severity present (zero included)."""
    counts = Counter(finding.severity for finding in findings)
    return {severity.value: counts.get(severity, 0) for severity in SEVERITY_ORDER}
