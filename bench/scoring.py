"""Scoring a detector's clones against the generated clone benchmark.

A benchmark pair is two units (line ranges in two files). A reported clone *links* every unit
its first side overlaps with every unit its second side overlaps; a side that overlaps no unit
links to "outside". A positive pair is detected when some clone links its two units. Precision
is counted over distinct links that touch a benchmark unit: a link between the two units of a
positive pair is true; a link between a negative pair's units, between units of different
pairs, or from a unit to outside is false. Links within one unit (a function repeating itself)
say nothing about pairs and are not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from detectors import Clone, Span

CATEGORIES = ("type-1", "type-2", "type-3")
NEGATIVE = "negative"


@dataclass(frozen=True)
class Pair:
    """Two units of the benchmark and what relates them."""

    id: str
    language: str  # "python" | "js-ts"
    category: str  # "type-1" | "type-2" | "type-3" | "negative"
    a: Span
    b: Span
    origin_a: str
    origin_b: str
    note: str = ""
    edited_share: float = 0.0

    @property
    def positive(self) -> bool:
        return self.category != NEGATIVE


_Unit = tuple[int, str]  # (pair index, "a" | "b")
_Link = frozenset[_Unit | tuple[int, str, str]]


@dataclass
class Score:
    detected: dict[str, int] = field(default_factory=dict)  # per positive category
    totals: dict[str, int] = field(default_factory=dict)  # per category, negatives included
    negatives_reported: int = 0
    cross_links: int = 0  # links between units of different pairs, or to outside
    true_links: int = 0
    links: int = 0
    # category -> the clone kinds the tool gave its detected pairs ("exact", "renamed+near-miss")
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # ids of positive pairs not detected
    flagged_negatives: list[str] = field(default_factory=list)

    def recall(self, category: str) -> float | None:
        total = self.totals.get(category, 0)
        return self.detected.get(category, 0) / total if total else None

    @property
    def precision(self) -> float | None:
        return self.true_links / self.links if self.links else None


def _units_over(span: Span, by_path: dict[str, list[tuple[Span, _Unit]]]) -> list[_Unit]:
    return [unit for unit_span, unit in by_path.get(span.path, ()) if unit_span.overlaps(span)]


def score(pairs: list[Pair], clones: Iterable[Clone], language: str | None = None) -> Score:
    """Recall per category and precision, over the pairs of one language group or all."""
    selected = {i for i, p in enumerate(pairs) if language is None or p.language == language}
    by_path: dict[str, list[tuple[Span, _Unit]]] = defaultdict(list)
    for i in selected:
        by_path[pairs[i].a.path].append((pairs[i].a, (i, "a")))
        by_path[pairs[i].b.path].append((pairs[i].b, (i, "b")))
    links: dict[_Link, set[str]] = defaultdict(set)  # each link and the kinds it was given
    for clone in clones:
        left, right = _units_over(clone.a, by_path), _units_over(clone.b, by_path)
        if not left and not right:
            continue
        for unit in left or right:
            if not (left and right):
                outside = clone.b if left else clone.a
                links[frozenset({unit, (-1, "outside", outside.path)})].add(clone.kind)
                continue
            for other in right:
                if other != unit:
                    links[frozenset({unit, other})].add(clone.kind)
    result = Score()
    for i in sorted(selected):
        pair = pairs[i]
        result.totals[pair.category] = result.totals.get(pair.category, 0) + 1
        key: _Link = frozenset({(i, "a"), (i, "b")})
        linked = key in links
        if pair.positive:
            result.detected[pair.category] = result.detected.get(pair.category, 0) + linked
            if not linked:
                result.missed.append(pair.id)
                continue
            kind = "+".join(sorted(links[key]))
            per_kind = result.kinds.setdefault(pair.category, {})
            per_kind[kind] = per_kind.get(kind, 0) + 1
        elif linked:
            result.negatives_reported += 1
            result.flagged_negatives.append(pair.id)
    for link in links:
        members = list(link)
        indices = {m[0] for m in members}
        if len(indices) == 1 and pairs[members[0][0]].positive:
            result.true_links += 1
        elif len(indices) != 1:
            result.cross_links += 1
    result.links = len(links)
    return result
