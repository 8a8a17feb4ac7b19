"""A copied module is one finding: the units of a new file that copy units of one existing
file are reported together ("file-copy"), listing each copied unit, instead of a finding per
unit (a module copied whole made 29 findings).

A step over the duplication check's findings, whatever produced them: only base clones
(``clone``) of an added file take part; the rest pass through unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from checks.context import Change
from checks.finding import Evidence, Finding, Severity, fingerprint

# Units of one new file copying units of the same existing file from which it is "a copy".
COPIED_FROM = 3
NAMES_SHOWN = 5  # copied units named in the message; the evidence lists them all

KIND_WORDS = {"exact": "exact", "renamed": "renamed", "near-miss": "near-miss"}


def group_copied_files(findings: Sequence[Finding], change: Change) -> list[Finding]:
    """``findings`` with the clones of each added file grouped by the file they copy, when at
    least ``COPIED_FROM`` of its units copy the same one."""
    added = {d.new_path for d in change.files if d.status in ("added", "copied")}
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.check == "duplication" and f.rule == "clone" and f.path in added and f.evidence:
            groups[(f.path, f.evidence[0].path)].append(f)
    grouped = {
        id(f): key
        for key, members in groups.items()
        if len(members) >= COPIED_FROM
        for f in members
    }
    if not grouped:
        return list(findings)
    names = {(cu.path, cu.unit.start_line, cu.unit.end_line): cu.unit.name for cu in change.units}
    out: list[Finding] = []
    done: set[tuple[str, str]] = set()
    for f in findings:
        key = grouped.get(id(f))
        if key is None:
            out.append(f)
        elif key not in done:
            done.add(key)
            out.append(_file_copy(key[0], key[1], groups[key], names))
    return out


def _file_copy(
    path: str, original: str, members: list[Finding], names: dict[tuple[str, int, int], str]
) -> Finding:
    members = sorted(members, key=lambda f: f.start_line)
    copied = []
    kinds: dict[str, int] = defaultdict(int)
    for f in members:
        source = f.evidence[0]
        name = names.get((f.path, f.start_line, f.end_line), "")
        kinds[source.kind] += 1
        copied.append(
            Evidence(
                path=source.path,
                start_line=source.start_line,
                end_line=source.end_line,
                name=source.name,
                similarity=source.similarity,
                kind=source.kind,
                note=f"copied as `{name}` at line {f.start_line}" if name else "",
            )
        )
    shown = [f"`{e.name}`" for e in copied[:NAMES_SHOWN]]
    if len(copied) > NAMES_SHOWN:
        shown.append(f"and {len(copied) - NAMES_SHOWN} more")
    how = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(kinds.items()))
    message = (
        f"`{path}` copies {len(copied)} units of `{original}` ({how}): "
        f"{', '.join(shown)}. Import them from `{original}` instead of keeping a second copy."
    )
    return Finding(
        check="duplication",
        rule="file-copy",
        path=path,
        start_line=members[0].start_line,
        end_line=max(f.end_line for f in members),
        message=message,
        severity=max((f.severity for f in members), key=lambda s: s.rank, default=Severity.WARNING),
        evidence=tuple(copied),
        fingerprint=fingerprint("duplication", "file-copy", path, original),
    )
