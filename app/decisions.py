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

from analyzers.additions import additions, is_manifest, is_script, owners
from analyzers.adr import (
    AddedFile,
    Adr,
    DecisionInputs,
    DecisionLog,
    adr_dirs,
    build_log,
    is_adr_path,
    parse_adr,
)
from analyzers.adr_prose import REMOVED
from analyzers.adr_rules import Removal, Vocabulary
from analyzers.catalog import catalog
from analyzers.diff import FileDiff, parse_unified_diff
from analyzers.files import VENDORED_DIRECTORIES, skip_reason
from analyzers.languages import language_for_path
from app.analysis import Inline, Runner
from app.errors import GitError
from app.git import GitRepo, TreeEntry
from app.history import DecisionHistory
from app.source import LocalSource, Source
from app.store import Repository, Store

logger = logging.getLogger(__name__)

MAX_ADRS = 5000  # a log larger than this is read in part (and says so)
MAX_ADDED_BYTES = 1 << 20  # files larger than this at head are not read for additions
MAX_USAGE_FILES = 400  # manifests, scripts and CI files read at base to see what it uses
MAX_USAGE_BYTES = 512 * 1024
MAX_EVIDENCE = 20  # records whose own change is read (those that remove something)
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


async def decision_log_at(
    store: Store, repo: Repository, source: Source, base: str | None
) -> DecisionLog:
    """The stored log read with what the repository says at ``base``: its vocabulary, what it
    uses (stale decisions), and what each "remove" decision's own change removed."""
    records = await store.decisions(repo.id)
    if base is None or not any(_decides(a) for a in records):
        return build_log(records)
    usage, names = await base_usage(store, repo, source, base)
    removals = await decision_removals(source, base, records)
    for removal in removals.values():
        names |= {name.lower() for _, name, _ in removal.dependencies}
    return build_log(
        records, vocabulary=Vocabulary(frozenset(names)), usage=usage, removals=removals
    )


def _decides(a: Adr) -> bool:
    return a.status == "accepted" and any(m.stance != "mentioned" for m in a.mentions)


async def base_usage(
    store: Store, repo: Repository, source: Source, base: str
) -> tuple[dict[str, frozenset[str]], set[str]]:
    """What the base uses, by technology (and by name): the files of its manifests, scripts,
    CI and configuration, and the imports the index holds. Also its package names."""
    cat = catalog()
    found: dict[str, set[str]] = {}
    names: set[str] = set()
    tree = [e for e in await source.tree(base) if e.kind == "blob" and not e.is_symlink]
    tree = [e for e in tree if not set(e.path.split("/")[:-1]) & VENDORED_DIRECTORIES]
    for e in tree:
        for tech in cat.file_owners(e.path):
            found.setdefault(tech, set()).add(e.path)
    wanted = [e for e in tree if is_manifest(e.path) or is_script(e.path) or _compose(e.path)]
    wanted = sorted(wanted, key=lambda e: (e.path.count("/"), e.path))[:MAX_USAGE_FILES]
    by_sha: dict[str, list[str]] = {}
    for e in wanted:
        by_sha.setdefault(e.sha, []).append(e.path)
    async for sha, data in source.blobs(list(by_sha)):
        if len(data) > MAX_USAGE_BYTES:
            continue
        text = data.decode("utf-8", errors="replace")
        lines = tuple(enumerate(text.split("\n"), start=1))
        for path in by_sha[sha]:
            for added in additions(path, lines, text):
                if added.kind == "dependency":
                    names.add(added.name.lower())
                found.setdefault("name:" + added.name.lower(), set()).add(path)
                for tech in owners(added, cat):
                    found.setdefault(tech, set()).add(path)
    for r in await store.imports(repo.id):
        if r.package is None:
            continue
        names.add(r.package.lower())
        language = language_for_path(r.path)
        found.setdefault("name:" + r.package.lower(), set()).add(r.path)
        for tech in cat.import_owners(language.name, r.name) if language else ():
            found.setdefault(tech, set()).add(r.path)
    return {k: frozenset(v) for k, v in found.items()}, names


def _compose(path: str) -> bool:
    name = posixpath.basename(path).lower()
    return "compose" in name and name.endswith((".yml", ".yaml"))


async def decision_removals(
    source: Source, base: str, records: Sequence[Adr]
) -> dict[str, Removal]:
    """For each accepted record that removes a technology: what the change that added it (the
    merge that brought it, else its commit) removed. Read from git (the CLI and the Action)."""
    if not isinstance(source, LocalSource):
        return {}  # the App reads no history diffs through GitHub's API
    git = source.git
    out: dict[str, Removal] = {}
    todo = [a for a in records if a.status == "accepted"]
    todo = [a for a in todo if any(m.stance == REMOVED for m in a.mentions)][:MAX_EVIDENCE]
    for a in todo:
        try:
            sha = git.log(
                "--first-parent", "--diff-merges=first-parent", "--diff-filter=A",
                "--format=%H", base, "--", a.path,
            ).split()  # fmt: skip
            if not sha:
                continue
            made = sha[-1]
            parent = git.resolve(made + "^1")
            diffs = parse_unified_diff(git.diff(parent, made))
        except GitError:
            continue
        out[a.path] = _removal(git, parent, made, diffs)
    return out


def _removal(git: GitRepo, parent: str, made: str, diffs: Sequence[FileDiff]) -> Removal:
    """What a change removed: dependencies (not those it only re-pinned), imports, files."""
    deps: list[tuple[str, str, str]] = []
    imports: list[tuple[str, str, str]] = []
    deleted: list[str] = []
    kept_names: set[str] = set()
    for d in diffs[:500]:
        if d.status == "deleted" and d.old_path:
            deleted.append(d.old_path)
        if d.binary:
            continue
        for side, path, ranges in ((parent, d.old_path, d.removed), (made, d.new_path, d.added)):
            language = language_for_path(path) if path else None
            if path is None or not ranges or not (is_manifest(path) or language):
                continue
            data = git.file_at(side, path)
            if data is None or len(data) > MAX_ADDED_BYTES:
                continue
            text = data.decode("utf-8", errors="replace")
            lines = text.split("\n")
            numbered = tuple(
                (n, lines[n - 1]) for lo, hi in ranges for n in range(lo, min(hi, len(lines)) + 1)
            )
            for item in additions(path, numbered, text):
                if side == made:
                    kept_names.add(item.name.lower())
                elif item.kind == "dependency":
                    deps.append((item.ecosystem, item.name, path))
                elif item.kind == "import" and language is not None:
                    imports.append((language.name, item.name, path))
    deps = [(e, n, p) for e, n, p in deps if n.lower() not in kept_names]
    imports = [(lang, m, p) for lang, m, p in imports if m.lower() not in kept_names]
    return Removal(tuple(deps), tuple(imports), tuple(deleted), made[:10])


async def decision_inputs(
    store: Store,
    repo: Repository,
    source: Source,
    head: str,
    diffs: Sequence[FileDiff],
    history: DecisionHistory | None = None,
    base: str | None = None,
    *,
    analysis: Runner | None = None,
) -> DecisionInputs:
    """The log at base, the change's added lines, the ADRs related to the change, and the
    history (commits, pull requests) of the decisions that bind."""
    log = await decision_log_at(store, repo, source, base)
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
        whole = text if _manifest(path) or _compose(path) else ""
        added.append(AddedFile(path, numbered, whole, new=diff.old_path is None))
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
    return is_manifest(path)
