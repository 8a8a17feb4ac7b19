"""The decision history: which commits and pull requests added or changed a file.

In the CLI and the Action it is read from the git log (the merges that brought a change to the
default branch, and the commits themselves); in the App, from the merged pull requests the App
records (``pull_requests``). Both are bounded: a few hundred commits, the newest first.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from analyzers.adr import HistoryEntry
from app.errors import GitError
from app.git import GitRepo
from app.source import LocalSource, Source
from app.store import Repository, Store
from app.store import history as recorded
from app.store.database import Pool

logger = logging.getLogger(__name__)

MAX_COMMITS = 300  # commits read per git log call
MAX_ENTRIES = 10  # kept per file
_PR_MERGE = re.compile(r"^Merge pull request #(\d+)\b")
_PR_SQUASH = re.compile(r"^(.*\S)\s+\(#(\d+)\)\s*$")
_RECORD, _FIELD, _END = "\x1e", "\x1f", "\x1d"
_FORMAT = f"--format={_RECORD}%H{_FIELD}%ad{_FIELD}%s{_FIELD}%b{_END}"
_VERBS = {"A": "added", "M": "changed", "D": "deleted", "R": "renamed", "C": "copied"}


class DecisionHistory(Protocol):
    """Per file, the commits or pull requests that added or changed it, newest first."""

    async def of(self, paths: Sequence[str]) -> dict[str, tuple[HistoryEntry, ...]]: ...


class GitHistory:
    """The git log up to ``commit``: merges on the first-parent line, then the commits."""

    def __init__(self, git: GitRepo, commit: str) -> None:
        self.git = git
        self.commit = commit

    async def of(self, paths: Sequence[str]) -> dict[str, tuple[HistoryEntry, ...]]:
        """The history of ``paths``; none when git cannot walk it (a clone missing objects).

        The history is evidence for a finding, never a condition of the review."""
        if not paths:
            return {}
        try:
            return self._of(paths)
        except GitError as exc:
            logger.warning("decision history not read: %s", exc)
            return {}

    def _of(self, paths: Sequence[str]) -> dict[str, tuple[HistoryEntry, ...]]:
        wanted = set(paths)
        # The directories, not thousands of paths, on the command line; filtered below.
        where = sorted({posixpath.dirname(p) or "." for p in paths})
        found: dict[str, list[HistoryEntry]] = {}
        merges = self.git.log(
            *LOG_ARGS,
            "--first-parent",
            "--merges",
            "--diff-merges=first-parent",
            self.commit,
            "--",
            *where,
        )
        commits = self.git.log(*LOG_ARGS, "--no-merges", self.commit, "--", *where)
        debated: list[tuple[HistoryEntry, str]] = []
        numbers = _numbers(paths)
        if numbers:  # the commits (merges included) whose message names a decision
            named = self.git.log(
                *FORMAT_ARGS, "-n", str(MAX_COMMITS), "-i", "-E",
                f"--grep={_mention_pattern(numbers, posix=True)}", self.commit,
            )  # fmt: skip
            for sha, date, subject, body, _ in parse_log(named):
                for path in _mentioned(f"{subject}\n{body}", numbers):
                    entry = commit_entry(sha, date, subject, body, "")
                    debated.append((_mentions(entry, numbers, path), path))
        for entry, path in [*_parse(merges, wanted), *_parse(commits, wanted), *debated]:
            same = found.setdefault(path, [])
            if len(same) < MAX_ENTRIES and all(e.ref != entry.ref for e in same):
                same.append(entry)
        return {p: tuple(sorted(e, key=_newest)) for p, e in found.items()}


class PullRequestHistory:
    """The merged pull requests the App recorded, by the files they changed."""

    def __init__(self, pool: Pool, repo_id: int) -> None:
        self.pool = pool
        self.repo_id = repo_id

    async def of(self, paths: Sequence[str]) -> dict[str, tuple[HistoryEntry, ...]]:
        if not paths:
            return {}
        numbers = _numbers(paths)
        rows = await recorded.touching(
            self.pool,
            self.repo_id,
            paths,
            _mention_pattern(numbers, posix=False) if numbers else "",
        )
        wanted = set(paths)
        found: dict[str, list[HistoryEntry]] = {}
        for r in rows:
            date = f"{r.merged_at:%Y-%m-%d}" if r.merged_at is not None else ""
            changed = wanted.intersection(r.files)
            mentioned = _mentioned(f"{r.title}\n{r.body}", numbers) - changed
            for path in sorted(changed | mentioned):
                same = found.setdefault(path, [])
                if len(same) < MAX_ENTRIES:
                    entry = HistoryEntry("pull-request", str(r.number), r.title, date, "")
                    same.append(
                        _mentions(entry, numbers, path)
                        if path in mentioned
                        else _with_reason(entry, f"changed {path}")
                    )
        return {p: tuple(e) for p, e in found.items()}


def history_for(store: Store, repo: Repository, source: Source, commit: str) -> DecisionHistory:
    """The git log for a local checkout (CLI, Action); the recorded pull requests otherwise."""
    if isinstance(source, LocalSource):
        return GitHistory(source.git, commit)
    return PullRequestHistory(store.pool, repo.id)


def commit_entry(sha: str, date: str, subject: str, body: str, reason: str) -> HistoryEntry:
    """A commit as history: a pull request when its subject says it merged one."""
    merged = _PR_MERGE.match(subject)
    if merged:
        title = body.strip().split("\n", 1)[0].strip() or subject
        return HistoryEntry("pull-request", merged.group(1), title, date, reason)
    squashed = _PR_SQUASH.match(subject)
    if squashed:
        return HistoryEntry("pull-request", squashed.group(2), squashed.group(1), date, reason)
    return HistoryEntry("commit", sha, subject, date, reason)


def parse_log(out: str) -> list[tuple[str, str, str, str, list[tuple[str, str]]]]:
    """``git log`` in :data:`FORMAT_ARGS`' format: (sha, date, subject, body, [(verb, path)])."""
    records = []
    for raw in out.split(_RECORD)[1:]:
        head, _, tail = raw.partition(_END)
        sha, date, subject, body = [*head.split(_FIELD), "", "", ""][:4]
        changes: list[tuple[str, str]] = []
        for line in tail.strip("\n").split("\n"):
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0]:
                continue
            changes.append((_VERBS.get(parts[0][0], "changed"), parts[-1]))
        records.append((sha, date, subject, body, changes))
    return records


#: The format :func:`parse_log` reads.
FORMAT_ARGS = ("--date=short", _FORMAT)
#: The arguments of a history ``git log``: bounded, dated, with the files each changed.
LOG_ARGS = ("-n", str(MAX_COMMITS), *FORMAT_ARGS, "--name-status", "-M")


def _parse(out: str, wanted: set[str]) -> list[tuple[HistoryEntry, str]]:
    found: list[tuple[HistoryEntry, str]] = []
    for sha, date, subject, body, changes in parse_log(out):
        for verb, path in changes:
            if path in wanted:
                found.append((commit_entry(sha, date, subject, body, f"{verb} {path}"), path))
    return found


_FILE_NUMBER = re.compile(r"^(?:adr[-_]?)?(\d{1,5})[-_. ]", re.IGNORECASE)


def _numbers(paths: Sequence[str]) -> dict[int, str]:
    """ADR number → path, for the records whose file name starts with their number."""
    out: dict[int, str] = {}
    for path in paths:
        m = _FILE_NUMBER.match(posixpath.basename(path))
        if m:
            out.setdefault(int(m.group(1)), path)
    return out


def _mention_pattern(numbers: Mapping[int, str], *, posix: bool) -> str:
    """A regular expression for "ADR-7", "ADR 0007", "adr-0007" (git's ERE, or Postgres')."""
    alternatives = "|".join(str(n) for n in sorted(numbers))
    edge = "([^0-9]|$)" if posix else "\\M"
    return f"adr[- ]?0*({alternatives}){edge}"


def _mentioned(text: str, numbers: Mapping[int, str]) -> set[str]:
    found = re.findall(r"\badr[- ]?0*(\d{1,5})(?!\d)", text, re.IGNORECASE)
    return {numbers[int(n)] for n in found if int(n) in numbers}


def _mentions(entry: HistoryEntry, numbers: Mapping[int, str], path: str) -> HistoryEntry:
    number = next(n for n, p in numbers.items() if p == path)
    return _with_reason(entry, f"mentions ADR-{number:04d}")


def _with_reason(entry: HistoryEntry, reason: str) -> HistoryEntry:
    return HistoryEntry(entry.kind, entry.ref, entry.title, entry.date, reason)


def _newest(entry: HistoryEntry) -> tuple[int, str]:
    # newest first by date; within a day the merge (pull request) before its commits
    return (-int(entry.date.replace("-", "") or 0), "0" if entry.kind == "pull-request" else "1")


def merge_histories(
    *parts: Mapping[str, tuple[HistoryEntry, ...]],
) -> dict[str, tuple[HistoryEntry, ...]]:
    """Several histories of the same files as one, without repeats, newest first."""
    out: dict[str, list[HistoryEntry]] = {}
    for part in parts:
        for path, entries in part.items():
            same = out.setdefault(path, [])
            same += [e for e in entries if all(e.ref != s.ref for s in same)]
    return {p: tuple(sorted(e, key=_newest)) for p, e in out.items()}
