"""The five tools of ``cairn mcp``, each a JSON document and a short text for the agent.

They answer from the engines ``cairn review``, ``cairn why``, ``cairn decisions`` and ``cairn
rules`` run, never from a second implementation: ``review_change`` is ``app.review.review`` on
a draft commit (``app.mcp.draft``); ``similar_code`` probes the same in-memory index of the base
the duplication check does and verifies with the same similarity; ``why`` is ``app.why.why``.
Bad input is a ``ToolFailure`` with a message for the agent, never a crash of the server.
"""

from __future__ import annotations

import asyncio
import fnmatch
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analyzers import fingerprint as fp
from analyzers.adr import Adr, Constraint, DecisionLog, HistoryEntry
from analyzers.adr_timeline import build_log
from analyzers.languages import language_for_path
from analyzers.snippet import probes, snippet_language
from analyzers.units import CodeUnit
from analyzers.words import MAX_QUERY, query_words
from app.decisions import decision_log_at
from app.history import GitHistory, PullRequestHistory
from app.mcp.draft import DraftError, DraftFile, check_text, clean_path, draft_commit
from app.mcp.workspace import ToolFailure, Workspace
from app.report import document, text
from app.review import review
from app.rules import load_codebase, mined_rules
from app.source import LocalSource
from app.why import parse_target, render_why, why, why_document
from checks.conventions import Convention
from checks.patterns_config import matches

MAX_SNIPPET = 256 << 10  # bytes of a snippet
MAX_RESULTS = 20
SOURCE_LINES = 60  # lines of a unit's source returned with it
SIMILAR_THRESHOLD = 0.6  # similarity from which an indexed unit is listed
SIMILAR_MIN_TOKENS = 20  # units of fewer tokens are too small to mean "it exists already"


@dataclass(frozen=True, slots=True)
class Answer:
    """A tool's structured result and its short rendering."""

    doc: dict[str, Any]
    text: str


# --- similar_code ----------------------------------------------------------------------------


async def similar_code(
    ws: Workspace,
    code: str | None = None,
    query: str | None = None,
    language: str | None = None,
    path: str | None = None,
    limit: int = 5,
) -> Answer:
    """Existing units like ``code`` (exact, renamed, near-miss), or matching the words of
    ``query`` (full-text search over names, identifiers, docstrings and comments)."""
    limit = max(1, min(int(limit), MAX_RESULTS))
    if (code is None or not code.strip()) == (query is None or not query.strip()):
        raise ToolFailure("give either `code` (a snippet) or `query` (words to search for)")
    if query is not None and query.strip():
        return await _by_words(ws, query, limit)
    assert code is not None
    data = check_text("the snippet", code, MAX_SNIPPET)
    lang = snippet_language(language, path)
    if lang is None:
        what = f"language {language!r}" if language else f"path {path!r}" if path else None
        raise ToolFailure(
            f"cannot tell the snippet's language from {what}: give `language` (python, "
            "javascript, typescript, tsx, go, java, rust, csharp, ruby) or a `path` with its "
            "extension"
            if what
            else "give the snippet's `language` (python, javascript, typescript, tsx, go, "
            "java, rust, csharp, ruby) or a `path` with its extension"
        )
    found = await ws.analysis.run(probes, data, lang.name)
    probe_units = [u for u in found if u.token_count >= 1]
    if not probe_units:
        raise ToolFailure("the snippet has no code to compare (only comments or whitespace)")
    engine = await ws.engine(SIMILAR_MIN_TOKENS)
    rows = await asyncio.to_thread(
        engine.matches, [u.tokens for u in probe_units], SIMILAR_THRESHOLD, workers=1
    )
    wanted = sorted({int(engine.hashes[j]) for row in rows for j, _ in row})
    located = await ws.store.units_by_hash(ws.repo.id, wanted, min_tokens=SIMILAR_MIN_TOKENS)
    by_hash: dict[int, list[Any]] = {}
    for u in located:
        by_hash.setdefault(u.unit.exact_hash, []).append(u)
    results: list[tuple[float, CodeUnit, Any]] = []
    for probe, row in zip(probe_units, rows, strict=True):
        for j, _ in row:
            for cand in by_hash.get(int(engine.hashes[j]), []):
                score = fp.similarity(probe.tokens, cand.unit.tokens)
                if score >= SIMILAR_THRESHOLD:
                    results.append((score, probe, cand))
    results.sort(key=lambda r: (-r[0], r[2].path, r[2].unit.start_line))
    seen: set[tuple[str, int]] = set()
    items: list[dict[str, Any]] = []
    for score, probe, cand in results:
        key = (cand.path, cand.unit.start_line)
        if key in seen:
            continue
        seen.add(key)
        item = _unit_item(
            cand.path, cand.unit.kind, cand.unit.qualname, cand.unit.start_line, cand.unit.end_line
        )
        item |= {
            "similarity": round(score, 3),
            "clone_kind": fp.clone_kind(probe, cand.unit),
            "probe": probe.qualname,
        }
        items.append(item)
        if len(items) >= limit:
            break
    await _with_source(ws, items)
    doc = {"mode": "code", "language": lang.name, "commit": ws.commit, "results": items}
    if not items and max(u.token_count for u in probe_units) < SIMILAR_MIN_TOKENS:
        doc["note"] = (
            f"the snippet is {max(u.token_count for u in probe_units)} tokens long: units of "
            f"{SIMILAR_MIN_TOKENS} tokens or more are compared"
        )
    return Answer(doc, _render_similar(doc))


async def _by_words(ws: Workspace, query: str, limit: int) -> Answer:
    if len(query) > MAX_QUERY:
        raise ToolFailure(f"the query is {len(query):,} characters: at most {MAX_QUERY}")
    words = query_words(query)
    if not words:
        raise ToolFailure("the query has no words to search for")
    hits = await ws.words.search_units(ws.repo.id, words, limit=limit)
    items = [
        _unit_item(h.path, h.kind, h.qualname, h.start_line, h.end_line)
        | {"rank": round(h.rank, 4)}
        for h in hits
    ]
    await _with_source(ws, items)
    doc = {"mode": "query", "query": query, "words": words, "commit": ws.commit, "results": items}
    return Answer(doc, _render_similar(doc))


def _unit_item(path: str, kind: str, qualname: str, start: int, end: int) -> dict[str, Any]:
    return {"path": path, "start_line": start, "end_line": end, "name": qualname, "kind": kind}


async def _with_source(ws: Workspace, items: list[dict[str, Any]]) -> None:
    """Each item's source (its first SOURCE_LINES lines), when the files can be read here."""
    for item in items:
        data = await ws.file(item["path"])
        if data is None:
            item["source"] = None
            continue
        lines = data.decode("utf-8", errors="replace").split("\n")
        start, end = item["start_line"], item["end_line"]
        body = lines[start - 1 : min(end, start - 1 + SOURCE_LINES)]
        more = end - start + 1 - len(body)
        item["source"] = "\n".join(body) + (f"\n… {more} more lines" if more > 0 else "")


def _render_similar(doc: dict[str, Any]) -> str:
    results = doc["results"]
    if not results:
        what = (
            "units like the snippet" if doc["mode"] == "code" else f"units about {doc['query']!r}"
        )
        note = f" ({doc['note']})" if doc.get("note") else ""
        return f"no {what} at {doc['commit'][:10]}{note}"
    out = []
    for r in results:
        how = (
            f"{r['clone_kind']}, {r['similarity']:.0%} similar"
            if doc["mode"] == "code"
            else f"rank {r['rank']}"
        )
        out.append(
            f"{r['path']}:{r['start_line']}-{r['end_line']} {r['name']} ({r['kind']}; {how})"
        )
    return "\n".join(out)


# --- decisions_for ---------------------------------------------------------------------------


async def decision_log(ws: Workspace) -> DecisionLog:
    if ws.git is not None:
        return await decision_log_at(ws.store, ws.repo, LocalSource(ws.git), ws.commit)
    return build_log(await ws.store.decisions(ws.repo.id))


async def decisions_for(
    ws: Workspace, path: str | None = None, technology: str | None = None
) -> Answer:
    """The binding decisions that govern ``path`` (its language and scope) or ``technology``,
    with the constraint, the preferred alternative and the changes that made each."""
    if path is not None:
        path = _known_path(path)
    tech = technology.strip().lower() if technology else ""
    if len(tech) > 200:
        raise ToolFailure("`technology` is a name, at most 200 characters")
    log = await decision_log(ws)
    history = (
        GitHistory(ws.git, ws.commit)
        if ws.git is not None
        else PullRequestHistory(ws.store.pool, ws.repo.id)
    )
    made = await history.of([a.path for a in log.binding])
    items = []
    for adr in log.binding:
        rules = [c for c in adr.constraints if _governs(c, path, tech)]
        mentioned = bool(tech) and any(
            tech in (m.tech.lower(), m.term.lower()) for m in adr.mentions
        )
        if not rules and not (mentioned or (not tech and not path)):
            continue
        items.append(_decision_item(adr, rules, made.get(adr.path, ())))
    doc = {
        "path": path,
        "technology": technology,
        "commit": ws.commit,
        "decisions": items,
        "problems": list(log.problems),
    }
    return Answer(doc, _render_decisions(doc))


def _governs(c: Constraint, path: str | None, tech: str) -> bool:
    if tech and tech not in {c.technology.lower(), c.value.lower(), c.prefer.lower()}:
        return False
    if path is not None:
        if c.scope and not any(fnmatch.fnmatchcase(path, g) for g in c.scope):
            return False
        if c.language:
            lang = language_for_path(path)
            return lang is not None and lang.name == c.language.lower()
    return True


def _decision_item(
    adr: Adr, rules: Sequence[Constraint], made: Sequence[HistoryEntry]
) -> dict[str, Any]:
    return {
        "label": adr.label,
        "title": adr.title,
        "status": adr.status,
        "date": adr.date,
        "path": adr.path,
        "constraints": [
            {
                "avoid": c.value,
                "kind": c.kind,
                "prefer": c.prefer,
                "technology": c.technology,
                "scope": list(c.scope),
                "language": c.language,
                "explicit": c.explicit,
                "message": c.message,
                "sentence": c.sentence,
                "line": c.line,
            }
            for c in rules
        ],
        "made_by": [e.to_json() for e in made],
    }


def _render_decisions(doc: dict[str, Any]) -> str:
    about = " and ".join(
        x
        for x in (
            doc["path"] and f"`{doc['path']}`",
            doc["technology"] and f"`{doc['technology']}`",
        )
        if x
    )
    if not doc["decisions"]:
        return f"no binding decision governs {about or 'this repository'}"
    out = []
    for d in doc["decisions"]:
        out.append(f"{d['label']} {d['title']} [{d['status']}] {d['path']}")
        for c in d["constraints"]:
            prefer = f" (use `{c['prefer']}` instead)" if c["prefer"] else ""
            out.append(f"  avoid `{c['avoid']}`{prefer}: {c['message'] or c['sentence']}")
        for e in d["made_by"]:
            ref = f"#{e['ref']}" if e["kind"] == "pull-request" else e["ref"][:10]
            out.append(f"  made by {ref} {e['title']} ({e['date']})")
    return "\n".join(out)


# --- conventions_for -------------------------------------------------------------------------


async def conventions_for(ws: Workspace, path: str) -> Answer:
    """The configured rules and the mined conventions that apply at ``path``, with evidence."""
    path = _known_path(path)
    config = ws.config()
    patterns = config.patterns
    configured: list[dict[str, Any]] = []
    for i, layer in enumerate(patterns.layers):
        if matches(path, layer.paths):
            below = [lay.name for lay in patterns.layers[i + 1 :]]
            above = [lay.name for lay in patterns.layers[:i]]
            configured.append(
                {
                    "kind": "layer",
                    "id": layer.name,
                    "description": f"`{path}` is in layer {layer.name}: it may import "
                    f"{', '.join(below) or 'no other layer'}; never {', '.join(above) or '—'}",
                    "location": f"patterns.layers[{i}]",
                }
            )
    for rule in patterns.forbid:
        if rule.applies(path):
            what = ", ".join([*rule.imports, *rule.calls]) or "a tree-sitter query"
            configured.append(
                {
                    "kind": "forbid",
                    "id": rule.id,
                    "description": f"forbidden: {what}. {rule.message}".strip(),
                    "location": rule.location,
                }
            )
    for prefer in patterns.prefer:
        if prefer.applies(path):
            instead = ", ".join(f"`{x}`" for x in prefer.instead_of)
            configured.append(
                {
                    "kind": "prefer",
                    "id": prefer.id,
                    "description": f"use `{prefer.use}` instead of {instead}. "
                    f"{prefer.message}".strip(),
                    "location": prefer.location,
                }
            )
    directory = posixpath.dirname(path)
    for naming in patterns.naming:
        if naming.directory.rstrip("/") == directory:
            configured.append(
                {
                    "kind": "naming",
                    "id": naming.id,
                    "description": f"new {naming.kind}s in {naming.directory} are {naming.style}",
                    "location": naming.location,
                }
            )
    for struct in patterns.structure:
        if struct.directory.rstrip("/") == directory:
            configured.append(
                {
                    "kind": "structure",
                    "id": struct.id,
                    "description": f"every new "
                    f"{struct.kind} in {struct.directory} has {struct.trait}",
                    "location": struct.location,
                }
            )
    mined: list[dict[str, Any]] = []
    if patterns.conventions.enabled:
        key = ("mined", ws.commit, ws.config_text or "")
        rules = ws.memo.get(key)
        if rules is None:
            codebase = await load_codebase(ws.store, ws.repo.id)
            rules = ws.memo[key] = await ws.analysis.run(mined_rules, codebase, config)
        mined = [r.as_json() for r in rules if _convention_applies(r, path)]
    doc = {"path": path, "commit": ws.commit, "configured": configured, "mined": mined}
    return Answer(doc, _render_conventions(doc))


def _convention_applies(rule: Convention, path: str) -> bool:
    if rule.kind == "wrapped-dependency":
        return path != rule.wrapper
    if rule.kind == "dependency-direction":
        return path == rule.target or path.startswith(rule.target.rstrip("/") + "/")
    if rule.directory:
        return posixpath.dirname(path) == rule.directory.rstrip("/")
    return True


def _render_conventions(doc: dict[str, Any]) -> str:
    rows = [f"{r['kind']} {r['id']}: {r['description']}" for r in doc["configured"]]
    for r in doc["mined"]:
        count = r.get("evidence", {}).get("count", "")
        rows.append(f"{r['kind']} {r['id']} (mined, {count} cases): {r['description']}")
    return "\n".join(rows) if rows else f"no configured or mined rule applies to `{doc['path']}`"


# --- review_change ---------------------------------------------------------------------------


async def review_change(
    ws: Workspace,
    files: Sequence[dict[str, Any]] | None = None,
    diff: str | None = None,
) -> Answer:
    """The findings ``cairn review --base <indexed commit>`` reports for a branch holding these
    contents (or this diff): same findings, fingerprints and messages."""
    git = ws.checkout("review_change")
    config = ws.review_config()
    drafts: list[DraftFile] = []
    for f in files or ():
        if not isinstance(f, dict) or "path" not in f:
            raise ToolFailure("each file is {path, content} (content null deletes the file)")
        content = f.get("content")
        if content is not None and not isinstance(content, str):
            raise ToolFailure(f"{f['path']!r}: content is text (or null to delete the file)")
        drafts.append(DraftFile(path=str(f["path"]), content=content))
    base = ws.commit
    try:
        with draft_commit(git, base, ws.env, files=drafts, diff=diff) as (draft, head):
            result = await review(
                ws.store, ws.repo, LocalSource(draft), base, head, config, analysis=ws.analysis
            )
            lines: dict[str, list[str]] = {}
            for finding in result.findings:
                if finding.path not in lines:
                    data = draft.file_at(head, finding.path)
                    lines[finding.path] = (
                        data.decode("utf-8", errors="replace").splitlines() if data else []
                    )
    except DraftError as exc:
        raise ToolFailure(str(exc)) from exc
    doc = document.review_document(result.findings, result.decisions)
    doc["base"] = base
    doc["skipped_files"] = dict(sorted(result.skipped_files.items()))
    rendered = text.render_review(
        result.findings,
        source=lambda p, s, e: (lines.get(p) or [])[s - 1 : e] or None,
        color=False,
        decisions=result.decisions,
    )
    return Answer(doc, rendered)


# --- why ---------------------------------------------------------------------------------------


async def why_tool(ws: Workspace, path: str, line: int | None = None) -> Answer:
    """The decisions, pull requests and commits behind ``path`` (at ``line``), as ``cairn why``."""
    git = ws.checkout("why")
    target = _known_path(path)
    if line is not None and line < 1:
        raise ToolFailure("lines are numbered from 1")
    p, _ = parse_target(target)
    items = await why(ws.store, ws.repo, git, ws.commit, p, line, ws.config())
    return Answer(why_document(p, line, items), render_why(p, line, items))


def _known_path(path: str) -> str:
    try:
        return clean_path(path)
    except DraftError as exc:
        raise ToolFailure(str(exc)) from exc


__all__ = [
    "Answer",
    "conventions_for",
    "decisions_for",
    "review_change",
    "similar_code",
    "why_tool",
]
