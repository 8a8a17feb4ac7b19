"""The decision log of a repository: ADR files found in its tree, parsed when their blob changes.

Also what the decisions check needs of a change: the lines it adds (with the head text of
manifests) and the ADRs lexically related to it.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections import Counter
from collections.abc import Sequence

from analyzers.additions import MANIFESTS
from analyzers.adr import (
    AddedFile,
    Adr,
    DecisionInputs,
    adr_dirs,
    build_log,
    is_adr_path,
    parse_adr,
)
from analyzers.diff import FileDiff
from analyzers.files import skip_reason
from app.analysis import Inline, Runner
from app.git import TreeEntry
from app.history import DecisionHistory
from app.source import Source
from app.store import Repository, Store

logger = logging.getLogger(__name__)

MAX_ADRS = 5000  # a log larger than this is read in part (and says so)
MAX_ADDED_BYTES = 1 << 20  # files larger than this at head are not read for additions
_CONFIGS = (".adr-dir", ".log4brains.yml")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")


async def index_decisions(
    store: Store,
    repo: Repository,
    source: Source,
    commit: str,
    paths: Sequence[str] = (),
    *,
    tree: Sequence[TreeEntry] | None = None,
    analysis: Runner | None = None,
) -> int:
    """Bring the stored decision log to ``commit``; parse only ADRs whose blob changed.

    ``paths`` (``.cairn.yml`` ``decisions.paths``) replaces the usual directories; ``tree`` is
    the commit's tree when the caller has it already (on GitHub, one API call fewer).
    """
    if tree is None:
        tree = await source.tree(commit)
    entries = [e for e in tree if e.kind == "blob" and not e.is_symlink]
    if paths:
        dirs = [p.strip("/") for p in paths]
    else:
        configs = {}
        for entry in entries:
            if entry.path in _CONFIGS:
                data = await source.file_at(commit, entry.path)
                if data is not None:
                    configs[entry.path] = data
        dirs = adr_dirs(configs)
    found = {e.path: e.sha for e in entries if is_adr_path(e.path, dirs)}
    if len(found) > MAX_ADRS:
        logger.warning("decision log of %s read in part", repo.full_name)
        found = dict(sorted(found.items())[:MAX_ADRS])
    stored = await store.decision_blobs(repo.id)
    gone = [p for p in stored if p not in found]
    todo = {p: sha for p, sha in found.items() if stored.get(p) != sha}
    if not todo and not gone:
        return 0
    parsed: list[tuple[str, Adr]] = []
    by_sha: dict[str, list[str]] = {}
    for path, sha in todo.items():
        by_sha.setdefault(sha, []).append(path)
    runner = analysis if analysis is not None else Inline()
    async for sha, data in source.blobs(list(by_sha)):
        adrs = await runner.run(_parse_adrs, [(path, data) for path in by_sha[sha]])
        parsed += [(sha, adr) for adr in adrs]
    await store.save_decisions(repo.id, parsed, gone)
    return len(parsed)


async def decision_inputs(
    store: Store,
    repo: Repository,
    source: Source,
    head: str,
    diffs: Sequence[FileDiff],
    history: DecisionHistory | None = None,
    *,
    analysis: Runner | None = None,
) -> DecisionInputs:
    """The log at base, the change's added lines, the ADRs related to the change, and the
    history (commits, pull requests) of the decisions that bind."""
    log = build_log(await store.decisions(repo.id))
    adr_paths = {a.path for a in log.records}
    dirs = {posixpath.dirname(p) for p in adr_paths}
    added: list[AddedFile] = []
    head_adrs: list[tuple[str, bytes]] = []  # parsed on ``analysis``: the pull request wrote them
    words: list[str] = []
    for diff in diffs:
        path = diff.new_path
        if path is None or not diff.added or diff.binary or diff.submodule:
            continue
        data = await source.file_at(head, path)
        if data is None or len(data) > MAX_ADDED_BYTES:
            continue
        if path in adr_paths or (posixpath.dirname(path) in dirs and path.endswith(".md")):
            head_adrs.append((path, data))
            continue
        reason = skip_reason(path, len(data), data[:8192])
        if reason not in (None, "unsupported") and not _manifest(path):
            continue  # binary, minified, generated: nothing a person added by hand
        text = data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        numbered = tuple(
            (n, lines[n - 1]) for lo, hi in diff.added for n in range(lo, min(hi, len(lines)) + 1)
        )
        added.append(AddedFile(path, numbered, text if _manifest(path) else ""))
        words += _WORDS.findall(path)
        words += [w for _, line in numbered for w in _WORDS.findall(line)]
    common = [w for w, _ in Counter(w.lower() for w in words).most_common(200)]
    relevant = await store.relevant_decisions(repo.id, common) if log.records else []
    binding = [a.path for a in log.binding if a.constraints]
    made = await history.of(binding) if history is not None and added else {}
    runner = analysis if analysis is not None else Inline()
    return DecisionInputs(
        log=log,
        added=tuple(added),
        relevant=tuple(relevant),
        head=tuple(await runner.run(_parse_adrs, head_adrs)) if head_adrs else (),
        history=made,
    )


def _parse_adrs(files: list[tuple[str, bytes]]) -> list[Adr]:
    """``parse_adr`` of each (path, bytes), in an analysis process."""
    return [parse_adr(path, data) for path, data in files]


def _manifest(path: str) -> bool:
    name = posixpath.basename(path)
    return name in MANIFESTS or name.startswith("requirements")
