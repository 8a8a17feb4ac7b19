"""Speed and memory, side by side in one run: tree-sitter's floor, Cairn, and jscpd 5.

For each corpus repository (see ``corpus``), on the same files:

1. the tree-sitter parse floor (one process, ``parser.parse`` only);
2. jscpd, default (``--min-tokens 50``) and tuned (also renamed and similar clones);
3. ``cairn index`` + ``cairn scan --format json`` from an empty data directory (its embedded
   Postgres initialised beforehand by indexing a one-file repository, timed apart as setup);
4. incremental ``cairn index`` after a commit that appends one line to one file;
5. ``cairn review`` of a ~300-line change (see ``review_change``) on the indexed corpus.

Each figure is the median of a few runs (fewer when a run is slow). Memory is the peak PSS of
the process tree including Postgres, and the largest single process's RSS (see ``measure``).

Usage: ``python bench/speed.py [--corpus django js-ts go] [--repeat 3] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

import corpus
import detectors
import gitrepo
import measure
import parse_floor
import review_change
from languages import language_of

BENCH = Path(__file__).resolve().parent
CAIRN_HOMES = BENCH / ".work" / "cairn-home"
SLOW_S = 120.0  # past this much per figure, stop repeating
SEED = 20250101
MARKER_LINES = {
    "python": "_bench_marker_{n} = {n}\n",
    "javascript": "var benchMarker{n} = {n};\n",
    "typescript": "export const benchMarker{n} = {n};\n",
    "go": "var benchMarker{n} = {n}\n",
    "java": "class BenchMarker{n} {{}}\n",
}


@dataclass
class CairnFigures:
    setup_s: float | None = None
    index: measure.Summary | None = None
    scan: measure.Summary | None = None
    total_median_s: float | None = None
    one_command: measure.Summary | None = None  # `cairn scan` from an empty database
    clones: int | None = None
    index_said: str = ""  # the last line cairn index printed, for the units it found
    incremental: measure.Summary | None = None
    incremental_file: str = ""
    rescan: measure.Summary | None = None  # cairn scan after a one-file commit
    rescan_said: str = ""
    rescan_lines: int = 0
    index_bytes: int | None = None  # the database's size on disk after index + scan
    review: measure.Summary | None = None
    review_lines: int = 0
    review_findings: int | None = None
    copies_flagged: str = ""  # copies with a finding on them
    copies_traced: str = ""  # ... whose evidence includes the function they were copied from
    findings_elsewhere: int | None = None  # findings on the new code (not on a copy)
    error: str = ""


@dataclass
class CorpusFigures:
    corpus: str
    files: int
    lines: int
    languages: dict[str, int]
    floor_s: float
    floor_error_files: int
    jscpd: dict[str, dict[str, object]] = field(default_factory=dict)
    cairn: CairnFigures = field(default_factory=CairnFigures)


def _fresh_home(name: str) -> Path:
    home = CAIRN_HOMES / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    return home


def _failed(run: measure.Run, what: str) -> str:
    return f"{what} exited {run.returncode}: {run.stderr.strip()[-600:]}"


def _jscpd(repo: Path, repeat: int) -> dict[str, dict[str, object]]:
    figures: dict[str, dict[str, object]] = {}
    for config in detectors.JSCPD_CONFIGS:
        detections: list[detectors.Detection] = []

        def once(
            _: int,
            config: detectors.JscpdConfig = config,
            detections: list[detectors.Detection] = detections,
        ) -> measure.Run:
            detection = detectors.run_jscpd(config, repo)
            detections.append(detection)
            return detection.run

        runs = measure.repeat(once, repeat, SLOW_S)
        figures[config.name] = {
            "flags": " ".join(config.flags),
            "summary": asdict(measure.summarize(runs)),
            "clones": len(detections[-1].clones),
            "read": detections[-1].coverage,
            "error": detections[-1].error,
        }
    return figures


def _full_index(repo: Path, name: str, repeat: int, figures: CairnFigures) -> Path | None:
    """Index and scan from empty data directories; returns the last home, indexed."""
    index_runs: list[measure.Run] = []
    scan_runs: list[measure.Run] = []
    setups: list[float] = []
    home: Path | None = None
    spent = 0.0
    for i in range(repeat):
        if index_runs and spent >= SLOW_S:
            break
        home = _fresh_home(f"speed-{name}-{i}")
        setup = detectors.warm_up(home)
        if not setup.ok:
            figures.error = _failed(setup, "cairn index (warm-up)")
            return None
        setups.append(setup.wall_s)
        index = detectors.run_cairn(["index", "--repo", str(repo)], home)
        if not index.ok:
            figures.error = _failed(index, "cairn index")
            return None
        scan = detectors.run_cairn([*detectors.CAIRN_SCAN, "--repo", str(repo)], home)
        if not scan.ok:
            figures.error = _failed(scan, "cairn scan")
            return None
        index_runs.append(index)
        scan_runs.append(scan)
        spent += index.wall_s + scan.wall_s
        try:
            figures.clones = len(detectors.parse_cairn_scan(scan.stdout))
        except (ValueError, KeyError, TypeError) as exc:
            figures.error = f"cairn scan printed no usable JSON: {exc}"
    if home is not None:
        figures.index_bytes = _database_bytes(home)
    for stale in range(len(index_runs) - 1):  # keep the last home only: disk is not free
        shutil.rmtree(CAIRN_HOMES / f"speed-{name}-{stale}", ignore_errors=True)
    said = (index_runs[-1].stdout + "\n" + index_runs[-1].stderr).strip().splitlines()
    figures.index_said = said[-1] if said else ""
    figures.setup_s = statistics.median(setups)
    figures.index = measure.summarize(index_runs)
    figures.scan = measure.summarize(scan_runs)
    once: list[measure.Run] = []
    for _ in range(repeat if spent < SLOW_S else 1):
        fresh = _fresh_home(f"speed-{name}-once")
        if not detectors.warm_up(fresh).ok:
            break
        run = detectors.run_cairn([*detectors.CAIRN_SCAN, "--repo", str(repo)], fresh)
        shutil.rmtree(fresh, ignore_errors=True)
        if not run.ok:
            figures.error = _failed(run, "cairn scan (from an empty database)")
            return None
        once.append(run)
    figures.one_command = measure.summarize(once) if once else None
    figures.total_median_s = statistics.median(
        i.wall_s + s.wall_s for i, s in zip(index_runs, scan_runs, strict=True)
    )
    return home


def _database_bytes(home: Path) -> int:
    """Bytes of the embedded Postgres' data directory (tables, indexes, WAL)."""
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and not p.is_symlink())


def _rescan(repo: Path, name: str, home: Path, figures: CairnFigures) -> None:
    """``cairn scan`` after a commit adding one ~300-line file (copies and new code)."""
    change = review_change.build(name, repo, SEED + 1)
    target = repo / change.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(change.text)
    gitrepo.commit_all(repo, "bench: one new file")
    run = detectors.run_cairn([*detectors.CAIRN_SCAN, "--repo", str(repo)], home)
    if not run.ok:
        figures.error = _failed(run, "cairn scan (after a one-file commit)")
        return
    figures.rescan = measure.summarize([run])
    figures.rescan_lines = change.lines
    said = [line for line in run.stderr.splitlines() if line.startswith("scanned")]
    figures.rescan_said = said[-1] if said else ""


def _median_file(repo: Path) -> str:
    """A file of median size among the corpus' sources: the one the incremental run edits."""
    sized = sorted(
        ((repo / rel).stat().st_size, rel)
        for rel in gitrepo.git(repo, "ls-files").splitlines()
        if language_of(rel) is not None
    )
    return sized[len(sized) // 2][1]


def _incremental(repo: Path, home: Path, repeat: int, figures: CairnFigures) -> None:
    rel = _median_file(repo)
    language = language_of(rel)
    assert language is not None
    figures.incremental_file = rel
    runs = []
    for n in range(repeat):
        with (repo / rel).open("a") as fh:
            fh.write(MARKER_LINES[language].format(n=n))
        gitrepo.commit_all(repo, f"bench: one-line change {n}")
        run = detectors.run_cairn(["index", "--repo", str(repo)], home)
        if not run.ok:
            figures.error = _failed(run, "cairn index (incremental)")
            return
        runs.append(run)
    figures.incremental = measure.summarize(runs)


def _review(repo: Path, name: str, home: Path, repeat: int, figures: CairnFigures) -> None:
    base = gitrepo.head(repo)
    change = review_change.build(name, repo, SEED)
    gitrepo.git(repo, "checkout", "--quiet", "-b", "bench-review")
    target = repo / change.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(change.text)
    head = gitrepo.commit_all(repo, "bench: a ~300-line change")
    gitrepo.git(repo, "checkout", "--quiet", "main")
    figures.review_lines = change.lines
    cmd = ["review", "--repo", str(repo), "--base", base, "--head", head]
    cmd += ["--format", "json", "--fail-on", "never"]
    runs = []
    for _ in range(repeat):
        run = detectors.run_cairn(cmd, home)
        if not run.ok:
            figures.error = _failed(run, "cairn review")
            return
        runs.append(run)
    figures.review = measure.summarize(runs)
    try:
        findings = detectors.parse_cairn_review(runs[-1].stdout)
    except (ValueError, KeyError, TypeError) as exc:
        figures.error = f"cairn review printed no usable JSON: {exc}"
        return
    figures.review_findings = len(findings)
    flagged = traced = 0
    on_copies: set[int] = set()
    for copy in change.copies:
        here = detectors.Span(change.path, copy.start_line, copy.end_line)
        original = detectors.Span(*copy.origin_span)
        hits = [i for i, f in enumerate(findings) if f.span.overlaps(here)]
        on_copies.update(hits)
        flagged += bool(hits)
        traced += any(e.overlaps(original) for i in hits for e in findings[i].evidence)
    figures.copies_flagged = f"{flagged}/{len(change.copies)}"
    figures.copies_traced = f"{traced}/{len(change.copies)}"
    figures.findings_elsewhere = len(findings) - len(on_copies)


def measure_corpus(name: str, repo: Path, repeat: int, with_cairn: bool) -> CorpusFigures:
    gitrepo.reset_to_base(repo)
    floors = [parse_floor.measure_floor(repo) for _ in range(repeat)]
    floor = floors[0]
    counts = {row.language: row.lines for row in corpus.line_counts(repo)}
    figures = CorpusFigures(
        corpus=name,
        files=floor.files,
        lines=floor.lines,
        languages=counts,
        floor_s=statistics.median(f.seconds for f in floors),
        floor_error_files=floor.error_files,
    )
    figures.jscpd = _jscpd(repo, repeat)
    if with_cairn:
        home = _full_index(repo, name, repeat, figures.cairn)
        if home is not None:
            _incremental(repo, home, repeat, figures.cairn)
        if home is not None and not figures.cairn.error:
            _review(repo, name, home, repeat, figures.cairn)
        if home is not None and not figures.cairn.error:
            _rescan(repo, name, home, figures.cairn)
    gitrepo.reset_to_base(repo)
    return figures


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _mib(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:.0f}"


def table(results: list[CorpusFigures]) -> str:
    lines = [
        f"{'corpus':<8} {'what':<30} {'median s':>9} {'cpu s':>7} {'runs':>5} "
        f"{'tree PSS MiB':>13} {'max RSS MiB':>12}  notes"
    ]

    def row(name: str, what: str, summary: measure.Summary | None, note: str = "") -> None:
        if summary is None:
            lines.append(
                f"{name:<8} {what:<30} {'—':>9} {'—':>7} {'—':>5} {'—':>13} {'—':>12}  {note}"
            )
            return
        lines.append(
            f"{name:<8} {what:<30} {summary.median_s:>9.2f} {summary.cpu_s:>7.2f} "
            f"{summary.runs:>5} {_mib(summary.peak_tree_pss):>13} {_mib(summary.max_rss):>12}"
            f"  {note}"
        )

    for r in results:
        lines.append(
            f"{r.corpus:<8} {'tree-sitter parse (floor)':<30} {r.floor_s:>9.2f} {'':>7} "
            f"{'':>5} {'':>13} {'':>12}  {r.files} files, {r.lines} lines"
        )
        for tool, data in r.jscpd.items():
            summary = measure.Summary(**data["summary"])  # type: ignore[arg-type]
            row(r.corpus, tool, summary, f"{data['clones']} clones {data['error']}".strip())
        c = r.cairn
        row(r.corpus, "cairn index", c.index, f"setup {_s(c.setup_s)} s")
        row(r.corpus, "cairn scan", c.scan, f"{c.clones} clones" if c.clones is not None else "")
        if c.total_median_s is not None:
            lines.append(f"{r.corpus:<8} {'cairn index + scan':<30} {c.total_median_s:>9.2f}")
        row(r.corpus, "cairn scan from empty (1 cmd)", c.one_command)
        if c.index_bytes is not None:
            lines.append(
                f"{r.corpus:<8} {'cairn database on disk':<30} {_mib(c.index_bytes):>9} MiB"
            )
        row(r.corpus, "cairn index (1-line change)", c.incremental, c.incremental_file)
        note = (
            f"{c.review_lines} lines, {c.review_findings} findings; copies flagged "
            f"{c.copies_flagged}, traced to their original {c.copies_traced}; "
            f"{c.findings_elsewhere} findings on new code"
        )
        row(r.corpus, "cairn review", c.review, note)
        row(r.corpus, "cairn scan after 1-file commit", c.rescan, c.rescan_said)
        if c.error:
            lines.append(f"{r.corpus:<8} cairn failed: {c.error[:600]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [c.name for c in corpus.CORPORA]
    parser.add_argument("--corpus", nargs="*", default=names, choices=names)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cairn", action="store_true", help="measure the floor and jscpd")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    built = corpus.build_all(tuple(args.corpus))
    results = [
        measure_corpus(name, repo, args.repeat, not args.no_cairn) for name, repo in built.items()
    ]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
