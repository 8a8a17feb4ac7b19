"""What publishing works with: the pull request under review, the policy's constants, and
what a publication did (``PublishReport``) or plans to do (``Plan``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.github import CommentDraft
from checks.finding import Finding

#: The checks, each with its own check run named ``cairn/<check>``.
CHECKS = ("duplication", "patterns", "decisions")
#: The least severity that fails each check's run, or "never".
DEFAULT_FAIL_ON: Mapping[str, str] = MappingProxyType(
    {"duplication": "never", "patterns": "error", "decisions": "error"}
)
#: Inline comments per push; the rest are summarised in the review's body.
MAX_COMMENTS = 25
#: Characters of a check run's summary, and of a comment or review body:
#: https://docs.github.com/en/rest/checks/runs#update-a-check-run
MAX_OUTPUT = 65_535
GITHUB_WEB = "https://github.com"

#: The hidden marker in each of Cairn's comments: the finding's fingerprint.
FINDING_MARKER = re.compile(r"<!-- cairn:finding (\S+) -->")
#: The hidden marker of a "Fixed in" reply: the finding's fingerprint and the fixing head.
FIXED_MARKER = re.compile(r"<!-- cairn:fixed (\S+) (\S+) -->")


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    """The pull request at the head under review."""

    repo_id: int
    full_name: str  # "owner/name"
    number: int
    base_sha: str
    head_sha: str
    installation_id: int


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What ``finish`` did with the findings, by fate."""

    posted: int = 0  # new inline comments
    kept: int = 0  # commented on an earlier push (or attempt): not posted again
    fixed: int = 0  # gone on this head: replied to, thread resolved, recorded fixed
    unresolved: int = 0  # of those, threads GitHub would not let Cairn resolve (left open)
    suppressed: int = 0  # silenced by a suppression: listed in the summaries only
    outside_diff: int = 0  # not on lines of the diff: check runs only
    summarised: int = 0  # over the comment cap: in the review's body and the check runs
    outdated: bool = False  # the pull request moved on: check runs only, nothing commented


@dataclass(slots=True)
class Plan:
    """The active findings of one push, by what publishing does with them."""

    kept: list[Finding] = dataclasses.field(default_factory=list)  # commented before
    new: list[tuple[Finding, CommentDraft]] = dataclasses.field(default_factory=list)
    outside: list[Finding] = dataclasses.field(default_factory=list)  # not on the diff's lines
    over: list[Finding] = dataclasses.field(default_factory=list)  # over the comment cap


def run_name(check: str) -> str:
    """The check run's name: ``cairn/<check>``."""
    return f"cairn/{check}"
