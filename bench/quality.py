"""Detection quality: a clone benchmark made from real functions, scored for Cairn and jscpd.

For each language group (Python from Django; JavaScript/TypeScript from rxjs, zod, lodash),
functions are drawn at random (seeded) among mutually unrelated ones, and for each draw one
pair is made: the original and a type-1, type-2 or type-3 variant (see ``mutate``), or two
unrelated functions of similar size (a negative pair). Each side goes into its own file in
``bench/.work/quality``, between comment lines of random length so that paths and line ranges
differ, and the whole is committed as one repository. Then ``cairn index`` + ``cairn scan``
and jscpd (default and tuned) run on it and each is scored (see ``scoring``).

Usage: ``python bench/quality.py [--per-type 150] [--seed 20250101] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import corpus
import detectors
import functions
import gitrepo
import mutate
import names
from detectors import Span
from scoring import CATEGORIES, NEGATIVE, Pair, Score, score

BENCH = Path(__file__).resolve().parent
REPO = BENCH / ".work" / "quality"
CAIRN_HOME = BENCH / ".work" / "cairn-home" / "quality"
DETAILS = BENCH / ".work" / "quality-details.json"
MAX_JACCARD = 0.3
GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "python": ("django", frozenset({"python"})),
    "js-ts": ("js-ts", frozenset({"javascript", "typescript"})),
}
EXTENSIONS = {"python": ".py", "javascript": ".js", "typescript": ".ts"}
MAKERS = {"type-1": mutate.layout, "type-2": mutate.rename, "type-3": mutate.edit}


@dataclass(frozen=True)
class Side:
    function_text: str
    language: str
    origin: str


def _padded(text: str, language: str, rng: random.Random) -> tuple[str, int, int]:
    """The text between comment lines: the file's content and the text's line range in it."""
    marker = "#" if language == "python" else "//"
    head = [f"{marker} {names.words(rng, rng.randint(3, 9))}" for _ in range(rng.randint(2, 25))]
    tail = [f"{marker} {names.words(rng, rng.randint(3, 9))}" for _ in range(rng.randint(0, 6))]
    body = text.rstrip("\n").split("\n")
    start = len(head) + 2  # the head, one blank line, then the function (1-based)
    content = "\n".join([*head, "", *body, "", *tail]) + "\n"
    return content, start, start + len(body) - 1


class Benchmark:
    """The pairs and the files that hold them."""

    def __init__(self) -> None:
        self.pairs: list[Pair] = []
        self.files: dict[str, str] = {}
        self.shortages: list[str] = []

    def add(
        self,
        group: str,
        category: str,
        first: Side,
        second: Side,
        rng: random.Random,
        note: str = "",
        share: float = 0.0,
    ) -> None:
        number = len(self.pairs)
        sides = [first, second]
        rng.shuffle(sides)  # which file holds the original is random
        spans = []
        for side, folder in zip(sides, ("alpha", "beta"), strict=True):
            path = f"{folder}/m{number:04d}{EXTENSIONS[side.language]}"
            content, start, end = _padded(side.function_text, side.language, rng)
            self.files[path] = content
            spans.append(Span(path, start, end))
        self.pairs.append(
            Pair(
                id=f"{group}-{category}-{number:04d}",
                language=group,
                category=category,
                a=spans[0],
                b=spans[1],
                origin_a=sides[0].origin,
                origin_b=sides[1].origin,
                note=note,
                edited_share=share,
            )
        )


def generate(per_type: int, seed: int) -> Benchmark:
    """``per_type`` pairs of each category for each language group."""
    bench = Benchmark()
    for group, (corpus_name, languages) in GROUPS.items():
        rng = random.Random(f"{seed}:{group}")
        repo = corpus.WORK / corpus_name
        found = functions.extract(repo, languages, rng, limit=per_type * 5 * 6)
        pool = functions.Pool(found, rng, MAX_JACCARD)
        made = dict.fromkeys((*CATEGORIES, NEGATIVE), 0)
        exhausted = False
        for _ in range(per_type):
            for category in (*CATEGORIES, NEGATIVE):
                while not exhausted:
                    original = pool.take()
                    if original is None:
                        exhausted = True
                        break
                    side = Side(original.text, original.language, original.origin)
                    if category == NEGATIVE:
                        other = pool.take_like(original)
                        if other is None:
                            continue
                        bench.add(
                            group,
                            category,
                            side,
                            Side(other.text, other.language, other.origin),
                            rng,
                        )
                    else:
                        variant = MAKERS[category](original, rng)
                        if variant is None:
                            continue
                        copy = Side(variant.text, original.language, f"{category} of it")
                        bench.add(
                            group, category, side, copy, rng, variant.note, variant.edited_share
                        )
                    made[category] += 1
                    break
        for category, count in made.items():
            if count < per_type:
                bench.shortages.append(
                    f"{group} {category}: {count} of {per_type} (ran out of unrelated functions)"
                )
    return bench


def write_repo(bench: Benchmark) -> str:
    """The benchmark as a fresh git repository; returns its commit."""
    shutil.rmtree(REPO, ignore_errors=True)
    gitrepo.init(REPO)
    for path, content in bench.files.items():
        target = REPO / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return gitrepo.commit_all(REPO, "Clone benchmark")


@dataclass
class ToolResult:
    tool: str
    seconds: float
    clones: int
    error: str
    overall: Score
    per_group: dict[str, Score]


def _scored(tool: str, detection: detectors.Detection, pairs: list[Pair]) -> ToolResult:
    return ToolResult(
        tool=tool,
        seconds=detection.run.wall_s,
        clones=len(detection.clones),
        error=detection.error,
        overall=score(pairs, detection.clones),
        per_group={group: score(pairs, detection.clones, group) for group in GROUPS},
    )


def run_tools(pairs: list[Pair], with_cairn: bool = True) -> list[ToolResult]:
    results = []
    if with_cairn:
        shutil.rmtree(CAIRN_HOME, ignore_errors=True)
        CAIRN_HOME.mkdir(parents=True)
        detectors.warm_up(CAIRN_HOME)  # the Postgres cluster's creation is not timed
        scan, index = detectors.cairn_index_and_scan(REPO, CAIRN_HOME)
        result = _scored("cairn", scan, pairs)
        result.seconds = index.wall_s + (scan.run.wall_s if scan.run is not index else 0.0)
        results.append(result)
    for config in detectors.JSCPD_CONFIGS:
        results.append(_scored(config.name, detectors.run_jscpd(config, REPO), pairs))
    return results


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(results: list[ToolResult]) -> str:
    head = f"{'tool':<13} {'group':<7} " + " ".join(f"{c:>7}" for c in CATEGORIES)
    head += f" {'precis.':>7} {'neg.FP':>7} {'cross':>6} {'links':>6} {'time s':>7}"
    lines = [head]
    for result in results:
        if result.error:
            lines.append(f"{result.tool:<13} failed: {result.error.strip()[:600]}")
            continue
        for group, s in [("all", result.overall), *result.per_group.items()]:
            line = f"{result.tool:<13} {group:<7} "
            line += " ".join(f"{_fmt(s.recall(c)):>7}" for c in CATEGORIES)
            negatives = f"{s.negatives_reported}/{s.totals.get(NEGATIVE, 0)}"
            line += f" {_fmt(s.precision):>7} {negatives:>7} {s.cross_links:>6} {s.links:>6}"
            line += f" {result.seconds:>7.1f}" if group == "all" else ""
            lines.append(line)
    return "\n".join(lines)


def _score_json(s: Score) -> dict[str, object]:
    return {
        "recall": {c: s.recall(c) for c in CATEGORIES},
        "detected": s.detected,
        "totals": s.totals,
        "precision": s.precision,
        "true_links": s.true_links,
        "links": s.links,
        "negatives_reported": s.negatives_reported,
        "cross_links": s.cross_links,
        "kinds": s.kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=150, help="pairs per type per language")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-cairn", action="store_true", help="score jscpd only")
    args = parser.parse_args()
    corpus.build_all(tuple(GROUPS[g][0] for g in GROUPS))
    bench = generate(args.per_type, args.seed)
    commit = write_repo(bench)
    results = run_tools(bench.pairs, with_cairn=not args.no_cairn)
    counts = {c: sum(p.category == c for p in bench.pairs) for c in (*CATEGORIES, NEGATIVE)}
    shares = [p.edited_share for p in bench.pairs if p.category == "type-3"]
    print(f"clone benchmark: {len(bench.pairs)} pairs {counts}, {len(bench.files)} files")
    for shortage in bench.shortages:
        print(f"  short: {shortage}")
    print(table(results))
    DETAILS.write_text(
        json.dumps(
            {
                "pairs": [asdict(p) for p in bench.pairs],
                "missed": {r.tool: r.overall.missed for r in results},
                "flagged_negatives": {r.tool: r.overall.flagged_negatives for r in results},
            },
            indent=1,
        )
    )
    if args.json:
        payload = {
            "seed": args.seed,
            "per_type": args.per_type,
            "commit": commit,
            "pairs": counts,
            "files": len(bench.files),
            "shortages": bench.shortages,
            "type3_share": {
                "min": min(shares, default=0.0),
                "max": max(shares, default=0.0),
                "mean": sum(shares) / len(shares) if shares else 0.0,
            },
            "tools": [
                {
                    "tool": r.tool,
                    "seconds": r.seconds,
                    "clones": r.clones,
                    "error": r.error,
                    "overall": _score_json(r.overall),
                    "groups": {g: _score_json(s) for g, s in r.per_group.items()},
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
