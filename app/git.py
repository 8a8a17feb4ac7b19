"""Read a git repository: trees and blobs at a ref (never the working copy), diffs, merge bases.

Everything goes through the ``git`` executable; ``cat-file --batch`` streams blobs without a
process per file.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.errors import EnvironmentProblem, GitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# git's advice on a repository it refuses for its owner names the config key, in any language
_SAFE_DIRECTORY = re.compile(r"safe\.directory\s+(\S.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a tree: ``git ls-tree -r -l``."""

    mode: str
    kind: str  # "blob" | "commit" (a submodule) | "missing" (a blob this clone does not hold)
    sha: str
    size: int  # -1 for submodules
    path: str

    @property
    def is_symlink(self) -> bool:
        return self.mode == "120000"


class GitRepo:
    """A local git repository."""

    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        # The whole environment of its git commands, when set: a draft's commit lives in an
        # object directory of its own (``GIT_OBJECT_DIRECTORY``), the repository's as alternate.
        self.env = env

    @classmethod
    def discover(cls, path: Path) -> GitRepo:
        """The repository containing ``path``; GitError when there is none."""
        if not path.exists():
            raise GitError(f"{path} does not exist")
        if not path.is_dir():
            raise GitError(f"{path} is not a directory")
        out = _run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], check=False)
        if out.returncode != 0:
            refused = _SAFE_DIRECTORY.search(out.stderr.decode(errors="replace"))
            if refused:
                # git >= 2.35.2 refuses a repository another user owns (CVE-2022-24765)
                where = refused.group(1).strip().strip("'")
                raise GitError(
                    f"git refuses to read {where}: it is owned by another user (git's 'dubious "
                    "ownership' check); if you trust it: git config --global --add "
                    f"safe.directory {shlex.quote(where)}"
                )
            raise GitError(
                f"{path} is not a git repository (or any parent up to the filesystem root)"
            )
        return cls(Path(out.stdout.decode().strip()))

    def _git(self, *args: str, input: bytes | None = None) -> bytes:
        proc = _run(["git", "-C", str(self.root), *args], input=input, check=False, env=self.env)
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
        return proc.stdout

    def command(self, *args: str, input: bytes | None = None) -> bytes:
        """``git ARGS``'s output; GitError with git's last line of complaint when it fails."""
        return self._git(*args, input=input)

    def has_commits(self) -> bool:
        return (
            _run(
                ["git", "-C", str(self.root), "rev-parse", "-q", "--verify", "HEAD"],
                check=False,
                env=self.env,
            ).returncode
            == 0
        )

    def resolve(self, ref: str) -> str:
        """The commit sha a ref names; GitError naming the ref when it names none."""
        if ref == "HEAD" and not self.has_commits():
            raise GitError(f"{self.root} has no commits yet: nothing to index or review")
        proc = _run(
            [
                "git",
                "-C",
                str(self.root),
                "rev-parse",
                "-q",
                "--verify",
                "--end-of-options",
                f"{ref}^{{commit}}",
            ],
            check=False,
            env=self.env,
        )
        if proc.returncode != 0:
            raise GitError(f"unknown ref {ref!r} in {self.root}")
        return proc.stdout.decode().strip()

    def default_branch(self) -> str | None:
        """origin's HEAD branch, else a local main/master/trunk/develop; None when unknown."""
        proc = _run(
            [
                "git",
                "-C",
                str(self.root),
                "symbolic-ref",
                "-q",
                "--short",
                "refs/remotes/origin/HEAD",
            ],
            check=False,
            env=self.env,
        )
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.decode().strip()
        for name in ("main", "master", "trunk", "develop"):
            for ref in (f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
                if (
                    _run(
                        ["git", "-C", str(self.root), "show-ref", "-q", "--verify", ref],
                        check=False,
                        env=self.env,
                    ).returncode
                    == 0
                ):
                    return ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        return None

    def has_commit(self, sha: str) -> bool:
        """Whether the commit is in the repository (a shallow clone may lack it)."""
        args = ["git", "-C", str(self.root), "cat-file", "-e", f"{sha}^{{commit}}"]
        return _run(args, check=False, env=self.env).returncode == 0

    def fetch(self, sha: str, remote: str = "origin") -> None:
        """Fetch one commit (with its tree) from ``remote``; GitError saying why it failed."""
        self._git("fetch", "--quiet", "--no-tags", "--depth=1", remote, sha)

    def merge_base(self, a: str, b: str) -> str:
        out = _run(["git", "-C", str(self.root), "merge-base", a, b], check=False, env=self.env)
        if out.returncode != 0:
            raise GitError(f"{a} and {b} have no common ancestor; pass --base explicitly")
        return out.stdout.decode().strip()

    def tree(self, commit: str) -> list[TreeEntry]:
        """Every file of the commit's tree, recursively (submodules as kind "commit")."""
        out = self._git("ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha, size = meta.split()
            if kind == b"blob" and not size.isdigit():
                kind = b"missing"  # git printed "BAD": the clone lacks the object
            entries.append(
                TreeEntry(
                    mode=mode.decode(),
                    kind=kind.decode(),
                    sha=sha.decode(),
                    size=int(size) if size.isdigit() else -1,
                    path=raw_path.decode("utf-8", errors="replace"),
                )
            )
        return entries

    def blobs(self, shas: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Stream (sha, content) for the given blob shas with one ``git cat-file --batch``."""
        wanted = list(shas)
        if not wanted:
            return
        proc = subprocess.Popen(
            ["git", "-C", str(self.root), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # see _run
            env=self.env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            # Feed in chunks and read as we go, so neither pipe fills up and blocks the other.
            for start in range(0, len(wanted), 256):
                chunk = wanted[start : start + 256]
                proc.stdin.write("".join(f"{sha}\n" for sha in chunk).encode())
                proc.stdin.flush()
                for sha in chunk:
                    header = proc.stdout.readline().split()
                    if len(header) != 3:
                        raise GitError(f"git cat-file: object {sha} is missing")
                    size = int(header[2])
                    data = proc.stdout.read(size)
                    proc.stdout.read(1)  # the newline after each object
                    yield sha, data
        finally:
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()

    def file_at(self, commit: str, path: str) -> bytes | None:
        """A file's content at a commit, or None when it does not exist there."""
        proc = _run(
            ["git", "-C", str(self.root), "cat-file", "blob", f"{commit}:{path}"],
            check=False,
            env=self.env,
        )
        return proc.stdout if proc.returncode == 0 else None

    def log(self, *args: str) -> str:
        """``git log`` with ``args`` (the caller bounds it), as text."""
        return self._git("log", *args).decode("utf-8", errors="replace")

    def diff(self, base: str, head: str, *, context: int = 0) -> str:
        """``git diff --unified=0 -M`` of base..head, the input of ``analyzers.diff``.

        With ``context=3`` the hunks are GitHub's: the lines a review comment may target.
        """
        out = self._git(
            "-c",
            "core.quotePath=true",
            "diff",
            "--no-color",
            "--no-ext-diff",
            f"--unified={context}",
            "-M",
            "--submodule=short",
            base,
            head,
        )
        return out.decode("utf-8", errors="replace")


def _run(
    args: list[str],
    *,
    input: bytes | None = None,
    check: bool,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    try:
        # In a session of its own, git never sees the terminal's Ctrl-C: Cairn alone stops,
        # saying it was interrupted, instead of reporting the git command Ctrl-C killed.
        return subprocess.run(
            args,
            input=input,
            capture_output=True,
            check=check,
            start_new_session=True,
            env=env,
        )
    except FileNotFoundError as exc:
        raise EnvironmentProblem("git is not installed or not on PATH") from exc
