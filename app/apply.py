"""``cairn review --apply``: the offered fixes written to the working tree.

A fix's lines are those of the reviewed head, so a file is edited only when the working copy
holds exactly the head's version of it: a dirty file (changed, staged or not, since the head)
is never touched. A fix whose edits overlap an earlier fix's in the same file is left out.
Each file is written whole, through a temporary file renamed over it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.git import GitRepo
from checks.finding import Finding
from checks.fix import Edit, EditConflict, Fix, apply_edits


@dataclass(slots=True)
class ApplyReport:
    """What ``apply_fixes`` did: the fixes applied and those it could not, with why."""

    applied: list[tuple[Finding, Fix]] = field(default_factory=list)
    refused: list[tuple[Finding, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.refused


def apply_fixes(git: GitRepo, head: str, findings: Sequence[Finding]) -> ApplyReport:
    """Apply every finding's fix to the working tree of ``git`` (reviewed at ``head``)."""
    report = ApplyReport()
    root = git.root.resolve()
    chosen: dict[str, list[Edit]] = {}
    accepted: list[tuple[Finding, Fix]] = []
    unusable: dict[str, str] = {}
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        reason = next((r for p in fix.paths if (r := _unusable(git, root, head, p, unusable))), "")
        if not reason and any(_overlaps(e, chosen.get(e.path, [])) for e in fix.edits):
            reason = "its lines overlap another fix's"
        if reason:
            report.refused.append((finding, reason))
            continue
        for edit in fix.edits:
            chosen.setdefault(edit.path, []).append(edit)
        accepted.append((finding, fix))
    failed: set[str] = set()
    for path, edits in chosen.items():
        target = root / path
        text = target.read_bytes().decode("utf-8")
        try:
            _write(target, apply_edits(text, _line_ends(text, edits)))
        except (EditConflict, OSError) as exc:
            failed.add(path)
            unusable[path] = f"not written: {exc}"
    for finding, fix in accepted:
        bad = [p for p in fix.paths if p in failed]
        if bad:
            report.refused.append((finding, unusable[bad[0]]))
        else:
            report.applied.append((finding, fix))
    return report


def _unusable(git: GitRepo, root: Path, head: str, path: str, known: dict[str, str]) -> str:
    """Why ``path`` cannot be edited ("" when it can), remembered per path."""
    if path not in known:
        known[path] = _why_not(git, root, head, path)
    return known[path]


def _why_not(git: GitRepo, root: Path, head: str, path: str) -> str:
    target = root / path
    if target.is_symlink() or not target.resolve().is_relative_to(root):
        return "not a file of the working tree"
    if not target.is_file():
        return "missing from the working tree"
    at_head = git.file_at(head, path)
    if at_head is None:
        return "not in the reviewed head"
    if target.read_bytes() != at_head:
        return "dirty: the working copy differs from the reviewed head"
    try:
        at_head.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    return ""


def _overlaps(edit: Edit, others: Sequence[Edit]) -> bool:
    return any(edit.start_line <= o.end_line and o.start_line <= edit.end_line for o in others)


def _line_ends(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """The edits with CRLF line ends in a CRLF file."""
    if "\r\n" not in text:
        return list(edits)
    return [
        Edit(e.path, e.start_line, e.end_line, e.replacement.replace("\n", "\r\n") + "\r")
        if e.replacement
        else e
        for e in edits
    ]


def _write(target: Path, text: str) -> None:
    mode = target.stat().st_mode
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".cairn")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        Path(tmp).chmod(mode & 0o7777)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(report: ApplyReport) -> list[str]:
    """One line per fix: where it changed what, or why it was not applied."""
    lines = []
    for finding, fix in report.applied:
        for edit in fix.edits:
            removed = edit.end_line - edit.start_line + 1
            added = len(edit.replacement.split("\n")) if edit.replacement else 0
            span = f"{edit.start_line}-{edit.end_line}" if removed > 1 else f"{edit.start_line}"
            lines.append(
                f"fixed {edit.path}:{span} ({finding.check}/{finding.rule}, -{removed} "
                f"+{added} lines): {fix.description}"
            )
    for finding, reason in report.refused:
        lines.append(
            f"not applied {finding.path}:{finding.start_line} ({finding.check}/{finding.rule}): "
            f"{reason}"
        )
    total = len(report.applied) + len(report.refused)
    lines.append(f"{len(report.applied)} of {total} fixes applied")
    return lines
