"""Unified diffs: which lines of which files a change adds and removes.

Reads the output of ``git diff --no-color --no-ext-diff --unified=0 -M <base> <head>`` (context
lines are understood too) with git's default ``a/`` and ``b/`` prefixes. A hunk's body is read
by the counts in its header, never by the look of its lines: an added line ``++x`` shows as
``+++x`` and must not be taken for a file header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SUBMODULE_MODE = "160000"
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's change: its paths, its status, and the line ranges it adds and removes."""

    old_path: str | None  # None when the file is added
    new_path: str | None  # None when the file is deleted
    status: str  # "added" | "modified" | "deleted" | "renamed" | "copied"
    binary: bool = False
    submodule: bool = False
    added: Ranges = ()  # inclusive 1-based line ranges in the new file
    removed: Ranges = ()  # inclusive 1-based line ranges in the old file
    # Each hunk's new-side lines (added and context): where GitHub accepts a review comment.
    hunks: Ranges = field(default=(), compare=False)

    @property
    def path(self) -> str:
        """The file's path after the change, or before it for a deletion."""
        path = self.new_path if self.new_path is not None else self.old_path
        assert path is not None  # a diff always names one side
        return path

    def touches(self, start: int, end: int) -> bool:
        """Whether the change adds any line in ``start..end`` (inclusive) of the new file."""
        return any(first <= end and start <= last for first, last in self.added)


def parse_unified_diff(text: str) -> list[FileDiff]:
    """Every file of a ``git diff`` in order; an empty list for empty input."""
    lines = text.split("\n")  # not splitlines(): \r, \f and U+2028 may be file content
    starts = [i for i, line in enumerate(lines) if line.startswith("diff --git ")]
    diffs = []
    for number, start in enumerate(starts):
        stop = starts[number + 1] if number + 1 < len(starts) else len(lines)
        diffs.append(_file_diff(lines, start, stop))
    return diffs


class _Builder:
    """The facts gathered while reading one file's section of the diff."""

    def __init__(self) -> None:
        self.old_path: str | None = None
        self.new_path: str | None = None
        self.status = "modified"
        self.binary = False
        self.submodule = False
        self.added: list[int] = []
        self.removed: list[int] = []
        self.hunks: list[tuple[int, int]] = []


def _file_diff(lines: list[str], start: int, stop: int) -> FileDiff:
    found = _Builder()
    header_old, header_new = _header_paths(lines[start][len("diff --git ") :])
    index = start + 1
    while index < stop:
        line = lines[index]
        index += 1
        if line.startswith("@@"):
            index = _read_hunk(lines, index - 1, stop, found)
        elif line.startswith("--- "):
            found.old_path = _side_path(line[4:], "a/")
        elif line.startswith("+++ "):
            found.new_path = _side_path(line[4:], "b/")
        elif line.startswith(("new file mode ", "deleted file mode ", "index ")):
            if line.startswith("new file mode "):
                found.status = "added"
            elif line.startswith("deleted file mode "):
                found.status = "deleted"
            found.submodule |= line.endswith(" " + _SUBMODULE_MODE)
        elif line.startswith(("rename from ", "copy from ")):
            verb, _, path = line.partition(" from ")
            found.status = "renamed" if verb == "rename" else "copied"
            found.old_path = _unquote(path)
        elif line.startswith(("rename to ", "copy to ")):
            found.new_path = _unquote(line.partition(" to ")[2])
        elif line.startswith(("Binary files ", "GIT binary patch")):
            found.binary = True
    if found.status == "added":
        found.old_path = None
    elif found.old_path is None:
        found.old_path = header_old
    if found.status == "deleted":
        found.new_path = None
    elif found.new_path is None:
        found.new_path = header_new
    return FileDiff(
        old_path=found.old_path,
        new_path=found.new_path,
        status=found.status,
        binary=found.binary,
        submodule=found.submodule,
        added=() if found.submodule else _ranges(found.added),
        removed=() if found.submodule else _ranges(found.removed),
        hunks=() if found.submodule else tuple(found.hunks),
    )


def parse_patch(patch: str, *, old_path: str | None, new_path: str | None, status: str) -> FileDiff:
    """A file's diff from the hunks alone, as GitHub's pull-request files API gives them."""
    found = _Builder()
    lines = patch.split("\n")
    index = 0
    while index < len(lines):
        if lines[index].startswith("@@"):
            index = _read_hunk(lines, index, len(lines), found)
        else:
            index += 1
    return FileDiff(
        old_path=None if status == "added" else old_path,
        new_path=None if status in ("deleted", "removed") else new_path,
        status="deleted" if status == "removed" else status,
        submodule=found.submodule,
        added=() if found.submodule else _ranges(found.added),
        removed=() if found.submodule else _ranges(found.removed),
        hunks=() if found.submodule else tuple(found.hunks),
    )


def _read_hunk(lines: list[str], index: int, stop: int, found: _Builder) -> int:
    """Read the hunk whose header is ``lines[index]``; return the index of the line after it."""
    match = _HUNK.match(lines[index])
    index += 1
    if match is None:
        return index  # a combined diff's @@@ or garbage: nothing we can place
    old_line, old_left = int(match[1]), int(match[2] or "1")
    new_line, new_left = int(match[3]), int(match[4] or "1")
    if new_left:
        found.hunks.append((new_line, new_line + new_left - 1))
    while index < stop and (old_left > 0 or new_left > 0):
        line = lines[index]
        index += 1
        marker = line[:1]
        if marker == "+":
            found.added.append(new_line)
            new_line += 1
            new_left -= 1
            found.submodule |= line.startswith("+Subproject commit ")
        elif marker == "-":
            found.removed.append(old_line)
            old_line += 1
            old_left -= 1
            found.submodule |= line.startswith("-Subproject commit ")
        elif marker == " " or line == "":  # context; some tools strip a blank line's space
            old_line += 1
            new_line += 1
            old_left -= 1
            new_left -= 1
        # "\ No newline at end of file" belongs to the line before it and counts for nothing
    return index


def _ranges(numbers: list[int]) -> Ranges:
    """Sorted line numbers as inclusive ranges of consecutive lines."""
    ranges: list[tuple[int, int]] = []
    for number in numbers:
        if ranges and ranges[-1][1] + 1 == number:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    return tuple(ranges)


def _side_path(raw: str, prefix: str) -> str | None:
    """The path of a ``---``/``+++`` line: None for /dev/null, else unquoted, prefix dropped."""
    raw = raw.rstrip("\t")  # git ends the line with a tab when the path holds a space
    if raw == "/dev/null":
        return None
    path = _unquote(raw)
    return path[len(prefix) :] if path.startswith(prefix) else path


def _header_paths(rest: str) -> tuple[str | None, str | None]:
    """The two paths of a ``diff --git`` line, which are ambiguous when unquoted with spaces.

    Used only when no ``---``/``+++`` or rename lines name the file (binary files, mode
    changes, empty files); then both sides are the same path, so a/P b/P splits in the middle.
    """
    if rest.startswith('"'):
        old, remainder = _split_quoted(rest)
        new = _unquote(remainder.lstrip(" "))
    elif rest.endswith('"') and ' "' in rest:
        quote = rest.index(' "')
        old, new = rest[:quote], _unquote(rest[quote + 1 :])
    else:
        middle = len(rest) // 2
        if rest[middle : middle + 1] == " " and rest[2:middle] == rest[middle + 3 :]:
            old, new = rest[:middle], rest[middle + 1 :]
        else:
            old, _, new = rest.partition(" b/")
            new = "b/" + new
    return _strip(old, "a/"), _strip(new, "b/")


def _strip(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _split_quoted(text: str) -> tuple[str, str]:
    """A leading C-quoted string, unquoted, and the text after it."""
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return _unquote(text[: index + 1]), text[index + 1 :]
        index += 1
    return _unquote(text), ""


def _unquote(path: str) -> str:
    """Undo git's C-quoting ("a\\tb", octal escapes for bytes of non-ASCII UTF-8)."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    return bytes(_unescape(path[1:-1])).decode("utf-8", "replace")


def _unescape(body: str) -> Iterator[int]:
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 == len(body):
            yield from char.encode("utf-8")
            index += 1
            continue
        escaped = body[index + 1]
        octal = body[index + 1 : index + 4]
        if len(octal) == 3 and all(digit in "01234567" for digit in octal):
            yield int(octal, 8) & 0xFF
            index += 4
        else:
            yield _ESCAPES.get(escaped, ord(escaped) & 0xFF)
            index += 2
