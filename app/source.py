"""Where a review reads code from: a local git repository, or GitHub's API (the App's worker).

The pipeline (index, diff, changed units) sees only this protocol, so the CLI, the Action and
the App run the same code with different edges.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from analyzers.diff import FileDiff, parse_unified_diff
from app.git import GitRepo, TreeEntry


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
