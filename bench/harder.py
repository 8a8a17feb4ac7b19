"""Harder near-miss clones: real functions edited the way people copy code, scored per band.

Each positive pair is a real function (Python from Django; JavaScript/TypeScript from rxjs,
zod and lodash; see ``functions``) and a copy made by a random sequence of the edits people
make when they copy code, applied until the copy's *token edit distance* from the original
falls in the pair's band (0–10, 10–20, 20–30 or 30–40 %):

* statements inserted (a new assignment, a log call, a guard), deleted, or reordered (two
  adjacent one-line statements of one block swapped);
* a call changed (the callee renamed), a literal changed, a local name renamed (everywhere),
  an operator swapped — calls, literals and identifiers change together;
* a one-line statement wrapped in a guard block (``if x is not None:`` / ``if (x != null) {}``),
  or a one-statement ``if`` unwrapped to its body.

Token edit distance: the Levenshtein distance between the two functions' token texts (comments
and layout aside) over the longer one's token count, so renamed identifiers and changed
literals count, as a reader sees them. Negatives: two unrelated functions of similar size
(normalised 5-gram Jaccard below 0.3). Every copy parses without an error node. Both sides go
into their own files between comment lines (``quality._padded``), committed as one repository;
``cairn index`` + ``cairn scan`` and jscpd (default and tuned) run on it, and recall is
reported per band, with the negatives each tool flagged.

The generator was committed before Cairn was first run on its cases; the cases are not changed
to fit the results.

Usage: ``python bench/harder.py [--per-band 60] [--seed 20251206] [--json FILE]``
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import corpus
import detectors
import functions
import gitrepo
import mutate
from functions import COMMENTS, Function, is_literal, is_number, leaves, parse
from names import WORDS, fresh_name, is_reference, local_names, new_number, walk
from quality import GROUPS, MAX_JACCARD, Benchmark, Side
from rapidfuzz.distance import Levenshtein
from scoring import NEGATIVE, Score, score
from tree_sitter import Node

BENCH = Path(__file__).resolve().parent
REPO = BENCH / ".work" / "harder"
CAIRN_HOME = BENCH / ".work" / "cairn-home" / "harder"
BANDS = ((0.0, 0.10), (0.10, 0.20), (0.20, 0.30), (0.30, 0.40))
MAX_STEPS = 60  # edits tried per copy before it is given up
TRIES = 8  # copies attempted per function and band


def band_name(band: tuple[float, float]) -> str:
    return f"{band[0] * 100:.0f}-{band[1] * 100:.0f}%"


CATEGORIES = tuple(band_name(b) for b in BANDS)


def raw_tokens(language: str, text: str) -> list[str]:
    tree = parse(language, text)
    return [
        (leaf.text or b"").decode("utf-8", "replace")
        for leaf in leaves(tree.root_node)
        if leaf.type not in COMMENTS
    ]


def distance(a: list[str], b: list[str]) -> float:
    """Token edit distance: Levenshtein over the longer stream's length."""
    return Levenshtein.distance(a, b) / max(len(a), len(b), 1)


@dataclass(frozen=True)
class Copy:
    text: str
    distance: float
    steps: tuple[str, ...]


Edit = Callable[[str, str, random.Random], str | None]  # (language, text, rng) → text


def _simple_statements(root: Node, python: bool) -> list[Node]:
    simple = mutate.PY_SIMPLE if python else mutate.JS_SIMPLE
    return [s for s in mutate._statements(root) if s.type in simple and not mutate._is_docstring(s)]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _own_line(rows: mutate._Rows, node: Node) -> bool:
    return node.start_point.row == node.end_point.row and rows.owns(node)


def _insert(language: str, text: str, rng: random.Random) -> str | None:
    python = language == "python"
    tree = parse(language, text)
    rows = mutate._Rows(tree, text, python)
    spots = [
        s for s in _simple_statements(tree.root_node, python) if rows.can_extend(s.end_point.row)
    ]
    spots = [s for s in spots if rows.owns(s)]
    if not spots:
        return None
    statement = rng.choice(spots)
    names = sorted(local_names(tree, python))
    taken = {(leaf.text or b"").decode() for leaf in walk(tree.root_node)}
    indent = rows.indent(statement.start_point.row)
    new = mutate._new_statement(indent, " " * (4 if python else 2), names, rng, python, taken)
    lines = _lines(text)
    lines.insert(statement.end_point.row + 1, new)
    return "\n".join(lines)


def _delete(language: str, text: str, rng: random.Random) -> str | None:
    python = language == "python"
    tree = parse(language, text)
    rows = mutate._Rows(tree, text, python)
    spots = [
        s
        for s in _simple_statements(tree.root_node, python)
        if rows.owns(s)
        and s.parent is not None
        and sum(1 for c in s.parent.named_children if c.type not in COMMENTS) > 1
    ]
    if not spots:
        return None
    statement = rng.choice(spots)
    lines = _lines(text)
    del lines[statement.start_point.row : statement.end_point.row + 1]
    return "\n".join(lines)


def _reorder(language: str, text: str, rng: random.Random) -> str | None:
    python = language == "python"
    tree = parse(language, text)
    rows = mutate._Rows(tree, text, python)
    pairs = []
    for s in _simple_statements(tree.root_node, python):
        after = s.next_named_sibling
        if (
            after is not None
            and after.type == s.type
            and _own_line(rows, s)
            and _own_line(rows, after)
            and after.start_point.row == s.end_point.row + 1
            and s.type != "return_statement"
            and after.type != "return_statement"
        ):
            pairs.append((s.start_point.row, after.start_point.row))
    if not pairs:
        return None
    first, second = rng.choice(pairs)
    lines = _lines(text)
    lines[first], lines[second] = lines[second], lines[first]
    return "\n".join(lines)


def _token_edit(kind: str) -> Edit:
    def edit(language: str, text: str, rng: random.Random) -> str | None:
        python = language == "python"
        tree = parse(language, text)
        source = text.encode()
        options: list[tuple[int, int, bytes]] = []
        if kind == "rename":
            names = sorted(local_names(tree, python))
            if not names:
                return None
            old = rng.choice(names)
            taken = {(leaf.text or b"").decode() for leaf in walk(tree.root_node)}
            new = fresh_name(rng, python, taken).encode()
            edits = [
                (n.start_byte, n.end_byte, new)
                for n in walk(tree.root_node)
                if n.type == "identifier" and (n.text or b"").decode() == old and is_reference(n)
            ]
            return mutate._apply(source, edits).decode() if edits else None
        for node in walk(tree.root_node):
            if kind == "literal" and (
                is_number(node)
                or (
                    is_literal(node)
                    and node.type == "string"
                    and node.start_point.row == node.end_point.row
                )
            ):
                if is_number(node):
                    new_text = new_number((node.text or b"").decode(), rng)
                else:
                    quote = '"' if python else "'"
                    new_text = f"{quote}{rng.choice(WORDS)} {rng.choice(WORDS)}{quote}"
                options.append((node.start_byte, node.end_byte, new_text.encode()))
            elif kind == "call" and node.type in ("call", "call_expression"):
                callee = node.child_by_field_name("function")
                if callee is not None and callee.type in ("attribute", "member_expression"):
                    callee = callee.child_by_field_name("attribute") or callee.child_by_field_name(
                        "property"
                    )
                if callee is not None and callee.type in ("identifier", "property_identifier"):
                    word = rng.choice(WORDS)
                    options.append(
                        (
                            callee.start_byte,
                            callee.end_byte,
                            (
                                word
                                + ("_" + rng.choice(WORDS) if python else rng.choice(WORDS).title())
                            ).encode(),
                        )
                    )
            elif (
                kind == "operator"
                and not node.is_named
                and (node.text or b"").decode() in mutate.OPERATOR_SWAPS
            ):
                parent = node.parent
                if parent is not None and parent.type in (
                    "binary_operator",
                    "comparison_operator",
                    "boolean_operator",
                    "binary_expression",
                ):
                    options.append(
                        (
                            node.start_byte,
                            node.end_byte,
                            mutate.OPERATOR_SWAPS[(node.text or b"").decode()].encode(),
                        )
                    )
        if not options:
            return None
        return mutate._apply(source, [rng.choice(options)]).decode()

    return edit


def _wrap(language: str, text: str, rng: random.Random) -> str | None:
    python = language == "python"
    tree = parse(language, text)
    rows = mutate._Rows(tree, text, python)
    spots = [
        s
        for s in _simple_statements(tree.root_node, python)
        if _own_line(rows, s)
        and s.type not in ("return_statement", "break_statement", "continue_statement")
    ]
    names = sorted(local_names(tree, python))
    if not spots or not names:
        return None
    statement = rng.choice(spots)
    row = statement.start_point.row
    lines = _lines(text)
    indent = rows.indent(row)
    name = rng.choice(names)
    unit = " " * (4 if python else 2)
    body = indent + unit + lines[row].lstrip(" ")
    if python:
        lines[row : row + 1] = [f"{indent}if {name} is not None:", body]
    else:
        lines[row : row + 1] = [f"{indent}if ({name} != null) {{", body, f"{indent}}}"]
    return "\n".join(lines)


def _unwrap(language: str, text: str, rng: random.Random) -> str | None:
    tree = parse(language, text)
    spots = []
    for node in walk(tree.root_node):
        if node.type != "if_statement" or node.child_by_field_name("alternative") is not None:
            continue
        body = node.child_by_field_name("consequence")
        if body is None or body.named_child_count != 1:
            continue
        inner = body.named_children[0]
        if (
            inner.start_point.row == inner.end_point.row
            and inner.start_point.row > node.start_point.row
        ):
            spots.append((node, inner))
    if not spots:
        return None
    node, inner = rng.choice(spots)
    lines = _lines(text)
    indent = lines[node.start_point.row][
        : len(lines[node.start_point.row]) - len(lines[node.start_point.row].lstrip(" "))
    ]
    lines[node.start_point.row : node.end_point.row + 1] = [
        indent + lines[inner.start_point.row].lstrip(" ")
    ]
    return "\n".join(lines)


EDITS: dict[str, Edit] = {
    "insert": _insert,
    "delete": _delete,
    "reorder": _reorder,
    "call": _token_edit("call"),
    "literal": _token_edit("literal"),
    "rename": _token_edit("rename"),
    "operator": _token_edit("operator"),
    "wrap": _wrap,
    "unwrap": _unwrap,
}


def copy(function: Function, band: tuple[float, float], rng: random.Random) -> Copy | None:
    """A copy of ``function`` whose token edit distance falls in ``band``, or None."""
    original = raw_tokens(function.language, function.text)
    for _ in range(TRIES):
        text, steps = function.text, []
        for _ in range(MAX_STEPS):
            name = rng.choice(sorted(EDITS))
            changed = EDITS[name](function.language, text, rng)
            if changed is None or changed == text:
                continue
            if parse(function.language, changed).root_node.has_error:
                continue
            text = changed
            steps.append(name)
            d = distance(original, raw_tokens(function.language, text))
            if d >= band[1]:
                break  # overshot: start again
            if d >= band[0] and d > 0 and len(set(steps)) >= min(3, len(steps)):
                return Copy(text, d, tuple(steps))
    return None


def generate(per_band: int, seed: int) -> Benchmark:
    bench = Benchmark()
    for group, (corpus_name, languages) in GROUPS.items():
        rng = random.Random(f"{seed}:{group}")
        repo = corpus.WORK / corpus_name
        found = functions.extract(repo, languages, rng, limit=per_band * 6 * 8)
        pool = functions.Pool(found, rng, MAX_JACCARD)
        for band in BANDS:
            made = 0
            while made < per_band:
                original = pool.take()
                if original is None:
                    bench.shortages.append(f"{group} {band_name(band)}: {made} of {per_band}")
                    break
                variant = copy(original, band, rng)
                if variant is None:
                    continue
                side = Side(original.text, original.language, original.origin)
                other = Side(variant.text, original.language, f"{band_name(band)} copy of it")
                note = f"distance {variant.distance:.3f}: {', '.join(variant.steps)}"
                bench.add(group, band_name(band), side, other, rng, note, variant.distance)
                made += 1
        negatives = 0
        while negatives < per_band:
            original = pool.take()
            if original is None:
                bench.shortages.append(f"{group} negatives: {negatives} of {per_band}")
                break
            other_fn = pool.take_like(original)
            if other_fn is None:
                continue
            bench.add(
                group,
                NEGATIVE,
                Side(original.text, original.language, original.origin),
                Side(other_fn.text, other_fn.language, other_fn.origin),
                rng,
            )
            negatives += 1
    return bench


def write_repo(bench: Benchmark) -> str:
    shutil.rmtree(REPO, ignore_errors=True)
    gitrepo.init(REPO)
    for path, content in bench.files.items():
        target = REPO / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return gitrepo.commit_all(REPO, "Harder clone benchmark")


def _recall(s: Score, category: str) -> float | None:
    total = s.totals.get(category, 0)
    return s.detected.get(category, 0) / total if total else None


def run(per_band: int, seed: int, with_cairn: bool) -> dict[str, object]:
    corpus.build_all(tuple(GROUPS[g][0] for g in GROUPS))
    bench = generate(per_band, seed)
    commit = write_repo(bench)
    results: list[dict[str, object]] = []
    detections: list[tuple[str, detectors.Detection, float]] = []
    if with_cairn:
        shutil.rmtree(CAIRN_HOME, ignore_errors=True)
        CAIRN_HOME.mkdir(parents=True)
        detectors.warm_up(CAIRN_HOME)
        scan, index = detectors.cairn_index_and_scan(REPO, CAIRN_HOME)
        detections.append(("cairn", scan, index.wall_s + scan.run.wall_s))
    for config in detectors.JSCPD_CONFIGS:
        found = detectors.run_jscpd(config, REPO)
        detections.append((config.name, found, found.run.wall_s))
    for tool, detection, seconds in detections:
        row: dict[str, object] = {"tool": tool, "seconds": seconds, "error": detection.error}
        for group in (None, *GROUPS):
            s = score(bench.pairs, detection.clones, group)
            key = group or "all"
            row[key] = {
                "recall": {c: _recall(s, c) for c in CATEGORIES},
                "detected": {c: s.detected.get(c, 0) for c in CATEGORIES},
                "totals": {c: s.totals.get(c, 0) for c in (*CATEGORIES, NEGATIVE)},
                "negatives_flagged": s.negatives_reported,
                "precision": s.precision,
                "flagged": s.flagged_negatives,
                "missed": s.missed,
            }
        results.append(row)
    return {
        "per_band": per_band,
        "seed": seed,
        "commit": commit,
        "pairs": len(bench.pairs),
        "files": len(bench.files),
        "shortages": bench.shortages,
        "cases": [asdict(p) for p in bench.pairs],
        "tools": results,
    }


def _fmt(value: object) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def table(figures: dict[str, object]) -> str:
    lines = [
        f"{'tool':<12} {'group':<7} "
        + " ".join(f"{c:>8}" for c in CATEGORIES)
        + f" {'neg.FP':>8} {'precis.':>8} {'time s':>7}"
    ]
    tools = figures["tools"]
    assert isinstance(tools, list)
    for row in tools:
        for group in ("all", *GROUPS):
            g = row[group]
            neg = f"{g['negatives_flagged']}/{g['totals'][NEGATIVE]}"
            line = f"{row['tool']:<12} {group:<7} " + " ".join(
                f"{_fmt(g['recall'][c]):>8}" for c in CATEGORIES
            )
            line += f" {neg:>8} {_fmt(g['precision']):>8}"
            line += f" {row['seconds']:>7.1f}" if group == "all" else ""
            lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-band", type=int, default=60, help="pairs per band per language")
    parser.add_argument("--seed", type=int, default=20251206)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-cairn", action="store_true")
    parser.add_argument("--cases-only", action="store_true", help="write the cases, run nothing")
    args = parser.parse_args()
    if args.cases_only:
        corpus.build_all(tuple(GROUPS[g][0] for g in GROUPS))
        bench = generate(args.per_band, args.seed)
        commit = write_repo(bench)
        print(f"{len(bench.pairs)} pairs in {len(bench.files)} files, commit {commit}")
        for shortage in bench.shortages:
            print(f"  short: {shortage}")
        return
    figures = run(args.per_band, args.seed, not args.no_cairn)
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
