"""The decisions check: what a change adds against the accepted decision records at base.

Explicit constraints (a ``cairn:`` block) fail the run by default (severity error); those
derived from the decision's prose are warnings. Each finding links the ADR and the commits or
pull requests that made or changed it. The decision log's own problems and the decisions
lexically related to the change are no findings: :func:`decision_notes` gives them to the
check run's summary (and the CLI's report), informational, never failing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzers.additions import Added, additions, owners
from analyzers.adr import Adr, Constraint, DecisionInputs
from analyzers.catalog import Catalog, catalog
from analyzers.constructs import query_lines
from analyzers.languages import language_for_path, language_named
from analyzers.rulebounds import RuleError, compile_regex
from checks.context import Change, CheckContext, HeadFiles
from checks.finding import Evidence, Finding, Severity, fingerprint

MAX_QUOTE = 240
KIND_NAMES = {"import": "imports", "dependency": "dependencies", "command": "commands"}
MAX_HISTORY = 3  # commits or pull requests linked from one finding


@dataclass(frozen=True, slots=True)
class RelevantDecision:
    """A decision lexically related to a change: listed in the summary, never a finding."""

    path: str
    label: str
    title: str
    status: str
    date: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "title": self.title,
            "status": self.status,
            "date": self.date,
        }


@dataclass(frozen=True, slots=True)
class DecisionNotes:
    """What the decisions check says besides its findings: related decisions, log problems."""

    relevant: tuple[RelevantDecision, ...] = ()
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "relevant": [r.to_json() for r in self.relevant],
            "problems": list(self.problems),
        }


NO_NOTES = DecisionNotes()


def decision_notes(inputs: DecisionInputs) -> DecisionNotes:
    """The decisions related to the change and the log's problems (those of ADRs the change
    adds or edits included), for the check run's summary."""
    by_path = {a.path: a for a in inputs.log.records}
    relevant = tuple(
        RelevantDecision(a.path, a.label, a.title, a.status or "no status", a.date)
        for a in (by_path.get(p) for p in inputs.relevant)
        if a is not None
    )
    problems = list(inputs.log.problems)
    problems += [f"in this change: {p}" for a in inputs.head for p in a.problems]
    return DecisionNotes(relevant=relevant, problems=tuple(dict.fromkeys(problems)))


class DecisionsCheck:
    """Flags additions that an accepted, unsuperseded decision forbids."""

    name: ClassVar[str] = "decisions"

    def run(self, change: Change, ctx: CheckContext) -> list[Finding]:
        inputs = ctx.decisions
        findings: list[Finding] = []
        added = [
            (f.path, f.lines, a)
            for f in inputs.added
            for a in additions(f.path, f.lines, f.text, new=f.new)
        ]
        ranked: list[tuple[tuple[int, int], str, Finding]] = []
        for adr in inputs.log.binding:
            for c in adr.constraints:
                rank = _rank(adr, c)
                ranked += [(rank, w, f) for w, f in _violations(adr, c, inputs, added, ctx.head)]
        findings.extend(_strongest(ranked))
        findings.extend(_hygiene(inputs))
        return _unique(findings)


_ORIGIN_RANK = {"": 1, "evidence": 1, "weighed": 2, "sibling": 3}


def _rank(adr: Adr, c: Constraint) -> tuple[int, int]:
    """How directly a record decides about what a constraint forbids (lower: more directly):
    a ``cairn:`` block, then what the record states or its own change removed, then an option
    it passed over, then an alternative of what it chose; among equals, the record whose title
    names the forbidden or the preferred thing."""
    origin = 0 if c.explicit else _ORIGIN_RANK.get(c.origin, 1)
    title = adr.title.lower()
    named = any(v and v.lower() in title for v in (c.value, c.prefer))
    return origin, 0 if named else 1


def _strongest(ranked: list[tuple[tuple[int, int], str, Finding]]) -> list[Finding]:
    """One offending line, one decision: where several records forbid the same addition, the
    findings of the records that decide it most directly (every one of those, in log order)."""
    best: dict[tuple[str, int, str], tuple[int, int]] = {}
    for rank, what, f in ranked:
        key = (f.path, f.start_line, what)
        best[key] = min(best.get(key, rank), rank)
    return [f for rank, what, f in ranked if rank == best[(f.path, f.start_line, what)]]


def _violations(
    adr: Adr,
    c: Constraint,
    inputs: DecisionInputs,
    added: list[tuple[str, tuple[tuple[int, str], ...], Added]],
    head: HeadFiles,
) -> Iterable[tuple[str, Finding]]:
    """Each addition ``c`` forbids: what was added (its identity on the line), its finding."""
    if c.kind == "query":
        for f in inputs.added:
            source = head.source_of(f.path) if _applies(c, f.path) else None
            if source is None:
                continue
            numbers = {number for number, _ in f.lines}
            for line in query_lines(language_named(c.language), c.value, f.path, source):
                if line in numbers:
                    what = f"query:{c.value}"
                    yield (
                        what,
                        _finding(adr, c, f.path, line, "a match of its query", "code", inputs),
                    )
        return
    if c.kind == "regex" or c.kind == "call":
        try:  # on RE2: linear in the line, whatever the ADR's pattern (analyzers.rulebounds)
            pattern = compile_regex(
                c.value if c.kind == "regex" else rf"(?:^|[^\w.]){re.escape(c.value)}\s*\("
            )
        except RuleError:  # reported with the ADR when it was read
            return
        for f in inputs.added:
            if not _applies(c, f.path):
                continue
            for number, text in f.lines:
                if c.kind == "call" and text.lstrip().startswith(("#", "//")):
                    continue
                if pattern.search(text):
                    what = f"{c.kind}:{c.value}"
                    yield what, _finding(adr, c, f.path, number, c.value, "code", inputs)
        return
    texts = {f.path: dict(f.lines) for f in inputs.added}
    seen: dict[tuple[str, str, str], int] = {}
    for path, _, a in added:
        if not _applies(c, path) or not _kind_matches(c, a) or not matches(c, a, catalog()):
            continue
        text = " ".join(texts[path].get(a.line, "").split())
        n = seen[(path, a.name, text)] = seen.get((path, a.name, text), 0) + 1
        where = f"{text}#{n}" if n > 1 else text  # the same line twice is two findings
        yield f"{a.kind}:{a.name}", _finding(adr, c, path, a.line, a.name, a.where, inputs, where)


def _kind_matches(c: Constraint, a: Added) -> bool:
    return c.kind == "any" or c.kind == a.kind


def matches(c: Constraint, a: Added, cat: Catalog) -> bool:
    """Whether ``a`` is what ``c`` forbids: literally, or as something of its technology."""
    if (not c.technology or " " not in c.value) and a.kind in _LITERAL and _names(c.value, a):
        return not (owners(a, cat) & set(c.allow))
    if not c.technology:
        return False
    found = owners(a, cat)
    forbidden = {t for t in cat.expand(c.technology) if t not in c.allow}
    return bool(found & forbidden) and not (found & set(c.allow))


_LITERAL = ("import", "dependency", "command")


def _names(value: str, a: Added) -> bool:
    """Whether ``a`` is ``value`` or inside it (``requests.adapters``, ``lodash/fp``)."""
    if a.kind == "command":
        # Exact case: prose says "Python 2" or "Docker" for the thing, `python` for the command.
        return a.name == value
    want = value.lower()
    got = a.name.lower()
    if got == want:
        return True
    if a.kind == "import" and got.startswith((want + ".", want + "/", want + "::")):
        return True
    if a.kind == "dependency" and got.endswith(":" + want):
        return True
    # A Go-style module path (its first element a host) named by its last elements in prose:
    # "logrus" is github.com/sirupsen/logrus, "zap" go.uber.org/zap. Relative and aliased
    # paths (./fetch, @/lib/fetch) are the repository's own modules, never this.
    host = got.split("/", 1)[0]
    if "/" in got and "." in host and not host.startswith((".", "@")):
        return got.endswith("/" + want) or ("/" + want + "/") in got
    return False


def _applies(c: Constraint, path: str) -> bool:
    if c.scope and not any(fnmatch.fnmatchcase(path, g) for g in c.scope):
        return False
    if c.language:
        language = language_for_path(path)
        return language is not None and language.name == c.language.lower()
    return True


def _finding(
    adr: Adr,
    c: Constraint,
    path: str,
    line: int,
    name: str,
    where: str,
    inputs: DecisionInputs,
    text: str = "",
) -> Finding:
    accepted = f"accepted {adr.date}" if adr.date else "accepted"
    quote = c.message or c.sentence or adr.decision or adr.title
    quote = " ".join(quote.split())
    if len(quote) > MAX_QUOTE:
        quote = quote[: MAX_QUOTE - 1] + "…"
    instead = f" (use `{c.prefer}` instead)" if c.prefer else ""
    what = name if name.startswith("a match") else f"`{name}`"
    if where == "file":
        what, where = f"`{name}`", "a configuration file of " + _named(c)
    elif where in ("image", "service"):
        where = f"container {where}"
    said = f"decided: «{quote}»" + {
        "weighed": f" (passing over {_named(c)})",
        "sibling": f" (choosing `{c.prefer}` for this)",
        "evidence": f" (its own change removed `{c.value}`)",
    }.get(c.origin, "")
    if c.origin == "sibling":
        instead = ""
    message = (
        f"This adds {what} ({where}), but {adr.label} '{adr.title}' ({accepted}) "
        f"{said}{instead}. Supersede the ADR or follow it."
    )
    return Finding(
        check="decisions",
        rule=_rule(adr),
        path=path,
        start_line=line,
        end_line=line,
        message=message,
        severity=Severity.ERROR if c.explicit else Severity.WARNING,
        evidence=(
            Evidence(
                path=adr.path,
                start_line=c.line or 1,
                end_line=c.line or 1,
                name=adr.title,
                note=quote,
            ),
            *_history(adr, inputs),
        ),
        fingerprint=fingerprint("decisions", adr.path, c.kind, c.value, path, name, *_where(text)),
    )


def _named(c: Constraint) -> str:
    return f"`{c.value}`"


def _where(text: str) -> tuple[str, ...]:
    """What tells two offending lines of one file apart, stable when lines move: the text."""
    return (" ".join(text.split()),) if text else ()


def _history(adr: Adr, inputs: DecisionInputs) -> Iterable[Evidence]:
    """Where the decision was made or debated: the commits or pull requests that changed it.

    The name starts with the reference (``#12`` or a short sha), which the publisher links.
    """
    history = inputs.history.get(adr.path, ())
    # The change that added the record first (where it was made), then the newest others.
    made = [h for h in history if h.reason.startswith("added")][-1:]
    for h in [*made, *(h for h in history if h not in made)][:MAX_HISTORY]:
        yield Evidence(
            path="",  # a commit or pull request, not a place in the code
            start_line=0,
            end_line=0,
            name=f"{h.label} {h.title}".strip(),
            kind=h.kind,
            note=" ".join(p for p in (h.date, h.reason) if p),
        )


def _rule(adr: Adr) -> str:
    return f"adr-{adr.number:04d}" if adr.number is not None else "adr"


def _hygiene(inputs: DecisionInputs) -> Iterable[Finding]:
    """A change to the log itself: decisions are superseded, never rewritten or reversed."""
    base = {a.path: a for a in inputs.log.records}
    for new in inputs.head:
        old = base.get(new.path)
        rewritten = old is not None and _words(new.decision) != _words(old.decision)
        if old is not None and old.status == new.status == "accepted" and rewritten:
            yield _log_finding(
                new,
                "edited-decision",
                f"This edits the decision of {old.label} '{old.title}', which is accepted: "
                "write a new ADR that supersedes it instead of rewriting it.",
                _line_of(new, new.decision),
            )
        was_broken = old is not None and old.status == "superseded" and not old.superseded_by
        if new.status == "superseded" and not new.superseded_by and not was_broken:
            yield _log_finding(
                new,
                "no-successor",
                f"This marks {new.label} '{new.title}' superseded without naming its "
                'successor: add "Superseded by [ADR-N](…)".',
                _line_of(new, "superseded"),
            )
        if old is None and new.status in ("accepted", "proposed", ""):
            yield from _reversals(new, inputs)


def _reversals(new: Adr, inputs: DecisionInputs) -> Iterable[Finding]:
    superseded = {ref for ref in new.supersedes}
    wanted = {c.prefer.lower(): c for c in new.constraints if c.prefer}
    avoided = {c.value.lower(): c for c in new.constraints}
    for adr in inputs.log.binding:
        if adr.path in superseded or (adr.number is not None and f"ADR-{adr.number}" in superseded):
            continue
        for c in adr.constraints:
            hit = wanted.get(c.value.lower()) or (c.prefer and avoided.get(c.prefer.lower()))
            if not hit:
                continue
            yield _log_finding(
                new,
                "silent-reversal",
                f"This ADR reverses {adr.label} '{adr.title}' (about `{c.value}`) without "
                f'superseding it: add "Supersedes [{adr.label}]({adr.path.rsplit("/", 1)[-1]})" '
                f"and mark {adr.label} superseded.",
                hit.line or 1,
            )
            break


def _log_finding(adr: Adr, rule: str, message: str, line: int) -> Finding:
    return Finding(
        check="decisions",
        rule=rule,
        path=adr.path,
        start_line=line,
        end_line=line,
        message=message,
        severity=Severity.WARNING,
        fingerprint=fingerprint("decisions", rule, adr.path),
    )


def _words(text: str) -> list[str]:
    return text.split()


def _line_of(adr: Adr, text: str) -> int:
    first = text.strip().split("\n", 1)[0].strip().lower()
    if first:
        for n, line in enumerate(adr.body.split("\n"), start=1):
            if first in line.lower():
                return n
    return 1


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    out = []
    for f in findings:
        if f.fingerprint not in seen:
            seen.add(f.fingerprint)
            out.append(f)
    return out
