"""The real-log decisions benchmark: real ADR logs and repositories, changes written from records.

``decisions_real_cases.yml`` pins public repositories, each with a decision log (Nygard,
adr-tools, MADR or a team's own format), and lists changes to each one's pinned commit: a
*violation* contradicts an accepted record (a dependency, an import, a command, a config file,
an image or a compose service of something the record rejected or removed, or an alternative
to what it chose), a *clean* change must draw no decisions finding at all (the chosen thing, a
neighbour, a mention in a comment or a README, a superseded or proposed record's subject). The
cases were written from the records before Cairn ran on them and are never edited to match its
output.

The repositories are read from local clones (``--mirrors``), never fetched or committed here.
For each log the pinned commit is cloned (``git clone --shared``) under ``bench/.work/``; each
case's change becomes one commit on top of it, built with git plumbing, and Cairn's review
pipeline (index at base, diff, checks) runs on it in-process on the embedded Postgres, with the
``.cairn.yml`` decisions section the case file gives for a log Cairn does not find by itself.

Scoring, on (file, record) pairs of the decisions check's ADR findings (rule ``adr…``; the
record is the finding's first evidence):

* a violation's expected file with a finding of its record (or of one listed in ``also``) is a
  true positive, an expected file without one a false negative;
* every other reported pair is a false positive: any finding on a clean change, a finding of
  another record, or one on a file the case does not expect.

Usage (~10 minutes, most of it indexing the ten repositories at their pinned commits)::

    python bench/decisions_real.py                # run, write bench/.work/decisions_real.json
    python bench/decisions_real.py --mirrors DIR  # DIR/<owner>+<name>[/repo] or DIR/<name>
    python bench/decisions_real.py --log jabref   # one log's cases (not written)
    python bench/decisions_real.py --report-only  # rewrite the RESULTS.md section
    python bench/decisions_real.py --cases bench/decisions_heldout_cases.yml --tag first-run

The section between the ``decisions-real`` markers of ``bench/RESULTS.md`` is this script's;
``run.py`` keeps it when it rewrites the file. Another case file (``--cases FILE``, such as the
held-out logs of ``decisions_heldout_cases.yml``) has a section of its own, named after the
file and the run's ``--tag`` (``decisions-heldout-first-run``), so that a later run never
overwrites the figures of a first one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from app.git import GitRepo  # noqa: E402
from app.review import review  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.source import LocalSource  # noqa: E402
from app.store import Store, database  # noqa: E402
from checks.config import CairnConfig, parse_config  # noqa: E402
from checks.finding import Finding  # noqa: E402

CASES = BENCH / "decisions_real_cases.yml"
WORK = BENCH / ".work"
RESULTS = BENCH / "RESULTS.md"
DEFAULT_MIRRORS = Path("/work/.mirror")

_IDENTITY = {
    "GIT_AUTHOR_NAME": "cairn-bench",
    "GIT_AUTHOR_EMAIL": "bench@cairn.invalid",
    "GIT_COMMITTER_NAME": "cairn-bench",
    "GIT_COMMITTER_EMAIL": "bench@cairn.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}


# ---------------------------------------------------------------------------------------------
# The cases


@dataclass(frozen=True)
class Log:
    name: str
    repo: str
    commit: str
    ecosystem: str
    style: str
    decisions: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    id: str
    log: str
    record: str
    kind: str  # "violation" | "clean"
    claims: str
    note: str
    change: tuple[Mapping[str, Any], ...]
    expect: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    @property
    def records(self) -> frozenset[str]:
        return frozenset((self.record, *self.also))


@dataclass(frozen=True)
class Suite:
    """Where one case file's figures and RESULTS.md section live."""

    cases: Path
    block: str  # the RESULTS.md markers' name
    title: str

    @property
    def figures(self) -> Path:
        return WORK / f"{self.block.replace('-', '_')}.json"

    @property
    def begin(self) -> str:
        return f"<!-- {self.block}:begin -->"

    @property
    def end(self) -> str:
        return f"<!-- {self.block}:end -->"


def suite_of(cases: Path, tag: str = "") -> Suite:
    """The suite of a case file: the tuned ten logs' own, or one named after the file and tag."""
    if cases.resolve() == CASES.resolve() and not tag:
        return Suite(CASES, "decisions-real", "Decisions on real ADR logs")
    stem = cases.name.removesuffix(".yml").removesuffix("_cases").replace("_", "-")
    block = f"{stem}-{tag}" if tag else stem
    title = f"Decisions on real ADR logs: `{cases.name}`" + (
        f", {tag.replace('-', ' ')}" if tag else ""
    )
    return Suite(cases, block, title)


def load(path: Path = CASES) -> tuple[dict[str, Log], list[Case]]:
    """The logs and cases of the case file, checked for the fields a case needs."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    logs = {name: Log(name=name, **fields) for name, fields in doc["logs"].items()}
    cases: list[Case] = []
    for raw in doc["cases"]:
        case = Case(
            id=raw["id"],
            log=raw["log"],
            record=raw["record"],
            kind=raw["kind"],
            claims=raw["claims"],
            note=raw.get("note", ""),
            change=tuple(raw["change"]),
            expect=tuple(raw.get("expect", ())),
            also=tuple(raw.get("also", ())),
        )
        if case.log not in logs:
            raise SystemExit(f"{case.id}: no log {case.log!r}")
        if case.kind not in ("violation", "clean") or (case.kind == "violation") != bool(
            case.expect
        ):
            raise SystemExit(f"{case.id}: a violation expects files, a clean case none")
        cases.append(case)
    ids = Counter(c.id for c in cases)
    if dup := [i for i, n in ids.items() if n > 1]:
        raise SystemExit(f"case ids used twice: {', '.join(dup)}")
    return logs, cases


def apply_edit(current: bytes | None, edit: Mapping[str, Any]) -> bytes:
    """The file after one edit: ``create``, ``append`` or ``replace`` (the text once).

    In a file with CRLF line ends, the edit's line ends are read as CRLF."""
    path = edit["path"]
    if "create" in edit:
        if current is not None:
            raise ValueError(f"{path}: create, but the file exists")
        return str(edit["create"]).encode("utf-8")
    if current is None:
        raise ValueError(f"{path}: no such file to edit")
    text = current.decode("utf-8", errors="surrogateescape")
    crlf = "\r\n" in text

    def ends(s: str) -> str:
        return s.replace("\r\n", "\n").replace("\n", "\r\n") if crlf else s

    if "append" in edit:
        if text and not text.endswith("\n"):
            text += "\r\n" if crlf else "\n"
        text += ends(str(edit["append"]))
    elif "replace" in edit:
        find, new = ends(edit["replace"]["find"]), ends(edit["replace"]["with"])
        if text.count(find) != 1:
            raise ValueError(f"{path}: the text to replace occurs {text.count(find)} times")
        text = text.replace(find, new)
    else:
        raise ValueError(f"{path}: an edit is create, append or replace")
    return text.encode("utf-8", errors="surrogateescape")


# ---------------------------------------------------------------------------------------------
# Git


def _git(repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] = {}) -> bytes:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **_IDENTITY, **env},
    )
    if done.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def mirror_of(log: Log, mirrors: Path) -> Path:
    """The local clone of a log's repository: DIR/<owner>+<name>[/repo] or DIR/<name>."""
    owner, name = log.repo.split("/", 1)
    for candidate in (
        mirrors / f"{owner}+{name}" / "repo",
        mirrors / f"{owner}+{name}",
        mirrors / name,
    ):
        if candidate.exists():
            return candidate
    raise SystemExit(f"no clone of {log.repo} under {mirrors} (--mirrors DIR)")


def clone(log: Log, mirrors: Path) -> Path:
    """A clone of the log's repository under bench/.work with the pinned commit, no checkout."""
    root = WORK / "decisions-real" / log.name
    if not (root / ".git").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        source = mirror_of(log, mirrors)
        subprocess.run(
            ["git", "clone", "--quiet", "--shared", "--no-checkout", str(source), str(root)],
            check=True,
        )
    _git(root, "cat-file", "-e", f"{log.commit}^{{commit}}")
    return root


def complete_base(root: Path, commit: str) -> str:
    """The pinned commit, or a child of it without the files whose content the clone lacks.

    A snapshot may list its largest files without their content (``git ls-tree -l`` says
    ``BAD``); the child leaves them out so that the review reads only what exists."""
    listing = _git(root, "ls-tree", "-r", "-l", "-z", "--full-tree", commit).split(b"\0")
    missing = [
        rec.partition(b"\t")[2].decode("utf-8", errors="surrogateescape")
        for rec in listing
        if rec and rec.partition(b"\t")[0].split()[-1] == b"BAD"
    ]
    if not missing:
        return commit
    index = root / ".git" / "bench-base.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        _git(root, "read-tree", commit, env=env)
        _git(
            root,
            "update-index",
            "--force-remove",
            "-z",
            "--stdin",
            env=env,
            stdin=b"\0".join(m.encode("utf-8", errors="surrogateescape") for m in missing) + b"\0",
        )
        tree = _git(root, "write-tree", env=env).decode().strip()
        message = f"base: {len(missing)} files the clone lacks left out".encode()
        return _git(root, "commit-tree", tree, "-p", commit, stdin=message).decode().strip()
    finally:
        index.unlink(missing_ok=True)


def build(root: Path, base: str, case: Case) -> str:
    """The case's change as one commit on top of base; its sha."""
    index = root / ".git" / f"bench-{case.id}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        _git(root, "read-tree", base, env=env)
        for edit in case.change:
            path = edit["path"]
            listed = _git(root, "ls-tree", base, "--", path).decode().split()
            mode = listed[0] if listed else "100644"
            current = _git(root, "cat-file", "blob", f"{base}:{path}") if listed else None
            blob = _git(root, "hash-object", "-w", "--stdin", stdin=apply_edit(current, edit))
            info = f"{mode},{blob.decode().strip()},{path}"
            _git(root, "update-index", "--add", "--cacheinfo", info, env=env)
        tree = _git(root, "write-tree", env=env).decode().strip()
        message = f"change: {case.id}".encode()
        sha = _git(root, "commit-tree", tree, "-p", base, stdin=message).decode().strip()
    finally:
        index.unlink(missing_ok=True)
    return sha


# ---------------------------------------------------------------------------------------------
# Running


def config_of(log: Log) -> CairnConfig:
    if not log.decisions:
        return CairnConfig()
    return parse_config(yaml.safe_dump({"decisions": dict(log.decisions)}))


def reported(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """The decisions check's ADR findings: file, line, record, how the rule was read, message."""
    out = []
    for f in findings:
        if f.check != "decisions" or not f.rule.startswith("adr") or not f.evidence:
            continue
        out.append(
            {
                "path": f.path,
                "line": f.start_line,
                "record": f.evidence[0].path,
                "origin": origin(f.message),
                "message": f.message,
            }
        )
    return sorted(out, key=lambda r: (r["path"], r["line"], r["record"]))


def origin(message: str) -> str:
    """How the rule behind a finding was read, from its message's wording."""
    if "(passing over " in message:
        return "weighed"
    if "(choosing `" in message:
        return "sibling"
    if "(its own change removed " in message:
        return "evidence"
    return "stated"


async def run(
    logs: Mapping[str, Log], cases: Sequence[Case], mirrors: Path
) -> list[dict[str, Any]]:
    home = WORK / "decisions-real-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "CAIRN_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    settings = Settings.from_env(env)
    rows: list[dict[str, Any]] = []
    async with database.connect(settings) as pool:
        store = Store(pool)
        for name, log in logs.items():
            mine = [c for c in cases if c.log == name]
            if not mine:
                continue
            root = clone(log, mirrors)
            base = complete_base(root, log.commit)
            gitrepo = GitRepo(root)
            repo = await store.repository(f"local:{root}")
            config = config_of(log)
            for case in mine:
                head = build(root, base, case)
                started = time.perf_counter()
                result = await review(store, repo, LocalSource(gitrepo), base, head, config)
                seconds = time.perf_counter() - started
                got = reported(result.findings)
                row = {
                    "id": case.id,
                    "log": case.log,
                    "ecosystem": log.ecosystem,
                    "style": log.style,
                    "kind": case.kind,
                    "claims": case.claims,
                    "record": case.record,
                    "also": list(case.also),
                    "note": case.note,
                    "expect": list(case.expect),
                    "got": got,
                    "seconds": round(seconds, 2),
                }
                rows.append(row)
                tp, fp, fn = outcome(row)
                print(
                    f"{case.id:44} {case.kind:9} tp {tp} fp {fp} fn {fn}  {seconds:6.1f} s",
                    flush=True,
                )
                if fp or fn:  # what was reported, to read the miss
                    for g in got:
                        print(f"    {g['path']}:{g['line']} {_short(g['record'])}: {g['message']}")
    return rows


# ---------------------------------------------------------------------------------------------
# Scoring and the report


def outcome(row: Mapping[str, Any]) -> tuple[int, int, int]:
    """TP, FP, FN of one case over (file, record) pairs (see the module's docstring)."""
    records = {row["record"], *row.get("also", ())}
    expected = set(row["expect"])
    pairs = {(g["path"], g["record"]) for g in row["got"]}
    hit = {path for path, record in pairs if path in expected and record in records}
    wrong = {(p, r) for p, r in pairs if p not in expected or r not in records}
    return len(hit), len(wrong), len(expected - hit)


def score(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """TP/FP/FN overall, per log, per claimed kind, per ecosystem; cases right per group."""
    tally: dict[str, Counter[str]] = {}
    for row in rows:
        tp, fp, fn = outcome(row)
        right = fp == 0 and fn == 0
        for group in (
            "overall",
            f"log:{row['log']}",
            f"claims:{row['claims']}",
            f"ecosystem:{row['ecosystem']}",
            f"kind:{row['kind']}",
        ):
            t = tally.setdefault(group, Counter())
            t["tp"] += tp
            t["fp"] += fp
            t["fn"] += fn
            t["cases"] += 1
            t["right"] += right
    keys = ("tp", "fp", "fn", "cases", "right")
    return {g: {k: c[k] for k in keys} for g, c in tally.items()}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "–"


def section(doc: Mapping[str, Any], suite: Suite) -> str:
    rows: list[dict[str, Any]] = doc["cases"]
    scores = score(rows)
    logs: dict[str, dict[str, str]] = doc["logs"]
    violations = sum(1 for r in rows if r["kind"] == "violation")
    lines = [
        suite.begin,
        f"## {suite.title}",
        "",
        f"`{doc['command']}` on {doc['when']} ({doc['machine']}): {len(rows)} cases on "
        f"{len(logs)} public repositories at pinned commits ({violations} changes that "
        f"contradict an accepted record, {len(rows) - violations} that must draw no decisions "
        "finding), each reviewed end to end (index at base, diff, checks) on the embedded "
        f"Postgres in {doc['seconds']:.0f} s in all. The cases (`bench/{suite.cases.name}`)"
        " were written from the records before Cairn was run on them. Scored on (file, record)"
        " pairs: a finding of the case's record (or one it lists as stating the same decision)"
        " on an expected file is a true positive, any other finding a false positive.",
        "",
        "| group | cases | right | TP | FP | FN | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    order = ["overall"]
    order += sorted(g for g in scores if g.startswith("kind:"))
    order += sorted(g for g in scores if g.startswith("claims:"))
    order += sorted(g for g in scores if g.startswith("ecosystem:"))
    order += [f"log:{name}" for name in logs if f"log:{name}" in scores]
    for group in order:
        s = scores[group]
        label = group
        if group.startswith("log:"):
            info = logs[group[4:]]
            label = f"{group[4:]} ({info['repo']}, {info['style']})"
        lines.append(
            f"| {label} | {s['cases']} | {s['right']} | {s['tp']} | {s['fp']} | {s['fn']} | "
            f"{_ratio(s['tp'], s['tp'] + s['fp'])} | {_ratio(s['tp'], s['tp'] + s['fn'])} |"
        )
    origins = Counter(g["origin"] for r in rows for g in r["got"])
    if origins:
        lines += [
            "",
            "Findings by how their rule was read: "
            + ", ".join(f"{n} {o}" for o, n in sorted(origins.items()))
            + " (stated: the record says it; weighed: an option it passed over; sibling: an "
            "alternative of what it chose; evidence: a thing its own commit removed).",
        ]
    if suite.block in HISTORY:
        lines += ["", HISTORY[suite.block]]
    wrong = [r for r in rows if outcome(r)[1] or outcome(r)[2]]
    lines += ["", f"Every case not right ({len(wrong)}):", ""]
    lines += ["| case | kind | claims | expected | reported | what the case is |"]
    lines += ["| --- | --- | --- | --- | --- | --- |"]
    for r in wrong:
        expected = ", ".join(f"`{p}`" for p in r["expect"]) or "–"
        got = (
            ", ".join(
                f"`{g['path']}:{g['line']}` ({_short(g['record'])}, {g['origin']})"
                for g in r["got"]
            )
            or "–"
        )
        lines.append(
            f"| {r['id']} | {r['kind']} | {r['claims']} | {expected} | {got} | "
            f"{_short(r['record'])}: {r['note']} |"
        )
    if not wrong:
        lines.append("| – | | | | | |")
    lines += ["", suite.end]
    return "\n".join(lines) + "\n"


# What these figures are not: the reader was improved after the cases' first run showed its
# misses (in general ways, each with tests of its own; the cases were never edited).
_TUNED = (
    "The first run of these cases (the reader of commit 7cdfbcd) found 56 of 70 expected pairs "
    "with 13 false positives: precision 0.81, recall 0.80, 107 of 130 cases right. The misses "
    "it listed led to general fixes of the reader (commits 487768e to f393536: records named "
    "like templates, options named by bold labels, one finding per line from the most direct "
    "record, statuses that only supersede, category rejections, declined advice, …); the "
    "cases were not edited. The figures above are therefore no longer those of logs Cairn has "
    "never seen; the first run's are."
)
# The held-out logs' first run: the reader of main at db43ec9, which the cases never met.
_HELDOUT_FIRST = (
    "This is the first run of these cases, on the reader as it was merged (db43ec9) before any "
    "change made while looking at these logs, so it is the independent figure: precision "
    "0.86, recall 0.48, below the targets of 0.9 and 0.75; every clean change stayed clean. "
    "One change outside the reader was needed to run it at all: on the reader as merged, "
    "every review of raft-tech/TANF-app failed (`git log failed: fatal: unable to read "
    "be4a25b…`: its snapshot lacks an old object), so this run has the decision history's "
    "fix (569f26a: a history git cannot walk is no history); nothing else differs."
)
# The held-out logs after the reader's fixes: no longer an independent figure.
_HELDOUT_AFTER = (
    "These are the same cases, never edited, after the reader was fixed for the general causes "
    "their first run showed (commits 0bfa91b to 0a2ef7c, run merged with main at 9e67bb8; each "
    "with tests of a flagged change "
    "and a near miss: 'excludes … e.g. X', 'rather than setting up X', 'Chosen option / "
    "Chosen Alternative: X' naming no option heading, deletions and passive removals past a "
    "place, the registry sense of 'an npm package', what a later proposal weighs, stale "
    "decisions measured as the check matches, one folder per record, Gradle version catalogs, "
    "split CircleCI configuration, and catalog entries for web analytics, client-side search, "
    "form libraries, visual regression, load testing and style guides). The fixes were made "
    "while looking at these logs' misses, so these figures are tuned like the ten logs' are; "
    "the first run's (precision 0.86, recall 0.48) are the independent ones."
)
# The second held-out round's first run: the reader of main at 0c4ada6, which these cases never met.
_HELDOUT2_FIRST = (
    "This is the first run of these cases, on the reader of main as merged (0c4ada6) with no "
    "change made while looking at these logs, so it is the independent figure: precision 0.00, "
    "recall 0.00 (0 of 25 violations found, 2 of 27 clean changes flagged). The misses as read "
    "from `cairn decisions` on each pinned commit: (1) openedx/frontend-platform, 14 cases: its "
    "seven records are reStructuredText with underlined headings (a title over `====`, "
    "`Status` over `----` and `Accepted` below), and Cairn read no title and no status from "
    'any of them, so none binds ("7 decision records, 0 binding"); of its cases, the five '
    "Lerna ones name what ADR-3's Alternatives section passed over (\"We strongly considered "
    'making a Lerna monorepo") and the two edx/frontend-* ones what its Context says the '
    "platform replaces, but the other seven (axios-case-converter, axios-retry, dotenv, a "
    "`.env` file) rest on the case writer's inference from practices the records name no tool "
    "for (ADR-6: consumers install their own middleware; ADR-7: environment variable "
    "configuration is deprecated), which a reader of technologies cannot make. (2) "
    "openedx/frontend-app-learning, 3 cases: ADR-10 (no status, read as accepted) keeps the "
    'widget in the app "rather than publishing a separate npm package" and names no tool; '
    "Lerna is the case writer's inference. (3) DependencyTrack/hyades, 8 cases: ADR-7 rejects a "
    'practice ("generating an OpenAPI specification from code and annotations") and names '
    'no library (Cairn read only `OpenAPI` as chosen), and ADR-11 "decided against the '
    'logical replication approach", a PostgreSQL feature, never naming Debezium; all eight '
    "rest on inference. So 18 of the 25 violations name nothing the records name, and these "
    "cases measure the reader's limit there as much as its misses; the 7 that do are lost to "
    'reStructuredText. The 2 false positives: the accepted ADR-10 of hyades says "In the '
    'process of moving away from Kafka (see ADR-001)", read as avoid Kafka, so a Kafka broker '
    "and kafka-clients were flagged where the cases expected the Proposed ADR-1 to decide; "
    "Cairn's reading of an accepted record is defensible, and the cases stay as written. Also "
    'seen: hyades\' Proposed ADR-1 "Go all-in on Postgres" was read as choosing the Go '
    "language (no effect here, the record is not binding), and `cairn decisions` at a snapshot "
    "commit whose largest file is absent stops with a ValueError (`git ls-tree -l` prints "
    "`BAD` as its size); the bench works around the latter as before."
)
# The second held-out round after the general fixes made while reading its logs.
_HELDOUT2_AFTER = (
    "These are the same cases, never edited, after two general fixes made while reading the "
    "round's logs (0d9959f: underlined headings, reStructuredText's and setext's, are read as "
    "headings, so the seven records of openedx/frontend-platform now have their titles and "
    "statuses and bind; d405a1e: 'considered using X' weighs X instead of choosing it). The "
    "figures do not move: the records now bind, but what the cases add is named by none of "
    "them as rejected in a way the reader takes (ADR-3 of frontend-platform names Lerna only as "
    "the modifier of 'a Lerna monorepo' it 'strongly considered', with the turn against it in "
    "the next sentence), and the other 18 violations rest on practices no record names a tool "
    "for. No fix was made for those: a rule for them would be written for these cases. The "
    "first run's figures (precision 0.00, recall 0.00) are the independent ones; these are "
    "tuned."
)
HISTORY = {
    "decisions-real": _TUNED,
    "decisions-heldout-first-run": _HELDOUT_FIRST,
    "decisions-heldout-after-fixes": _HELDOUT_AFTER,
    "decisions-heldout2-round2-first-run": _HELDOUT2_FIRST,
    "decisions-heldout2-round2-after-fixes": _HELDOUT2_AFTER,
}


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def write_section(text: str, suite: Suite) -> None:
    """Replace the suite's block of RESULTS.md (or append it), leaving the rest."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    begin, end = old.find(suite.begin), old.find(suite.end)
    if begin != -1 and end != -1:
        new = old[:begin] + text.rstrip("\n") + old[end + len(suite.end) :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + text
    RESULTS.write_text(new if new.endswith("\n") else new + "\n")
    print(f"wrote the {suite.block} section of bench/{RESULTS.name}")


def _machine() -> str:
    cpu = os.cpu_count() or 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return f"{cpu} cores, load average {load[0]:.1f} at the start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS, help="local clones")
    parser.add_argument("--log", nargs="*", help="only these logs (not written to RESULTS.md)")
    parser.add_argument("--case", nargs="*", help="only these cases (not written to RESULTS.md)")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md only")
    parser.add_argument("--cases", type=Path, default=CASES, help="the case file")
    parser.add_argument("--tag", default="", help="names this run's section (e.g. first-run)")
    args = parser.parse_args()
    suite = suite_of(args.cases, args.tag)
    if not args.report_only:
        logs, cases = load(args.cases)
        partial = bool(args.log or args.case)
        cases = [
            c
            for c in cases
            if (not args.log or c.log in args.log) and (not args.case or c.id in args.case)
        ]
        machine = _machine()
        started = time.perf_counter()
        rows = asyncio.run(run(logs, cases, args.mirrors))
        doc = {
            "command": " ".join(["python bench/decisions_real.py", *sys.argv[1:]]),
            "when": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": machine,
            "seconds": time.perf_counter() - started,
            "logs": {
                n: {"repo": g.repo, "commit": g.commit, "style": g.style} for n, g in logs.items()
            },
            "cases": rows,
        }
        for group, s in sorted(score(rows).items()):
            print(
                f"{group:24} cases {s['cases']:3} right {s['right']:3} "
                f"tp {s['tp']:3} fp {s['fp']:3} fn {s['fn']:3}"
            )
        if partial:
            return
        WORK.mkdir(parents=True, exist_ok=True)
        suite.figures.write_text(json.dumps(doc, indent=2) + "\n")
    doc = json.loads(suite.figures.read_text())
    write_section(section(doc, suite), suite)


if __name__ == "__main__":
    main()
