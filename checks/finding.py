"""Findings: what a check reports, as plain data.

A violation is data, never an exception. Checks build findings; ``app.report`` and
``app.publish`` render them for a terminal, JSON, SARIF or GitHub.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from checks.fix import Fix


class Severity(StrEnum):
    """How much a finding matters; ``--fail-on`` compares against this order."""

    NOTICE = "notice"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.NOTICE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a finding was raised: where the original lives, and how alike it is."""

    path: str
    start_line: int
    end_line: int
    name: str = ""
    similarity: float | None = None
    kind: str = ""  # clone kind for duplication: "exact" | "renamed" | "near-miss"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a reviewer should look at, on lines of the head revision."""

    check: str  # "duplication" | "patterns" | "decisions"
    rule: str  # "clone", "layer", "adr-0007", ...
    path: str
    start_line: int
    end_line: int
    message: str  # one sentence a reviewer can act on
    severity: Severity
    evidence: tuple[Evidence, ...] = ()
    fingerprint: str = ""  # stable identity across pushes
    fix: Fix | None = None  # edits that resolve it, verified to parse (checks.fix)


def fingerprint(*parts: str) -> str:
    """A stable identity from content-derived parts (never line numbers, which move)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:24]
