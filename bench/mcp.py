"""``cairn mcp`` measured: similar_code's quality and latency, review_change against review.

Three parts, every call through the SDK's own client to the server ``cairn mcp`` builds:

* **similar_code on the clone benchmark's copies.** ``quality.py``'s generator (real functions
  of Django, rxjs, zod and lodash; seeded) makes its pairs; the originals and the negative
  pairs' functions are committed and indexed, the copies are not. Each copy is then asked
  for as a snippet; a hit is the original among the first three results. Targets: 95 % of
  renamed (type-2) and 85 % of near-miss (type-3) copies.
* **Latency on Django 5.2.8** (the corpus of ``corpus.py``, indexed by the server as it
  starts): warm p50 and p90 of similar_code with renamed copies of Django functions, of its
  query mode, and of review_change with the review benchmark's ~300-line change. Target:
  p50 under 300 ms for similar_code.
* **review_change agrees with cairn review**: the demo's branch, the 51 cases of
  ``decisions.py`` and Django's ~300-line change, each sent as the changed files' contents;
  the findings must equal those of ``app.review.review`` of the branch itself (fingerprints,
  messages, lines, evidence).

Usage: ``python bench/mcp.py [--per-type 150] [--seed 20250101] [--calls 60]``; writes its
section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# This file's name is the SDK's: import the SDK with bench/ off the path, then put it back.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
import mcp  # noqa: E402, F401  (the Model Context Protocol SDK, not this file)

sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import corpus  # noqa: E402
import decisions  # noqa: E402
import functions  # noqa: E402
import gitrepo  # noqa: E402
import mutate  # noqa: E402
import quality  # noqa: E402
import report  # noqa: E402
import review_change as bench_change  # noqa: E402
from scoring import CATEGORIES, NEGATIVE  # noqa: E402

WORK = BENCH / ".work"
REPO = WORK / "mcp-quality"
HOME = WORK / "cairn-home" / "mcp"
FIGURES = WORK / "mcp.json"
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- mcp:begin -->", "<!-- mcp:end -->"
TARGETS = {"type-2": 0.95, "type-3": 0.85}
WORDS = {"type-1": "exact", "type-2": "renamed", "type-3": "near-miss"}


def _client(server: Any) -> Any:
    from mcp import Client

    return Client(server, mode="legacy")


async def _open(pool: Any, root: Path, ref: str, analysis: Any) -> tuple[Any, Any]:
    from app.mcp.server import LocalResolver, build_server
    from app.mcp.workspace import open_local

    ws = await open_local(pool, root, ref, analysis, dict(os.environ))
    return ws, build_server(LocalResolver(ws))


# --- similar_code on the clone benchmark ---------------------------------------------------


def _copy_side(pair: Any) -> tuple[Any, Any]:
    """(original span, copy span) of a clone pair: the copy's origin says what it is of."""
    if pair.origin_b.endswith(" of it"):
        return pair.a, pair.b
    return pair.b, pair.a


def _lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.split("\n")[start - 1 : end]) + "\n"


async def similar_quality(pool: Any, analysis: Any, per_type: int, seed: int) -> dict[str, Any]:
    corpus.build_all(("django", "js-ts"))
    bench = quality.generate(per_type, seed)
    copies = {_copy_side(p)[1].path for p in bench.pairs if p.category != NEGATIVE}
    shutil.rmtree(REPO, ignore_errors=True)
    gitrepo.init(REPO)
    for path, content in bench.files.items():
        if path not in copies:
            target = REPO / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
    gitrepo.commit_all(REPO, "originals and negatives of the clone benchmark")
    started = time.perf_counter()
    _, server = await _open(pool, REPO, "HEAD", analysis)
    index_s = time.perf_counter() - started
    rows: dict[tuple[str, str], list[int]] = {}
    missed: list[dict[str, Any]] = []
    async with _client(server) as client:
        for pair in bench.pairs:
            if pair.category == NEGATIVE:
                continue
            original, copy = _copy_side(pair)
            code = _lines(bench.files[copy.path], copy.start_line, copy.end_line)
            result = await client.call_tool(
                "similar_code", {"code": code, "path": copy.path, "limit": 3}
            )
            found = (result.structured_content or {}).get("results", [])
            ranks = [
                i
                for i, r in enumerate(found)
                if r["path"] == original.path
                and r["start_line"] <= original.end_line
                and original.start_line <= r["end_line"]
            ]
            top1, top3 = bool(ranks and ranks[0] == 0), bool(ranks)
            cell = rows.setdefault((pair.language, pair.category), [0, 0, 0])
            cell[0] += 1
            cell[1] += top1
            cell[2] += top3
            if not top3:
                missed.append(
                    {
                        "pair": pair.id,
                        "note": pair.note,
                        "error": bool(result.is_error),
                        "got": [(r["path"], r.get("similarity")) for r in found],
                    }
                )
    return {
        "pairs": len(bench.pairs),
        "files_indexed": len(bench.files) - len(copies),
        "index_seconds": round(index_s, 1),
        "rows": {f"{g}|{c}": v for (g, c), v in sorted(rows.items())},
        "missed": missed,
    }


# --- latency on Django -----------------------------------------------------------------------


async def _timed(client: Any, tool: str, arguments: dict[str, Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    return time.perf_counter() - started, result


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(p90 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def django_latency(pool: Any, analysis: Any, calls: int, seed: int) -> dict[str, Any]:
    from app.git import GitRepo
    from app.report import document
    from app.review import review
    from app.source import LocalSource

    repo = corpus.build_all(("django",))["django"]
    gitrepo.reset_to_base(repo)
    base = gitrepo.head(repo)
    rng = random.Random(f"{seed}:mcp-latency")
    pool_fns = functions.extract(repo, frozenset({"python"}), rng, limit=calls * 4)
    from app.mcp.tools import SIMILAR_MIN_TOKENS

    started = time.perf_counter()
    ws, server = await _open(pool, repo, base, analysis)
    start_s = time.perf_counter() - started
    started = time.perf_counter()
    await ws.warm(SIMILAR_MIN_TOKENS)  # what `cairn mcp` does as it starts serving
    warm_s = time.perf_counter() - started
    snippets = []
    for fn in pool_fns:
        variant = mutate.rename(fn, rng)
        if variant is not None:
            snippets.append(variant.text)
        if len(snippets) >= calls:
            break
    queries = [" ".join(fn.name.split("_")) for fn in pool_fns[: max(10, calls // 2)]]
    change = bench_change.build("django", repo, 20250101)
    git = GitRepo(repo)
    gitrepo.git(repo, "checkout", "--quiet", "-B", "bench-mcp")
    (repo / change.path).parent.mkdir(parents=True, exist_ok=True)
    (repo / change.path).write_text(change.text)
    head = gitrepo.commit_all(repo, "bench: a ~300-line change")
    gitrepo.git(repo, "checkout", "--quiet", "main")
    async with _client(server) as client:
        cold, _ = await _timed(client, "similar_code", {"code": snippets[0], "language": "python"})
        code_times, found_self = [], 0
        for text in snippets:
            seconds, result = await _timed(
                client, "similar_code", {"code": text, "language": "python", "limit": 3}
            )
            code_times.append(seconds)
            found_self += bool((result.structured_content or {}).get("results"))
        query_times = [
            (await _timed(client, "similar_code", {"query": q, "limit": 5}))[0] for q in queries
        ]
        review_times = []
        for _ in range(3):
            seconds, result = await _timed(
                client, "review_change", {"files": [{"path": change.path, "content": change.text}]}
            )
            review_times.append(seconds)
    expected = await review(ws.store, ws.repo, LocalSource(git), base, head, ws.review_config())
    want = document.review_document(expected.findings, expected.decisions)["findings"]
    got = (result.structured_content or {}).get("findings")
    return {
        "start_seconds": round(start_s, 1),
        "warm_seconds": round(warm_s, 1),
        "first_call_ms": round(cold * 1000, 1),
        "similar_code": _quantiles(code_times) | {"with_results": found_self},
        "query": _quantiles(query_times),
        "review_change": _quantiles(review_times),
        "review_agrees": got == want,
        "review_findings": len(want),
    }


# --- review_change against cairn review ------------------------------------------------------


async def _agreement(pool: Any, analysis: Any, root: Path, base: str, head: str) -> dict[str, Any]:
    from app.git import GitRepo
    from app.report import document
    from app.review import review
    from app.source import LocalSource

    git = GitRepo(root)
    ws, server = await _open(pool, root, base, analysis)
    expected = await review(
        ws.store,
        ws.repo,
        LocalSource(git),
        git.resolve(base),
        git.resolve(head),
        ws.review_config(),
    )
    want = document.review_document(expected.findings, expected.decisions)["findings"]
    files = []
    for d in await LocalSource(git).diff(git.resolve(base), git.resolve(head)):
        if d.new_path is None:
            files.append({"path": d.old_path, "content": None})
            continue
        data = git.file_at(git.resolve(head), d.new_path)
        files.append({"path": d.new_path, "content": (data or b"").decode()})
        if d.old_path and d.old_path != d.new_path:
            files.append({"path": d.old_path, "content": None})
    async with _client(server) as client:
        result = await client.call_tool("review_change", {"files": files})
    got = (result.structured_content or {}).get("findings")
    return {"agrees": got == want, "findings": len(want), "error": bool(result.is_error)}


async def review_agreement(pool: Any, analysis: Any) -> dict[str, Any]:
    from app.demo import build_demo

    rows = []
    with tempfile.TemporaryDirectory(prefix="cairn-mcp-bench-") as tmp:
        demo = build_demo(Path(tmp) / "demo")
        rows.append(
            {"case": "demo"} | await _agreement(pool, analysis, demo, "main", "feature/export")
        )
        for case in decisions.CASES:
            root = Path(tmp) / case.id
            decisions._build(root, case)
            rows.append(
                {"case": case.id} | await _agreement(pool, analysis, root, "main", "feature")
            )
    return {
        "cases": len(rows),
        "agree": sum(r["agrees"] for r in rows),
        "findings": sum(r["findings"] for r in rows),
        "disagree": [r for r in rows if not r["agrees"]],
    }


# --- the report ------------------------------------------------------------------------------


def section(doc: dict[str, Any]) -> str:
    q, lat, agr = doc["quality"], doc["latency"], doc["agreement"]
    lines = [
        BEGIN,
        "## MCP: similar_code and review_change (`cairn mcp`)",
        "",
        f"`{doc['command']}` on {doc['when']} ({doc['machine']}); every call through the MCP "
        "SDK's client to the server `cairn mcp` builds.",
        "",
        f"**similar_code on the clone benchmark's copies** ({q['pairs']} pairs of `quality.py`'s "
        f"generator; the originals and the negatives' functions indexed, {q['files_indexed']} "
        "files; each copy asked for as a snippet): the original in the first result / in the "
        "first three.",
        "",
        "| group | copies | kind | top 1 | top 3 | target (top 3) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    totals: dict[str, list[int]] = {}
    for key, (n, top1, top3) in q["rows"].items():
        group, category = key.split("|")
        t = totals.setdefault(category, [0, 0, 0])
        t[0] += n
        t[1] += top1
        t[2] += top3
        target = TARGETS.get(category)
        lines.append(
            f"| {group} | {WORDS[category]} ({category}) | {n} | {top1 / n:.1%} | {top3 / n:.1%} "
            f"| {'' if target is None else f'≥ {target:.0%}'} |"
        )
    for category in CATEGORIES:
        if category in totals:
            n, top1, top3 = totals[category]
            target = TARGETS.get(category)
            met = "" if target is None else (" met" if top3 / n >= target else " **missed**")
            lines.append(
                f"| all | {WORDS[category]} ({category}) | {n} | {top1 / n:.1%} | "
                f"**{top3 / n:.1%}** | {'' if target is None else f'≥ {target:.0%}{met}'} |"
            )
    sc = lat["similar_code"]
    lines += [
        "",
        f"Misses: {len(q['missed'])} (listed in `bench/.work/mcp.json`).",
        "",
        f"**Latency on Django 5.2.8** (the server indexed it as it started, into an empty "
        f"database: {lat['start_seconds']} s, the units' words included; then it built the "
        f"in-memory index the snippets are probed against: {lat.get('warm_seconds', '?')} s; "
        f"the first similar_code after that: {lat['first_call_ms']} ms):",
        "",
        "| call | n | p50 | p90 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| similar_code, a renamed copy of a Django function | {sc['n']} | **{sc['p50_ms']} ms**"
        f" | {sc['p90_ms']} ms | {sc['max_ms']} ms |",
    ]
    qq, rc = lat["query"], lat["review_change"]
    lines += [
        f"| similar_code `query` (a function's name as words) | {qq['n']} | {qq['p50_ms']} ms | "
        f"{qq['p90_ms']} ms | {qq['max_ms']} ms |",
        f"| review_change, the ~300-line change of `review_change.py` | {rc['n']} | "
        f"{rc['p50_ms']} ms | {rc['p90_ms']} ms | {rc['max_ms']} ms |",
        "",
        f"similar_code returned results for {sc['with_results']} of {sc['n']} copies. Target "
        f"p50 < 300 ms: {'met' if sc['p50_ms'] < 300 else '**missed**'}. review_change's "
        f"findings on the Django change ({lat['review_findings']}) "
        f"{'equal' if lat['review_agrees'] else '**differ from**'} those of the review of the "
        "same change committed on a branch.",
        "",
        f"**review_change agrees with cairn review**: {agr['agree']} of {agr['cases']} cases "
        f"(the demo's branch and the 51 cases of `decisions.py`; {agr['findings']} findings) "
        "give the same findings — fingerprints, messages, lines, evidence — as the review of the "
        "branch itself.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    report.write_section(RESULTS, BEGIN, END, text)
    print(f"wrote the MCP section of bench/{RESULTS.name}")


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from app.analysis import Analysis
    from app.settings import Settings
    from app.store import database

    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    env = {**os.environ, "CAIRN_HOME": str(HOME)}
    env.pop("DATABASE_URL", None)
    settings = Settings.from_env(env)
    async with database.connect(settings) as pool, Analysis(2) as analysis:
        started = time.perf_counter()
        doc: dict[str, Any] = {
            "quality": await similar_quality(pool, analysis, args.per_type, args.seed)
        }
        print(f"quality done in {time.perf_counter() - started:.0f} s", flush=True)
        doc["latency"] = await django_latency(pool, analysis, args.calls, args.seed)
        print(f"latency done in {time.perf_counter() - started:.0f} s", flush=True)
        doc["agreement"] = await review_agreement(pool, analysis)
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=150, help="pairs per type per language")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--calls", type=int, default=60, help="similar_code calls on Django")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md only")
    args = parser.parse_args()
    if not args.report_only:
        started = time.perf_counter()
        doc = asyncio.run(_run(args))
        load = os.getloadavg()[0]
        doc |= {
            "command": "python bench/mcp.py"
            + (f" --per-type {args.per_type}" if args.per_type != 150 else "")
            + (f" --calls {args.calls}" if args.calls != 60 else ""),
            "when": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": f"{os.cpu_count()} cores, load average {load:.1f}",
            "seconds": round(time.perf_counter() - started),
        }
        FIGURES.write_text(json.dumps(doc, indent=1) + "\n")
    doc = json.loads(FIGURES.read_text())
    text = section(doc)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
