"""Findings of the patterns check for conventions: mined ones, and configured naming/structure.

Only what the change adds is judged: imports on added lines, files it adds, units it adds
(a unit whose previous version exists is an edit, not an addition). Code the change moves
is not judged: an import whose package (or file) the change removes elsewhere, a unit whose
name and kind the change removes elsewhere, a renamed file. Tests and ``conventions.exclude``
are not judged (``conventions.kept``); neither is the wrapper module itself.

A mined rule that a configured rule already states (``cairn rules --write`` wrote it, or the
team did) is dropped, so a violation is reported once, by the configured rule.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from analyzers.imports import Resolved
from analyzers.languages import language_for_path
from analyzers.traits import BASE
from checks.context import Change, ChangedUnit, CheckContext, Codebase, Declaration
from checks.conventions import (
    DIRECTION,
    NAMING,
    STRUCTURE,
    WRAPPED,
    Convention,
    component,
    describe_trait,
    kept,
    mine,
    naming_kind,
    source_root,
    unit_traits,
)
from checks.finding import Evidence, Finding, Severity, fingerprint
from checks.names import file_stem, styles_of
from checks.patterns_config import PatternsConfig, matches

CHECK = "patterns"


def rules_in_force(codebase: Codebase, cfg: PatternsConfig) -> list[Convention]:
    """Mined conventions no configured rule states, then the configured naming/structure."""
    mined = [r for r in mine(codebase, cfg.conventions) if not covered(r, cfg)]
    configured = [
        Convention(
            kind=NAMING,
            id=n.id,
            description=f"{n.kind} names in `{n.directory or '.'}` are {n.style}",
            count=0,
            directory=n.directory,
            language=n.language,
            unit_kind=n.kind,
            style=n.style,
            configured=n.location,
        )
        for n in cfg.naming
    ] + [
        Convention(
            kind=STRUCTURE,
            id=s.id,
            description=f"every {s.kind} in `{s.directory or '.'}` {describe_trait(s.trait)}",
            count=0,
            directory=s.directory,
            language=s.language,
            unit_kind=s.kind,
            trait=s.trait,
            configured=s.location,
        )
        for s in cfg.structure
    ]
    return mined + configured


def covered(rule: Convention, cfg: PatternsConfig) -> bool:
    """Whether a configured rule already says what the mined ``rule`` says."""
    ids = {r.id for r in cfg.forbid} | {r.id for r in cfg.prefer}
    ids |= {r.id for r in cfg.naming} | {r.id for r in cfg.structure}
    if rule.id in ids:
        return True
    if rule.kind == WRAPPED:
        return any(rule.package in p.instead_of for p in cfg.prefer) or any(
            rule.package in f.imports for f in cfg.forbid
        )
    if rule.kind == DIRECTION:
        inside, other = f"{rule.target}/x", f"{rule.source}/x"
        if cfg.layer_of(inside) is not None and cfg.layer_of(other) is not None:
            return True  # the layers decide between these two
        return any(f.applies(inside) and matches(other, f.imports) for f in cfg.forbid)
    same = cfg.naming if rule.kind == NAMING else cfg.structure
    return any(
        r.directory == rule.directory
        and r.kind == rule.unit_kind
        and r.language in ("", rule.language)
        for r in same
    )


def convention_findings(change: Change, ctx: CheckContext) -> list[Finding]:
    """Added imports, files and units that break a convention in force."""
    cfg = ctx.config.patterns
    rules = rules_in_force(ctx.codebase, cfg)
    if not rules:
        return []
    keep = kept(cfg.conventions)
    judge = _Judge(change, ctx.codebase, rules)
    findings: list[Finding] = []
    for diff in change.files:
        path = diff.new_path
        if path is None or not diff.added or language_for_path(path) is None or not keep(path):
            continue
        added = [i for i in ctx.head.imports_of(path) if diff.touches(i.line, i.line)]
        findings.extend(judge.imports(path, added))
        if diff.status == "added":
            findings.extend(judge.new_file(path))
    for cu in change.units:
        if cu.previous is None and keep(cu.path):
            findings.extend(judge.new_unit(cu))
    return findings


class _Judge:
    def __init__(self, change: Change, codebase: Codebase, rules: Sequence[Convention]) -> None:
        self.wrapped = {r.package: r for r in rules if r.kind == WRAPPED}
        self.direction = {(r.target, r.source): r for r in rules if r.kind == DIRECTION}
        self.naming = [r for r in rules if r.kind == NAMING]
        self.structure = [r for r in rules if r.kind == STRUCTURE]
        self.root = source_root(codebase.files) if self.direction else ""
        touched = {d.old_path for d in change.files if d.old_path is not None}
        # What the change removes elsewhere: moved code is not new code.
        self.removed_imports = {
            i.package or i.internal or ""
            for i in codebase.imports
            if i.path in touched and change.rewrites(i.path, i.line, i.line)
        }
        self.removed_units = {
            (d.kind, d.name)
            for d in codebase.declarations
            if d.path in touched and change.rewrites(d.path, d.line, d.line)
        }

    def imports(self, path: str, added: Iterable[Resolved]) -> Iterable[Finding]:
        mine = component(path, self.root) if self.direction else None
        for imp in added:
            if imp.internal is None and imp.package in self.wrapped:
                rule = self.wrapped[imp.package]
                if path != rule.wrapper and imp.package not in self.removed_imports:
                    yield _finding(
                        rule,
                        path,
                        imp.line,
                        f"Use `{rule.wrapper}` (used by {rule.count} files) rather than "
                        f"importing `{imp.package}` directly: it is the only module that does.",
                        subject=imp.package,
                    )
            if imp.internal is not None and mine is not None:
                theirs = component(imp.internal, self.root)
                cycle = self.direction.get((mine, theirs)) if theirs is not None else None
                if cycle is not None and imp.internal not in self.removed_imports:
                    yield _finding(
                        cycle,
                        path,
                        imp.line,
                        f"`{mine}` never imports `{theirs}`, which imports it {cycle.count} times: "
                        f"importing `{imp.name}` here makes the two a cycle; move the code or "
                        f"invert the dependency.",
                        subject=f"{imp.name}",
                    )

    def new_file(self, path: str) -> Iterable[Finding]:
        language = _language(path)
        stem = file_stem(path)
        for rule in self._applying(self.naming, path, language, "file"):
            found = styles_of(stem, language)
            if found is not None and rule.style not in found:
                yield _finding(
                    rule,
                    path,
                    1,
                    f"The file name `{posixpath.basename(path)}` is not {rule.style}, as "
                    f"{_evidence(rule)}; rename it.",
                    subject=path,
                )

    def new_unit(self, cu: ChangedUnit) -> Iterable[Finding]:
        unit = cu.unit
        if (unit.kind, unit.name) in self.removed_units:
            return
        language = _language(cu.path)
        declared = Declaration(
            cu.path, unit.kind, unit.name, unit.qualname, unit.start_line, unit.traits
        )
        kind = naming_kind(declared)
        if kind is not None:
            for rule in self._applying(self.naming, cu.path, language, kind):
                found = styles_of(unit.name, language)
                if found is not None and rule.style not in found:
                    yield _finding(
                        rule,
                        cu.path,
                        unit.start_line,
                        f"`{unit.name}` is not {rule.style}, as {_evidence(rule)}; rename it.",
                        subject=unit.qualname,
                    )
        if unit.kind in ("class", "function") and "." not in unit.qualname:
            for rule in self._applying(self.structure, cu.path, language, unit.kind):
                has = unit_traits(unit.name, unit.traits)
                bare = rule.trait[len(BASE) :].rsplit(".", 1)[-1]
                exempt = rule.trait.startswith(BASE) and unit.name == bare  # the base itself
                if rule.trait not in has and not exempt:
                    yield _finding(
                        rule,
                        cu.path,
                        unit.start_line,
                        f"`{unit.name}` does not follow the convention that {_evidence(rule)}.",
                        subject=unit.qualname,
                    )

    @staticmethod
    def _applying(
        rules: Sequence[Convention], path: str, language: str, kind: str
    ) -> Iterable[Convention]:
        directory = posixpath.dirname(path)
        for rule in rules:
            if (
                rule.directory == directory
                and rule.unit_kind == kind
                and rule.language in ("", language)
            ):
                yield rule


def _evidence(rule: Convention) -> str:
    if rule.configured:
        return f"{rule.description} ({rule.id} in .cairn.yml)"
    return rule.description


def _language(path: str) -> str:
    language = language_for_path(path)
    return language.name if language is not None else ""


def _finding(rule: Convention, path: str, line: int, message: str, *, subject: str) -> Finding:
    rule_id = rule.id if rule.configured else rule.kind
    evidence = tuple(
        Evidence(path=e.path, start_line=e.line, end_line=e.line, name=rule.id, kind=rule.kind)
        for e in rule.examples
    )
    if rule.configured:
        evidence = (
            Evidence(
                path=".cairn.yml", start_line=1, end_line=1, name=rule.configured, note=rule.id
            ),
        )
    return Finding(
        check=CHECK,
        rule=rule_id,
        path=path,
        start_line=line,
        end_line=line,
        message=message,
        severity=Severity.WARNING,
        evidence=evidence,
        fingerprint=fingerprint(CHECK, rule_id, rule.id, path, subject),
    )
