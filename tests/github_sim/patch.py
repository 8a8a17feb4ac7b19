"""Unified ``patch`` text the way GitHub shows it per file, and the lines a comment may target."""

from __future__ import annotations

import difflib
import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file\n"


def is_binary(content: bytes) -> bool:
    """Git's heuristic: a NUL byte in the first 8000 bytes, or content that is not UTF-8."""
    if b"\0" in content[:8000]:
        return True
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def unified_patch(old: bytes, new: bytes, context: int = 3) -> str | None:
    """The hunks of ``git diff`` between two blobs, without file headers; None for binary."""
    if is_binary(old) or is_binary(new):
        return None
    a = old.decode("utf-8").splitlines(keepends=True)
    b = new.decode("utf-8").splitlines(keepends=True)
    out: list[str] = []
    for i, line in enumerate(difflib.unified_diff(a, b, n=context, lineterm="")):
        if i < 2:  # the ---/+++ file headers: GitHub's `patch` starts at the first hunk
            continue
        if line.startswith("@@"):
            out.append(line + _heading(a, int(_HUNK.match(line).group(1))) + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out).removesuffix("\n")


def _heading(old: list[str], start: int) -> str:
    """Git's default hunk heading: the last line above the hunk that starts with [A-Za-z_$]."""
    for line in reversed(old[: max(start - 1, 0)]):
        if line[:1].isalpha() or line[:1] in ("_", "$"):
            return " " + line.rstrip()[:80].rstrip()
    return ""


def count_changes(patch: str | None) -> tuple[int, int]:
    """(additions, deletions) of a patch."""
    if not patch:
        return 0, 0
    lines = patch.split("\n")
    adds = sum(1 for line in lines if line.startswith("+"))
    dels = sum(1 for line in lines if line.startswith("-"))
    return adds, dels


def commentable_lines(patch: str | None) -> dict[str, set[int]]:
    """Lines a review comment may target: ``{"RIGHT": added+context, "LEFT": removed+context}``."""
    sides: dict[str, set[int]] = {"RIGHT": set(), "LEFT": set()}
    if not patch:
        return sides
    old = new = 0
    for line in patch.split("\n"):
        if m := _HUNK.match(line):
            old, new = int(m.group(1)), int(m.group(3))
        elif line.startswith("+"):
            sides["RIGHT"].add(new)
            new += 1
        elif line.startswith("-"):
            sides["LEFT"].add(old)
            old += 1
        elif line.startswith(" "):
            sides["RIGHT"].add(new)
            sides["LEFT"].add(old)
            old += 1
            new += 1
    return sides
