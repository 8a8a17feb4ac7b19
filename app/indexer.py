"""Index the git tree at a commit, incrementally: only blobs the index has never seen are parsed.

The tree switch is one transaction, so an interrupted index leaves the previous tree intact
(blobs already stored are reused by the next run). A per-repository advisory lock keeps two
processes from indexing the same repository at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from array import array
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO

from analyzers.files import skip_reason
from analyzers.imports import CONFIG_FILES, ProjectFiles, extract_imports, resolve
from analyzers.languages import language_for_path
from analyzers.parse import parse_file_and_tree
from analyzers.units import CodeUnit
from analyzers.words import file_words
from app.analysis import Analysis, Inline, Runner
from app.decisions import index_decisions
from app.errors import AnalysisError
from app.git import TreeEntry
from app.source import Source
from app.store import ParsedBlob, Repository, Store
from checks.config import MIN_TOKENS_FLOOR

logger = logging.getLogger(__name__)

# Below this many new blobs, worker processes cost more to start than they save.
PARALLEL_FROM = 200
# After storing this many units, refresh the planner's statistics: a first index leaves them
# empty, and the planner then joins 2,800 files as if they were 24 (0.3 s a query on Django).
ANALYZE_FROM = 2000
BATCH = 500  # blobs stored per transaction (in-process parsing)
CHUNK = 64  # blobs per task handed to a worker process
MAX_CONFIGS = 200  # go.mod/tsconfig.json files read per tree (a monorepo has a few dozen)


@dataclass(slots=True)
class IndexReport:
    """What an index run did."""

    commit: str
    files: int = 0  # source files in the indexed tree
    parsed: int = 0  # blobs parsed this run (the rest were already indexed)
    units: int = 0  # units stored this run
    skipped: Counter[str] = field(default_factory=Counter)  # reason → files
    seconds: float = 0.0

    def skipped_summary(self) -> str:
        if not self.skipped:
            return "none skipped"
        parts = [
            f"{n} {reason}" for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])
        ]
        return f"{sum(self.skipped.values())} skipped ({', '.join(parts)})"


def parse_blob(sha: str, path: str, data: bytes) -> ParsedBlob:
    """Parse one blob into stored units, or say why it was skipped. Runs in worker processes."""
    reason = skip_reason(path, len(data), data[:8192])
    if reason is not None:
        return ParsedBlob(sha=sha, language=None, lines=0, error_nodes=0, skipped=reason)
    result = parse_file_and_tree(path, data)
    if result is None:
        return ParsedBlob(sha=sha, language=None, lines=0, error_nodes=0, skipped="unsupported")
    parsed, tree = result
    units = [u for u in parsed.units if u.token_count >= MIN_TOKENS_FLOOR]
    return ParsedBlob(
        sha=sha,
        language=parsed.language,
        lines=parsed.lines,
        error_nodes=parsed.error_nodes,
        skipped=None,
        # Token streams as bytes: a tuple of ints per unit cost more to pickle from the
        # parsing process and back than the parsing of some files.
        units=tuple(replace(u, tokens=()) for u in units),
        streams=tuple(_packed(u.tokens) for u in units),
        imports=tuple(extract_imports(path, data, tree)),  # one parse serves both
        declarations=tuple(_declared(u) for u in parsed.units),
        # what `cairn mcp`'s query mode searches (Postgres full text)
        words=tuple(
            file_words(
                data.decode("utf-8", errors="replace"),
                [(u.name, u.start_line, u.end_line) for u in units],
            )
        )
        if units
        else (),
    )


def _packed(tokens: tuple[int, ...]) -> bytes:
    """Token ids as little-endian uint32, as the index stores them."""
    packed = array("I", tokens)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _declared(unit: CodeUnit) -> CodeUnit:
    """The unit as a declaration: its tokens are not kept (they cross process boundaries)."""
    return CodeUnit(
        kind=unit.kind,
        name=unit.name,
        qualname=unit.qualname,
        start_line=unit.start_line,
        end_line=unit.end_line,
        tokens=(),
        raw_hash=0,
        exact_hash=0,
        traits=unit.traits,
    )


def _parse_batch(items: list[tuple[str, str, bytes]]) -> list[ParsedBlob]:
    return [parse_blob(sha, path, data) for sha, path, data in items]


class Progress:
    """A one-line progress counter on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() and total > 0
        self._last = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\rindexing [{bar}] {self.done}/{self.total} files")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()


def select_sources(entries: Iterable[TreeEntry]) -> tuple[dict[str, TreeEntry], Counter[str]]:
    """The entries worth reading, by path; and what was passed over without reading, by reason."""
    chosen: dict[str, TreeEntry] = {}
    skipped: Counter[str] = Counter()
    for entry in entries:
        if entry.kind == "missing":
            skipped["missing"] += 1  # a partial or damaged clone: nothing to read
        elif entry.kind != "blob":
            skipped["submodule"] += 1
        elif entry.is_symlink:
            skipped["symlink"] += 1
        elif language_for_path(entry.path) is None:
            continue  # not source code: docs, data, images — not counted as skipped
        else:
            reason = skip_reason(entry.path, entry.size, b"")
            if reason is None:
                chosen[entry.path] = entry
            else:
                skipped[reason] += 1
    return chosen, skipped


async def index_commit(
    store: Store,
    repo: Repository,
    source: Source,
    commit: str,
    *,
    progress_stream: TextIO | None = None,
    decision_paths: Sequence[str] = (),
    analysis: Runner | None = None,
) -> IndexReport:
    """Bring the repository's index to ``commit``'s tree, parsing only unseen blobs (on
    ``analysis``'s bounded processes when given)."""
    started = time.monotonic()
    async with store.locked(repo.id):
        tree = await source.tree(commit)  # one listing serves the code and the ADRs
        report = await _index(store, repo, source, commit, tree, progress_stream, analysis)
        await index_decisions(
            store, repo, source, commit, decision_paths, tree=tree, analysis=analysis
        )
    report.seconds = time.monotonic() - started
    logger.info(
        "indexed %s at %s: %d files, %d parsed, %s",
        repo.full_name,
        commit[:12],
        report.files,
        report.parsed,
        report.skipped_summary(),
        extra={"repo": repo.full_name, "sha": commit},
    )
    return report


async def _index(
    store: Store,
    repo: Repository,
    source: Source,
    commit: str,
    entries: list[TreeEntry],
    progress_stream: TextIO | None,
    analysis: Runner | None = None,
) -> IndexReport:
    chosen, skipped = select_sources(entries)
    known = await store.known_blobs(repo.id)
    previous_tree = await store.tree(repo.id)
    todo: dict[str, str] = {}  # blob sha → one path it has (its language decides the parser)
    for path, entry in chosen.items():
        if entry.sha not in known:
            todo.setdefault(entry.sha, path)
    report = IndexReport(commit=commit, skipped=skipped)
    progress = Progress(len(todo), progress_stream)
    async for batch in _parsed(source, todo, progress, analysis):
        await store.save_blobs(repo.id, batch)
        report.parsed += len(batch)
        report.units += sum(len(b.units) for b in batch)
    tree = {p: e.sha for p, e in chosen.items()}
    await store.set_tree(repo.id, tree, commit)
    if report.parsed or tree != previous_tree:
        await update_imports(store, repo, source, commit, entries)
    if report.units >= ANALYZE_FROM:
        await store.analyze()
    by_content = await store.skipped(repo.id)
    report.skipped.update(by_content)
    report.files = len(chosen) - sum(by_content.values())
    return report


async def update_imports(
    store: Store, repo: Repository, source: Source, commit: str, entries: Iterable[TreeEntry]
) -> int:
    """Resolve the indexed tree's imports against it and store the graph by difference."""
    paths, configs = await project_paths(source, commit, entries)
    files = ProjectFiles.build(paths, configs)
    graph = [
        edge
        for path, imports in (await store.extracted_imports(repo.id)).items()
        for edge in resolve(path, imports, files)
    ]
    return await store.set_imports(repo.id, graph)


async def project_paths(
    source: Source, commit: str, entries: Iterable[TreeEntry]
) -> tuple[list[str], dict[str, bytes]]:
    """Source paths of a tree (what imports may resolve to) and its go.mod/tsconfig contents."""
    paths: list[str] = []
    configs: dict[str, bytes] = {}
    for entry in entries:
        if entry.kind != "blob":
            continue
        if language_for_path(entry.path) is not None:
            paths.append(entry.path)
        elif entry.path.rsplit("/", 1)[-1] in CONFIG_FILES and len(configs) < MAX_CONFIGS:
            data = await source.file_at(commit, entry.path)
            if data is not None:
                configs[entry.path] = data
    return paths, configs


async def _parsed(
    source: Source, todo: dict[str, str], progress: Progress, analysis: Runner | None = None
) -> AsyncIterator[list[ParsedBlob]]:
    """Parsed blobs in batches; in worker processes when there are many, parsing ahead while
    the caller stores the previous batch. With bounded ``analysis`` processes (the App), every
    blob is parsed there."""
    if analysis is not None and not isinstance(analysis, Inline):
        async for parsed in _bounded(source, todo, progress, analysis):
            yield parsed
        return
    if len(todo) < PARALLEL_FROM:
        batch: list[ParsedBlob] = []
        async for sha, data in source.blobs(list(todo)):
            batch.append(parse_blob(sha, todo[sha], data))
            progress.advance(1)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    # Many blobs and no processes given (the CLI's index and scan): processes of its own,
    # bounded like the App's, on every core.
    async with Analysis(min(os.cpu_count() or 1, 8)) as own:
        async for parsed in _bounded(source, todo, progress, own):
            yield parsed


async def _bounded(
    source: Source, todo: dict[str, str], progress: Progress, analysis: Runner
) -> AsyncIterator[list[ParsedBlob]]:
    """``_parsed`` on bounded analysis processes, parsing ahead: ``analysis.width`` chunks at
    a time, and as many more waiting (bounds memory)."""
    window = max(1, analysis.width) * 2
    pending: deque[asyncio.Task[list[ParsedBlob]]] = deque()
    chunk: list[tuple[str, str, bytes]] = []
    try:
        async for sha, data in source.blobs(list(todo)):
            chunk.append((sha, todo[sha], data))
            if len(chunk) >= CHUNK:
                pending.append(asyncio.create_task(_parse_bounded(analysis, chunk)))
                chunk = []
                if len(pending) >= window:
                    done = await pending.popleft()
                    progress.advance(len(done))
                    yield done
        if chunk:
            pending.append(asyncio.create_task(_parse_bounded(analysis, chunk)))
        while pending:
            done = await pending.popleft()
            progress.advance(len(done))
            yield done
    finally:
        for task in pending:
            task.cancel()


async def _parse_bounded(analysis: Runner, chunk: list[tuple[str, str, bytes]]) -> list[ParsedBlob]:
    """A chunk parsed in an analysis process; when that is killed, each blob on its own, and a
    blob that is killed alone is stored as skipped, with why."""
    try:
        return await analysis.run(_parse_batch, chunk)
    except AnalysisError:
        if len(chunk) == 1:
            raise
    out = []
    for sha, path, data in chunk:
        try:
            out.append(await analysis.run(parse_blob, sha, path, data))
        except AnalysisError as exc:
            logger.warning("%s not indexed: %s", path, exc.reason)
            out.append(
                ParsedBlob(sha=sha, language=None, lines=0, error_nodes=0, skipped="unparsable")
            )
    return out
