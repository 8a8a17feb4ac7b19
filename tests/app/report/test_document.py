from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from app.report.document import review_document
from checks.finding import Evidence, Finding
from checks.fix import Edit, Fix
from tests.app.report.cases import (
    ADR,
    ALL_FINDINGS,
    CLONE,
    LAYER,
    NO_PATH,
    UNICODE,
)

REVIEW_KEYS = {"version", "findings", "summary", "decisions"}
FINDING_KEYS = {
    "check",
    "rule",
    "severity",
    "path",
    "start_line",
    "end_line",
    "message",
    "fingerprint",
    "evidence",
    "fix",
}
EVIDENCE_KEYS = {"path", "start_line", "end_line", "name", "similarity", "kind", "note"}
REVIEW_SUMMARY_KEYS = {"total", "by_severity", "by_check"}


def round_trip(document: dict[str, Any]) -> Any:
    # allow_nan=False: the document must be strict JSON, which NaN and Infinity are not.
    return json.loads(json.dumps(document, allow_nan=False, ensure_ascii=False))


@pytest.mark.parametrize(
    "findings",
    [
        pytest.param(ALL_FINDINGS, id="all"),
        pytest.param([CLONE], id="one"),
        pytest.param([], id="none"),
        pytest.param(
            [replace(CLONE, evidence=(Evidence("a.py", 1, 2, similarity=math.nan),))], id="nan"
        ),
    ],
)
def test_review_document_schema(findings: Sequence[Finding]) -> None:
    document = review_document(findings)
    assert round_trip(document) == document
    assert set(document) == REVIEW_KEYS
    assert document["version"] == 1
    assert set(document["summary"]) == REVIEW_SUMMARY_KEYS
    assert list(document["summary"]["by_severity"]) == ["error", "warning", "notice"]
    assert document["summary"]["total"] == len(findings) == len(document["findings"])
    for finding in document["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in {"error", "warning", "notice"}
        for evidence in finding["evidence"]:
            assert set(evidence) == EVIDENCE_KEYS
            assert evidence["similarity"] is None or 0 <= evidence["similarity"] <= 1


def test_review_document_values() -> None:
    assert review_document([UNICODE, CLONE]) == {
        "version": 1,
        "findings": [
            {
                "check": "duplication",
                "rule": "clone",
                "severity": "error",
                "path": "billing/invoice.py",
                "start_line": 12,
                "end_line": 15,
                "message": CLONE.message,
                "fingerprint": "3f9a0c1d2e4b5a6978877665",
                "evidence": [
                    {
                        "path": "billing/dates.py",
                        "start_line": 12,
                        "end_line": 30,
                        "name": "parse_date",
                        "similarity": 0.94,
                        "kind": "renamed",
                        "note": "",
                    }
                ],
                "fix": None,
            },
            {
                "check": "duplication",
                "rule": "clone",
                "severity": "notice",
                "path": "src/my module/résumé_日本.py",
                "start_line": 1,
                "end_line": 20,
                "message": UNICODE.message,
                "fingerprint": "",
                "evidence": [  # in the check's order, not re-sorted
                    {
                        "path": "src/names.py",
                        "start_line": 5,
                        "end_line": 9,
                        "name": "names[0]",
                        "similarity": 0.81,
                        "kind": "near-miss",
                        "note": "",
                    },
                    {
                        "path": "src/other names/ñ.py",
                        "start_line": 30,
                        "end_line": 31,
                        "name": "",
                        "similarity": None,
                        "kind": "exact",
                        "note": "",
                    },
                ],
                "fix": None,
            },
        ],
        "summary": {
            "total": 2,
            "by_severity": {"error": 1, "warning": 0, "notice": 1},
            "by_check": {"duplication": 2},
        },
        "decisions": {"relevant": [], "problems": []},
    }


def test_review_document_order_is_deterministic() -> None:
    expected = review_document(ALL_FINDINGS)
    shuffled = list(ALL_FINDINGS)
    random.Random(7).shuffle(shuffled)
    assert review_document(shuffled) == expected
    assert json.dumps(review_document(shuffled)) == json.dumps(expected)
    places = [(f["path"], f["start_line"]) for f in expected["findings"]]
    assert places == sorted(places)
    assert expected["summary"]["by_check"] == {"decisions": 2, "duplication": 2, "patterns": 1}
    assert [f["path"] for f in expected["findings"]][:3] == [
        NO_PATH.path,
        LAYER.path,
        CLONE.path,
    ]
    assert expected["findings"][-1]["path"] == ADR.path


def test_a_fix_is_in_the_document() -> None:
    fix = Fix("Use `parse_date`.", (Edit("a.py", 3, 9, "from b import parse_date as x"),))
    [finding] = review_document([replace(CLONE, fix=fix)])["findings"]
    assert finding["fix"] == {
        "description": "Use `parse_date`.",
        "edits": [
            {
                "path": "a.py",
                "start_line": 3,
                "end_line": 9,
                "replacement": "from b import parse_date as x",
            }
        ],
    }
