"""SARIF 2.1.0 logs, for GitHub code scanning and any other SARIF viewer.

One run, tool ``Cairn``, one ``reportingDescriptor`` per ``check/rule`` (sorted), one result
per finding (or per clone pair), in the same order as the other reports. Each piece of evidence
becomes a ``relatedLocations`` entry, and the result message links to it with an embedded link
(``[parse_date (billing/dates.py:12-30)](1)``): GitHub shows related locations only when the
message embeds them (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#result-object).

Locations are relative URIs under ``%SRCROOT%``, percent-encoded; an absolute path or one that
climbs out of the repository (``..``) is a bug upstream and raises ``ValueError`` rather than
publishing a wrong location.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from app.report.labels import (
    finding_key,
    likeness,
    location,
    rule_id,
)
from checks.finding import Evidence, Finding, Severity
from checks.fix import Fix, edits_of

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
DEFAULT_INFORMATION_URI = "https://github.com/cairn-review/cairn"
#: The uriBaseId every location is relative to: the repository root.
SRCROOT = "%SRCROOT%"
#: The key of cairn's fingerprint in ``partialFingerprints``; bump the suffix if its input changes.
FINGERPRINT_KEY = "cairn/v1"
#: The rule of every result of ``cairn scan``.
SCAN_RULE = rule_id("duplication", "clone")

LEVELS = {Severity.NOTICE: "note", Severity.WARNING: "warning", Severity.ERROR: "error"}

_CHECK_DESCRIPTIONS = {
    "duplication": "Re-implements something the repository already has",
    "patterns": "Breaks a convention the codebase follows elsewhere",
    "decisions": "Contradicts an accepted architecture decision record",
}
_DRIVE = re.compile(r"^[A-Za-z]:")


def review_sarif(
    findings: Sequence[Finding],
    *,
    tool_version: str,
    information_uri: str = DEFAULT_INFORMATION_URI,
) -> dict[str, Any]:
    """The findings of a review as a SARIF 2.1.0 log."""
    ordered = sorted(findings, key=finding_key)
    rules = {rule_id(f.check, f.rule): (f.check, f.rule) for f in ordered}
    ids = sorted(rules)
    index = {rid: i for i, rid in enumerate(ids)}
    descriptors = [_rule(rid, *rules[rid]) for rid in ids]
    results = [_finding_result(f, index[rule_id(f.check, f.rule)]) for f in ordered]
    return _log(tool_version, information_uri, descriptors, results)


def sarif_log(
    tool_version: str, results: list[dict[str, Any]], *, with_scan_rule: bool
) -> dict[str, Any]:
    """A log of ``cairn scan``'s results (``app.report.scan``), under the scan's one rule."""
    descriptors = [_rule(SCAN_RULE, "duplication", "clone")] if with_scan_rule else []
    return _log(tool_version, DEFAULT_INFORMATION_URI, descriptors, results)


def physical_location(path: str, start: int, end: int) -> dict[str, Any]:
    """A SARIF physicalLocation of a repository-relative path and line range."""
    return _physical(path, start, end)


def fingerprint_key() -> str:
    """The key of Cairn's partialFingerprints."""
    return FINGERPRINT_KEY


def artifact_uri(path: str) -> str:
    """A repository-relative path as a percent-encoded relative URI (``a%20b/%C3%A9.py``)."""
    if not path or path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise ValueError(f"not a repository-relative path: {path!r}")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if not segments or ".." in segments:
        raise ValueError(f"not a repository-relative path: {path!r}")
    # quote() encodes everything but unreserved characters, so ':' in a first segment can't
    # be read as a scheme, and spaces and non-ASCII become UTF-8 percent-escapes (RFC 3986).
    return "/".join(quote(s, safe="") for s in segments)


def _log(
    tool_version: str,
    information_uri: str,
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
) -> dict[str, Any]:
    driver = {
        "name": "Cairn",
        "version": tool_version,
        "informationUri": information_uri,
        "rules": rules,
    }
    return {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _rule(rid: str, check: str, rule: str) -> dict[str, Any]:
    described = _CHECK_DESCRIPTIONS.get(check)
    text = f"{described} ({rule})" if described else f"{check}: {rule}"
    return {"id": rid, "shortDescription": {"text": text}}


def _finding_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    related = [_related(i, e) for i, e in enumerate(finding.evidence, start=1)]
    links = [
        f"[{_link_text(_evidence_title(e))}]({i})" for i, e in enumerate(finding.evidence, start=1)
    ]
    text = finding.message
    if links:
        text = f"{text} Related: {', '.join(links)}."
    result: dict[str, Any] = {
        "ruleId": rule_id(finding.check, finding.rule),
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [
            {"physicalLocation": _physical(finding.path, finding.start_line, finding.end_line)}
        ],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    if related:
        result["relatedLocations"] = related
    if finding.fix is not None:
        result["fixes"] = [_fix(finding.fix)]
    return result


def _fix(fix: Fix) -> dict[str, Any]:
    """SARIF §3.55: one artifactChange per file; a replacement per edit. A region of whole
    lines without columns ends before the last line's newline (§3.30.7), as ``replacement``
    does."""
    changes = []
    for path in fix.paths:
        changes.append(
            {
                "artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT},
                "replacements": [
                    {
                        "deletedRegion": {"startLine": e.start_line, "endLine": e.end_line},
                        "insertedContent": {"text": e.replacement},
                    }
                    for e in edits_of(fix, path)
                ],
            }
        )
    return {"description": {"text": fix.description}, "artifactChanges": changes}


def _related(location_id: int, evidence: Evidence) -> dict[str, Any]:
    text = _with_details(
        evidence.name or location(evidence.path, evidence.start_line, evidence.end_line),
        likeness(evidence.similarity, evidence.kind),
    )
    if evidence.note:
        text = f"{text}: {evidence.note}" if text else evidence.note
    related: dict[str, Any] = {"id": location_id, "message": {"text": text}}
    if evidence.path:
        related["physicalLocation"] = _physical(
            evidence.path, evidence.start_line, evidence.end_line
        )
    return related


def _physical(path: str, start: int, end: int) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT}
    }
    if start >= 1:
        physical["region"] = {"startLine": start, "endLine": max(start, end)}
    return physical


def _evidence_title(evidence: Evidence) -> str:
    where = location(evidence.path, evidence.start_line, evidence.end_line)
    if evidence.name and where:
        return f"{evidence.name} ({where})"
    return evidence.name or where or evidence.note


def _with_details(text: str, details: str) -> str:
    return f"{text} ({details})" if details else text


def _link_text(text: str) -> str:
    # SARIF §3.11.6: in a plain-text embedded link, '\', '[' and ']' are backslash-escaped.
    return re.sub(r"([\\\[\]])", r"\\\1", text)
