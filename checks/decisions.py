"""The decisions check: what a change adds against the accepted decision records at base.

Explicit constraints (a ``cairn:`` block) fail the run by default (severity error); those
derived from the decision's prose are warnings. The decision log's own problems and the
decisions lexically related to the change are notices: informational, never failing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import ClassVar

from analyzers.additions import Added, additions
from analyzers.adr import Adr, Constraint, DecisionInputs
from analyzers.languages import language_for_path
from checks.context import Change, CheckContext
from checks.finding import Evidence, Finding, Severity, fingerprint

MAX_QUOTE = 240
KIND_NAMES = {"import": "imports", "dependency": "dependencies", "command": "commands"}


class DecisionsCheck:
    """Flags additions that an accepted, unsuperseded decision forbids."""

    name: ClassVar[str] = "decisions"

    def run(self, change: Change, ctx: CheckContext) -> list[Finding]:
        inputs = ctx.decisions
        findings: list[Finding] = []
        added = [
            (f.path, f.lines, a) for f in inputs.added for a in additions(f.path, f.lines, f.text)
        ]
        for adr in inputs.log.binding:
            for c in adr.constraints:
                findings.extend(_violations(adr, c, inputs, added))
        findings.extend(_hygiene(inputs))
        findings.extend(_log_notes(inputs))
        return _unique(findings)


def _violations(
    adr: Adr,
    c: Constraint,
    inputs: DecisionInputs,
    added: list[tuple[str, tuple[tuple[int, str], ...], Added]],
) -> Iterable[Finding]:
    if c.kind == "regex" or c.kind == "call":
        pattern = re.compile(
            c.value if c.kind == "regex" else rf"(?<![\w.]){re.escape(c.value)}\s*\("
        )
        for f in inputs.added:
            if not _applies(c, f.path):
                continue
            for number, text in f.lines:
                if c.kind == "call" and text.lstrip().startswith(("#", "//")):
                    continue
                if pattern.search(text):
                    yield _finding(adr, c, f.path, number, c.value, "code")
        return
    for path, _, a in added:
        if not _applies(c, path) or not _kind_matches(c, a) or not _names(c.value, a):
            continue
        yield _finding(adr, c, path, a.line, a.name, a.where)


def _kind_matches(c: Constraint, a: Added) -> bool:
    return c.kind == "any" or c.kind == a.kind


def _names(value: str, a: Added) -> bool:
    """Whether ``a`` is ``value`` or inside it (``requests.adapters``, ``lodash/fp``)."""
    if a.kind == "command":
        # Exact case: prose says "Python 2" or "Docker" for the thing, `python` for the command.
        return a.name == value
    want = value.lower()
    got = a.name.lower()
    if got == want:
        return True
    if a.kind == "import":
        return got.startswith((want + ".", want + "/", want + "::"))
    return a.kind == "dependency" and got.endswith(":" + want)


def _applies(c: Constraint, path: str) -> bool:
    if c.scope and not any(fnmatch.fnmatchcase(path, g) for g in c.scope):
        return False
    if c.language:
        language = language_for_path(path)
        return language is not None and language.name == c.language.lower()
    return True


def _finding(adr: Adr, c: Constraint, path: str, line: int, name: str, where: str) -> Finding:
    accepted = f"accepted {adr.date}" if adr.date else "accepted"
    quote = c.message or c.sentence or adr.decision or adr.title
    quote = " ".join(quote.split())
    if len(quote) > MAX_QUOTE:
        quote = quote[: MAX_QUOTE - 1] + "…"
    instead = f" (use `{c.prefer}` instead)" if c.prefer else ""
    message = (
        f"This adds `{name}` ({where}), but {adr.label} '{adr.title}' ({accepted}) "
        f"decided: «{quote}»{instead}. Supersede the ADR or follow it."
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
        ),
        fingerprint=fingerprint("decisions", adr.path, c.kind, c.value, path, name),
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


def _log_notes(inputs: DecisionInputs) -> Iterable[Finding]:
    """The log's problems and the related decisions, as notices on the ADRs themselves."""
    by_path = {a.path: a for a in inputs.log.records}
    first = inputs.log.records[0].path if inputs.log.records else ".cairn.yml"
    for problem in inputs.log.problems:
        named = problem.split(":", 1)[0]
        path = named if named in by_path else first
        yield Finding(
            check="decisions",
            rule="log",
            path=path,
            start_line=1,
            end_line=1,
            message=f"Decision log: {problem}",
            severity=Severity.NOTICE,
            fingerprint=fingerprint("decisions", "log", problem),
        )
    for path in inputs.relevant:
        adr = by_path.get(path)
        if adr is None:
            continue
        yield Finding(
            check="decisions",
            rule="relevant",
            path=adr.path,
            start_line=1,
            end_line=1,
            message=(
                f"Decision relevant to this change: {adr.label} '{adr.title}' "
                f"({adr.status or 'no status'})."
            ),
            severity=Severity.NOTICE,
            fingerprint=fingerprint("decisions", "relevant", adr.path),
        )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    out = []
    for f in findings:
        if f.fingerprint not in seen:
            seen.add(f.fingerprint)
            out.append(f)
    return out
