"""Sibling copies (rule ``edited-copy``): a change edits one copy of code and leaves the others.

When a changed unit's own version at base was a clone (any kind) of other units at base, and
the change leaves some of those untouched, one finding on the edited lines names every
untouched copy, shows the edit as a small diff and asks whether it belongs there too. Nothing
is said when the change edits every copy, or only moves or renames the unit (its tokens are
unchanged). Copies in tests or in excluded paths are listed after the others, with a note;
the others are ranked by how often their file changed together with the edited one
(``FixInputs.cochange``, read from the repository's recent history), then by similarity.

A copy is a sibling only when it is closer than the clone threshold (SIBLING_THRESHOLD) and
still holds the code the edit changed: one of the lines the edit removed (or, for a pure
insertion, the line it follows), identifiers and literals aside. The edited unit must be
production code with at least one production copy: on a Django application's last 300
commits (``bench/fixes.py``), the clone threshold alone flagged half of them, nearly all for
test methods and migrations that share a shape, none of 20 drawn for the same change.
"""

from __future__ import annotations

import difflib
import re

from analyzers import fingerprint as fp
from checks.clones import section_of
from checks.config import DuplicationConfig
from checks.context import Change, ChangedUnit, CheckContext, LocatedUnit
from checks.finding import Evidence, Finding, Severity, fingerprint

RULE = "edited-copy"
SIBLING_THRESHOLD = 0.85  # similarity of the edited unit's previous version and a copy
MAX_COPIES = 10  # listed in one finding; the message counts them all
MAX_DIFF_LINES = 4


def edited_copy_findings(change: Change, ctx: CheckContext) -> list[Finding]:
    """One finding per edited unit whose copies at base the change leaves untouched."""
    cfg = ctx.config.duplication
    if cfg.edited_copy == "off":
        return []
    findings: list[tuple[int, Finding]] = []
    for cu in change.units:
        prev = cu.previous
        if prev is None or prev.raw_hash == cu.unit.raw_hash:
            continue  # new, or moved/renamed/reformatted only: nothing edited in the code
        if prev.token_count < cfg.min_tokens or prev.line_count < cfg.min_lines:
            continue
        if _apart(cu.path, cfg):
            continue  # tests, migrations, fixtures, excluded code: their copies are by design
        old_path = _old_path(change, cu.path)
        anchors = _anchors(cu, old_path, ctx)
        copies = [
            (score, c)
            for score, c in _untouched_copies(cu, old_path, change, ctx, cfg)
            if _holds(c, anchors, ctx)
        ]
        if any(not _apart(c.path, cfg) for _, c in copies):
            findings.append((cu.unit.line_count, _finding(cu, old_path, copies, change, ctx, cfg)))
    # An edit inside a method of a copied class is one edit: said once, by the innermost unit
    # (its copies are the closest), not again by the class around it.
    kept: dict[tuple[str, int, int], tuple[int, Finding]] = {}
    for size, f in findings:
        key = (f.path, f.start_line, f.end_line)
        if key not in kept or size < kept[key][0]:
            kept[key] = (size, f)
    return [f for _, f in kept.values()]


def _old_path(change: Change, path: str) -> str:
    for diff in change.files:
        if diff.new_path == path and diff.old_path is not None:
            return diff.old_path
    return path


def _untouched_copies(
    cu: ChangedUnit, old_path: str, change: Change, ctx: CheckContext, cfg: DuplicationConfig
) -> list[tuple[float, LocatedUnit]]:
    prev = cu.previous
    assert prev is not None
    copies: dict[tuple[str, int, int], tuple[float, LocatedUnit]] = {}
    # Units the change edits, by where they were at base: a hunk that only inserts lines into
    # a copy removes none, so ``Change.rewrites`` alone would call that copy untouched.
    edited = {
        (_old_path(change, other.path), other.previous.qualname, other.previous.start_line)
        for other in change.units
        if other.previous is not None
    }
    for cand in ctx.index.candidates(prev):
        key = (cand.path, cand.unit.start_line, cand.unit.end_line)
        if key in copies:
            continue
        if cand.path == old_path and (
            cand.unit.start_line <= prev.end_line and prev.start_line <= cand.unit.end_line
        ):
            continue  # the unit itself, or one nested in it or around it
        if cand.unit.token_count < cfg.min_tokens or cand.unit.line_count < cfg.min_lines:
            continue
        score = fp.similarity(prev.tokens, cand.unit.tokens)
        if score < max(cfg.threshold, SIBLING_THRESHOLD):
            continue
        if change.rewrites(cand.path, cand.unit.start_line, cand.unit.end_line) or (
            (cand.path, cand.unit.qualname, cand.unit.start_line) in edited
        ):
            continue  # the change edits (or moves, or deletes) this copy too
        copies[key] = (score, cand)
    return _outermost(_closest(list(copies.values()), prev.kind))


def _closest(copies: list[tuple[float, LocatedUnit]], kind: str) -> list[tuple[float, LocatedUnit]]:
    """Drop a copy that holds another copy of the edited unit's own kind (a class around the
    copied method: the method is the copy)."""

    def holds_own_kind(c: LocatedUnit) -> bool:
        return any(
            o.path == c.path
            and o.unit.kind == kind
            and c.unit.start_line <= o.unit.start_line <= o.unit.end_line <= c.unit.end_line
            and (o.unit.start_line, o.unit.end_line) != (c.unit.start_line, c.unit.end_line)
            for _, o in copies
        )

    return [(s, c) for s, c in copies if c.unit.kind == kind or not holds_own_kind(c)]


def _outermost(copies: list[tuple[float, LocatedUnit]]) -> list[tuple[float, LocatedUnit]]:
    """Drop copies nested in another listed copy of the same file."""
    kept: list[tuple[float, LocatedUnit]] = []
    ordered = sorted(copies, key=lambda c: (c[1].path, c[1].unit.start_line, -c[1].unit.end_line))
    for score, c in ordered:
        if kept and kept[-1][1].path == c.path and c.unit.end_line <= kept[-1][1].unit.end_line:
            continue
        kept.append((score, c))
    return kept


def _apart(path: str, cfg: DuplicationConfig) -> str:
    """Why a copy is listed apart ("in tests", "excluded"), or "" for production code."""
    if cfg.excludes(path):
        return "excluded by duplication.exclude"
    section = section_of(path)
    return "" if section == "production" else f"in {section}"


def _finding(
    cu: ChangedUnit,
    old_path: str,
    copies: list[tuple[float, LocatedUnit]],
    change: Change,
    ctx: CheckContext,
    cfg: DuplicationConfig,
) -> Finding:
    prev = cu.previous
    assert prev is not None
    together = ctx.fixes.cochange.get(cu.path, {})

    def rank(item: tuple[float, LocatedUnit]) -> tuple[bool, int, float, str, int]:
        score, c = item
        return (
            bool(_apart(c.path, cfg)),
            -together.get(c.path, 0),
            -score,
            c.path,
            c.unit.start_line,
        )

    ordered = sorted(copies, key=rank)
    evidence = tuple(
        Evidence(
            path=c.path,
            start_line=c.unit.start_line,
            end_line=c.unit.end_line,
            name=c.unit.qualname,
            similarity=round(score, 3),
            kind=fp.clone_kind(prev, c.unit),
            note=_note(c.path, together.get(c.path, 0), cfg),
        )
        for score, c in ordered[:MAX_COPIES]
    )
    main = [c for _, c in ordered if not _apart(c.path, cfg)]
    named = ", ".join(f"`{c.unit.qualname}` in `{c.path}:{c.unit.start_line}`" for c in main[:3])
    more = len(main) - 3
    apart = len(ordered) - len(main)
    listing = named + (f" and {more} more" if more > 0 else "")
    if not main:
        listing = f"{apart} cop{'y' if apart == 1 else 'ies'} in tests or excluded paths"
    elif apart:
        listing += f" (and {apart} in tests or excluded paths)"
    diff = _small_diff(cu, old_path, ctx)
    one = len(ordered) == 1
    copies_word = "copy" if one else f"{len(ordered)} copies"
    left = "is left as it was" if one else "are left as they were"
    message = (
        f"This edits `{cu.unit.qualname}`{diff}, but its {copies_word} at base {left}: "
        f"{listing}. Does the same change belong there?"
    )
    start, end = _edited_lines(cu, change)
    return Finding(
        check="duplication",
        rule=RULE,
        path=cu.path,
        start_line=start,
        end_line=end,
        message=message,
        severity=Severity(cfg.edited_copy),
        evidence=evidence,
        fingerprint=fingerprint(
            "duplication",
            RULE,
            cu.path,
            cu.unit.qualname,
            *sorted(c.unit.qualname for _, c in ordered),
        ),
    )


def _note(path: str, together: int, cfg: DuplicationConfig) -> str:
    parts = []
    if together:
        parts.append(f"changed together {together} time{'s' if together != 1 else ''}")
    apart = _apart(path, cfg)
    if apart:
        parts.append(apart)
    return "; ".join(parts)


def _edited_lines(cu: ChangedUnit, change: Change) -> tuple[int, int]:
    """The unit's lines the change adds, first to last (the unit's first line when none)."""
    lo, hi = cu.unit.end_line + 1, 0
    for diff in change.files:
        if diff.new_path != cu.path:
            continue
        for first, last in diff.added:
            if first <= cu.unit.end_line and cu.unit.start_line <= last:
                lo = min(lo, max(first, cu.unit.start_line))
                hi = max(hi, min(last, cu.unit.end_line))
    return (lo, hi) if hi else (cu.unit.start_line, cu.unit.start_line)


def _small_diff(cu: ChangedUnit, old_path: str, ctx: CheckContext) -> str:
    """The edit as a few `-old` / `+new` lines, in a sentence: " (`- a` → `+ b`)"."""
    prev = cu.previous
    head = ctx.head.source_of(cu.path)
    base = ctx.fixes.base_sources.get(old_path)
    if prev is None or head is None or base is None:
        return ""
    before = base.decode("utf-8", "replace").split("\n")[prev.start_line - 1 : prev.end_line]
    after = head.decode("utf-8", "replace").split("\n")[cu.unit.start_line - 1 : cu.unit.end_line]
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
    ]
    if not changed:
        return ""
    shown = [f"`{_clip(line)}`" for line in changed[:MAX_DIFF_LINES]]
    rest = len(changed) - len(shown)
    return " (" + " ".join(shown) + (f" … {rest} more" if rest > 0 else "") + ")"


def _clip(line: str, width: int = 80) -> str:
    text = line[0] + " " + line[1:].strip().replace("`", "'")
    return text if len(text) <= width else text[: width - 1] + "…"


_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_LITERAL = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\b\d[\w.]*")
_KEYWORDS = frozenset(
    [
        "if",
        "not",
        "and",
        "or",
        "return",
        "for",
        "in",
        "while",
        "else",
        "elif",
        "def",
        "func",
        "function",
        "const",
        "let",
        "var",
        "None",
        "True",
        "False",
        "null",
        "nil",
        "true",
        "false",
        "self",
        "this",
        "with",
        "try",
        "except",
        "raise",
        "throw",
        "new",
        "await",
        "async",
    ]
)
MIN_ANCHOR = 6  # characters of a normalised line worth matching (not a bare `}` or `else:`)


def _normal(line: str) -> str:
    """A line with layout, literals and (non-keyword) identifiers abstracted; "" for a comment
    line (its words abstracted, any comment of as many words would match)."""
    if line.lstrip().startswith(("#", "//", "/*", "*")):
        return ""
    text = _LITERAL.sub("L", line.strip())
    text = _WORD.sub(lambda m: m.group() if m.group() in _KEYWORDS else "I", text)
    return " ".join(text.split())


def _anchors(cu: ChangedUnit, old_path: str, ctx: CheckContext) -> set[str] | None:
    """The normalised lines the edit changed: those it removed, or those it inserts after;
    None when the sources are not at hand (then every copy counts)."""
    prev = cu.previous
    head = ctx.head.source_of(cu.path)
    base = ctx.fixes.base_sources.get(old_path)
    if prev is None or head is None or base is None:
        return None
    before = base.decode("utf-8", "replace").split("\n")[prev.start_line - 1 : prev.end_line]
    after = head.decode("utf-8", "replace").split("\n")[cu.unit.start_line - 1 : cu.unit.end_line]
    found: set[str] = set()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            found.update(_normal(line) for line in before[i1:i2])
        elif tag == "insert" and i1 > 0:
            found.add(_normal(before[i1 - 1]))
    return {a for a in found if len(a) >= MIN_ANCHOR}


def _holds(copy: LocatedUnit, anchors: set[str] | None, ctx: CheckContext) -> bool:
    """Whether the copy still holds a line the edit changed (True when it cannot be told)."""
    source = ctx.fixes.base_sources.get(copy.path)
    if anchors is None or source is None:
        return True
    lines = source.decode("utf-8", "replace").split("\n")[
        copy.unit.start_line - 1 : copy.unit.end_line
    ]
    return any(_normal(line) in anchors for line in lines)
