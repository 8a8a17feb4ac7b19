"""Cairn's view of GitHub's objects: frozen dataclasses, parsed leniently from GitHub's JSON
(only the fields Cairn reads, so a GitHub Enterprise Server with an older schema answers just
as well)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

CheckStatus = Literal["queued", "in_progress", "completed"]
CheckConclusion = Literal[
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"
]


@dataclass(frozen=True, slots=True)
class Repository:
    """A repository the installation can see."""

    id: int
    full_name: str
    default_branch: str
    private: bool


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull request at its current head."""

    number: int
    title: str
    body: str
    state: str
    draft: bool
    author: str
    head_sha: str
    head_ref: str
    head_repo: str  # "owner/name": differs from the base repository for a fork
    base_sha: str
    base_ref: str
    changed_files: int
    html_url: str


@dataclass(frozen=True, slots=True)
class PullFile:
    """One file of a pull request; ``patch`` is None for binary and very large diffs."""

    path: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    sha: str  # the blob at the head ("" for a removed file on some servers)
    additions: int
    deletions: int
    patch: str | None
    previous_path: str | None = None


@dataclass(frozen=True, slots=True)
class TreeItem:
    """An entry of a recursive git tree listing."""

    path: str
    mode: str
    type: str  # blob | tree | commit (a submodule)
    sha: str
    size: int | None


@dataclass(frozen=True, slots=True)
class Annotation:
    """A check-run annotation on lines of a file at the run's head sha."""

    path: str
    start_line: int
    end_line: int
    level: Literal["notice", "warning", "failure"]
    message: str
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.level,
            "message": self.message,
        }
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True, slots=True)
class CommentDraft:
    """An inline comment to publish in a review; lines must lie inside the file's diff."""

    path: str
    line: int
    body: str
    side: Literal["LEFT", "RIGHT"] = "RIGHT"
    start_line: int | None = None  # for a comment over several lines
    start_side: Literal["LEFT", "RIGHT"] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "side": self.side,
            "body": self.body,
        }
        if self.start_line is not None:
            out["start_line"] = self.start_line
            out["start_side"] = self.start_side or self.side
        return out


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """A published review comment (or a reply to one).

    ``commit_id`` moves to each new head of the pull request; ``original_commit_id`` is the
    commit it was made on. ``line`` and ``side`` are None once the line left the diff (an
    outdated comment), and in the "legacy" shape that a review's comment list answers.
    """

    id: int
    path: str
    line: int | None
    side: str | None
    start_line: int | None
    body: str
    author: str
    commit_id: str
    in_reply_to_id: int | None
    original_commit_id: str = ""


@dataclass(frozen=True, slots=True)
class CheckRun:
    """A check run as listed for a commit."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    app_id: int | None  # the App that created it


@dataclass(frozen=True, slots=True)
class HookDelivery:
    """One attempt to deliver one of the App's webhook events (its ``guid``)."""

    id: int  # this attempt: what a redelivery request names
    guid: str  # the event: X-GitHub-Delivery, shared by its redeliveries
    delivered_at: datetime
    redelivery: bool
    status: str  # "OK", or what went wrong ("Invalid HTTP Response: 502", "timed out")
    status_code: int  # the answer's status; 0 when there was none
    event: str
    action: str | None

    @property
    def failed(self) -> bool:
        return self.status_code >= 400 or self.status_code == 0 or self.status != "OK"


@dataclass(frozen=True, slots=True)
class ReviewThread:
    """A review thread: its GraphQL node id, whether it is resolved, its comments' ids."""

    id: str
    is_resolved: bool
    comment_ids: tuple[int, ...]


# --- parsing (lenient: only the fields Cairn reads) ----------------------------------------


def parse_repository(raw: Any) -> Repository:
    return Repository(
        int(raw["id"]), str(raw["full_name"]), str(raw["default_branch"]), bool(raw["private"])
    )


def parse_pull_request(raw: Any) -> PullRequest:
    head, base = raw["head"], raw["base"]
    return PullRequest(
        number=int(raw["number"]),
        title=str(raw.get("title") or ""),
        body=str(raw.get("body") or ""),
        state=str(raw.get("state") or "open"),
        draft=bool(raw.get("draft")),
        author=str((raw.get("user") or {}).get("login", "")),
        head_sha=str(head["sha"]),
        head_ref=str(head.get("ref", "")),
        head_repo=str((head.get("repo") or {}).get("full_name", "")),
        base_sha=str(base["sha"]),
        base_ref=str(base.get("ref", "")),
        changed_files=int(raw.get("changed_files") or 0),
        html_url=str(raw.get("html_url") or ""),
    )


def parse_pull_file(raw: Any) -> PullFile:
    return PullFile(
        path=str(raw["filename"]),
        status=str(raw["status"]),
        sha=str(raw.get("sha") or ""),
        additions=int(raw.get("additions") or 0),
        deletions=int(raw.get("deletions") or 0),
        patch=raw.get("patch"),
        previous_path=raw.get("previous_filename"),
    )


def parse_review_comment(raw: Any) -> ReviewComment:
    commit_id = str(raw.get("commit_id") or "")
    side = raw.get("side")
    return ReviewComment(
        id=int(raw["id"]),
        path=str(raw["path"]),
        line=raw.get("line"),
        side=str(side) if side else None,
        start_line=raw.get("start_line"),
        body=str(raw.get("body") or ""),
        author=str((raw.get("user") or {}).get("login", "")),
        commit_id=commit_id,
        in_reply_to_id=raw.get("in_reply_to_id"),
        original_commit_id=str(raw.get("original_commit_id") or commit_id),
    )


def parse_check_run(raw: Any) -> CheckRun:
    app = raw.get("app") or {}
    return CheckRun(
        id=int(raw["id"]),
        name=str(raw["name"]),
        head_sha=str(raw.get("head_sha") or ""),
        status=str(raw.get("status") or ""),
        conclusion=raw.get("conclusion"),
        app_id=int(app["id"]) if isinstance(app, dict) and app.get("id") is not None else None,
    )


def parse_hook_delivery(raw: Any) -> HookDelivery:
    return HookDelivery(
        id=int(raw["id"]),
        guid=str(raw["guid"]),
        delivered_at=datetime.fromisoformat(str(raw["delivered_at"]).replace("Z", "+00:00")),
        redelivery=bool(raw.get("redelivery")),
        status=str(raw.get("status") or ""),
        status_code=int(raw.get("status_code") or 0),
        event=str(raw.get("event") or ""),
        action=raw.get("action"),
    )


def published_as(draft: CommentDraft, published: Sequence[ReviewComment]) -> ReviewComment | None:
    """The published comment of a draft: the same file and body (GitHub may normalise line
    ends and trailing space), else the same file and place when the answer names places."""
    here = [c for c in published if c.path == draft.path]
    text = " ".join(draft.body.split())
    same = [c for c in here if " ".join(c.body.split()) == text]
    if same:
        return same[0]
    place = [c for c in here if c.line is not None and (c.line, c.side) == (draft.line, draft.side)]
    return place[0] if place else None


def decode_base64(text: Any) -> bytes | None:
    """GitHub's base64 content (wrapped at 60 characters), or None when it is not base64."""
    try:
        return base64.b64decode("".join(str(text).split()), validate=True)
    except binascii.Error:
        return None


def split_repo(repo: str) -> tuple[str, str]:
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"a repository is 'owner/name', not {repo!r}")
    return owner, name
