"""``cairn why`` and ``cairn decisions``: why the code is the way it is, and the decision log.

``why PATH[:LINE]`` lists the decisions and the pull requests and commits that shaped that
code, newest first, each with the reason it is listed. ``decisions`` lists the log (statuses,
supersession, constraints, problems); ``--suggest`` prints, for each constraint read from a
decision's prose, the explicit ``cairn:`` block that states it, for the team to confirm.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analyzers.additions import Added, additions, owners
from analyzers.adr import Adr, Constraint, DecisionLog, HistoryEntry
from analyzers.adr_block import cairn_block
from analyzers.adr_prose import CHOSEN, NEGATIVE, REJECTED
from analyzers.catalog import catalog
from analyzers.parse import parse_file
from app.decisions import decision_log_at
from app.errors import CairnError
from app.git import GitRepo
from app.history import FORMAT_ARGS, GitHistory, commit_entry, parse_log
from app.indexer import index_commit
from app.source import LocalSource
from app.store import Repository, Store
from checks.config import CairnConfig

MAX_COMMITS = 20  # commits and merges listed by `cairn why`
_GENERIC = frozenset(
    {"main", "index", "init", "__init__", "utils", "util", "helpers", "common", "test", "tests"}
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_TARGET = re.compile(r"^(.*?)(?::(\d+))?$")


@dataclass(frozen=True, slots=True)
class WhyItem:
    """One decision, pull request or commit that shaped the code, and why it is listed."""

    kind: str  # "decision" | "pull-request" | "commit"
    ref: str  # ADR label, pull request number, commit sha
    title: str
    date: str  # YYYY-MM-DD, or "" when unknown
    reason: str
    path: str = ""  # the ADR's path, for a decision
    status: str = ""  # the ADR's status, for a decision

    @property
    def label(self) -> str:
        if self.kind == "pull-request":
            return f"#{self.ref}"
        return self.ref[:10] if self.kind == "commit" else self.ref

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "date": self.date,
            "reason": self.reason,
            "path": self.path,
            "status": self.status,
        }


def parse_target(target: str) -> tuple[str, int | None]:
    """``PATH[:LINE]`` → (path, line); a clear error on a bad line number."""
    m = _TARGET.match(target.strip())
    path, line = (m.group(1), m.group(2)) if m else (target, None)
    path = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    if not path or path == ".":
        raise CairnError(f"{target!r}: give a file path, optionally with :LINE")
    number = int(line) if line is not None else None
    if number is not None and number < 1:
        raise CairnError(f"{target!r}: lines are numbered from 1")
    return path, number


async def decision_log(
    store: Store, repo: Repository, git: GitRepo, commit: str, config: CairnConfig
) -> DecisionLog:
    """The decision log at ``commit``, through the store (ADRs parsed when their blob changed),
    read with what the repository uses there (stale decisions) and its history. The index is
    brought to ``commit`` first (only unseen blobs parsed): its imports are part of that use."""
    source = LocalSource(git)
    await index_commit(store, repo, source, commit, decision_paths=config.decisions.paths)
    return await decision_log_at(store, repo, source, commit)


async def why(
    store: Store,
    repo: Repository,
    git: GitRepo,
    commit: str,
    path: str,
    line: int | None,
    config: CairnConfig,
) -> list[WhyItem]:
    """The decisions, pull requests and commits that shaped ``path`` (at ``line``), newest first."""
    data = git.file_at(commit, path)
    if data is None:
        raise CairnError(f"{path} is not a file at {commit[:10]}")
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if line is not None and line > len(lines):
        raise CairnError(f"{path} has {len(lines)} lines at {commit[:10]}, not {line}")
    span, names = _unit_at(path, data, line)
    log = await decision_log(store, repo, git, commit, config)
    brought = additions(path, tuple(enumerate(lines, start=1)), text)
    binding = {a.path: a for a in log.binding}
    items = [
        i for a in log.records if (i := _decision(a, binding, path, names, brought)) is not None
    ]
    history = await GitHistory(git, commit).of([i.path for i in items])
    items = [_dated(i, history.get(i.path, ())) for i in items]
    items += _commits(git, commit, path, span, names)
    return sorted(items, key=lambda i: i.date, reverse=True)


def _unit_at(path: str, data: bytes, line: int | None) -> tuple[tuple[int, int] | None, list[str]]:
    """The lines to follow in the log, and the names of the units around ``line`` (without a
    line: the file's top-level units, which a record may name in code)."""
    parsed = parse_file(path, data)
    if line is None:
        return None, [u.name for u in (parsed.units if parsed else ()) if "." not in u.qualname]
    around = [u for u in (parsed.units if parsed else ()) if u.start_line <= line <= u.end_line]
    if not around:
        return (line, line), []
    inner = min(around, key=lambda u: u.end_line - u.start_line)
    return (inner.start_line, inner.end_line), [u.name for u in around]


def _decision(
    adr: Adr,
    binding: Mapping[str, Adr],
    path: str,
    names: Sequence[str],
    brought: Sequence[Added],
) -> WhyItem | None:
    constraints = binding.get(adr.path, adr).constraints
    reasons: list[str] = []
    for c in constraints:
        glob = next((g for g in c.scope if fnmatch.fnmatchcase(path, g)), None)
        if glob is not None:
            reasons.append(f"its scope `{glob}` matches {path}")
            break
    for c in constraints:
        used = next((a.name for a in brought if _about(c, a)), None)
        if used is not None:
            reasons.append(f"it decides about `{used}`, which {path} uses")
            break
    else:
        about = _technology_reason(adr, path, brought)
        if about:
            reasons.append(about)
    mentioned = _mentions(adr.body, path, names)
    if mentioned:
        reasons.append(f"it mentions `{mentioned}`")
    if not reasons:
        return None
    status = adr.status or "no status"
    if adr.status == "accepted" and adr.path not in binding:
        status = "accepted, superseded"
    return WhyItem(
        kind="decision",
        ref=adr.label,
        title=adr.title,
        date=adr.date[:10] if _ISO_DATE.match(adr.date) else "",  # else the history's
        reason="; ".join(reasons),
        path=adr.path,
        status=status,
    )


def _technology_reason(adr: Adr, path: str, brought: Sequence[Added]) -> str:
    """Why a record that chose, rejected or removed a technology the file uses is listed."""
    cat = catalog()

    used: dict[str, str] = {}
    for a in brought:
        for tech in owners(a, cat):
            used.setdefault(tech, a.name)
    for m in adr.mentions:
        if not m.tech or not (m.stance == CHOSEN or m.stance in NEGATIVE):
            continue
        hit = next((used[t] for t in sorted(cat.expand(m.tech)) if t in used), None)
        if hit is not None:
            verb = (
                "chose" if m.stance == CHOSEN else "rejected" if m.stance == REJECTED else "removed"
            )
            return f"it {verb} `{m.term}`, which {path} uses (`{hit}`)"
    return ""


def _about(c: Constraint, a: Added) -> bool:
    got = a.name.lower()
    return any(
        v and (got == v or got.startswith((v + ".", v + "/")))
        for v in (c.value.lower(), c.prefer.lower())
    )


def _mentions(body: str, path: str, names: Sequence[str]) -> str:
    """The first of the path, its module, or (in a code span) its file name or the unit names
    that ``body`` names. Bare words only count in code: "the HTTP client" is no `client.py`."""
    stem = posixpath.splitext(path)[0]
    for term in (path, stem.replace("/", ".")):
        if re.search(rf"(?<![\w/.]){re.escape(term)}(?![\w/])", body):
            return term
    base = posixpath.basename(stem)
    terms = [posixpath.basename(path)]
    terms += [base] if base not in _GENERIC and len(base) >= 4 else []
    terms += [n for n in reversed(names) if len(n) >= 4 and n not in _GENERIC]
    spans = " ".join(_CODE_SPAN.findall(body))
    for term in terms:
        if re.search(rf"(?<![\w/]){re.escape(term)}(?![\w/])", spans):
            return term
    return ""


def _dated(item: WhyItem, history: Sequence[HistoryEntry]) -> WhyItem:
    # where the decision was made: the change that added the record, else the oldest one
    added = [h for h in history if h.reason.startswith("added")]
    made = (added or list(history))[-1] if history else None
    if made is None:
        return item
    where = f"{made.label} '{made.title}'"
    return WhyItem(
        kind=item.kind,
        ref=item.ref,
        title=item.title,
        date=item.date or made.date,
        reason=f"{item.reason} (recorded in {where})",
        path=item.path,
        status=item.status,
    )


def _commits(
    git: GitRepo, commit: str, path: str, span: tuple[int, int] | None, names: Sequence[str]
) -> list[WhyItem]:
    bound = ("-n", str(MAX_COMMITS))
    if span is not None:
        lo, hi = span
        lines = f"line {lo}" if lo == hi else f"lines {lo}-{hi}"
        unit = f" ({names[-1]})" if names else ""
        out = git.log(*FORMAT_ARGS, *bound, "-s", f"-L{lo},{hi}:{path}", commit)
        reason = f"touched {lines}{unit}"
    else:
        out = git.log(*FORMAT_ARGS, *bound, "--follow", commit, "--", path)
        reason = f"changed {path}"
    merges = git.log(
        *FORMAT_ARGS, *bound, "--first-parent", "--merges", "--diff-merges=first-parent",
        commit, "--", path,
    )  # fmt: skip
    items: list[WhyItem] = []
    seen: set[str] = set()
    for log, why_listed in ((merges, f"merged a change to {path}"), (out, reason)):
        for sha, date, subject, body, _ in parse_log(log):
            if sha in seen:
                continue
            seen.add(sha)
            e = commit_entry(sha, date, subject, body, why_listed)
            if e.kind == "pull-request" and any(i.ref == e.ref for i in items):
                continue
            items.append(WhyItem(e.kind, e.ref, e.title, e.date, e.reason))
    return items


# ---------------------------------------------------------------------------------------------
# Rendering


def why_document(path: str, line: int | None, items: Sequence[WhyItem]) -> dict[str, Any]:
    """``cairn why --format json``: ``{"version", "path", "line", "items": [...]}``."""
    return {"version": 1, "path": path, "line": line, "items": [i.to_json() for i in items]}


def render_why(path: str, line: int | None, items: Sequence[WhyItem]) -> str:
    target = f"{path}:{line}" if line is not None else path
    if not items:
        return f"{target}: no decision, pull request or commit found."
    noun = (
        "decision, pull request or commit"
        if len(items) == 1
        else "decisions, pull requests and commits"
    )
    out = [f"{target}: {len(items)} {noun}, newest first", ""]
    for i in items:
        what = f"{i.label} {i.title}" + (f" ({i.status})" if i.status else "")
        out.append(f"{i.date or '----------':10}  {_one_line(what)}")
        out.append(f"{'':10}  why: {_one_line(i.reason)}")
    return "\n".join(out)


def decisions_document(log: DecisionLog) -> dict[str, Any]:
    """``cairn decisions --format json``: every record, what binds, and the log's problems."""
    binding = {a.path: a for a in log.binding}
    return {
        "version": 1,
        "decisions": [
            {
                "path": a.path,
                "label": a.label,
                "number": a.number,
                "title": a.title,
                "status": a.status,
                "date": a.date,
                "binding": a.path in binding,
                "supersedes": list(a.supersedes),
                "superseded_by": list(a.superseded_by),
                "constraints": [c.to_json() for c in binding.get(a.path, a).constraints],
                "mentions": [m.to_json() for m in a.mentions if m.stance != "mentioned"],
            }
            for a in log.records
        ],
        "stale": [
            {"path": a.path, "label": a.label, "constraint": c.to_json(), "why": why}
            for a, c, why in log.stale
        ],
        "problems": list(log.problems),
    }


def render_decisions(log: DecisionLog) -> str:
    binding = {a.path: a for a in log.binding}
    out = [f"{len(log.records)} decision records, {len(binding)} binding", ""]
    for a in log.records:
        status = a.status or "no status"
        if a.path in binding:
            status += ", binding"
        links = [f"supersedes {', '.join(a.supersedes)}"] if a.supersedes else []
        links += [f"superseded by {', '.join(a.superseded_by)}"] if a.superseded_by else []
        date = f" {a.date}" if a.date else ""
        out.append(f"{a.label}  {_one_line(a.title)}  [{status}]{date}")
        out.append(f"    {a.path}" + (f"; {'; '.join(links)}" if links else ""))
        if a.stated_status and a.status and a.stated_status.lower().split()[:1] != [a.status]:
            out.append(f"    status as written: {_one_line(a.stated_status)!r}")
        read = _stances(a)
        if read:
            out.append(f"    read: {read}")
        constraints = binding.get(a.path, a).constraints
        siblings = [c for c in constraints if c.origin == "sibling"]
        for c in constraints:
            if c.origin != "sibling":
                out.append(f"    {_constraint(c)}")
        if siblings:
            names = ", ".join(f"`{c.value}`" for c in siblings[:8])
            more = f" and {len(siblings) - 8} more" if len(siblings) > 8 else ""
            out.append(
                f"    derived: passes over {names}{more}, alternatives to `{siblings[0].prefer}` "
                "the repository does not use yet"
            )
    if log.stale:
        out += ["", "Stale decisions (read, not enforced):"]
        out += [f"  - {_one_line(why)}" for _, _, why in log.stale]
    stale = {why for _, _, why in log.stale}
    problems = [p for p in log.problems if p not in stale]  # listed once, as stale
    if problems:
        out += ["", "Problems of the log:"]
        out += [f"  - {_one_line(p)}" for p in problems]
    return "\n".join(out)


def _stances(a: Adr) -> str:
    """What the record chose, rejected and removed, in a few words."""
    parts = []
    for stance in ("chosen", "rejected", "removed"):
        terms = list(dict.fromkeys(m.term for m in a.mentions if m.stance == stance))
        if terms:
            parts.append(f"{stance} " + ", ".join(f"`{_one_line(x)}`" for x in terms[:6]))
    return "; ".join(parts)


def suggestions(log: DecisionLog) -> list[tuple[Adr, str]]:
    """For each binding record with constraints read from its prose: the block that states them
    (the alternatives a choice passes over without naming them are left to the prose)."""
    out = []
    for a in log.binding:
        derived = [c for c in a.constraints if not c.explicit and c.origin != "sibling"]
        if derived:
            out.append((a, cairn_block(derived)))
    return out


def render_suggestions(found: Sequence[tuple[Adr, str]]) -> str:
    if not found:
        return "No constraint is read from the prose of a binding decision: nothing to suggest."
    out = []
    for a, block in found:
        out.append(f"# {a.label} '{_one_line(a.title)}' ({a.path}): add to the record")
        out.append(block.rstrip("\n"))
        out.append("")
    return "\n".join(out).rstrip("\n")


def _constraint(c: Constraint) -> str:
    origin = "explicit" if c.explicit else "derived"
    if c.origin in ("weighed", "evidence"):
        origin += (
            f" ({'an option passed over' if c.origin == 'weighed' else 'its change removed it'})"
        )
    what = f"avoid {c.kind} `{c.value}`" if c.kind != "any" else f"avoid `{c.value}`"
    if c.prefer:
        what += f" (prefer `{c.prefer}`)"
    if c.scope:
        what += f" in {', '.join(c.scope)}"
    if c.language:
        what += f" ({c.language})"
    said = c.message or c.sentence
    return f"{origin}: {what}" + (f" — «{_one_line(said)}»" if said else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())
