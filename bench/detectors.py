"""The two clone detectors under test, Cairn and jscpd 5: how to call them, how to read them.

Both are reduced to the same shape, a ``Clone`` between two line ranges, so the speed and
quality benchmarks score them with one piece of code. Cairn is called through its CLI
contract only (``cairn index``/``scan``/``review``, JSON output), never imported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import env
import gitrepo
import measure


@dataclass(frozen=True, slots=True)
class Span:
    path: str  # relative to the repository root, forward slashes
    start_line: int  # 1-based, inclusive
    end_line: int

    def overlaps(self, other: Span) -> bool:
        return (
            self.path == other.path
            and self.start_line <= other.end_line
            and other.start_line <= self.end_line
        )


@dataclass(frozen=True, slots=True)
class Clone:
    a: Span
    b: Span
    kind: str


# ----------------------------------------------------------------------------------- jscpd


@dataclass(frozen=True)
class JscpdConfig:
    """A named set of jscpd flags."""

    name: str
    flags: tuple[str, ...]


JSCPD_DEFAULT = JscpdConfig("jscpd", ("--min-tokens", "50"))
JSCPD_TUNED = JscpdConfig(
    "jscpd tuned",
    (
        "--min-tokens",
        "50",
        "--mode",
        "weak",
        "--ignore-identifiers",
        "--ignore-literals",
        "--similarity",
        "0.8",
    ),
)
JSCPD_CONFIGS = (JSCPD_DEFAULT, JSCPD_TUNED)


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        p = p.relative_to(root)
    return p.as_posix().removeprefix("./")


def parse_jscpd(report: dict[str, object], root: Path) -> list[Clone]:
    """The clones of a jscpd JSON report, paths made relative to ``root``."""
    clones: list[Clone] = []
    duplicates = report.get("duplicates", [])
    assert isinstance(duplicates, list)
    for dup in duplicates:
        sides = []
        for key in ("firstFile", "secondFile"):
            side = dup[key]
            start = side.get("startLoc", {}).get("line", side.get("start"))
            end = side.get("endLoc", {}).get("line", side.get("end"))
            sides.append(Span(_relative(side["name"], root), int(start), int(end)))
        clones.append(Clone(sides[0], sides[1], str(dup.get("kind", "exact"))))
    return clones


@dataclass(frozen=True)
class Detection:
    """A detector's measured run and the clones it reported."""

    run: measure.Run
    clones: list[Clone]
    error: str = ""
    coverage: str = ""  # what the tool says it read, e.g. "1918 files, 487118 lines"


def run_jscpd(config: JscpdConfig, root: Path) -> Detection:
    """jscpd over the files of ``root``, with its JSON reporter."""
    with tempfile.TemporaryDirectory(prefix="jscpd-") as out:
        cmd = [str(env.JSCPD), *config.flags, "--reporters", "json", "--output", out]
        cmd += ["--silent", "--no-tips", "."]
        result = measure.run(cmd, cwd=root)
        report_path = Path(out) / "jscpd-report.json"
        if not result.ok or not report_path.exists():
            return Detection(
                result, [], f"jscpd exited {result.returncode}: {result.stderr[-500:]}"
            )
        report = json.loads(report_path.read_text())
    total = report.get("statistics", {}).get("total", {})
    coverage = f"{total.get('sources', '?')} files, {total.get('lines', '?')} lines"
    return Detection(result, parse_jscpd(report, root), coverage=coverage)


# ----------------------------------------------------------------------------------- cairn


def cairn_env(home: Path) -> dict[str, str]:
    """The environment of a Cairn run: its own data directory, the embedded Postgres."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ["CAIRN_HOME"] = str(home)
    return environ


def run_cairn(args: Sequence[str], home: Path) -> measure.Run:
    """One ``cairn`` command, measured together with the Postgres it runs under ``home``."""
    return measure.run([str(env.CAIRN), *args], env=cairn_env(home), watch=str(home))


WARMUP_REPO = Path(__file__).resolve().parent / ".work" / "warmup"


def warm_up(home: Path) -> measure.Run:
    """Index a one-file repository: creates the embedded Postgres cluster and the schema."""
    if not gitrepo.has_tag(WARMUP_REPO, gitrepo.BASE_TAG):
        shutil.rmtree(WARMUP_REPO, ignore_errors=True)
        gitrepo.init(WARMUP_REPO)
        (WARMUP_REPO / "hello.py").write_text("def hello(name):\n    return f'hi {name}'\n")
        gitrepo.commit_all(WARMUP_REPO, "warm-up")
        gitrepo.git(WARMUP_REPO, "tag", gitrepo.BASE_TAG)
    return run_cairn(["index", "--repo", str(WARMUP_REPO)], home)


def _json_document(stdout: str) -> dict[str, object]:
    """The JSON object a command printed, tolerating log lines before it."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    document = json.loads(stdout[start:])
    if not isinstance(document, dict):
        raise ValueError("the output is not a JSON object")
    return document


def _span(side: dict[str, object]) -> Span:
    return Span(str(side["path"]), int(str(side["start_line"])), int(str(side["end_line"])))


def parse_cairn_scan(stdout: str) -> list[Clone]:
    """The unit pairs of ``cairn scan --format json``'s families: members of one stream pair
    up (exact or renamed copies), and each link pairs the members of its two streams."""
    document = _json_document(stdout)
    families = document.get("families", [])
    assert isinstance(families, list)
    clones: list[Clone] = []
    for family in families:
        by_stream: dict[int, list[Span]] = {}
        for member in family["members"]:
            by_stream.setdefault(int(member["stream"]), []).append(_span(member))
        for spans in by_stream.values():
            for i, first in enumerate(spans):
                clones.extend(Clone(first, second, "copy") for second in spans[i + 1 :])
        for link in family["links"]:
            for first in by_stream.get(int(link["a"]), []):
                clones.extend(
                    Clone(first, second, "near-miss")
                    for second in by_stream.get(int(link["b"]), [])
                )
    return clones


CAIRN_SCAN = ("scan", "--all", "--format", "json")  # every section: the benches count all


@dataclass(frozen=True)
class ReviewFinding:
    check: str
    rule: str
    span: Span
    evidence: tuple[Span, ...]


def parse_cairn_review(stdout: str) -> list[ReviewFinding]:
    """The findings of ``cairn review --format json``."""
    document = _json_document(stdout)
    findings = document.get("findings", [])
    assert isinstance(findings, list)
    return [
        ReviewFinding(
            str(f.get("check", "")),
            str(f.get("rule", "")),
            _span(f),
            tuple(_span(e) for e in f.get("evidence", []) if "path" in e),
        )
        for f in findings
    ]


def cairn_index_and_scan(repo: Path, home: Path) -> tuple[Detection, measure.Run]:
    """``cairn index`` then ``cairn scan``: the scan's clones, and the index run."""
    index = run_cairn(["index", "--repo", str(repo)], home)
    if not index.ok:
        error = f"cairn index exited {index.returncode}: {index.stderr[-800:]}"
        return Detection(index, [], error), index
    scan = run_cairn([*CAIRN_SCAN, "--repo", str(repo)], home)
    if not scan.ok:
        error = f"cairn scan exited {scan.returncode}: {scan.stderr[-800:]}"
        return Detection(scan, [], error), index
    try:
        clones = parse_cairn_scan(scan.stdout)
    except (ValueError, KeyError, TypeError) as exc:
        return Detection(scan, [], f"cairn scan printed no usable JSON: {exc}"), index
    return Detection(scan, clones), index
