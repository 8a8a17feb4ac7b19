"""Fixes for findings: built from the head files and the base, verified, or not offered.

``attach_fixes`` runs after the checks and gives a finding its ``fix`` when Cairn knows one:

* a clone of a top-level function that behaves like the original (``analyzers.shapes.
  behave_alike``: the same code but for renamed locals, comments and docstring — an exact or
  renamed copy, or a near-miss that differs only there), its parameters one-to-one with the
  original's → the copy replaced
  by an import of the original under the copy's name, or by a one-line delegating function
  when a parameter's name or default differs (Python, JavaScript/TypeScript; Go within one
  package); for Python only when the original's module does not import the copy's (no cycle);
* a ``prefer`` rule → ``checks.refactors.prefer_fix``; a naming convention →
  ``checks.refactors.rename_fix``.

Every fix is verified: each edited file, with the edits applied, must parse with no more
tree-sitter errors than before. A fix that cannot be verified is not offered.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from analyzers.shapes import Param, Shape, behave_alike, function_shape, syntax_errors
from checks.context import Change, CheckContext
from checks.conventions import NAMING, Convention
from checks.conventions_check import rules_in_force
from checks.finding import Finding
from checks.fix import Edit, EditConflict, Fix, apply_edits, edits_of
from checks.refactors import prefer_fix, rename_fix

_JS = {"javascript", "typescript", "tsx"}
_JS_EXT = re.compile(r"\.(d\.ts|tsx?|jsx?|mjs|cjs|mts|cts)$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def attach_fixes(findings: Sequence[Finding], change: Change, ctx: CheckContext) -> list[Finding]:
    """``findings``, each with the verified fix Cairn knows for it."""
    out: list[Finding] = []
    naming = _NamingRules(ctx)
    for finding in findings:
        fix = _fix_for(finding, change, ctx, naming)
        if fix is not None and verified(fix, head_or_base(change, ctx)):
            finding = replace(finding, fix=fix)
        out.append(finding)
    return out


class _NamingRules:
    """The naming conventions in force, mined once per review and only when asked."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._rules: list[Convention] | None = None

    def __call__(self) -> list[Convention]:
        if self._rules is None:
            rules = rules_in_force(self.ctx.codebase, self.ctx.config.patterns)
            self._rules = [r for r in rules if r.kind == NAMING]
        return self._rules


def _fix_for(
    finding: Finding, change: Change, ctx: CheckContext, naming: _NamingRules
) -> Fix | None:
    if finding.check == "duplication" and finding.rule == "clone":
        return clone_fix(finding, ctx, change)
    if finding.check == "patterns":
        rules = {r.id: r for r in ctx.config.patterns.prefer}
        if finding.rule in rules:
            return prefer_fix(finding, rules[finding.rule], ctx)
        if finding.rule == NAMING or finding.rule in {n.id for n in ctx.config.patterns.naming}:
            return rename_fix(finding, change, ctx, naming)
    return None


def head_or_base(change: Change, ctx: CheckContext) -> Callable[[str], bytes | None]:
    """A file at head: a changed one from the head files, an unchanged one from the base."""
    changed = {d.new_path for d in change.files} | {d.old_path for d in change.files}

    def source_of(path: str) -> bytes | None:
        if path in changed:
            return ctx.head.source_of(path)
        return ctx.fixes.base_sources.get(path)

    return source_of


def verified(fix: Fix, source_of: Callable[[str], bytes | None]) -> bool:
    """Whether every file ``fix`` edits parses, edits applied, with no new syntax errors."""
    if not fix.edits:
        return False
    for path in fix.paths:
        before = source_of(path)
        if before is None:
            return False
        try:
            after = apply_edits(before.decode("utf-8"), edits_of(fix, path)).encode()
        except (EditConflict, UnicodeDecodeError):
            return False
        errors_before = syntax_errors(path, before)
        errors_after = syntax_errors(path, after)
        if errors_before is None or errors_after is None or errors_after > errors_before:
            return False
    return True


def clone_fix(finding: Finding, ctx: CheckContext, change: Change) -> Fix | None:
    """Replace a new copy of a top-level function by the original it copies, when safe."""
    if not finding.evidence:
        return None
    original = finding.evidence[0]
    if "." in original.name:
        return None  # a method: not offered
    head = ctx.head.source_of(finding.path)
    base = ctx.fixes.base_sources.get(original.path)
    if head is None or base is None:
        return None
    copy = function_shape(finding.path, head, finding.start_line)
    orig = function_shape(original.path, base, original.start_line)
    if copy is None or orig is None or copy.decorated or orig.decorated:
        return None
    if not _same_family(copy.language, orig.language) or not behave_alike(copy, orig):
        return None
    if [p.kind for p in copy.params] != [p.kind for p in orig.params]:
        return None
    extra: tuple[Edit, ...] = ()
    if copy.language == "python":
        text = _python(finding.path, original.path, copy, orig, head, ctx.fixes.imports)
    elif copy.language in _JS:
        if not orig.exported and _untouched(change, original.path):
            extra = (_exported(original.path, base, orig),)  # its file is the same at head
            orig = replace(orig, exported=True)
        text = _javascript(finding.path, original.path, copy, orig)
    else:
        text = _go(finding.path, original.path, copy, orig)
    if text is None:
        return None
    where = f"`{original.path}`"
    shared = ", exported from there" if extra else ""
    return Fix(
        description=f"Use `{orig.name}` from {where}{shared} instead of the copy `{copy.name}`.",
        edits=(Edit(finding.path, copy.start_line, copy.end_line, text), *extra),
    )


def _untouched(change: Change, path: str) -> bool:
    return all(path not in (d.old_path, d.new_path) for d in change.files)


def _exported(path: str, source: bytes, shape: Shape) -> Edit:
    """``export`` put before the original's declaration, on its first line."""
    line = source.decode("utf-8", "replace").split("\n")[shape.start_line - 1]
    indent = line[: len(line) - len(line.lstrip())]
    return Edit(path, shape.start_line, shape.start_line, f"{indent}export {line.lstrip()}")


def _same_family(a: str, b: str) -> bool:
    return a == b or (a in _JS and b in _JS)


def _signature_same(copy: Shape, orig: Shape, *, names: bool) -> bool:
    return all(
        (not names or c.name == o.name) and c.default == o.default
        for c, o in zip(copy.params, orig.params, strict=True)
    )


def python_module(path: str) -> str | None:
    """The dotted module a Python file is imported as (``src/`` and ``lib/`` are roots)."""
    stem = re.sub(r"\.pyi?$", "", path)
    for root in ("src/", "lib/"):
        if stem.startswith(root):
            stem = stem[len(root) :]
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(_IDENT.match(p) for p in parts):
        return None
    return ".".join(parts)


def reaches(
    graph: Mapping[str, Sequence[str]], start: str, goal: str, limit: int = 100_000
) -> bool:
    """Whether ``goal`` is reachable from ``start`` along import edges (bounded walk)."""
    seen = {start}
    stack = [start]
    while stack and len(seen) <= limit:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _uses_elsewhere(source: bytes, name: str, copy: Shape) -> bool:
    lines = source.decode("utf-8", "replace").split("\n")
    rest = lines[: copy.start_line - 1] + lines[copy.end_line :]
    word = re.compile(rf"(?<![\w.]){re.escape(name)}\b")
    return any(word.search(line) for line in rest)


def _python(
    path: str,
    original_path: str,
    copy: Shape,
    orig: Shape,
    head: bytes,
    graph: Mapping[str, Sequence[str]],
) -> str | None:
    same_file = path == original_path
    module = python_module(original_path)
    if not same_file and (module is None or reaches(graph, original_path, path)):
        return None  # the original's module imports the copy's: importing it is a cycle
    if not same_file and _signature_same(copy, orig, names=True):
        alias = "" if copy.name == orig.name else f" as {copy.name}"
        return f"from {module} import {orig.name}{alias}"
    callee = orig.name
    lines: list[str] = []
    if not same_file:
        if callee == copy.name or _uses_elsewhere(head, callee, copy):
            callee = f"_{orig.name}"
            lines.append(f"from {module} import {orig.name} as {callee}")
        else:
            lines.append(f"from {module} import {orig.name}")
    args = ", ".join(_python_arg(c, o) for c, o in zip(copy.params, orig.params, strict=True))
    lines += [copy.header, f"    return {callee}({args})"]
    return "\n".join(lines)


def _python_arg(copy: Param, orig: Param) -> str:
    if copy.kind == "star":
        return f"*{copy.name}"
    if copy.kind == "starstar":
        return f"**{copy.name}"
    if copy.kind == "keyword":
        return f"{orig.name}={copy.name}"
    return copy.name


def _javascript(path: str, original_path: str, copy: Shape, orig: Shape) -> str | None:
    if path == original_path or not orig.exported or copy.header.startswith("export default"):
        return None
    if orig.header.startswith("export default"):
        return None
    target = _JS_EXT.sub("", posixpath.relpath(original_path, posixpath.dirname(path) or "."))
    if not target.startswith("."):
        target = "./" + target
    exported = copy.header.startswith("export ")
    if _signature_same(copy, orig, names=False):
        binding = orig.name if orig.name == copy.name else f"{orig.name} as {copy.name}"
        lines = [f'import {{ {binding} }} from "{target}";']
        if exported:
            lines.append(f"export {{ {copy.name} }};")
        return "\n".join(lines)
    if orig.name == copy.name:
        return None
    args = ", ".join(f"...{p.name}" if p.kind == "rest" else p.name for p in copy.params)
    call = f"{orig.name}({args})"
    if copy.form == "arrow":
        body = [f"{copy.header} {call};"]
    else:
        end = ";" if copy.form == "expression" else ""
        body = [f"{copy.header} {{", f"  return {call};", "}" + end]
    return "\n".join([f'import {{ {orig.name} }} from "{target}";', *body])


def _go(path: str, original_path: str, copy: Shape, orig: Shape) -> str | None:
    if posixpath.dirname(path) != posixpath.dirname(original_path) or copy.name == orig.name:
        return None  # another package needs an import and an exported original: not offered
    args = ", ".join(f"{p.name}..." if p.kind == "rest" else p.name for p in copy.params)
    call = f"{orig.name}({args})"
    return "\n".join(
        [f"{copy.header} {{", f"\treturn {call}" if copy.results else f"\t{call}", "}"]
    )
