"""JSON documents for ``--format json``: plain dicts with a stable, versioned schema.

Every key below is always present; ``version`` changes only when a key is removed or changes
meaning (new keys may be added within a version). Lists are in a fixed order, so the same
input always serialises to the same bytes.

Review (``cairn review``), from :func:`review_document`::

    {
      "version": 1,
      "findings": [                       # by path, start_line, end_line, most severe first
        {
          "check": "duplication",         # "duplication" | "patterns" | "decisions"
          "rule": "clone",
          "severity": "warning",          # "notice" | "warning" | "error"
          "path": "billing/invoice.py",   # relative to the repository root, "/"-separated
          "start_line": 12,               # 1-based, inclusive, in the head revision
          "end_line": 30,
          "message": "…",
          "fingerprint": "3f9a…",         # stable across pushes; "" when the check gave none
          "evidence": [                   # in the order the check ranked them
            {
              "path": "billing/dates.py",
              "start_line": 12,
              "end_line": 30,
              "name": "parse_date",       # "" when not a named unit
              "similarity": 0.94,         # 0..1, or null
              "kind": "renamed",          # "exact" | "renamed" | "near-miss", or ""
              "note": ""
            }
          ],
          "fix": {                        # null when Cairn knows no fix it could verify
            "description": "Use `parse_iso_date` from `billing/dates.py` instead of the copy.",
            "edits": [                    # lines of the head file replaced by `replacement`
              {"path": "exports/csv.py", "start_line": 12, "end_line": 30,
               "replacement": "from billing.dates import parse_iso_date as to_day"}
            ]                             # 1-based, inclusive; whole lines, no final newline
          }
        }
      ],
      "summary": {
        "total": 1,
        "by_severity": {"error": 0, "warning": 1, "notice": 0},   # all three, always
        "by_check": {"duplication": 1}                            # checks with findings, by name
      },
      "decisions": {                      # information from the decisions check, never findings
        "relevant": [                     # decisions lexically related to the change, best first
          {"path": "docs/adr/0005-http-client.md", "label": "ADR-0005",
           "title": "Use httpx as the HTTP client", "status": "accepted",
           "date": "2021-03-04"}          # "" when the record has none
        ],
        "problems": ["docs/adr/0001-a.md: no status"]   # of the decision log, in log order
      }
    }

Scan (``cairn scan``): see ``app.report.scan``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from app.report.labels import finding_key, finite, severity_counts
from checks.decisions import NO_NOTES, DecisionNotes
from checks.finding import Evidence, Finding
from checks.fix import Fix

#: The schema version of both documents.
VERSION = 1


def review_document(
    findings: Sequence[Finding], decisions: DecisionNotes = NO_NOTES
) -> dict[str, Any]:
    """The findings of a review as a JSON-ready document (schema in the module docstring)."""
    ordered = sorted(findings, key=finding_key)
    by_check = Counter(f.check for f in ordered)
    return {
        "version": VERSION,
        "findings": [_finding(f) for f in ordered],
        "summary": {
            "total": len(ordered),
            "by_severity": severity_counts(ordered),
            "by_check": {check: by_check[check] for check in sorted(by_check)},
        },
        "decisions": decisions.to_json(),
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": finding.path,
        "start_line": finding.start_line,
        "end_line": finding.end_line,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "evidence": [_evidence(e) for e in finding.evidence],
        "fix": fix_json(finding.fix),
    }


def fix_json(fix: Fix | None) -> dict[str, Any] | None:
    """A fix as JSON: ``{"description", "edits": [{"path", "start_line", "end_line",
    "replacement"}]}``, or None."""
    if fix is None:
        return None
    return {
        "description": fix.description,
        "edits": [
            {
                "path": e.path,
                "start_line": e.start_line,
                "end_line": e.end_line,
                "replacement": e.replacement,
            }
            for e in fix.edits
        ],
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {
        "path": evidence.path,
        "start_line": evidence.start_line,
        "end_line": evidence.end_line,
        "name": evidence.name,
        "similarity": finite(evidence.similarity),
        "kind": evidence.kind,
        "note": evidence.note,
    }
