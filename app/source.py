"""Where a review reads code from: a local git repository, or GitHub's API (the App's worker).

The pipeline (index, diff, changed units) sees only this protocol, so the CLI, the Action and
the App run the same code with different edges.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol

from analyzers.diff import FileDiff, parse_patch, parse_unified_diff
from app.git import GitRepo, TreeEntry

if TYPE_CHECKING:  # GitHub's client is loaded only by the commands that call GitHub
    from app.github import Installation, PullFile

# Blobs fetched at once from GitHub: enough to hide latency, few enough to stay polite
# (GitHub asks integrations not to make many concurrent requests).
BLOB_CONCURRENCY = 8
# A file whose patch GitHub leaves out (too large) counts as changed everywhere; no line of it
# can carry a review comment (GitHub answers 422: the line is not part of the diff).
WHOLE_FILE = ((1, 1 << 30),)


class Source(Protocol):
    """Read-only access to a repository's commits."""

    async def tree(self, commit: str) -> list[TreeEntry]:
        """Every file of the commit's tree, recursively."""
        ...

    def blobs(self, shas: Sequence[str]) -> AsyncIterator[tuple[str, bytes]]:
        """(sha, content) of each blob, in any order."""
        ...

    async def file_at(self, commit: str, path: str) -> bytes | None:
        """A file's content at a commit; None when it does not exist there."""
        ...

    async def diff(self, base: str, head: str) -> list[FileDiff]:
        """What changed from base to head, file by file."""
        ...


class LocalSource:
    """A git repository on this machine (the CLI and the Action)."""

    def __init__(self, git: GitRepo) -> None:
        self.git = git

    async def tree(self, commit: str) -> list[TreeEntry]:
        return self.git.tree(commit)

    async def blobs(self, shas: Sequence[str]) -> AsyncIterator[tuple[str, bytes]]:
        for sha, data in self.git.blobs(shas):
            yield sha, data

    async def file_at(self, commit: str, path: str) -> bytes | None:
        return self.git.file_at(commit, path)

    async def diff(self, base: str, head: str) -> list[FileDiff]:
        return parse_unified_diff(self.git.diff(base, head))


class GitHubSource:
    """A repository read through GitHub's API: the App's worker needs no clone.

    What is fetched, and why it is the cheapest way: the base tree in one recursive git-trees
    call, then only the blobs the index has never seen (it is content-addressed, so after the
    first index a push costs a handful of blobs); the change from the pull request's files,
    whose patches give the changed lines without a compare call; head contents only for the
    files the pull request touches, by blob sha (cacheable, and one call each).
    """

    def __init__(self, gh: Installation, repo: str, head: str, files: Sequence[PullFile]) -> None:
        self.gh = gh
        self.repo = repo
        self.head = head
        self.files = list(files)
        self._head_blobs = {f.path: f.sha for f in self.files if f.sha and f.status != "removed"}

    async def tree(self, commit: str) -> list[TreeEntry]:
        items = await self.gh.tree(self.repo, commit)
        return [
            TreeEntry(mode=i.mode, kind=i.type, sha=i.sha, size=i.size or 0, path=i.path)
            for i in items
            if i.type in ("blob", "commit")
        ]

    async def blobs(self, shas: Sequence[str]) -> AsyncIterator[tuple[str, bytes]]:
        gate = asyncio.Semaphore(BLOB_CONCURRENCY)

        async def one(sha: str) -> tuple[str, bytes]:
            async with gate:
                return sha, await self.gh.blob(self.repo, sha)

        for start in range(0, len(shas), 64):  # bounded: a first index may need thousands
            for done in asyncio.as_completed([one(sha) for sha in shas[start : start + 64]]):
                yield await done

    async def file_at(self, commit: str, path: str) -> bytes | None:
        if commit == self.head and path in self._head_blobs:
            return await self.gh.blob(self.repo, self._head_blobs[path])
        return await self.gh.file_at(self.repo, commit, path)

    async def diff(self, base: str, head: str) -> list[FileDiff]:
        return [_file_diff(f) for f in self.files]


def _file_diff(f: PullFile) -> FileDiff:
    old = f.previous_path or f.path
    if f.patch is None:
        # Binary, or a diff too large for GitHub to include: review the whole file, comment
        # on none of it (its findings go to the check runs).
        binary = f.additions == 0 and f.deletions == 0 and f.status != "renamed"
        return FileDiff(
            old_path=None if f.status == "added" else old,
            new_path=None if f.status == "removed" else f.path,
            status={"removed": "deleted"}.get(f.status, f.status),
            binary=binary,
            added=() if binary else WHOLE_FILE,
            hunks=(),
        )
    return parse_patch(f.patch, old_path=old, new_path=f.path, status=f.status)
