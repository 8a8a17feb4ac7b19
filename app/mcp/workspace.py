"""What the MCP tools read: one repository's index at a commit, its configuration and code.

Over stdio (``cairn mcp --repo PATH --ref REF``) a workspace is a local checkout: the index is
brought to REF when the server starts and again when REF moves (an agent's commit), only the
blobs never seen before parsed. Over HTTP (``cairn serve``'s ``/mcp``) it is a repository the
App indexed, read from the index alone: what needs the repository's own git (``why``,
``review_change``) says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzers.candidates import StreamIndex
from analyzers.words import file_words
from app.analysis import Runner
from app.clones import BASE_INDEXES, default_workers
from app.errors import CairnError
from app.git import GitRepo
from app.indexer import index_commit
from app.source import LocalSource
from app.store import Repository, Store
from app.store.database import Pool
from app.store.mcp import McpStore
from checks.config import CONFIG_FILE, CairnConfig, ConfigError, load_config, parse_config

logger = logging.getLogger(__name__)

WORDS_BATCH = 2_000  # units worded per round trip
CACHED_FILES = 256  # files of the commit kept for the units' source


class ToolFailure(CairnError):
    """A tool cannot answer: bad input, an unknown path, a repository it cannot read. The
    message is for the agent; the server goes on."""


@dataclass(slots=True)
class Workspace:
    """One repository, its index at ``commit`` and how to read its files."""

    store: Store
    words: McpStore
    repo: Repository
    commit: str
    config_text: str | None
    analysis: Runner
    git: GitRepo | None = None  # a local checkout; None over HTTP
    env: Mapping[str, str] = field(default_factory=dict)
    ref: str = "HEAD"
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _engine_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # what one commit's calls share: the probe index of its units (by settings), its files
    _engines: dict[tuple[str, int], StreamIndex] = field(default_factory=dict)
    _files: OrderedDict[tuple[str, str], bytes | None] = field(default_factory=OrderedDict)
    memo: dict[tuple[str, ...], Any] = field(default_factory=dict)  # per commit: mined rules

    async def engine(self, min_tokens: int) -> StreamIndex:
        """The in-memory index of the commit's units of ``min_tokens`` or more (the one the
        duplication check probes), kept while the commit stays the same."""
        key = (self.commit, min_tokens)
        async with self._engine_lock:  # one build at a time (the warm-up and a first call)
            found = self._engines.get(key)
            if found is None:
                self._engines.clear()
                found = await BASE_INDEXES.engine(
                    self.store, self.repo.id, min_tokens=min_tokens, workers=default_workers()
                )
                self._engines[key] = found
        return found

    @property
    def name(self) -> str:
        return self.repo.full_name

    def config(self) -> CairnConfig:
        """``.cairn.yml`` at the commit, section by section (a broken section: defaults)."""
        try:
            return load_config(self.config_text)
        except ConfigError:
            return CairnConfig()

    def review_config(self) -> CairnConfig:
        """``.cairn.yml`` at the commit as ``cairn review`` reads it: every problem an error."""
        try:
            return parse_config(self.config_text)
        except ConfigError as exc:
            raise ToolFailure(
                f"{CONFIG_FILE} at {self.commit[:10]} is invalid (cairn review stops on it too): "
                + "; ".join(exc.described)
            ) from exc

    def checkout(self, what: str) -> GitRepo:
        """The local checkout, or ToolFailure saying ``what`` needs one."""
        if self.git is None:
            raise ToolFailure(
                f"{what} reads the repository's git history and files: run `cairn mcp --repo "
                "PATH` (stdio) on a checkout of it"
            )
        return self.git

    async def file(self, path: str) -> bytes | None:
        """A file's bytes at the commit; None when it is not there (or cannot be read here)."""
        if self.git is None:
            return None
        key = (self.commit, path)
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        data = await asyncio.to_thread(self.git.file_at, self.commit, path)
        self._files[key] = data
        while len(self._files) > CACHED_FILES:
            self._files.popitem(last=False)
        return data

    async def warm(self, min_tokens: int) -> None:
        """Index, then build the probe index of ``min_tokens``+ units and sort its buckets, so
        the first call answers as fast as the next ones."""
        await self.refresh()
        engine = await self.engine(min_tokens)
        await asyncio.to_thread(engine.buckets)

    async def refresh(self) -> None:
        """Bring the index to the ref when it moved (a local checkout only)."""
        if self.git is None:
            return
        async with self._lock:
            commit = await asyncio.to_thread(self.git.resolve, self.ref)
            row = await self.words.indexed_repository(self.repo.id)
            if commit == self.commit and row is not None and row[1] == commit:
                return
            await self._index(commit)

    async def _index(self, commit: str) -> None:
        assert self.git is not None
        raw = await asyncio.to_thread(self.git.file_at, commit, CONFIG_FILE)
        self.config_text = raw.decode("utf-8", errors="replace") if raw is not None else None
        paths = self.config().decisions.paths
        source = LocalSource(self.git)
        await index_commit(
            self.store, self.repo, source, commit, decision_paths=paths, analysis=self.analysis
        )
        self.commit = commit
        self.memo.clear()
        await word_units(self.words, self.repo.id, self.git)


async def open_local(
    pool: Pool,
    path: Path,
    ref: str,
    analysis: Runner,
    env: Mapping[str, str],
    *,
    index: bool = True,
) -> Workspace:
    """The workspace of a local checkout, its index brought to ``ref`` (``index=False``: by
    its first ``refresh``, which every call makes)."""
    git = GitRepo.discover(path)
    git.resolve(ref)  # an unknown ref fails here, before anything is served
    store = Store(pool)
    repo = await store.repository(f"local:{git.root}", default_branch=git.default_branch())
    ws = Workspace(
        store=store,
        words=McpStore(pool),
        repo=repo,
        commit="",
        config_text=None,
        analysis=analysis,
        git=git,
        env=env,
        ref=ref,
    )
    if index:
        await ws.refresh()
    return ws


async def open_indexed(pool: Pool, repo_id: int, analysis: Runner) -> Workspace:
    """The workspace of a repository the App indexed (HTTP): the index only."""
    words = McpStore(pool)
    row = await words.indexed_repository(repo_id)
    if row is None or row[1] is None:
        name = row[0] if row is not None else f"repository {repo_id}"
        raise ToolFailure(f"{name} has not been indexed yet: nothing to answer from")
    repo = Repository(id=repo_id, full_name=row[0], indexed_sha=row[1])
    return Workspace(
        store=Store(pool),
        words=words,
        repo=repo,
        commit=row[1],
        config_text=None,
        analysis=analysis,
    )


async def word_units(words: McpStore, repo_id: int, git: GitRepo) -> int:
    """Store the words of every unit of the indexed tree that has none yet (indexing stores
    them with the units; these are blobs indexed before it did); how many."""
    todo = await words.units_without_words(repo_id)
    if not todo:
        return 0
    by_blob: dict[str, list[tuple[int, str, int, int]]] = {}
    for u in todo:
        by_blob.setdefault(u.blob_sha, []).append((u.ordinal, u.name, u.start_line, u.end_line))

    def compute() -> list[tuple[str, int, str, str]]:
        out: list[tuple[str, int, str, str]] = []
        for sha, data in git.blobs(list(by_blob)):
            units = by_blob[sha]
            found = file_words(
                data.decode("utf-8", errors="replace"), [(n, s, e) for _, n, s, e in units]
            )
            for (ordinal, _, _, _), (head, body) in zip(units, found, strict=True):
                out.append((sha, ordinal, head, body))
        return out

    found = await asyncio.to_thread(compute)
    for start in range(0, len(found), WORDS_BATCH):
        await words.save_words(repo_id, found[start : start + WORDS_BATCH])
    logger.info("worded %d units", len(found), extra={"repo": repo_id})
    return len(found)
