"""The few git operations the benchmarks need, with a fixed identity and fixed dates.

Cairn reads the git tree at a ref, so every corpus and every generated benchmark becomes a
repository. Commits use a fixed author and date so that the same input gives the same shas.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

BASE_TAG = "corpus-base"

_IDENTITY = {
    "GIT_AUTHOR_NAME": "cairn-bench",
    "GIT_AUTHOR_EMAIL": "bench@cairn.invalid",
    "GIT_COMMITTER_NAME": "cairn-bench",
    "GIT_COMMITTER_EMAIL": "bench@cairn.invalid",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its standard output, stripped."""
    env = {**os.environ, **_IDENTITY}
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return done.stdout.strip()


def init(repo: Path) -> None:
    """Create an empty repository on branch ``main``."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "--quiet", "--initial-branch=main")


def commit_all(repo: Path, message: str) -> str:
    """Stage everything in the working tree, commit it and return the new sha."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return head(repo)


def head(repo: Path, ref: str = "HEAD") -> str:
    """The commit sha a ref points to."""
    return git(repo, "rev-parse", ref)


def has_tag(repo: Path, tag: str) -> bool:
    """Whether the repository exists and has this tag."""
    if not (repo / ".git").is_dir():
        return False
    return bool(git(repo, "tag", "--list", tag))


def reset_to_base(repo: Path) -> str:
    """Put the repository back on ``main`` at the corpus commit, dropping bench commits."""
    git(repo, "checkout", "--quiet", "--force", "main")
    git(repo, "reset", "--quiet", "--hard", BASE_TAG)
    git(repo, "clean", "--quiet", "-fdx")
    for branch in git(repo, "branch", "--format=%(refname:short)").splitlines():
        if branch != "main":
            git(repo, "branch", "--quiet", "-D", branch)
    return head(repo)
