"""Fixes: the edits that resolve a finding, as plain data every output renders the same way.

An edit replaces lines ``start_line..end_line`` (1-based, inclusive) of the head file by
``replacement`` (whole lines, without the final newline; empty deletes the lines). JSON
carries them as they are, SARIF as ``fixes[].artifactChanges[].replacements``, GitHub as a
``suggestion`` block when the edit lies in the commented lines, and ``cairn review --apply``
writes them to the working tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class Edit:
    """Lines of one head file and what replaces them."""

    path: str
    start_line: int
    end_line: int
    replacement: str  # whole lines, no final newline; "" deletes them


@dataclass(frozen=True, slots=True)
class Fix:
    """What resolves a finding: a sentence, and edits verified to leave the files parsing."""

    description: str
    edits: tuple[Edit, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.path for e in self.edits))


class EditConflict(ValueError):
    """Edits overlap each other or reach past the end of the file."""


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` (all of one file) applied; their lines are those of ``text``."""
    lines = text.split("\n")
    trailing = lines[-1] == ""
    if trailing:
        lines.pop()
    ordered = sorted(edits, key=lambda e: e.start_line)
    for before, after in pairwise(ordered):
        if after.start_line <= before.end_line:
            raise EditConflict(f"overlapping edits at line {after.start_line}")
    for edit in reversed(ordered):
        if not 1 <= edit.start_line <= edit.end_line <= len(lines):
            raise EditConflict(
                f"lines {edit.start_line}-{edit.end_line} are not in a {len(lines)}-line file"
            )
        new = edit.replacement.split("\n") if edit.replacement else []
        lines[edit.start_line - 1 : edit.end_line] = new
    out = "\n".join(lines)
    return out + "\n" if trailing and lines else out


def edits_of(fix: Fix, path: str) -> list[Edit]:
    """The fix's edits of one file."""
    return [e for e in fix.edits if e.path == path]


@dataclass(frozen=True, slots=True)
class FixInputs:
    """What fixes and sibling copies read beyond the head files: base files, the import graph
    and how often files changed together."""

    base_sources: Mapping[str, bytes] = field(default_factory=dict)  # path at base → bytes
    imports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # internal edges, base
    # changed path → other path → commits (of the last ones read) that changed both
    cochange: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
