"""Errors raised at the edges (git, the database, the environment); see ``analyzers.errors``."""

from __future__ import annotations

from analyzers.errors import CairnError
from checks.config import ConfigError

__all__ = ["CairnError", "ConfigError", "EnvironmentProblem", "GitError"]


class EnvironmentProblem(CairnError):
    """Something outside Cairn is missing or unreachable (database, extension, git)."""


class GitError(CairnError):
    """A git command failed: not a repository, an unknown ref, a corrupt object."""
