"""Mined conventions on real code: the rules `cairn rules` learns, and what they flag in a release.

For each project of ``releases.py`` (two consecutive releases committed as two commits), it runs
``cairn rules`` at the older release (the rules and their evidence), then ``cairn review`` of the
diff from the older release to the newer one, and counts the pattern findings per 1,000 changed
lines (lines added or modified in the source files Cairn reviews: the first column of
``git diff --numstat``). Each finding is looked up in ``bench/rules_judgements.yml``, where it was
judged true or false by reading the code; a finding with no judgement is reported as unjudged and
never counted as true. Precision is true / (true + false).

Usage (in the bench venv, ``bench/.work/venv``, which ``python bench/env.py`` creates)::

    bench/.work/venv/bin/python bench/rules.py [--project click zod]
    bench/.work/venv/bin/python bench/rules.py --report-only   # the RESULTS.md section again
    bench/.work/venv/bin/python bench/rules.py --unjudged      # YAML stubs for findings to judge

Figures go to ``bench/.work/rules.json``; ``rules_report`` rewrites the section between the
``rules`` markers of ``bench/RESULTS.md`` (``run.py`` keeps it when it rewrites the file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import detectors
import env
import gitrepo
import releases
import rules_report
import yaml
from languages import language_of

BENCH = Path(__file__).resolve().parent
FIGURES = BENCH / ".work" / "rules.json"
JUDGEMENTS = BENCH / "rules_judgements.yml"
HOMES = BENCH / ".work" / "cairn-home"
JUDGED_CHECK = "patterns"


@dataclass
class Changed:
    """Lines of the diff between the two releases (``git diff --numstat``)."""

    files: int = 0
    added: int = 0  # added or modified: the numstat's first column
    deleted: int = 0


@dataclass
class ProjectFigures:
    name: str
    language: str
    old: str
    new: str
    source: str
    files_old: int = 0
    changed_source: Changed = field(default_factory=Changed)
    changed_all: Changed = field(default_factory=Changed)
    rules_s: float | None = None
    rules: list[dict[str, Any]] | None = None
    rules_error: str = ""
    review_s: float | None = None
    findings: list[dict[str, Any]] | None = None
    review_error: str = ""


def changed_lines(repo: Path) -> tuple[Changed, Changed]:
    """(source files Cairn reviews, every file) changed between the two releases."""
    source, every = Changed(), Changed()
    numstat = gitrepo.git(repo, "diff", "--numstat", releases.OLD_TAG, releases.NEW_TAG)
    for line in numstat.splitlines():
        added, deleted, path = line.split("\t", 2)
        if added == "-":  # binary
            continue
        counts = [every]
        if language_of(path.split(" => ")[-1].rstrip("}")) is not None:
            counts.append(source)
        for into in counts:
            into.files += 1
            into.added += int(added)
            into.deleted += int(deleted)
    return source, every


def _document(stdout: str) -> dict[str, Any]:
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    document = json.loads(stdout[start:])
    if not isinstance(document, dict):
        raise ValueError("the output is not a JSON object")
    return document


def _failure(what: str, run: Any) -> str:
    return f"{what} exited {run.returncode}: {run.stderr.strip()[-800:]}"


def measure_project(project: releases.Project) -> ProjectFigures:
    """Build the project's repository, mine its rules at the old release, review the new one."""
    figures = ProjectFigures(
        project.name, project.language, project.old.version, project.new.version, project.source
    )
    repo = releases.build(project)
    old = gitrepo.head(repo, releases.OLD_TAG)
    new = gitrepo.head(repo, releases.NEW_TAG)
    figures.files_old = len(gitrepo.git(repo, "ls-tree", "-r", "--name-only", old).splitlines())
    figures.changed_source, figures.changed_all = changed_lines(repo)

    home = HOMES / f"rules-{project.name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    setup = detectors.warm_up(home)
    if not setup.ok:
        figures.rules_error = figures.review_error = _failure("cairn index (warm-up)", setup)
        return figures

    rules = detectors.run_cairn(
        ["rules", "--repo", str(repo), "--ref", old, "--format", "json"], home
    )
    figures.rules_s = rules.wall_s
    if rules.ok:
        try:
            mined = _document(rules.stdout).get("rules")
            if not isinstance(mined, list):
                raise ValueError("no rules list")
            figures.rules = mined
        except (ValueError, json.JSONDecodeError) as exc:
            figures.rules_error = f"cairn rules printed no usable JSON: {exc}"
    else:
        figures.rules_error = _failure("cairn rules", rules)

    review = detectors.run_cairn(
        ["review", "--repo", str(repo), "--base", old, "--head", new, "--format", "json"], home
    )
    figures.review_s = review.wall_s
    # Exit 1 means findings at or above --fail-on: a normal outcome here.
    if review.returncode in (0, 1):
        try:
            found = _document(review.stdout).get("findings")
            if not isinstance(found, list):
                raise ValueError("no findings list")
            figures.findings = found
        except (ValueError, json.JSONDecodeError) as exc:
            figures.review_error = f"cairn review printed no usable JSON: {exc}"
    else:
        figures.review_error = _failure("cairn review", review)
    shutil.rmtree(home, ignore_errors=True)  # disk is not free
    return figures


def load_judgements(path: Path = JUDGEMENTS) -> dict[str, dict[str, dict[str, Any]]]:
    """project → finding fingerprint → {verdict: bool, reason, ...}; bad entries are an error."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping of project → fingerprint → judgement")
    problems: list[str] = []
    for project, entries in data.items():
        if not isinstance(entries, dict):
            problems.append(f"{project}: expected a mapping of fingerprint → judgement")
            continue
        for fingerprint, entry in entries.items():
            where = f"{project}.{fingerprint}"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected a mapping")
            elif not isinstance(entry.get("verdict"), bool):
                problems.append(f"{where}: verdict must be true or false")
            elif not str(entry.get("reason", "")).strip():
                problems.append(f"{where}: a judgement needs its reason")
    if problems:
        raise SystemExit(f"{path}:\n  " + "\n  ".join(problems))
    return data


def unjudged_stubs(figures: dict[str, Any], judgements: dict[str, Any]) -> str:
    """YAML entries, to fill in, for the judged check's findings that have no judgement yet."""
    out: list[str] = []
    for project in figures["projects"]:
        known = judgements.get(project["name"], {})
        todo = [
            f
            for f in project.get("findings") or []
            if f.get("check") == JUDGED_CHECK and f.get("fingerprint") not in known
        ]
        if not todo:
            continue
        out.append(f"{project['name']}:")
        for f in todo:
            out.append(f"  {f['fingerprint']}:")
            out.append(f"    rule: {f['rule']}")
            out.append(f"    path: {f['path']}")
            out.append(f"    line: {f['start_line']}")
            out.append(f"    message: {json.dumps(f['message'])}")
            out.append("    verdict: ")
            out.append("    reason: ")
    return "\n".join(out) + ("\n" if out else "")


def _cairn_checkout() -> str:
    """The checkout measured: its commit, and whether Cairn had uncommitted changes."""
    described = env.machine()["cairn"]  # "0.1.0 (checkout <sha> <subject>[; uncommitted…])"
    found = re.search(r"checkout ([0-9a-f]+)", described)
    checkout = f"at `{found.group(1)}`" if found else described
    if "uncommitted changes" in described:
        checkout += " with uncommitted changes to Cairn"
    return checkout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [p.name for p in releases.PROJECTS]
    parser.add_argument("--project", nargs="*", choices=names, help="only these projects")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the RESULTS.md section only"
    )
    parser.add_argument(
        "--unjudged", action="store_true", help="print YAML stubs for unjudged findings"
    )
    args = parser.parse_args()
    judgements = load_judgements()
    if args.unjudged or args.report_only:
        if not FIGURES.exists():
            raise SystemExit(f"no figures: run `{sys.argv[0]}` first")
        figures = json.loads(FIGURES.read_text())
        if args.unjudged:
            print(unjudged_stubs(figures, judgements), end="")
            return
    else:
        setup = env.ensure()
        if not setup.cairn_ok:
            raise SystemExit(setup.cairn_error)
        projects = [p for p in releases.PROJECTS if not args.project or p.name in args.project]
        run = {
            "command": shlex.join(["python", "bench/rules.py", *sys.argv[1:]]),
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cairn": _cairn_checkout(),
        }
        # A run of some projects keeps the last figures of the others.
        previous = json.loads(FIGURES.read_text()) if FIGURES.exists() and args.project else {}
        by_name = {p["name"]: p for p in previous.get("projects", []) if "command" in p}
        for project in projects:
            print(f"{project.name} {project.old.version} → {project.new.version}", flush=True)
            by_name[project.name] = {**run, **asdict(measure_project(project))}
        figures = {
            "python": str(env.PYTHON.relative_to(BENCH.parent)),
            "projects": [by_name[p.name] for p in releases.PROJECTS if p.name in by_name],
        }
        FIGURES.write_text(json.dumps(figures, indent=2))
    text = rules_report.section(figures, judgements, JUDGED_CHECK)
    print(rules_report.summary(figures, judgements, JUDGED_CHECK))
    rules_report.write_section(text)


if __name__ == "__main__":
    main()
