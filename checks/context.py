"""What a check gets: the change under review, and ports onto the index and the config.

A check never calls GitHub or the database: the app fills these in and the check returns
findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from analyzers.adr import DecisionInputs
from analyzers.diff import FileDiff
from analyzers.imports import Resolved
from analyzers.units import CodeUnit
from checks.config import CairnConfig
from checks.finding import Finding
from checks.fix import FixInputs


@dataclass(frozen=True, slots=True)
class LocatedUnit:
    """A code unit and the path of the file it lives in."""

    path: str
    unit: CodeUnit
    token_count: int = -1  # when the unit was read without its tokens; else unit.token_count

    @property
    def tokens(self) -> int:
        """The unit's length in normalised tokens."""
        return self.token_count if self.token_count >= 0 else self.unit.token_count


@dataclass(frozen=True, slots=True)
class ChangedUnit:
    """A unit the change adds or modifies, at head, with its own previous version at base."""

    path: str
    unit: CodeUnit
    previous: CodeUnit | None = None  # same file (or rename source) and qualname at base


@dataclass(frozen=True, slots=True)
class Change:
    """A diff from base to head, and the units it adds or modifies."""

    base_sha: str
    head_sha: str
    files: tuple[FileDiff, ...] = ()
    units: tuple[ChangedUnit, ...] = ()
    _by_old_path: dict[str, FileDiff] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for diff in self.files:
            if diff.old_path is not None:
                self._by_old_path[diff.old_path] = diff

    def rewrites(self, path: str, start_line: int, end_line: int) -> bool:
        """Whether the change deletes, moves or edits these lines of the base revision."""
        diff = self._by_old_path.get(path)
        if diff is None:
            return False
        if diff.status == "deleted" or diff.status == "renamed":
            return True
        return any(lo <= end_line and start_line <= hi for lo, hi in diff.removed)


@dataclass(frozen=True, slots=True)
class Declaration:
    """A function, method or class of the indexed tree, whatever its size, with its traits."""

    path: str
    kind: str  # "function" | "method" | "class"
    name: str
    qualname: str
    line: int
    traits: tuple[str, ...] = ()  # "decorator:app.route", "base:BaseHandler"


@dataclass(frozen=True, slots=True)
class Codebase:
    """The repository at base as mined conventions read it (checks.conventions)."""

    files: tuple[str, ...] = ()  # parsed source files of the indexed tree
    imports: tuple[Resolved, ...] = ()  # its resolved import graph
    declarations: tuple[Declaration, ...] = ()


class IndexPort(Protocol):
    """The repository's index at base, as a check sees it."""

    def candidates(self, unit: CodeUnit) -> Sequence[LocatedUnit]:
        """Units at base that may duplicate ``unit`` (unverified, best first)."""
        ...


class HeadFiles(Protocol):
    """The files the change adds or modifies, at head: their source and resolved imports."""

    def source_of(self, path: str) -> bytes | None: ...

    def imports_of(self, path: str) -> Sequence[Resolved]: ...


class NoHeadFiles:
    """No files read at head (a context built without them)."""

    def source_of(self, path: str) -> bytes | None:
        return None

    def imports_of(self, path: str) -> Sequence[Resolved]:
        return ()


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything a check may consult besides the change."""

    index: IndexPort
    config: CairnConfig
    head: HeadFiles = field(default_factory=NoHeadFiles)  # changed files at head, imports
    decisions: DecisionInputs = field(default_factory=DecisionInputs)  # ADRs at base, additions
    codebase: Codebase = field(default_factory=Codebase)  # base, for mined conventions
    fixes: FixInputs = field(default_factory=FixInputs)  # base files the fixes read


class Check(Protocol):
    """A check turns a change into findings; it never raises for a violation."""

    name: ClassVar[str]

    def run(self, change: Change, ctx: CheckContext) -> list[Finding]: ...
