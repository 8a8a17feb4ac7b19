"""What a webhook delivery asks Cairn to do, read leniently from GitHub's payload.

Only the fields Cairn uses are read, and a missing or mistyped one makes the delivery
ignorable rather than an error: real payloads often lack fields that strict models require.
The result is a list of ``Job`` values (an arq function name, its arguments, a deterministic
job id), which the endpoint records and enqueues.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

REVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
COMMAND = re.compile(r"^\s*/cairn\s+(recheck|ignore)\b[ \t]*(.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Job:
    """One arq job: ``function(*args)`` under a deterministic id (arq drops a duplicate id)."""

    function: str
    args: tuple[Any, ...]
    job_id: str

    def as_json(self) -> dict[str, Any]:
        return {"function": self.function, "args": list(self.args), "job_id": self.job_id}


@dataclass(frozen=True, slots=True)
class Delivery:
    """The parts of a delivery the ledger records, and the jobs it implies."""

    event: str
    action: str | None
    installation_id: int | None
    repo_id: int | None
    jobs: tuple[Job, ...] = field(default=())


def route(
    event: str, payload: Mapping[str, Any], delivery_id: str, *, review_drafts: bool = False
) -> Delivery:
    """The jobs a delivery implies; none for events and actions Cairn does not act on."""
    action = _str(payload.get("action"))
    installation = _int(_get(payload, "installation", "id"))
    repo_id = _int(_get(payload, "repository", "id"))
    handler = _HANDLERS.get(event)
    jobs: tuple[Job, ...] = ()
    if handler is not None and installation is not None:
        jobs = tuple(handler(payload, action, installation, delivery_id, review_drafts))
    return Delivery(event, action, installation, repo_id, jobs)


Handler = Callable[[Mapping[str, Any], str | None, int, str, bool], list[Job]]


def _pull_request(
    p: Mapping[str, Any], action: str | None, inst: int, _: str, drafts: bool
) -> list[Job]:
    repo = _repo(p)
    pr = p.get("pull_request")
    number = _int(_get(p, "pull_request", "number"))
    head = _str(_get(p, "pull_request", "head", "sha"))
    if repo is None or not isinstance(pr, Mapping) or number is None or head is None:
        return []
    repo_id, full_name = repo
    if action in REVIEW_ACTIONS:
        if pr.get("draft") is True and not drafts:
            return []
        return [_review(inst, repo_id, full_name, number, head)]
    if action == "closed" and pr.get("merged") is True:
        raw_labels = pr.get("labels")
        labels = [
            name
            for label in (raw_labels if isinstance(raw_labels, list) else [])
            if isinstance(label, Mapping) and (name := _str(label.get("name"))) is not None
        ]
        merged_at = _str(pr.get("merged_at"))
        if merged_at is not None and not _timestamp(merged_at):
            merged_at = None
        args = (inst, repo_id, full_name, number, merged_at, labels)
        return [Job("record_pull_request", args, f"history:{repo_id}:{number}")]
    return []


def _check_suite(
    p: Mapping[str, Any], action: str | None, inst: int, delivery: str, _: bool
) -> list[Job]:
    repo = _repo(p)
    key = "check_suite" if "check_suite" in p else "check_run"
    suite = p.get(key)
    # Only a person's re-request reviews again. GitHub sends check_suite `requested` on every
    # push, next to pull_request `synchronize`, which already queues that head's review; and
    # check_run `created`/`completed` are Cairn's own runs coming back.
    if repo is None or not isinstance(suite, Mapping) or action != "rerequested":
        return []
    head = _str(suite.get("head_sha"))
    prs = suite.get("pull_requests")
    if key == "check_run":
        prs = _get(suite, "check_suite", "pull_requests") or prs
    if head is None or not isinstance(prs, list):
        return []
    repo_id, full_name = repo
    # A re-request must run again even for a head already reviewed, but once: the suite's
    # (or run's) id and when it was last updated (completed) make the job id new for each
    # click on "Re-run", and the same signed body replayed under other delivery ids makes
    # the same job, which arq runs once.
    ran = _int(suite.get("id"))
    stamp = _str(suite.get("updated_at") if key == "check_suite" else suite.get("completed_at"))
    suffix = f"{key}-{ran}-{stamp or ''}" if ran is not None else delivery
    jobs = []
    for pr in prs:
        number = _int(pr.get("number")) if isinstance(pr, Mapping) else None
        if number is not None:
            jobs.append(_review(inst, repo_id, full_name, number, head, suffix=suffix))
    return jobs


def _push(p: Mapping[str, Any], _: str | None, inst: int, __: str, ___: bool) -> list[Job]:
    repo = _repo(p)
    ref, after = _str(p.get("ref")), _str(p.get("after"))
    default = _str(_get(p, "repository", "default_branch"))
    if repo is None or ref is None or after is None or default is None:
        return []
    if ref != f"refs/heads/{default}" or set(after) == {"0"}:
        return []  # not the default branch, or the branch was deleted
    repo_id, full_name = repo
    return [Job("index_repository", (inst, repo_id, full_name, after), f"index:{repo_id}:{after}")]


def _installation(
    p: Mapping[str, Any], action: str | None, inst: int, delivery: str, _: bool
) -> list[Job]:
    if action in {"created", "added"}:
        key = "repositories" if action == "created" else "repositories_added"
        jobs = []
        for repo in _repos(p.get(key)):
            repo_id, full_name = repo
            jobs.append(
                Job(
                    "index_repository",
                    (inst, repo_id, full_name, None),
                    f"index:{repo_id}:{delivery}",
                )
            )
        return jobs
    if action in {"deleted", "removed"}:
        key = "repositories" if action == "deleted" else "repositories_removed"
        ids = [repo_id for repo_id, _ in _repos(p.get(key))]
        if action == "deleted":
            return [Job("forget_installation", (inst, ids), f"forget:{inst}:{delivery}")]
        return [Job("forget_repositories", (inst, ids), f"forget:{inst}:{delivery}")] if ids else []
    return []


def _comment(
    p: Mapping[str, Any], action: str | None, inst: int, delivery: str, _: bool
) -> list[Job]:
    repo = _repo(p)
    body = _str(_get(p, "comment", "body"))
    comment_id = _int(_get(p, "comment", "id"))
    if action != "created" or repo is None or body is None or comment_id is None:
        return []
    if _str(_get(p, "comment", "user", "type")) == "Bot":
        return []  # never act on a bot's words, Cairn's own included
    if "issue" in p:
        if not isinstance(_get(p, "issue", "pull_request"), Mapping):
            return []  # a comment on an issue, not on a pull request
        number = _int(_get(p, "issue", "number"))
    else:
        number = _int(_get(p, "pull_request", "number"))
    match = COMMAND.search(body)
    if number is None or match is None:
        return []
    repo_id, full_name = repo
    verb, reason = match.group(1), match.group(2).strip()
    author = _str(_get(p, "comment", "user", "login")) or "unknown"
    # Who may give the command is the worker's to check (app.commands): the association
    # settles the clear cases, GitHub's permission endpoint the others.
    association = _str(_get(p, "comment", "author_association")) or ""
    in_reply_to = _int(_get(p, "comment", "in_reply_to_id"))
    if verb == "recheck":
        # a review comment is answered in its thread, a conversation comment there
        reply_to = None if "issue" in p else (in_reply_to or comment_id)
        return [
            Job(
                "recheck_pull_request",
                (inst, repo_id, full_name, number, author, association, reply_to),
                f"recheck:{repo_id}:{number}:{comment_id}",
            )
        ]
    return [
        Job(
            "ignore_finding",
            (
                inst,
                repo_id,
                full_name,
                number,
                in_reply_to,
                comment_id,
                author,
                reason,
                association,
            ),
            f"ignore:{repo_id}:{comment_id}",
        )
    ]


def _review(
    inst: int, repo_id: int, full_name: str, number: int, head: str, suffix: str = ""
) -> Job:
    job_id = f"review:{repo_id}:{head}" + (f":{suffix}" if suffix else "")
    return Job("review_pull_request", (inst, repo_id, full_name, number, head), job_id)


def _repo(p: Mapping[str, Any]) -> tuple[int, str] | None:
    repo_id, name = _int(_get(p, "repository", "id")), _str(_get(p, "repository", "full_name"))
    return None if repo_id is None or name is None else (repo_id, name)


def _repos(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, Mapping):
            repo_id, name = _int(item.get("id")), _str(item.get("full_name"))
            if repo_id is not None and name is not None:
                out.append((repo_id, name))
    return out


def _timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


# Postgres keeps ids in bigint: a number past it is not one of GitHub's.
_BIGINT = range(-(2**63), 2**63)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value in _BIGINT else None


def _str(value: Any) -> str | None:
    """A string Postgres can store (text and jsonb refuse NUL and unpaired surrogates)."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


_HANDLERS: dict[str, Handler] = {
    "pull_request": _pull_request,
    "check_suite": _check_suite,
    "check_run": _check_suite,
    "push": _push,
    "installation": _installation,
    "installation_repositories": _installation,
    "issue_comment": _comment,
    "pull_request_review_comment": _comment,
}
