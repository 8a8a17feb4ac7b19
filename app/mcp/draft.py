"""A draft of a change as a real commit, so ``review_change`` runs ``cairn review``'s review.

An agent's draft (files with their new contents, or a unified diff) becomes a commit on the
indexed base, built by git itself in an object directory of its own (a temporary directory;
the repository's objects are its alternate): nothing is written to the repository, and the
review reads it through the same ``LocalSource`` and ``git diff`` as ``cairn review --base
BASE --head DRAFT`` would. Its findings are those, fingerprints and messages alike.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.errors import CairnError, GitError
from app.git import GitRepo

MAX_DRAFT_FILES = 200
MAX_DRAFT_BYTES = 8 << 20  # of contents, or of the diff
ZERO = "0" * 40
# The draft commit's identity: fixed, so git never asks for a user's, and never a real person
_IDENTITY = {
    "GIT_AUTHOR_NAME": "cairn mcp",
    "GIT_AUTHOR_EMAIL": "draft@cairn.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "cairn mcp",
    "GIT_COMMITTER_EMAIL": "draft@cairn.invalid",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}
# What would point git elsewhere than the repository and the draft's own directory
_DROPPED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")


class DraftError(CairnError):
    """The draft cannot be built: a bad path, binary content, a diff that does not apply."""


@dataclass(frozen=True, slots=True)
class DraftFile:
    """A file's new content; None deletes it."""

    path: str
    content: str | None


def clean_path(path: str) -> str:
    """A repository-relative POSIX path, or DraftError saying what is wrong with it."""
    if not isinstance(path, str) or not path.strip():
        raise DraftError("a file needs a path relative to the repository's root")
    if "\0" in path or "\n" in path:
        raise DraftError(f"{path!r} is not a usable path")
    norm = posixpath.normpath(path.replace("\\", "/").strip())
    if norm.startswith("/") or norm == "." or norm.startswith("../") or norm == "..":
        raise DraftError(f"{path!r} is outside the repository: give a path relative to its root")
    if ".git" in norm.split("/"):
        raise DraftError(f"{path!r} is inside .git")
    return norm


def check_text(what: str, content: str, limit: int) -> bytes:
    """``content`` as UTF-8, or DraftError for binary content or content over ``limit``."""
    if "\0" in content:
        raise DraftError(f"{what} is binary (it holds NUL characters): give source text")
    data = content.encode("utf-8", errors="surrogatepass")
    if len(data) > limit:
        raise DraftError(f"{what} is {len(data):,} bytes, over the {limit:,} a draft may hold")
    return data


@contextmanager
def draft_commit(
    git: GitRepo,
    base: str,
    env: Mapping[str, str],
    *,
    files: Sequence[DraftFile] = (),
    diff: str | None = None,
) -> Iterator[tuple[GitRepo, str]]:
    """(a GitRepo that sees the draft, the draft's commit) for the span of the ``with``: base
    with ``files`` written (or ``diff`` applied) on it."""
    if bool(files) == (diff is not None):
        raise DraftError("give either files (path and content each) or a unified diff")
    if len(files) > MAX_DRAFT_FILES:
        raise DraftError(f"{len(files)} files: a draft holds at most {MAX_DRAFT_FILES}")
    objects = _objects_dir(git)
    with tempfile.TemporaryDirectory(prefix="cairn-draft-") as tmp:
        own = Path(tmp)
        (own / "objects").mkdir()
        draft_env = {k: v for k, v in env.items() if k not in _DROPPED}
        draft_env.update(_IDENTITY)
        draft_env["GIT_OBJECT_DIRECTORY"] = str(own / "objects")
        draft_env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(objects)
        draft_env["GIT_INDEX_FILE"] = str(own / "index")
        draft = GitRepo(git.root, env=draft_env)
        draft.command("read-tree", base)
        if diff is not None:
            patch = check_text("the diff", diff, MAX_DRAFT_BYTES)
            if not patch.strip():
                raise DraftError("the diff is empty")
            try:
                draft.command("apply", "--cached", "--whitespace=nowarn", "-", input=patch)
            except GitError as exc:
                raise DraftError(f"the diff does not apply to the indexed base: {exc}") from exc
        else:
            _write_files(draft, base, files)
        tree = draft.command("write-tree").decode().strip()
        commit = draft.command("commit-tree", tree, "-p", base, "-m", "draft").decode().strip()
        yield draft, commit


def _write_files(draft: GitRepo, base: str, files: Sequence[DraftFile]) -> None:
    modes = {e.path: e.mode for e in draft.tree(base) if e.kind == "blob"}
    total = 0
    lines: list[str] = []
    seen: set[str] = set()
    for f in files:
        path = clean_path(f.path)
        if path in seen:
            raise DraftError(f"{path} is given twice")
        seen.add(path)
        if f.content is None:
            if path not in modes:
                raise DraftError(f"{path} does not exist at the indexed base: nothing to delete")
            lines.append(f"0 {ZERO}\t{path}")
            continue
        data = check_text(path, f.content, MAX_DRAFT_BYTES - total)
        total += len(data)
        sha = draft.command("hash-object", "-w", "--no-filters", "--stdin", input=data)
        mode = modes.get(path, "100644")
        if mode == "120000":
            mode = "100644"  # a symlink's draft content is a file's
        lines.append(f"{mode} {sha.decode().strip()}\t{path}")
    try:
        draft.command("update-index", "--index-info", input="\n".join(lines).encode() + b"\n")
    except GitError as exc:
        raise DraftError(f"git refused a path of the draft: {exc}") from exc


def _objects_dir(git: GitRepo) -> Path:
    out = git.command("rev-parse", "--git-path", "objects").decode().strip()
    path = Path(out)
    return path if path.is_absolute() else (git.root / path).resolve()
