"""The patterns check: configured rules (``patterns:`` in ``.cairn.yml``) the change breaks.

Only what the change adds is judged: imports, calls and query matches on added lines of the
files it adds or modifies. Three rule kinds:

* ``layer`` — a layer imports one above it (import-linter's layers contract, every language);
* a ``forbid`` rule's id — a forbidden import, call or query match within the rule's paths;
* a ``prefer`` rule's id — ``instead_of`` imported or called where ``use`` is the convention.

And conventions (``checks.conventions_check``): mined ones (``wrapped-dependency``,
``dependency-direction``, ``naming``, ``structure``; warnings) and configured ``naming`` and
``structure`` rules (their id).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import ClassVar

from analyzers.constructs import calls, query_lines
from analyzers.diff import FileDiff
from analyzers.imports import Resolved
from analyzers.languages import language_for_path, language_named
from checks.config import CONFIG_FILE
from checks.context import Change, CheckContext
from checks.conventions_check import convention_findings
from checks.finding import Evidence, Finding, Severity, fingerprint
from checks.patterns_config import ForbidRule, PatternsConfig, PreferRule


class PatternsCheck:
    """Flags added imports and calls that break a configured rule."""

    name: ClassVar[str] = "patterns"

    def run(self, change: Change, ctx: CheckContext) -> list[Finding]:
        cfg = ctx.config.patterns
        findings = convention_findings(change, ctx)
        if not (cfg.layers or cfg.forbid or cfg.prefer):
            return findings
        for diff in change.files:
            path = diff.new_path
            if path is None or not diff.added or language_for_path(path) is None:
                continue
            added = [i for i in ctx.head.imports_of(path) if diff.touches(i.line, i.line)]
            findings.extend(_layers(cfg, path, added))
            needs_calls = any(r.calls for r in cfg.forbid) or bool(cfg.prefer)
            source = ctx.head.source_of(path)
            added_calls = (
                [(line, c) for line, c in calls(path, source) if diff.touches(line, line)]
                if source is not None and needs_calls
                else []
            )
            for rule in cfg.forbid:
                if rule.applies(path):
                    findings.extend(_forbid(rule, path, diff, added, added_calls, source))
            for prefer in cfg.prefer:
                if prefer.applies(path):
                    findings.extend(_prefer(prefer, path, added, added_calls))
        return findings


def _layers(cfg: PatternsConfig, path: str, imports: Iterable[Resolved]) -> Iterable[Finding]:
    mine = cfg.layer_of(path)
    if mine is None:
        return
    order = " > ".join(layer.name for layer in cfg.layers)
    for imp in imports:
        if imp.internal is None:
            continue
        theirs = cfg.layer_of(imp.internal)
        if theirs is None or theirs >= mine:
            continue
        low, high = cfg.layers[mine].name, cfg.layers[theirs].name
        yield Finding(
            check=PatternsCheck.name,
            rule="layer",
            path=path,
            start_line=imp.line,
            end_line=imp.line,
            message=(
                f"The {low} layer may not import the {high} layer above it "
                f"(`{imp.name}` is {imp.internal}); invert the dependency or move the code down."
            ),
            severity=Severity.ERROR,
            evidence=(
                Evidence(path=imp.internal, start_line=1, end_line=1, name=high, kind="layer"),
                Evidence(
                    path=CONFIG_FILE,
                    start_line=1,
                    end_line=1,
                    name="patterns.layers",
                    note=f"layers, highest first: {order}",
                ),
            ),
            fingerprint=fingerprint("patterns", "layer", path, imp.name),
        )


def _import_matches(pattern: str, imp: Resolved) -> bool:
    if imp.internal is not None and fnmatch.fnmatchcase(imp.internal, pattern):
        return True
    for name in (imp.name, imp.package or ""):
        if name == pattern:
            return True
        if any(name.startswith(pattern + sep) for sep in (".", "/", "::")):
            return True
    return False


def _call_matches(pattern: str, callee: str) -> bool:
    return fnmatch.fnmatchcase(callee, pattern)


def _forbid(
    rule: ForbidRule,
    path: str,
    diff: FileDiff,
    imports: list[Resolved],
    added_calls: list[tuple[int, str]],
    source: bytes | None,
) -> Iterable[Finding]:
    hits: list[tuple[int, str]] = []
    for imp in imports:
        if any(_import_matches(p, imp) for p in rule.imports):
            hits.append((imp.line, f"import of `{imp.name}`"))
    for line, callee in added_calls:
        if any(_call_matches(p, callee) for p in rule.calls):
            hits.append((line, f"call to `{callee}`"))
    if rule.query and source is not None:
        language = language_named(rule.language)
        for line in query_lines(language, rule.query, path, source):
            if diff.touches(line, line):
                hits.append((line, "match of its query"))
    for line, what in hits:
        yield Finding(
            check=PatternsCheck.name,
            rule=rule.id,
            path=path,
            start_line=line,
            end_line=line,
            message=f"{rule.message.rstrip('.')} (forbidden here by {rule.id}: {what}).",
            severity=Severity.ERROR,
            evidence=(_config_evidence(rule.location, rule.id),),
            fingerprint=fingerprint("patterns", rule.id, path, what),
        )


def _prefer(
    rule: PreferRule, path: str, imports: list[Resolved], added_calls: list[tuple[int, str]]
) -> Iterable[Finding]:
    hits: list[tuple[int, str]] = []
    for imp in imports:
        if any(_import_matches(p, imp) for p in rule.instead_of):
            hits.append((imp.line, imp.name))
    for line, callee in added_calls:
        for p in rule.instead_of:
            if any(callee.startswith(p + sep) for sep in (".", "::")) or callee == p:
                hits.append((line, callee))
    for line, what in hits:
        why = f" {rule.message.rstrip('.')}." if rule.message else ""
        yield Finding(
            check=PatternsCheck.name,
            rule=rule.id,
            path=path,
            start_line=line,
            end_line=line,
            message=f"Use `{rule.use}` instead of `{what}` here ({rule.id}).{why}",
            severity=Severity.WARNING,
            evidence=(_config_evidence(rule.location, rule.id),),
            fingerprint=fingerprint("patterns", rule.id, path, what),
        )


def _config_evidence(location: str, rule_id: str) -> Evidence:
    return Evidence(path=CONFIG_FILE, start_line=1, end_line=1, name=location, note=rule_id)
