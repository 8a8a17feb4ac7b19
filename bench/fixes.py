"""Fixes and sibling copies, measured: on the clone benchmark and on a real project's history.

1. ``quality``: the clone benchmark of ``bench/quality.py`` (same generator, seed and size).
   For every type-1 (exact) and type-2 (renamed) pair, the copy is taken as new code and the
   original as the code at base, and the clone fix is asked for (``checks.fixes.clone_fix``,
   then ``verified``: the edited file parses with no new tree-sitter error). The share of
   pairs given a verified fix, per language and type, and why the others were not.
   Detection is not re-measured here (``quality.py`` does); every pair is handed over as found.
2. ``history``: a real project's git log (a local mirror: ``--mirror``, by default
   cisagov/manage.get.gov in ``/work/.mirror``), its last ``--commits`` non-merge commits on
   the first-parent line that change Python. Each commit is reviewed against its parent (the
   index brought to the parent incrementally) and its ``edited-copy`` findings counted: how
   many commits edited one copy of a clone family and left others. ``--sample 20`` of the
   findings are written to ``bench/.work/fixes-sample.json`` to be judged by hand; the
   judgements live in ``bench/fixes_judgements.yml``.

Usage: ``python bench/fixes.py [--part quality|history|both] [--commits 300] [--sample 20]``.
The section between the ``fixes`` markers of ``bench/RESULTS.md`` is this script's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import corpus  # noqa: E402
import quality  # noqa: E402
import report  # noqa: E402

from analyzers.diff import FileDiff  # noqa: E402
from analyzers.errors import CairnError  # noqa: E402
from analyzers.shapes import behave_alike, function_shape  # noqa: E402
from app.git import GitRepo  # noqa: E402
from app.review import review  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.source import LocalSource  # noqa: E402
from app.store import Store, database  # noqa: E402
from checks.config import CairnConfig  # noqa: E402
from checks.context import Change, CheckContext  # noqa: E402
from checks.finding import Evidence, Finding, Severity  # noqa: E402
from checks.fix import FixInputs  # noqa: E402
from checks.fixes import clone_fix, head_or_base, verified  # noqa: E402

WORK = BENCH / ".work"
FIGURES = WORK / "fixes.json"
SAMPLE = WORK / "fixes-sample.json"
JUDGEMENTS = BENCH / "fixes_judgements.yml"
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- fixes:begin -->", "<!-- fixes:end -->"
DEFAULT_MIRROR = Path("/work/.mirror/cisagov+manage.get.gov/repo")


class _Files:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def source_of(self, path: str) -> bytes | None:
        return self.files.get(path)

    def imports_of(self, path: str) -> tuple[()]:
        return ()


def _reason(
    copy_path: str, orig_path: str, copy_line: int, orig_line: int, files: dict[str, bytes]
) -> str:
    copy = function_shape(copy_path, files[copy_path], copy_line)
    orig = function_shape(orig_path, files[orig_path], orig_line)
    if copy is None or orig is None:
        return "not a top-level function with plain parameters"
    if copy.decorated or orig.decorated:
        return "decorated"
    if not behave_alike(copy, orig):
        return "behaves differently (a literal or a free name changed)"
    return "other (signature, name clash or verification)"


def part_quality(per_type: int, seed: int) -> dict[str, Any]:
    corpus.build_all(tuple(quality.GROUPS[g][0] for g in quality.GROUPS))
    bench = quality.generate(per_type, seed)
    files = {p: t.encode() for p, t in bench.files.items()}
    ctx = CheckContext(
        index=None,  # type: ignore[arg-type]  # clone_fix reads no index
        config=CairnConfig(),
        head=_Files(files),
        fixes=FixInputs(base_sources=files),
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    reasons: Counter[tuple[str, str, str]] = Counter()
    exported: Counter[tuple[str, str]] = Counter()  # fixes that also export the original
    started = time.perf_counter()
    for pair in bench.pairs:
        if pair.category not in ("type-1", "type-2"):
            continue
        copy, orig = (pair.a, pair.b) if "of it" in pair.origin_a else (pair.b, pair.a)
        kind = "exact" if pair.category == "type-1" else "renamed"
        shape = function_shape(orig.path, files[orig.path], orig.start_line)
        finding = Finding(
            check="duplication",
            rule="clone",
            path=copy.path,
            start_line=copy.start_line,
            end_line=copy.end_line,
            message="",
            severity=Severity.WARNING,
            evidence=(
                Evidence(
                    orig.path,
                    orig.start_line,
                    orig.end_line,
                    shape.name if shape else "f",
                    1.0,
                    kind,
                ),
            ),
        )
        # The copy's file is what the change adds; the original's is untouched.
        change = Change("", "", files=(FileDiff(None, copy.path, "added"),))
        fix = clone_fix(finding, ctx, change)
        ok = fix is not None and verified(fix, head_or_base(change, ctx))
        counts[(pair.language, pair.category, "fixed" if ok else "not")] += 1
        if ok and fix is not None and len(fix.edits) > 1:
            exported[(pair.language, pair.category)] += 1
        if not ok:
            why = _reason(copy.path, orig.path, copy.start_line, orig.start_line, files)
            reasons[(pair.language, pair.category, why)] += 1
    return {
        "per_type": per_type,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 2),
        "counts": [[*k, v] for k, v in sorted(counts.items())],
        "reasons": [[*k, v] for k, v in sorted(reasons.items())],
        "exported": [[*k, v] for k, v in sorted(exported.items())],
    }


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


async def part_history(mirror: Path, commits: int, sample: int, seed: int) -> dict[str, Any]:
    root = WORK / "fixes-history" / mirror.parent.name
    if not (root / ".git").is_dir():
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(root)],
            check=True,
        )
    head = _git(root, "rev-parse", "HEAD").strip()
    log = _git(
        root, "log", "--first-parent", "--no-merges", f"-n{commits}", "--format=%H %P", head,
        "--", "*.py",
    ).split("\n")  # fmt: skip
    pairs = [line.split()[:2] for line in reversed(log) if len(line.split()) >= 2]
    home = WORK / "fixes-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "CAIRN_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    settings = Settings.from_env(env)
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    started = time.perf_counter()
    async with database.connect(settings) as pool:
        store = Store(pool)
        repo = await store.repository(f"local:{root}")
        git = GitRepo(root)
        for number, (sha, parent) in enumerate(pairs, 1):
            try:
                result = await review(store, repo, LocalSource(git), parent, sha, CairnConfig())
            except CairnError as exc:  # one unreadable commit of a snapshot is reported
                failed.append(f"{sha[:10]}: {type(exc).__name__}: {exc}"[:200])
                continue
            found = [f for f in result.findings if f.rule == "edited-copy"]
            subject = _git(root, "log", "-1", "--format=%s", sha).strip()
            rows.append(
                {
                    "sha": sha,
                    "subject": subject,
                    "changed_units": result.changed_units,
                    "findings": [_finding_json(f) for f in found],
                }
            )
            if number % 25 == 0:
                print(f"  {number}/{len(pairs)} commits", flush=True)
    seconds = time.perf_counter() - started
    flagged = [r for r in rows if r["findings"]]
    every = [(r["sha"], r["subject"], f) for r in rows for f in r["findings"]]
    rng = random.Random(seed)
    drawn = rng.sample(every, min(sample, len(every)))
    SAMPLE.write_text(json.dumps([{"sha": s, "subject": t, **f} for s, t, f in drawn], indent=1))
    return {
        "repository": mirror.parent.name.replace("+", "/"),
        "head": head,
        "commits": len(pairs),
        "reviewed": len(rows),
        "failed": failed,
        "with_changed_units": sum(1 for r in rows if r["changed_units"]),
        "flagged_commits": len(flagged),
        "findings": len(every),
        "copies_named": sum(len(f["evidence"]) for _, _, f in every),
        "seconds": round(seconds, 1),
        "sample": [
            {"sha": s[:10], "path": f["path"], "line": f["start_line"]} for s, _, f in drawn
        ],
    }


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "path": f.path,
        "start_line": f.start_line,
        "end_line": f.end_line,
        "message": f.message,
        "evidence": [
            {"path": e.path, "start_line": e.start_line, "name": e.name, "note": e.note}
            for e in f.evidence
        ],
    }


def section(doc: dict[str, Any]) -> str:
    out = [BEGIN, "## Fixes and sibling copies (`bench/fixes.py`)", ""]
    q = doc.get("quality")
    if q:
        out += [
            f"Command: `python bench/fixes.py --part quality` (the clone benchmark of "
            f"`quality.py`, {q['per_type']} pairs per type and language, seed {q['seed']}). "
            "Each exact (type-1) and renamed (type-2) pair is handed to the clone fix as found; "
            "a fix counts when it is offered and verified (the edited file parses with no new "
            "tree-sitter error).",
            "",
            "| language | type | pairs | verified fix | share |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        totals: dict[tuple[str, str], dict[str, int]] = {}
        for lang, cat, outcome, n in q["counts"]:
            totals.setdefault((lang, cat), {"fixed": 0, "not": 0})[outcome] += n
        for (lang, cat), t in sorted(totals.items()):
            n = t["fixed"] + t["not"]
            out.append(f"| {lang} | {cat} | {n} | {t['fixed']} | {t['fixed'] / n:.0%} |")
        out += [
            "",
            "Of the verified fixes, those that also add `export` to the original (its file is "
            "not in the change): "
            + (", ".join(f"{lang} {cat} {n}" for lang, cat, n in q.get("exported", [])) or "none")
            + ".",
            "",
            "Why no fix was offered:",
            "",
        ]
        out += [f"- {lang} {cat}: {why} — {n}" for lang, cat, why, n in q["reasons"]]
        out.append("")
    first = doc.get("history_first")
    if first:
        out += _history_lines(
            first,
            "first_run",
            "The rule as first written (any clone at "
            "`duplication.threshold` 0.70, tests and migrations judged too):",
        )
    second = doc.get("history_second")
    if second:
        out += _history_lines(
            second,
            "second_run",
            "Narrowed (copies 85%+ similar that still hold a line the edit changed; production "
            "code only), before two fixes its sample showed (a copy the change edited by "
            "inserting lines only counted as untouched; comment lines were anchors):",
        )
    h = doc.get("history")
    if h:
        out += _history_lines(
            h,
            "third_run",
            "The rule of commit 9b048d2 (narrowed, with both fixes; not sampled again; the "
            "commit after it says an edit in a method of a copied class once, not twice):",
        )
    out.append(END)
    return "\n".join(out) + "\n"


def _history_lines(h: dict[str, Any], run: str, title: str) -> list[str]:
    out: list[str] = [title, ""]
    if True:
        out += [
            f"Command: `python bench/fixes.py --part history --commits {h['commits']}` on "
            f"{h['repository']} (mirror at `{h['head'][:10]}`): its last {h['commits']} "
            "non-merge first-parent commits that change Python, each reviewed against its "
            f"parent ({h['seconds']} s in all).",
            "",
            f"- commits reviewed: {h['reviewed']} ({len(h['failed'])} could not be), "
            f"{h['with_changed_units']} of them changing functions or classes",
            f"- commits that edited one copy of a clone family and left others: "
            f"{h['flagged_commits']} ({h['findings']} edited-copy findings naming "
            f"{h['copies_named']} untouched copies)",
            "",
        ]
        judged = _judgements(run)
        if judged:
            verdicts = Counter(j["verdict"] for j in judged)
            out += [
                f"{len(judged)} findings drawn at random (seed 7) and judged by hand: "
                + ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items())),
                "",
                "| commit | finding | verdict | why |",
                "| --- | --- | --- | --- |",
            ]
            for j in judged:
                out.append(f"| {j['sha']} | {j['where']} | {j['verdict']} | {j['why']} |")
            out.append("")
    return out


def _judgements(run: str) -> list[dict[str, str]]:
    """The hand judgements of one run (how they were made: the file's header)."""
    if not JUDGEMENTS.exists():
        return []
    data = yaml.safe_load(JUDGEMENTS.read_text()) or {}
    return list(data.get(run) or [])


def write_section(text: str) -> None:
    report.write_section(RESULTS, BEGIN, END, text)
    print(f"wrote the fixes section of bench/{RESULTS.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("quality", "history", "both", "report"), default="both")
    parser.add_argument("--per-type", type=int, default=150)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    doc: dict[str, Any] = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    if args.part in ("quality", "both"):
        doc["quality"] = part_quality(args.per_type, args.seed)
    if args.part in ("history", "both"):
        doc["history"] = asyncio.run(part_history(args.mirror, args.commits, args.sample, 7))
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(doc, indent=1))
    text = section(doc)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
