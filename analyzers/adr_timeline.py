"""The decision log as a whole: what binds, read as a timeline per technology.

Pure. Only accepted records that nothing supersedes bind (supersession read both ways, links as
paths, ``ADR-n`` or full URLs). Then each technology is followed through the records that
decide about it, oldest first: a later record that chooses what an earlier one rejected binds
alone, and the log is told how to say so (the status line to write); a decision the code at
base already contradicts widely is reported as stale instead of enforced ("ADR-4 says npm; 14
files use yarn"). Every inconsistency is a problem of the log, never an exception.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import replace

from analyzers import adr_rules
from analyzers.adr import Adr, Constraint, DecisionLog, constraint_of
from analyzers.adr_prose import CHOSEN, NEGATIVE, WEIGHED, Mention
from analyzers.catalog import Catalog, catalog

#: A derived rule that this many files at base already contradict is stale, not enforced.
STALE_FILES = 5

Usage = Mapping[str, frozenset[str]]  # technology id, or "name:" + a literal → files at base


def build_log(
    records: Iterable[Adr],
    *,
    vocabulary: adr_rules.Vocabulary | None = None,
    usage: Usage | None = None,
    removals: Mapping[str, adr_rules.Removal] | None = None,
) -> DecisionLog:
    """What binds (accepted, superseded by nothing), read as a timeline, and every
    inconsistency found on the way.

    ``vocabulary`` (the repository's own package names), ``usage`` (what the base uses, by
    technology) and ``removals`` (what each record's own change removed) sharpen the rules read
    from prose; without them the rules are the catalog's alone.
    """
    adrs = sorted(records, key=_order)
    problems: list[str] = [p for a in adrs for p in a.problems]
    by_path = {a.path: a for a in adrs}
    by_name: dict[str, list[Adr]] = {}
    by_number: dict[int, list[Adr]] = {}
    for a in adrs:
        by_name.setdefault(posixpath.basename(a.path).lower(), []).append(a)
        if a.number is not None:
            by_number.setdefault(a.number, []).append(a)
    for number, same in sorted(by_number.items()):
        if len(same) > 1:
            paths = ", ".join(a.path for a in same)
            problems.append(f"ADR number {number} is used by {len(same)} records: {paths}")

    def resolve(ref: str, origin: Adr) -> Adr | None:
        if ref.startswith("ADR-"):
            same = by_number.get(int(ref[4:]))
            if same:
                return same[0]
        elif ref.startswith("file:"):
            same = by_name.get(ref[5:].lower())
            if same:
                return same[0]
        elif ref in by_path:
            return by_path[ref]
        elif by_name.get(posixpath.basename(ref).lower()):
            return by_name[posixpath.basename(ref).lower()][0]
        shown = ref[5:] if ref.startswith("file:") else ref
        problems.append(f"{origin.path}: links to {shown}, which is not in the decision log")
        return None

    successors: dict[str, set[str]] = {a.path: set() for a in adrs}
    for a in adrs:
        for ref in a.superseded_by:
            target = resolve(ref, a)
            if target is not None and target is not a:
                successors[a.path].add(target.path)
        for ref in a.supersedes:
            target = resolve(ref, a)
            if target is not None and target is not a:
                successors[target.path].add(a.path)
                if target.status not in ("superseded", "deprecated", "rejected", "amended"):
                    problems.append(
                        f"{target.path}: {a.label} supersedes it, but its status is still "
                        f"{target.status or 'unset'}"
                    )
    for cycle in _cycles(successors):
        problems.append("supersession cycle: " + " → ".join(cycle))

    binding = [a for a in adrs if a.status == "accepted" and not successors[a.path]]
    cat = catalog()
    # What a later proposal names is under discussion: no record's choice passes it over by
    # guess (a sibling rule) while the team weighs it in the open.
    proposals = [a for a in adrs if a.status == "proposed"]
    binding = [
        _rules(
            a,
            cat,
            vocabulary,
            usage,
            (removals or {}).get(a.path),
            frozenset(
                m.tech for p in proposals if _order(p) > _order(a) for m in p.mentions if m.tech
            ),
        )
        for a in binding
    ]
    binding, drift = _timeline(binding, cat)
    problems += drift
    stale: list[tuple[Adr, Constraint, str]] = []
    if usage is not None:
        binding, stale = _stale(binding, usage, cat)
        problems += [why for _, _, why in stale]
    return DecisionLog(
        records=tuple(adrs), binding=tuple(binding), problems=tuple(problems), stale=tuple(stale)
    )


def _order(a: Adr) -> tuple[int, str, str]:
    return (a.number if a.number is not None else 1 << 30, a.date or "", a.path)


def _rules(
    a: Adr,
    cat: Catalog,
    vocabulary: adr_rules.Vocabulary | None,
    usage: Usage | None,
    removal: adr_rules.Removal | None,
    deliberated: frozenset[str] = frozenset(),
) -> Adr:
    """The record's constraints with what the repository adds to the catalog."""
    if a.explicit or not a.mentions or (vocabulary is None and usage is None and removal is None):
        return a
    rules = adr_rules.rules(a.mentions, cat, vocabulary)
    if removal is not None:
        rules, _ = adr_rules.extend(rules, a.mentions, removal, cat)
    if usage is not None:
        present = {t: len(files) for t, files in usage.items() if not t.startswith("name:")}
        rules += [
            r
            for r in adr_rules.sibling_rules(a.mentions, cat, present)
            if r.technology not in deliberated
        ]
    return replace(a, constraints=tuple(constraint_of(r) for r in rules))


# ---------------------------------------------------------------------------------------------
# The timeline per technology


def _timeline(binding: list[Adr], cat: Catalog) -> tuple[list[Adr], list[str]]:
    """Later records over earlier ones, technology by technology.

    A later record that chooses what an earlier one rejected or removed binds alone (the
    earlier rule is dropped for it); a later record that rejects or removes what an earlier one
    chose binds when it says so, and is not enforced when it only passed it over among options
    (the earlier choice was stated, the later rejection only weighed). Each is reported with
    the line that would make the log say it.
    """
    problems: list[str] = []
    drop: dict[str, set[str]] = {}  # record path → technologies no longer enforced by it
    allow: dict[str, set[str]] = {}  # record path → technologies its category rule now allows
    stances: dict[str, list[tuple[int, Adr, Mention]]] = {}
    for i, a in enumerate(binding):
        for m in a.mentions:
            if m.tech and (m.stance == CHOSEN or m.stance in NEGATIVE):
                stances.setdefault(m.tech, []).append((i, a, m))
    reported: set[tuple[str, str]] = set()
    for tech, events in sorted(stances.items()):
        for i, earlier, em in events:
            for j, later, lm in events:
                if j <= i or (earlier.explicit and later.explicit):
                    continue
                if em.stance in NEGATIVE and lm.stance == CHOSEN:
                    drop.setdefault(earlier.path, set()).add(tech)
                    if (earlier.path, later.path) not in reported:
                        reported.add((earlier.path, later.path))
                        problems.append(_reversal(earlier, later, lm, "chooses", em, cat))
                elif em.stance == CHOSEN and lm.stance in NEGATIVE:
                    if lm.strength == WEIGHED:
                        drop.setdefault(later.path, set()).add(tech)
                        problems.append(
                            f"{later.label} '{later.title}' passes over `{lm.term}`, which "
                            f"{earlier.label} '{earlier.title}' chose; not enforced until one "
                            f"of them says so (supersede {earlier.label}, or state it in "
                            f"{later.label})"
                        )
                    elif (earlier.path, later.path) not in reported:
                        reported.add((earlier.path, later.path))
                        problems.append(_reversal(earlier, later, lm, "drops", em, cat))
    # a category rejected earlier, a member chosen later: the category rule allows the member
    for tech, events in stances.items():
        for j, _, lm in events:
            if lm.stance != CHOSEN:
                continue
            for i, earlier, em in [(i, a, m) for e in stances.values() for (i, a, m) in e]:
                if (
                    i < j
                    and em.stance in NEGATIVE
                    and em.tech != tech
                    and tech in cat.expand(em.tech)
                ):
                    allow.setdefault(earlier.path, set()).add(tech)
    out = []
    for a in binding:
        gone, extra = drop.get(a.path, set()), allow.get(a.path, set())
        if (not gone and not extra) or a.explicit:
            out.append(a)
            continue
        kept = tuple(
            replace(c, allow=tuple(sorted(set(c.allow) | extra)))
            for c in a.constraints
            if c.explicit or c.technology not in gone
        )
        out.append(replace(a, constraints=kept))
    return out, problems


def _reversal(earlier: Adr, later: Adr, lm: Mention, verb: str, em: Mention, cat: Catalog) -> str:
    name = posixpath.basename(later.path)
    return (
        f"{later.label} '{later.title}' {verb} `{lm.term}`, which {earlier.label} "
        f"'{earlier.title}' {'chose' if em.stance == CHOSEN else _past(em.stance)}, without "
        f"superseding it; following {later.label}. Write in {earlier.label}'s status: "
        f'"Superseded by [{later.label}]({name})"'
    )


def _past(stance: str) -> str:
    return {"rejected": "rejected", "removed": "removed"}.get(stance, stance)


# ---------------------------------------------------------------------------------------------
# Stale decisions


def _stale(
    binding: list[Adr], usage: Usage, cat: Catalog
) -> tuple[list[Adr], list[tuple[Adr, Constraint, str]]]:
    out: list[Adr] = []
    stale: list[tuple[Adr, Constraint, str]] = []
    for a in binding:
        kept = []
        for c in a.constraints:
            files = _used(c, usage, cat)
            if c.explicit or c.new_code or len(files) < STALE_FILES:
                kept.append(c)
                continue
            shown = ", ".join(sorted(files)[:3]) + (", …" if len(files) > 3 else "")
            chose = f" says {c.prefer}" if c.prefer else f" decided against `{c.value}`"
            stale.append(
                (
                    a,
                    c,
                    f"{a.label} '{a.title}'{chose}, but {len(files)} files at base use "
                    f"`{c.value}` ({shown}): a stale decision, not enforced; supersede it or "
                    f"bring the code in line",
                )
            )
        out.append(replace(a, constraints=tuple(kept)) if len(kept) != len(a.constraints) else a)
    return out, stale


def _used(c: Constraint, usage: Usage, cat: Catalog) -> frozenset[str]:
    files: set[str] = set()
    if c.technology:
        for t in cat.expand(c.technology):
            if t not in c.allow:
                files |= usage.get(t, frozenset())
    want = c.value.lower()
    if c.technology and " " in want:
        return frozenset(files)  # a name of several words is matched as its technology only
    for key, used in usage.items():  # the literal, as the check matches it (see checks.decisions)
        if key.startswith("name:") and _names(want, key[5:]):
            files |= used
    return frozenset(files)


def _names(want: str, got: str) -> bool:
    """Whether a literal rule value names a package or module the base uses: itself, a part of
    it (``requests.adapters``), a Maven artifact, or a Go path's last elements."""
    if got == want or got.startswith((want + ".", want + "/", want + "::")):
        return True
    if got.endswith(":" + want):
        return True
    host = got.split("/", 1)[0]
    if "/" in got and "." in host and not host.startswith((".", "@")):
        return got.endswith("/" + want) or ("/" + want + "/") in got
    return False


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph.get(nxt, ()))))
    return found


def binding_stances(log: DecisionLog, tech: str) -> list[tuple[Adr, Mention]]:
    """The binding records' stances on one technology (for ``cairn why``)."""
    return [(a, m) for a in log.binding for m in a.mentions if m.tech == tech]


__all__ = ["STALE_FILES", "Usage", "binding_stances", "build_log"]
