"""What a decision log is made of: records, the constraints they set, their history.

Plain data shared by the reader (:mod:`analyzers.adr`), the explicit ``cairn:`` blocks
(:mod:`analyzers.adr_explicit`) and the timeline (:mod:`analyzers.adr_timeline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analyzers.adr_prose import Mention


@dataclass(frozen=True, slots=True)
class Constraint:
    """A rule a decision sets: ``forbid`` a thing (optionally naming what to ``prefer``)."""

    kind: str  # "import" | "call" | "dependency" | "command" | "regex" | "any"
    value: str  # the forbidden module, package, call, command or pattern
    message: str = ""
    prefer: str = ""  # what to use instead, when the decision says
    language: str = ""  # only for files of this language, when set
    scope: tuple[str, ...] = ()  # path globs; empty: everywhere
    explicit: bool = False
    sentence: str = ""  # the decision's own words
    line: int = 0  # of the sentence in the ADR
    technology: str = ""  # the catalog's technology: whatever a change can add for it counts
    allow: tuple[str, ...] = ()  # technologies the record chose: never forbidden by it
    origin: str = ""  # stated | weighed (an option passed over) | sibling | evidence | explicit
    new_code: bool = False  # "in new code": existing uses are expected, never stale

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "message": self.message,
            "prefer": self.prefer,
            "language": self.language,
            "scope": list(self.scope),
            "explicit": self.explicit,
            "sentence": self.sentence,
            "line": self.line,
            "technology": self.technology,
            "allow": list(self.allow),
            "origin": self.origin,
            "new_code": self.new_code,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Constraint:
        return cls(
            kind=str(raw["kind"]),
            value=str(raw["value"]),
            message=str(raw.get("message", "")),
            prefer=str(raw.get("prefer", "")),
            language=str(raw.get("language", "")),
            scope=tuple(raw.get("scope", ())),
            explicit=bool(raw.get("explicit", False)),
            sentence=str(raw.get("sentence", "")),
            line=int(raw.get("line", 0)),
            technology=str(raw.get("technology", "")),
            allow=tuple(raw.get("allow", ())),
            origin=str(raw.get("origin", "")),
            new_code=bool(raw.get("new_code", False)),
        )


@dataclass(frozen=True, slots=True)
class Adr:
    """One decision record as written (its status is what the file says)."""

    path: str
    number: int | None
    title: str
    status: str  # one of STATUSES, or "" when the record has none
    date: str = ""
    decision: str = ""  # the decision's text (Decision / Decision Outcome)
    body: str = ""
    supersedes: tuple[str, ...] = ()  # link targets (paths) or "ADR-n"
    superseded_by: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    problems: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()  # what the prose chose, rejected and removed
    stated_status: str = ""  # the status as written, when Cairn reads it differently

    @property
    def label(self) -> str:
        return f"ADR-{self.number:04d}" if self.number is not None else self.path

    @property
    def explicit(self) -> bool:
        """Whether a ``cairn:`` block states its rules (then the prose sets none)."""
        return any(c.explicit for c in self.constraints)


@dataclass(frozen=True, slots=True)
class DecisionLog:
    """The records of a repository and what binds: accepted and superseded by nothing."""

    records: tuple[Adr, ...] = ()
    binding: tuple[Adr, ...] = ()
    problems: tuple[str, ...] = ()
    stale: tuple[tuple[Adr, Constraint, str], ...] = ()  # (record, rule, why): not enforced


@dataclass(frozen=True, slots=True)
class AddedFile:
    """The lines a change adds to one file, at head: (line number, text)."""

    path: str
    lines: tuple[tuple[int, str], ...]
    text: str = ""  # the whole file at head, for manifests that need context
    new: bool = False  # the change adds the file


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A commit or merged pull request that added or changed a file: where it was decided."""

    kind: str  # "commit" | "pull-request"
    ref: str  # the full commit sha, or the pull request's number
    title: str  # the commit's subject or the pull request's title
    date: str = ""  # YYYY-MM-DD
    reason: str = ""  # why it is listed ("added docs/adr/0004-npm.md", "touched lines 3-9")

    @property
    def label(self) -> str:
        return f"#{self.ref}" if self.kind == "pull-request" else self.ref[:10]

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "date": self.date,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """What the decisions check gets: the log at base, the added lines, the relevant ADRs."""

    log: DecisionLog = field(default_factory=DecisionLog)
    added: tuple[AddedFile, ...] = ()
    relevant: tuple[str, ...] = ()  # paths of ADRs lexically related to the change
    head: tuple[Adr, ...] = ()  # ADR files the change adds or edits, parsed at head
    # per ADR path, the commits or pull requests that added or changed it, newest first
    history: Mapping[str, tuple[HistoryEntry, ...]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Finding the log
