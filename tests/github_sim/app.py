"""The simulator's HTTP face: the REST and GraphQL routes Cairn uses, GitHub's way.

Every request goes through one dispatcher: route match (an unknown route answers 599 and is
recorded in ``state.unknown_routes``), injected faults, authentication (App JWT or installation
token), the primary rate limit, then the handler. Every answer carries ``x-ratelimit-*``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.github_sim.manifests import routes as manifest_routes
from tests.github_sim.patch import commentable_lines
from tests.github_sim.state import (
    FILES_CAP,
    CheckRun,
    HookDelivery,
    Repo,
    Review,
    ReviewComment,
    State,
    Thread,
    suggestions,
)

DOCS = "https://docs.github.com/rest"
STATUSES = {"queued", "in_progress", "completed", "waiting", "requested", "pending"}
CONCLUSIONS = {
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
}
LEVELS = {"notice", "warning", "failure"}
MAX_ANNOTATIONS = 50  # per request: https://docs.github.com/en/rest/checks/runs#update-a-check-run
MAX_OUTPUT = 65_535  # characters of output.summary and output.text
INT_MAX = 2**31 - 1  # GraphQL's Int


class HTTPError(Exception):
    """An answer in GitHub's error shape."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _unprocessable(message: str, *errors: Any) -> HTTPError:
    return HTTPError(422, message, list(errors) or None)


@dataclass
class Call:
    """One request, parsed: the route's groups, query, JSON body, caller."""

    groups: dict[str, str]
    query: dict[str, str]
    body: Any
    url: str  # the request's absolute URL without query, for Link headers
    installation_id: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    def repo(self, state: State) -> Repo:
        full_name = f"{self.groups['owner']}/{self.groups['repo']}"
        repo = state.repos.get(full_name)
        # GitHub answers 404, not 403, for a repository the installation cannot see
        if repo is None or repo.installation_id != self.installation_id:
            raise HTTPError(404, "Not Found")
        return repo

    def git(self, state: State) -> Repo:
        """The repository, for a route that reads its git objects: 409 while it has none."""
        repo = self.repo(state)
        if not repo.commits:
            raise HTTPError(409, "Git Repository is empty.")
        return repo


Handler = Callable[[State, Call], Any]
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []


def route(method: str, pattern: str, auth: str = "token") -> Callable[[Handler], Handler]:
    regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, regex, auth, handler))
        return handler

    return register


# --- auth ----------------------------------------------------------------------------------


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
def access_token(state: State, call: Call) -> Any:
    installation_id = int(call.groups["installation_id"])
    if installation_id not in state.installations:
        raise HTTPError(404, "Not Found")
    token = state.issue_token(installation_id)
    expires = datetime.fromtimestamp(token.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "token": token.value,
        "expires_at": expires,
        "permissions": dict(state.permissions.get(installation_id, {})),
        "repository_selection": "selected",
    }
    return 201, body


@route("GET", "/app", auth="jwt")
def get_app(state: State, call: Call) -> Any:
    """The authenticated App: its slug names its bot user (``<slug>[bot]``)."""
    app_id = _verify_jwt(state, call.headers.get("authorization", "").partition(" ")[2])
    return {"id": app_id, "slug": state.slug, "name": state.slug}


def _verify_jwt(state: State, value: str) -> int:
    try:
        app_id = int(jwt.decode(value, options={"verify_signature": False})["iss"])
        key = state.apps[app_id]
        claims = jwt.decode(
            value, key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
        )
    except jwt.ExpiredSignatureError as e:
        raise HTTPError(401, "'Expiration time' claim ('exp') is too far in the past") from e
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as e:
        raise HTTPError(401, "A JSON web token could not be decoded") from e
    if claims["exp"] - time.time() > 660:
        raise HTTPError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app_id


def _authenticate(state: State, auth: str, header: str) -> tuple[str, int]:
    """(rate-limit bucket, installation id) of the caller, or 401."""
    scheme, _, value = header.partition(" ")
    if auth == "jwt":
        if scheme.lower() != "bearer":
            raise HTTPError(401, "A JSON web token could not be decoded")
        return f"app:{_verify_jwt(state, value)}", 0
    if scheme.lower() not in ("token", "bearer"):
        raise HTTPError(401, "Requires authentication")
    token = state.tokens.get(value)
    if token is None or token.expires_at <= time.time():
        raise HTTPError(401, "Bad credentials")
    return f"installation:{token.installation_id}", token.installation_id


# --- repositories and git ------------------------------------------------------------------


def _repo_json(repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": {"login": repo.owner, "type": "Organization"},
        "default_branch": repo.default_branch,
        "html_url": f"https://github.com/{repo.full_name}",
    }


@route("GET", "/repos/{owner}/{repo}")
def get_repo(state: State, call: Call) -> Any:
    return _repo_json(call.repo(state))


# https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
_LEGACY = {"maintain": "write", "triage": "read"}  # role_name → the legacy `permission`


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_permission(state: State, call: Call) -> Any:
    repo = call.repo(state)
    login = call.groups["username"]
    role = state.roles.get((repo.full_name, login), "none" if repo.private else "read")
    return {
        "permission": _LEGACY.get(role, role),
        "role_name": role,
        "user": {"login": login, "type": "User"},
    }


@route("GET", "/repos/{owner}/{repo}/git/trees/{sha}")
def get_tree(state: State, call: Call) -> Any:
    repo = call.git(state)
    tree = repo.tree_of(call.groups["sha"])
    if tree is None:
        raise HTTPError(404, "Not Found")
    recursive = call.query.get("recursive") not in (None, "", "0", "false")
    entries = repo.walk(tree) if recursive else [(e.name, e) for e in repo.trees[tree]]
    items = []
    for path, e in entries:
        item: dict[str, Any] = {"path": path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.type == "blob":
            item["size"] = len(repo.blobs[e.sha])
        items.append(item)
    return {"sha": tree, "tree": items, "truncated": False}


def _b64(data: bytes) -> str:
    # GitHub wraps base64 content at 60 characters per line
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}")
def get_commit(state: State, call: Call) -> Any:
    repo = call.git(state)
    ref = call.groups["ref"]
    sha = repo.branches.get(ref, ref)
    commit = repo.commits.get(sha)
    if commit is None:
        raise _unprocessable(f"No commit found for SHA: {ref}", f"No commit found for SHA: {ref}")
    return {"sha": commit.sha, "commit": {"message": commit.message, "tree": {"sha": commit.tree}}}


@route("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
def create_issue_comment(state: State, call: Call) -> Any:
    repo = call.repo(state)
    number = int(call.groups["number"])
    if (repo.full_name, number) not in state.pulls:
        raise HTTPError(404, "Not Found")
    body = (call.body or {}).get("body")
    if not isinstance(body, str) or not body:
        raise _unprocessable("Invalid request.", "body is required")
    with state.lock:
        comment_id = state.next_id()
        state.conversation.setdefault((repo.full_name, number), []).append(
            (comment_id, state.bot_login, body)
        )
    return 201, {"id": comment_id, "body": body, "user": {"login": state.bot_login, "type": "Bot"}}


@route("GET", "/repos/{owner}/{repo}/git/blobs/{sha}")
def get_blob(state: State, call: Call) -> Any:
    repo = call.git(state)
    data = repo.blobs.get(call.groups["sha"])
    if data is None:
        raise HTTPError(404, "Not Found")
    sha = call.groups["sha"]
    return {"sha": sha, "size": len(data), "content": _b64(data), "encoding": "base64"}


@route("GET", "/repos/{owner}/{repo}/contents/{path:path}")
def get_contents(state: State, call: Call) -> Any:
    repo = call.repo(state)
    if not repo.commits:
        raise HTTPError(404, "This repository is empty.")
    tree = repo.tree_of(call.query.get("ref") or repo.default_branch)
    if tree is None:
        raise HTTPError(404, f"No commit found for the ref {call.query.get('ref')}")
    path = call.groups["path"].strip("/")
    matches = [(p, e) for p, e in repo.walk(tree) if p == path]
    if not matches:
        raise HTTPError(404, "Not Found")
    _, entry = matches[0]
    if entry.type == "commit":  # a submodule: GitHub names the commit, serves no content
        return {
            "type": "submodule",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": entry.sha,
        }
    if entry.type == "tree":
        return [
            {
                "type": "dir" if e.type == "tree" else "file",
                "name": e.name,
                "path": f"{path}/{e.name}",
                "sha": e.sha,
            }
            for e in repo.trees[entry.sha]
        ]
    data = repo.blobs[entry.sha]
    return {
        "type": "file",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": entry.sha,
        "size": len(data),
        "encoding": "base64",
        "content": _b64(data),
    }


# --- pull requests -------------------------------------------------------------------------


def _pull(state: State, call: Call) -> tuple[Repo, Any]:
    repo = call.repo(state)
    pr = state.pulls.get((repo.full_name, int(call.groups["number"])))
    if pr is None:
        raise HTTPError(404, "Not Found")
    return repo, pr


def _page(call: Call, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
    """One page of ``items`` per GitHub's ``per_page``/``page`` and its ``Link`` header."""
    per_page = min(max(int(call.query.get("per_page", 30)), 1), 100)
    page = max(int(call.query.get("page", 1)), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)

    def link(n: int, rel: str) -> str:
        return f'<{call.url}?{urlencode({**call.query, "page": n})}>; rel="{rel}"'

    links = []
    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"link": ", ".join(links)} if links else {}
    return 200, items[(page - 1) * per_page : page * per_page], headers


@route("GET", "/repos/{owner}/{repo}/pulls/{number}")
def get_pull(state: State, call: Call) -> Any:
    repo, pr = _pull(state, call)
    ref = {"repo": _repo_json(repo), "user": {"login": repo.owner}}
    return {
        "id": 9_000_000 + pr.number,
        "number": pr.number,
        "state": pr.state,
        "title": pr.title,
        "body": pr.body,
        "draft": pr.draft,
        "merged": False,
        "user": {"login": pr.author, "type": "User"},
        "head": {
            "sha": pr.head_sha,
            "ref": pr.head_ref,
            "label": f"{repo.owner}:{pr.head_ref}",
            **ref,
        },
        "base": {
            "sha": pr.base_sha,
            "ref": pr.base_ref,
            "label": f"{repo.owner}:{pr.base_ref}",
            **ref,
        },
        "changed_files": len(pr.files),
        "additions": sum(f.additions for f in pr.files),
        "deletions": sum(f.deletions for f in pr.files),
        "html_url": f"https://github.com/{repo.full_name}/pull/{pr.number}",
    }


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/files")
def list_pull_files(state: State, call: Call) -> Any:
    _, pr = _pull(state, call)
    items = []
    for f in pr.files[:FILES_CAP]:
        item: dict[str, Any] = {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
        }
        if f.patch is not None:
            item["patch"] = f.patch
        if f.previous_filename is not None:
            item["previous_filename"] = f.previous_filename
        items.append(item)
    return _page(call, items)


# --- check runs ----------------------------------------------------------------------------


def _apply_check_body(run: CheckRun, body: dict[str, Any]) -> None:
    """Validate and apply a create/update body the way GitHub does (422 on a violation)."""
    status = body.get("status", run.status)
    conclusion = body.get("conclusion", run.conclusion)
    if status not in STATUSES:
        raise _unprocessable(
            "Invalid request.", f"status {status!r} is not a member of {sorted(STATUSES)}"
        )
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise _unprocessable("Invalid request.", f"conclusion {conclusion!r} is not a member")
    if "conclusion" in body and body["conclusion"] is not None:
        status = "completed"  # GitHub: providing a conclusion sets the status to completed
    if status == "completed" and conclusion is None:
        raise _unprocessable("Invalid request.", "conclusion is required when status is completed")
    output = body.get("output")
    if output is not None:
        if not isinstance(output.get("title"), str) or not isinstance(output.get("summary"), str):
            raise _unprocessable("Invalid request.", "output requires title and summary")
        for key in ("summary", "text"):
            if len(output.get(key) or "") > MAX_OUTPUT:
                raise _unprocessable(
                    "Invalid request.", f"Only {MAX_OUTPUT} characters are allowed in output.{key}"
                )
        annotations = output.get("annotations") or []
        if len(annotations) > MAX_ANNOTATIONS:
            raise _unprocessable(
                "Invalid request.", f"Only {MAX_ANNOTATIONS} annotations are allowed per request"
            )
        for a in annotations:
            required = ("path", "start_line", "end_line", "annotation_level", "message")
            if any(a.get(k) is None for k in required) or a["annotation_level"] not in LEVELS:
                raise _unprocessable("Invalid request.", f"invalid annotation {a!r}")
        run.title, run.summary = output["title"], output["summary"]
        run.text = output.get("text", run.text)
        run.annotations.extend(annotations)  # annotations accumulate across updates
    if status == "completed" and run.status != "completed":
        run.completed_at = time.time()
    run.status, run.conclusion = status, conclusion
    for key in ("external_id", "details_url"):
        if key in body:
            setattr(run, key, body[key])


def _check_json(repo: Repo, run: CheckRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "head_sha": run.head_sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "external_id": run.external_id,
        "details_url": run.details_url,
        "app": {"id": run.app_id, "slug": "cairn"},
        "started_at": _iso(run.started_at),
        "completed_at": _iso(run.completed_at) if run.completed_at else None,
        "html_url": f"https://github.com/{repo.full_name}/runs/{run.id}",
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": len(run.annotations),
        },
    }


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(state: State, call: Call) -> Any:
    repo, body = call.repo(state), call.body or {}
    if not body.get("name") or not body.get("head_sha"):
        raise _unprocessable("Invalid request.", "name and head_sha are required")
    if body["head_sha"] not in repo.commits:
        raise _unprocessable("No commit found for SHA: " + body["head_sha"])
    run = CheckRun(state.next_id(), body["name"], body["head_sha"], "queued", None)
    run.app_id = state.installations.get(call.installation_id, 0)
    run.started_at = time.time()
    _apply_check_body(run, body)
    state.check_runs.setdefault(repo.full_name, []).append(run)
    return 201, _check_json(repo, run)


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_check_runs_for_ref(state: State, call: Call) -> Any:
    """https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference"""
    repo = call.git(state)
    ref = call.groups["ref"]
    sha = repo.branches.get(ref, ref)
    if sha not in repo.commits:
        raise _unprocessable("No commit found for SHA: " + ref)
    q = call.query
    if q.get("status") not in (None, "queued", "in_progress", "completed"):
        raise _unprocessable("Invalid request.", "status is not a member")
    runs = [
        r
        for r in state.runs(repo.full_name)
        if r.head_sha == sha and q.get("app_id") in (None, str(r.app_id))
    ]
    if q.get("filter", "latest") == "latest":  # each App's newest run of each name
        newest: dict[tuple[int, str], CheckRun] = {}
        for r in runs:
            newest[(r.app_id, r.name)] = r
        runs = list(newest.values())
    runs = [
        r
        for r in runs
        if q.get("check_name") in (None, r.name) and q.get("status") in (None, r.status)
    ]
    runs.sort(key=lambda r: r.id, reverse=True)
    status, page, headers = _page(call, [_check_json(repo, r) for r in runs])
    return status, {"total_count": len(runs), "check_runs": page}, headers


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(state: State, call: Call) -> Any:
    repo = call.repo(state)
    run_id = int(call.groups["check_run_id"])
    run = next((r for r in state.runs(repo.full_name) if r.id == run_id), None)
    if run is None:
        raise HTTPError(404, "Not Found")
    _apply_check_body(run, call.body or {})
    return _check_json(repo, run)


# --- reviews and comments ------------------------------------------------------------------


def _comment_json(repo: Repo, c: ReviewComment, *, legacy: bool = False) -> dict[str, Any]:
    """A review comment as GitHub lists it; ``legacy``: the "legacy review comment" shape of
    a review's comments, without lines or sides (only ``position``).
    https://docs.github.com/en/rest/pulls/reviews#list-comments-for-a-pull-request-review"""
    out: dict[str, Any] = {
        "id": c.id,
        "node_id": c.node_id,
        "pull_request_review_id": c.review_id,
        "path": c.path,
        "position": None if c.outdated else 1,
        "original_position": 1,
        "body": c.body,
        "commit_id": c.commit_id,
        "original_commit_id": c.original_commit_id or c.commit_id,
        "user": {"login": c.author, "type": "Bot" if c.author.endswith("[bot]") else "User"},
        "html_url": f"https://github.com/{repo.full_name}/pull/{c.number}#discussion_r{c.id}",
    }
    if c.in_reply_to_id is not None:
        out["in_reply_to_id"] = c.in_reply_to_id
    if not legacy:
        out |= {
            "line": None if c.outdated else c.line,
            "original_line": c.line,
            "side": c.side,
            "start_line": None if c.outdated else c.start_line,
            "original_start_line": c.start_line,
            "start_side": c.start_side,
        }
    return out


def _validate_comment(pr: Any, raw: dict[str, Any]) -> None:
    """422 unless the comment targets lines inside the diff of a file of the pull request."""
    if not isinstance(raw.get("body"), str) or not raw.get("path"):
        raise _unprocessable("Invalid request.", "path and body are required")
    if not isinstance(raw.get("line"), int):
        raise _unprocessable("Invalid request.", "line is required (position is not simulated)")
    file = next((f for f in pr.files if f.filename == raw["path"]), None)
    if file is None:
        raise _unprocessable("Unprocessable Entity", "Path could not be resolved")
    lines = commentable_lines(file.patch)
    side = raw.get("side", "RIGHT")
    start_side = raw.get("start_side", side)
    if side not in lines or start_side not in lines:
        raise _unprocessable("Invalid request.", f"side {side!r} is not LEFT or RIGHT")
    start = raw.get("start_line")
    if start is not None and start >= raw["line"]:
        raise _unprocessable("Unprocessable Entity", "start_line must precede line")
    if raw["line"] not in lines[side] or (start is not None and start not in lines[start_side]):
        raise _unprocessable(
            "Unprocessable Entity",
            "Pull request review thread line must be part of the diff and Pull request "
            "review thread diff hunk can't be blank",
        )
    # A suggestion replaces exactly the commented lines of the new side when committed
    # (State.apply_suggestion does what GitHub's "Commit suggestion" does). Stricter than
    # GitHub, which accepts the body as text: a suggestion on deleted lines, or two in one
    # comment, could not be committed as one change, so the simulator refuses them.
    # https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/reviewing-changes-in-pull-requests/incorporating-feedback-in-your-pull-request
    found = suggestions(raw["body"])
    if found and (side != "RIGHT" or start_side != "RIGHT"):
        raise _unprocessable("Unprocessable Entity", "a suggestion must be on the RIGHT side")
    if len(found) > 1:
        raise _unprocessable("Unprocessable Entity", "more than one suggestion in a comment")


@route("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews")
def create_review(state: State, call: Call) -> Any:
    repo, pr = _pull(state, call)
    body = call.body or {}
    commit_id = body.get("commit_id") or pr.head_sha
    if commit_id not in repo.commits:
        raise _unprocessable("Unprocessable Entity", "commit_id is not part of the pull request")
    event = body.get("event")
    if event not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
        raise _unprocessable("Invalid request.", f"event {event!r} is not valid")
    comments = body.get("comments") or []
    if event in ("COMMENT", "REQUEST_CHANGES") and not body.get("body") and not comments:
        raise _unprocessable("Unprocessable Entity", "Review body is required")
    for raw in comments:  # a review is created whole, or not at all
        _validate_comment(pr, raw)
    review = Review(
        state.next_id(),
        pr.number,
        commit_id,
        body.get("body") or "",
        event or "PENDING",
        state.bot_login,
    )
    state.reviews.setdefault((repo.full_name, pr.number), []).append(review)
    for raw in comments:
        _add_comment(state, repo, pr.number, review.id, commit_id, raw)
    return {
        "id": review.id,
        "node_id": f"PRR_{review.id}",
        "user": {"login": review.author, "type": "Bot"},
        "body": review.body,
        "state": {"COMMENT": "COMMENTED", "APPROVE": "APPROVED"}.get(review.event, review.event),
        "commit_id": commit_id,
    }


def _add_comment(
    state: State,
    repo: Repo,
    number: int,
    review_id: int | None,
    commit_id: str,
    raw: dict[str, Any],
    reply_to: ReviewComment | None = None,
) -> ReviewComment:
    cid = state.next_id()
    side = raw.get("side", "RIGHT")
    start = raw.get("start_line")
    comment = ReviewComment(
        id=cid,
        node_id=f"PRRC_{cid}",
        review_id=review_id,
        number=number,
        path=raw["path"],
        line=raw["line"],
        side=side,
        start_line=start,
        start_side=raw.get("start_side", side) if start is not None else None,
        body=raw["body"],
        commit_id=commit_id,
        author=state.bot_login,
        in_reply_to_id=reply_to.id if reply_to else None,
        original_commit_id=reply_to.original_commit_id if reply_to else commit_id,
        outdated=reply_to.outdated if reply_to else False,
    )
    key = (repo.full_name, number)
    state.comments.setdefault(key, []).append(comment)
    threads = state.thread_list.setdefault(key, [])
    if reply_to is None:
        threads.append(Thread(f"PRRT_{cid}", number, [cid]))
    else:
        next(t for t in threads if reply_to.id in t.comment_ids).comment_ids.append(cid)
    return comment


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/comments")
def list_comments(state: State, call: Call) -> Any:
    repo, pr = _pull(state, call)
    items = [_comment_json(repo, c) for c in state.review_comments(repo.full_name, pr.number)]
    return _page(call, items)


@route("GET", "/repos/{owner}/{repo}/pulls/{number}/reviews/{review_id}/comments")
def list_review_comments(state: State, call: Call) -> Any:
    repo, pr = _pull(state, call)
    review_id = int(call.groups["review_id"])
    if not any(r.id == review_id for r in state.reviews.get((repo.full_name, pr.number), [])):
        raise HTTPError(404, "Not Found")
    comments = state.review_comments(repo.full_name, pr.number)
    legacy = [_comment_json(repo, c, legacy=True) for c in comments if c.review_id == review_id]
    return _page(call, legacy)


@route("POST", "/repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies")
def reply(state: State, call: Call) -> Any:
    repo, pr = _pull(state, call)
    comments = state.review_comments(repo.full_name, pr.number)
    parent = next((c for c in comments if c.id == int(call.groups["comment_id"])), None)
    if parent is None:
        raise HTTPError(404, "Not Found")
    if not isinstance((call.body or {}).get("body"), str):
        raise _unprocessable("Invalid request.", "body is required")
    if parent.in_reply_to_id is not None:
        # "Replies to replies are not supported": name the thread's top-level comment.
        # https://docs.github.com/en/rest/pulls/comments#create-a-reply-for-a-review-comment
        raise _unprocessable("Validation Failed", "in_reply_to_id is not a top-level comment")
    root = parent
    raw = {"path": root.path, "line": root.line, "side": root.side, "body": call.body["body"]}
    comment = _add_comment(state, repo, pr.number, None, root.commit_id, raw, reply_to=root)
    return 201, _comment_json(repo, comment)


# --- GraphQL -------------------------------------------------------------------------------


def _graphql_threads(state: State, call: Call, v: dict[str, Any]) -> Any:
    full_name = f"{v.get('owner')}/{v.get('name')}"
    repo = state.repos.get(full_name)
    if repo is None or repo.installation_id != call.installation_id:
        message = f"Could not resolve to a Repository with the name '{full_name}'."
        return {"data": {"repository": None}, "errors": [{"type": "NOT_FOUND", "message": message}]}
    threads = state.threads(full_name, int(v.get("number", 0)))
    first, after = min(int(v.get("first") or 100), 100), int(v.get("after") or 0)
    page = threads[after : after + first]
    query = str((call.body or {}).get("query", ""))
    if re.search(r"\bdatabaseId\b", query):
        # An Int is 32 bits: GitHub's comment ids no longer fit (the field is deprecated for
        # it), and the whole query fails.
        too_big = [i for t in page for i in t.comment_ids if i > INT_MAX]
        if too_big:
            message = f"Int cannot represent non 32-bit signed integer value: {too_big[0]}"
            return {"data": None, "errors": [{"message": message}]}
    # BigInt is serialised as a string
    key = "fullDatabaseId" if "fullDatabaseId" in query else "databaseId"
    nodes = [
        {
            "id": t.id,
            "isResolved": t.is_resolved,
            "comments": {
                "nodes": [{key: str(i) if key == "fullDatabaseId" else i} for i in t.comment_ids]
            },
        }
        for t in page
    ]
    info = {"hasNextPage": after + first < len(threads), "endCursor": str(after + len(page))}
    pull = {"reviewThreads": {"nodes": nodes, "pageInfo": info}}
    return {"data": {"repository": {"pullRequest": pull}}}


def _graphql_resolve(state: State, call: Call, v: dict[str, Any]) -> Any:
    thread = state.find_thread(str(v.get("threadId")))
    if thread is None:
        message = f"Could not resolve to a node with the global id of '{v.get('threadId')}'"
        return {
            "data": {"resolveReviewThread": None},
            "errors": [{"type": "NOT_FOUND", "message": message}],
        }
    if state.permissions.get(call.installation_id, {}).get("contents") != "write":
        # What installations with `contents: read` are reported to get (GitHub's docs are
        # silent on the permission resolveReviewThread needs).
        return {
            "data": {"resolveReviewThread": None},
            "errors": [
                {
                    "type": "FORBIDDEN",
                    "path": ["resolveReviewThread"],
                    "message": "Resource not accessible by integration",
                }
            ],
        }
    thread.is_resolved = True
    return {"data": {"resolveReviewThread": {"thread": {"id": thread.id, "isResolved": True}}}}


def _arguments(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Field arguments by name (the first occurrence wins), from variables or literals."""
    out: dict[str, Any] = {}
    for name, var, literal in re.findall(r'(\w+):\s*(?:\$(\w+)|("[^"]*"|\d+))', query):
        out.setdefault(name, variables.get(var) if var else json.loads(literal))
    return out


@route("POST", "/graphql")
def graphql(state: State, call: Call) -> Any:
    query = str((call.body or {}).get("query", ""))
    variables = _arguments(query, (call.body or {}).get("variables") or {})
    if re.search(r"\bmutation\b", query) and "resolveReviewThread(" in query:
        return _graphql_resolve(state, call, variables)
    if re.search(r"\bquery\b", query) and "reviewThreads(" in query:
        return _graphql_threads(state, call, variables)
    head = " ".join(query.split())[:80]
    state.unknown_routes.append(f"POST /graphql {head}")
    raise HTTPError(400, f"github_sim: unknown GraphQL operation: {head}")


# --- the App's webhook deliveries ----------------------------------------------------------


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _delivery_json(d: HookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": _iso(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": round(d.duration, 3),
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": None,
    }


@route("GET", "/app/hook/deliveries", auth="jwt")
def list_hook_deliveries(state: State, call: Call) -> Any:
    """https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook

    Newest first, paged by an opaque cursor (here: the id to continue below) in ``Link``.
    """
    try:
        per_page = min(max(int(call.query.get("per_page", 30)), 1), 100)
        below = int(call.query["cursor"]) if "cursor" in call.query else None
    except ValueError as e:
        raise HTTPError(400, "Bad request: invalid cursor or per_page") from e
    wanted = call.query.get("status")
    if wanted not in (None, "success", "failure"):
        raise _unprocessable("Validation Failed", "status must be success or failure")
    items = sorted(state.hook_deliveries, key=lambda d: d.id, reverse=True)
    if below is not None:
        items = [d for d in items if d.id < below]
    if wanted is not None:
        items = [d for d in items if (d.status == "OK") == (wanted == "success")]
    page, rest = items[:per_page], items[per_page:]
    headers = {}
    if rest:
        query = urlencode({**call.query, "cursor": page[-1].id})
        headers["link"] = f'<{call.url}?{query}>; rel="next"'
    return 200, [_delivery_json(d) for d in page], headers


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts", auth="jwt")
def redeliver_hook_delivery(state: State, call: Call) -> Any:
    """https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook"""
    delivery_id = int(call.groups["delivery_id"]) if call.groups["delivery_id"].isdigit() else 0
    found = next((d for d in state.hook_deliveries if d.id == delivery_id), None)
    if found is None:
        raise HTTPError(404, "Not Found")
    if time.time() - found.delivered_at > 3 * 86_400:
        # GitHub keeps deliveries for three days and redelivers none older
        raise _unprocessable("Validation Failed", "delivery is too old to be redelivered")
    state.redeliver_later(found)
    return 202, {}


# --- dispatcher ----------------------------------------------------------------------------


def _error_body(status: int, message: str, errors: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors:
        body["errors"] = errors
    return body


def dispatch(
    state: State,
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: Any,
    url: str,
) -> tuple[int, Any, dict[str, str]]:
    """Answer one request: (status, JSON body, headers)."""
    state.requests.append(f"{method} {path}")
    found = next(
        ((r, m) for r in ROUTES if r[0] == method and (m := r[1].match(path)) is not None), None
    )
    if found is None:
        state.unknown_routes.append(f"{method} {path}")
        return 599, {"message": f"github_sim: unknown route {method} {path}"}, {}
    (_, _, auth, handler), match = found
    if path != "/graphql":
        version = headers.get("x-github-api-version")
        state.api_versions.append(version)
        if version is not None and version not in state.served_versions():
            served = ", ".join(state.served_versions())
            message = (
                f"Unsupported 'X-GitHub-Api-Version' header: '{version}'. "
                f"The supported values are: {served}"
            )
            return 400, _error_body(400, message), {}

    if state.faults:
        fault = state.faults.pop(0)
        return fault.status, fault.body, dict(fault.headers)

    try:
        bucket_key, installation_id = _authenticate(state, auth, headers.get("authorization", ""))
    except HTTPError as e:
        return e.status, _error_body(e.status, e.message), {}
    resource = "graphql" if path == "/graphql" else "core"
    bucket = state.bucket(f"{bucket_key}:{resource}" if resource == "graphql" else bucket_key)
    rate = {
        "x-ratelimit-limit": str(bucket.limit),
        "x-ratelimit-reset": str(bucket.reset),
        "x-ratelimit-resource": resource,
    }
    if bucket.remaining <= 0:
        message = f"API rate limit exceeded for installation ID {installation_id}."
        rate |= {"x-ratelimit-remaining": "0", "x-ratelimit-used": str(bucket.limit)}
        return 403, _error_body(403, message), rate
    bucket.remaining -= 1
    rate |= {
        "x-ratelimit-remaining": str(bucket.remaining),
        "x-ratelimit-used": str(bucket.limit - bucket.remaining),
    }
    call = Call(match.groupdict(), query, body, url, installation_id, headers)
    try:
        result = handler(state, call)
    except HTTPError as e:
        return e.status, _error_body(e.status, e.message, e.errors), rate
    if isinstance(result, tuple):
        status, payload, *extra = result
        return status, payload, rate | (extra[0] if extra else {})
    return 200, result, rate


def create_app(state: State) -> Starlette:
    """The ASGI app serving ``state``."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return JSONResponse(_error_body(400, "Problems parsing JSON"), status_code=400)
        # GitHub Enterprise Server serves the same API under /api/v3 and /api/graphql
        # (the path percent-decoded, as GitHub reads it: contents/{path} names a file by it)
        path = re.sub(r"^/api/(v3/|(?=graphql))", "/", request.scope["path"])
        url = str(request.url.replace(query=""))
        headers = {k.lower(): v for k, v in request.headers.items()}
        if state.latency:
            await asyncio.sleep(state.latency)
        with state.lock:
            status, payload, out_headers = dispatch(
                state, request.method, path, dict(request.query_params), headers, body, url
            )
        base = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-used": "1",
            "x-ratelimit-resource": "core",
        }
        return JSONResponse(payload, status_code=status, headers=base | out_headers)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    # the App manifest flow's web pages and conversion (tests/github_sim/manifests.py)
    return Starlette(
        routes=[*manifest_routes(state), Route("/{path:path}", endpoint, methods=methods)]
    )
