"""Run the whole benchmark — corpus, speed, quality — and write ``bench/RESULTS.md``.

Usage: ``python bench/run.py [--repeat 3] [--per-type 150] [--corpus django js-ts go]``

Any Python ≥ 3.11 starts it: it creates ``bench/.work/venv`` (jscpd 5.4.2, psutil, and Cairn
installed editable from this checkout), then runs each step in that venv, each printing its
own table, and collects their JSON figures into the report. Needs network access to PyPI, npm
and Debian's package archive on the first run only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import env
import report

NOTES = (
    "jscpd reads the same working tree that Cairn reads from git; the files and lines it "
    "reports reading are its own count, which leaves out files too small to hold a clone.",
    "Cairn's index is timed from an empty database. Creating the embedded Postgres cluster is "
    "setup and is left out; starting the server is not, since every `cairn` command starts it "
    "(and the last one out stops it).",
    "A type-3 pair counts as detected when any reported clone overlaps both sides, as the "
    "issue defines it: a clone of the unchanged part of the function is enough.",
    "Go is measured for speed only: the clone generator knows Python and JavaScript/TypeScript.",
)
BENCH = Path(__file__).resolve().parent
FIGURES = BENCH / ".work" / "figures"
RESULTS = BENCH / "RESULTS.md"


def _step(script: str, *args: str) -> None:
    cmd = [str(env.PYTHON), str(BENCH / script), *args]
    print(f"\n$ {shlex.join(['python', f'bench/{script}', *args])}", flush=True)
    subprocess.run(cmd, check=True)


def _load(name: str) -> Any:
    path = FIGURES / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _load_text(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def _measure(args: argparse.Namespace) -> None:
    """Run every step; the figures land in ``bench/.work/figures/*.json``."""
    command = shlex.join(["python", "bench/run.py", *sys.argv[1:]])
    load_before = os.getloadavg()
    setup = env.ensure()
    if not setup.cairn_ok:
        print(f"Cairn could not be installed; measuring without it.\n{setup.cairn_error}")
    FIGURES.mkdir(parents=True, exist_ok=True)
    for stale in FIGURES.glob("*.json"):
        stale.unlink()
    _step("corpus.py", "--json", str(FIGURES / "corpus.json"))
    no_cairn = [] if setup.cairn_ok else ["--no-cairn"]
    if "speed" not in args.skip:
        corpora = ["--corpus", *args.corpus] if args.corpus else []
        speed_json = str(FIGURES / "speed.json")
        _step("speed.py", "--repeat", str(args.repeat), *corpora, *no_cairn, "--json", speed_json)
    if "quality" not in args.skip:
        quality_json = str(FIGURES / "quality.json")
        _step("quality.py", "--per-type", str(args.per_type), *no_cairn, "--json", quality_json)
    if "latency" not in args.skip and not no_cairn:
        _step(
            "review_latency.py",
            "--corpus",
            "django",
            "java",
            "--json",
            str(FIGURES / "latency.json"),
        )
    if "harder" not in args.skip:
        harder_json = str(FIGURES / "harder.json")
        _step("harder.py", "--per-band", str(args.per_band), *no_cairn, "--json", harder_json)
    machine = env.machine()
    machine["load average (1, 5, 15 min)"] = (
        f"{_load_text(load_before)} before the run, {_load_text(os.getloadavg())} after "
        "(the 2 cores are shared with other work: figures move with it)"
    )
    run = {
        "command": command,
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine,
        "repeat": args.repeat,
        "cairn_error": setup.cairn_error,
    }
    (FIGURES / "run.json").write_text(json.dumps(run, indent=2))


def _write_report() -> None:
    """``bench/RESULTS.md`` from the figures of the last run."""
    run = _load("run")
    corpus_figures = _load("corpus")
    if not isinstance(run, dict) or not isinstance(corpus_figures, dict):
        raise SystemExit("no figures: run `python bench/run.py` first")
    out = report.Report(run["command"], run["when"], run["machine"])
    out.corpus(corpus_figures)
    speed = _load("speed")
    if isinstance(speed, list):
        out.speed(speed, run["repeat"])
    quality = _load("quality")
    if isinstance(quality, dict):
        out.quality(quality)
    latency = _load("latency")
    if isinstance(latency, list):
        out.latency(latency)
    harder = _load("harder")
    if isinstance(harder, dict):
        out.harder(harder)
    notes = list(NOTES)
    if run.get("cairn_error"):
        notes.append(f"Cairn could not be installed: {run['cairn_error']}")
    text = out.render(notes)
    # Keep every section another script wrote between its markers (app_speed.py, rules.py, the
    # decisions benches, reliability.py, footprint.py, mcp.py, fixes.py, the scan's before/after).
    text = report.keep_sections(text, RESULTS.read_text() if RESULTS.exists() else "")
    RESULTS.write_text(text)
    print(f"\nwrote {RESULTS.relative_to(BENCH.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per speed figure")
    parser.add_argument("--per-type", type=int, default=150, help="quality pairs per type/group")
    parser.add_argument("--per-band", type=int, default=60, help="harder pairs per band/group")
    parser.add_argument("--corpus", nargs="*", help="speed: only these corpora")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=("speed", "quality", "harder", "latency")
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite RESULTS.md from the last figures"
    )
    args = parser.parse_args()
    if not args.report_only:
        _measure(args)
    _write_report()


if __name__ == "__main__":
    main()
