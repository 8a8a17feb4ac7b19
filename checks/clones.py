"""Clone families: the result of ``cairn scan``, the repository's baseline of duplication.

A scan finds verified pairs of token streams; a report of n² pairs is noise. Units are grouped
instead: units with the same normalised stream are exact or renamed copies of each other, and
streams joined by verified near-miss links form one *family* (one entry per group of copies).
Families are ranked by what removing the copies would save — duplicated lines × members,
weighted by how far apart the copies live (another component before the same file) — and
sorted into sections: production code first, then tests, migrations, fixtures and generated
code, each on its own.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from checks.config import DuplicationConfig
from checks.context import LocatedUnit

SECTIONS = ("production", "tests", "migrations", "fixtures", "generated")
SPREAD_WEIGHT = {"cross-component": 2.0, "same-component": 1.5, "same-file": 1.0}
KINDS = ("exact", "renamed", "near-miss")

_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "e2e"})
_FIXTURE_DIRS = frozenset({"fixtures", "fixture", "testdata", "__fixtures__", "__mocks__"})
_MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "alembic"})
_GENERATED_DIRS = frozenset({"generated", "__generated__", "gen"})
_SOURCE_ROOTS = frozenset({"src", "lib", "app", "pkg", "internal", "main", "java"})


@dataclass(frozen=True, slots=True)
class UnitRef:
    """Where a code unit lives."""

    path: str
    start_line: int
    end_line: int
    name: str
    kind: str = ""  # "function" | "method" | "class"


@dataclass(frozen=True, slots=True)
class ClonePair:
    """Two units that duplicate each other; ``a`` sorts before ``b``."""

    a: UnitRef
    b: UnitRef
    similarity: float  # 0..1, from the verification step
    kind: str  # "exact" | "renamed" | "near-miss"


@dataclass(frozen=True, slots=True)
class Member:
    """A unit of a family; members with the same ``stream`` are copies up to renaming."""

    unit: UnitRef
    stream: int  # index of the member's token stream among the family's streams
    raw: int  # index of its exact token text: same raw, same stream → an exact copy

    @property
    def lines(self) -> int:
        return self.unit.end_line - self.unit.start_line + 1


@dataclass(frozen=True, slots=True)
class Link:
    """A verified near-miss link between two of a family's streams."""

    a: int
    b: int
    similarity: float


@dataclass(frozen=True, slots=True)
class CloneFamily:
    """One group of copies: every member duplicates at least one other, directly or through
    the family's links."""

    id: str  # stable across scans while the members' paths and names stay
    members: tuple[Member, ...]  # by path, then line
    links: tuple[Link, ...]
    kinds: tuple[str, ...]  # which of KINDS occur between its members
    similarity: float  # the lowest link's (1.0 when all members share one stream)
    lines: int  # duplicated lines: the median member's length
    section: str  # one of SECTIONS
    spread: str  # "cross-component" | "same-component" | "same-file"
    value: float  # lines × members × SPREAD_WEIGHT[spread]
    new: bool = False  # a member was added or changed since the last scan

    def pairs(self) -> Iterator[ClonePair]:
        """The unit pairs the family stands for: copies of one stream, and members of linked
        streams."""
        by_stream: dict[int, list[Member]] = defaultdict(list)
        for member in self.members:
            by_stream[member.stream].append(member)
        for group in by_stream.values():
            for i, first in enumerate(group):
                for second in group[i + 1 :]:
                    kind = "exact" if first.raw == second.raw else "renamed"
                    yield _pair(first.unit, second.unit, 1.0, kind)
        for link in self.links:
            for first in by_stream[link.a]:
                for second in by_stream[link.b]:
                    yield _pair(first.unit, second.unit, link.similarity, "near-miss")


def _pair(a: UnitRef, b: UnitRef, similarity: float, kind: str) -> ClonePair:
    if (b.path, b.start_line, b.end_line) < (a.path, a.start_line, a.end_line):
        a, b = b, a
    return ClonePair(a=a, b=b, similarity=similarity, kind=kind)


def section_of(path: str) -> str:
    """Which part of a repository a path belongs to, for the scan's sections."""
    *directories, name = path.split("/")
    parts = {d.lower() for d in directories}
    lowered = name.lower()
    if parts & _GENERATED_DIRS or ".generated." in lowered or lowered.startswith("generated_"):
        return "generated"
    if parts & _MIGRATION_DIRS:
        return "migrations"
    if parts & _FIXTURE_DIRS:
        return "fixtures"
    stem = name.rsplit(".", 1)[0]
    if (
        parts & _TEST_DIRS
        or stem.lower().startswith("test_")
        or stem.lower().endswith(("_test", "_tests", ".test", ".spec", "-test", "-spec"))
        or stem.endswith(("Test", "Tests", "TestCase", "IT"))  # JUnit, NUnit: FooTest.java
        or (stem.startswith("Test") and stem[4:5].isupper())  # TestFoo.java
        or stem.lower() in ("conftest", "tests", "test")
    ):
        return "tests"
    return "production"


def component_of(path: str) -> str:
    """The component a path belongs to: its first two directories below a source root."""
    directories = path.split("/")[:-1]
    while directories and directories[0].lower() in _SOURCE_ROOTS:
        directories = directories[1:]
    return "/".join(directories[:2])


def families(
    units: Sequence[LocatedUnit],
    links: Sequence[tuple[int, int, float]],
    cfg: DuplicationConfig,
    *,
    new_units: frozenset[tuple[str, int]] = frozenset(),
) -> list[CloneFamily]:
    """The clone families among ``units`` (each with its ``exact_hash`` stream), given the
    verified near-miss ``links`` between streams (exact_hash, exact_hash, similarity).
    ``new_units`` are the (path, exact_hash) of units added or changed since the last scan."""
    pool = sorted(
        (u for u in units if _reportable(u, cfg)),
        key=lambda u: (u.path, u.unit.start_line, -u.unit.end_line, u.unit.qualname),
    )
    streams: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(pool):
        streams[u.unit.exact_hash].append(i)
    groups, links_of = _stars(streams, links)
    ancestors = _ancestors(pool)
    family_of: dict[int, int] = {}
    raw: list[list[int]] = []
    for root, members in groups.items():
        inside = set(members)
        # A member nested in another member (a class and its only method) is implied by it.
        outer = [m for m in members if not any(a in inside for a in ancestors[m])]
        if len(outer) < 2:
            continue
        for m in outer:
            family_of[m] = len(raw)
        raw.append([root, *sorted(outer)])
    out: list[CloneFamily] = []
    for number, (root, *members) in enumerate(raw):
        if _implied(number, members, ancestors, family_of):
            continue
        out.append(_family(pool, members, links_of[root], new_units))
    out.sort(key=rank)
    return out


def _stars(
    streams: dict[int, list[int]], links: Sequence[tuple[int, int, float]]
) -> tuple[dict[int, list[int]], dict[int, list[tuple[int, int, float]]]]:
    """Group streams around centres: each family is a stream and the streams verified
    against it directly. Chaining links transitively would join unrelated code through a
    series of near misses (on Django, one chain held 6,656 units); a star's every member
    duplicates its centre. Centres are taken greedily, the stream whose neighbourhood holds the
    most units first."""
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for a, b, score in links:
        if a in streams and b in streams and a != b:
            neighbours[a][b] = score
            neighbours[b][a] = score

    def reach(h: int) -> int:
        return len(streams[h]) + sum(len(streams[n]) for n in neighbours[h])

    order = sorted(streams, key=lambda h: (-reach(h), h))
    taken: set[int] = set()
    groups: dict[int, list[int]] = {}
    links_of: dict[int, list[tuple[int, int, float]]] = {}
    for centre in order:
        if centre in taken:
            continue
        taken.add(centre)
        members = list(streams[centre])
        star: list[tuple[int, int, float]] = []
        for other, score in sorted(neighbours[centre].items()):
            if other not in taken:
                taken.add(other)
                members.extend(streams[other])
                star.append((centre, other, score))
        groups[centre] = members
        links_of[centre] = star
    return groups, links_of


def rank(family: CloneFamily) -> tuple[int, float, str, int]:
    """Sections in order, then the most valuable first."""
    first = family.members[0].unit
    return (SECTIONS.index(family.section), -family.value, first.path, first.start_line)


def _implied(
    number: int, members: list[int], ancestors: list[tuple[int, ...]], family_of: dict[int, int]
) -> bool:
    """Whether one other family holds an ancestor of every member (the outer copies imply
    these: a copied class's methods)."""
    common: set[int] | None = None
    for m in members:
        holders = {family_of[a] for a in ancestors[m] if a in family_of} - {number}
        common = holders if common is None else common & holders
        if not common:
            return False
    return bool(common)


def _family(
    pool: Sequence[LocatedUnit],
    members: list[int],
    links: list[tuple[int, int, float]],
    new_units: frozenset[tuple[str, int]],
) -> CloneFamily:
    units = [pool[m] for m in members]
    stream_ids: dict[int, int] = {}
    raw_ids: dict[int, int] = {}
    refs: list[Member] = []
    for u in units:
        stream = stream_ids.setdefault(u.unit.exact_hash, len(stream_ids))
        text = raw_ids.setdefault(u.unit.raw_hash, len(raw_ids))
        refs.append(Member(unit=_ref(u), stream=stream, raw=text))
    family_links = tuple(
        sorted(
            (
                Link(a=min(sa, sb), b=max(sa, sb), similarity=round(score, 3))
                for a, b, score in links
                if (sa := stream_ids.get(a)) is not None and (sb := stream_ids.get(b)) is not None
            ),
            key=lambda link: (link.a, link.b),
        )
    )
    kinds = set()
    per_stream: dict[int, set[int]] = defaultdict(set)
    for member in refs:
        per_stream[member.stream].add(member.raw)
    for stream, raws in per_stream.items():
        count = sum(1 for m in refs if m.stream == stream)
        if count > len(raws):
            kinds.add("exact")
        if len(raws) > 1:
            kinds.add("renamed")
    if family_links:
        kinds.add("near-miss")
    lines = int(statistics.median(m.lines for m in refs))
    sections = [section_of(m.unit.path) for m in refs]
    # Production duplication is two production copies; one production member among tests
    # (a helper a test module re-implements) is the tests' matter.
    rest = [x for x in sections if x != "production"]
    section = (
        "production" if len(rest) <= len(sections) - 2 else max(sorted(set(rest)), key=rest.count)
    )
    paths = {m.unit.path for m in refs}
    components = {component_of(p) for p in paths}
    spread = (
        "same-file"
        if len(paths) == 1
        else "same-component"
        if len(components) == 1
        else "cross-component"
    )
    identity = "\n".join(sorted({f"{m.unit.path}\t{m.unit.name}" for m in refs}))
    return CloneFamily(
        id=hashlib.blake2b(identity.encode(), digest_size=8).hexdigest(),
        members=tuple(refs),
        links=family_links,
        kinds=tuple(k for k in KINDS if k in kinds),
        similarity=min((link.similarity for link in family_links), default=1.0),
        lines=lines,
        section=section,
        spread=spread,
        value=float(lines * len(refs)) * SPREAD_WEIGHT[spread],
        new=any((u.path, u.unit.exact_hash) in new_units for u in units),
    )


def _reportable(u: LocatedUnit, cfg: DuplicationConfig) -> bool:
    return (
        u.tokens >= cfg.min_tokens
        and u.unit.line_count >= cfg.min_lines
        and not cfg.excludes(u.path)
    )


def _ref(u: LocatedUnit) -> UnitRef:
    return UnitRef(
        path=u.path,
        start_line=u.unit.start_line,
        end_line=u.unit.end_line,
        name=u.unit.qualname,
        kind=u.unit.kind,
    )


def _ancestors(pool: Sequence[LocatedUnit]) -> list[tuple[int, ...]]:
    """For each unit, the units of the same file that contain it, innermost first (``pool``
    is sorted by path, start line, longest first)."""
    out: list[tuple[int, ...]] = [()] * len(pool)
    stack: list[int] = []
    for i, u in enumerate(pool):
        while stack and (
            pool[stack[-1]].path != u.path or pool[stack[-1]].unit.end_line < u.unit.end_line
        ):
            stack.pop()
        out[i] = tuple(reversed(stack))
        stack.append(i)
    return out
