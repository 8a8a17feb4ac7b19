"""The simulator's in-memory GitHub: installations, git objects, pull requests, checks, reviews.

Tests build the world with the helpers here (``add_installation``, ``commit``,
``open_pull_request``), arm faults (``fail_next``, ``secondary_rate_limit``), and read back
what a reviewer would see (``check_run``, ``comments_at``, ``threads``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.github_sim.patch import commentable_lines, count_changes, unified_patch

EXAMPLES = Path(__file__).parent.parent / "fixtures" / "webhooks"
FILES_CAP = 3000  # GitHub lists at most 3000 files of a pull request
# GitHub's ids of comments, reviews and check runs passed 2**31 long ago: the simulator's
# start there too, so a 32-bit field (GraphQL's deprecated ``databaseId``) overflows as it would.
FIRST_ID = 2_600_000_000
# What app.yml asks for: what an installation's token may do unless a test says otherwise.
APP_PERMISSIONS = {
    "checks": "write",
    "pull_requests": "write",
    "contents": "read",
    "metadata": "read",
    "issues": "read",
}
# The REST API versions each kind of server serves (X-GitHub-Api-Version); a GHES release
# serves only the first one. https://docs.github.com/en/rest/about-the-rest-api/api-versions
DOTCOM_VERSIONS = ("2022-11-28", "2026-03-10")
GHES_VERSIONS = ("2022-11-28",)
# A file's diff past these is too large for GitHub to show: its `patch` is left out.
PATCH_MAX_LINES = 20_000
PATCH_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Submodule:
    """A gitlink in a commit's tree (mode 160000): another repository's commit."""

    sha: str


def _example(name: str) -> dict[str, Any]:
    """A real webhook payload from tests/fixtures/webhooks (@octokit/webhooks-examples)."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return data


def blob_sha(content: bytes) -> str:
    """Git's object id of a blob."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class TreeEntry:
    name: str
    mode: str  # "100644", "100755", "040000"
    type: str  # "blob" | "tree"
    sha: str


@dataclass
class Commit:
    sha: str
    tree: str
    parents: list[str]
    message: str


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    installation_id: int
    default_branch: str = "main"
    private: bool = True
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[TreeEntry]] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit sha

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def tree_of(self, ref: str) -> str | None:
        """A tree sha from a branch, a commit or a tree sha (GitHub accepts all three)."""
        ref = self.branches.get(ref, ref)
        if ref in self.commits:
            return self.commits[ref].tree
        return ref if ref in self.trees else None

    def walk(self, tree: str, prefix: str = "") -> list[tuple[str, TreeEntry]]:
        """Every entry under a tree, depth first, with its full path."""
        out: list[tuple[str, TreeEntry]] = []
        for entry in self.trees[tree]:
            path = prefix + entry.name
            out.append((path, entry))
            if entry.type == "tree":
                out.extend(self.walk(entry.sha, path + "/"))
        return out

    def snapshot(self, ref: str) -> dict[str, str]:
        """path -> blob sha of every file (or commit sha of every submodule) at a commit."""
        tree = self.tree_of(ref)
        if tree is None:
            raise KeyError(ref)
        return {path: e.sha for path, e in self.walk(tree) if e.type in ("blob", "commit")}


@dataclass
class PullFile:
    filename: str
    status: str  # added | removed | modified | renamed
    sha: str
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None = None


@dataclass
class PullRequest:
    number: int
    title: str
    body: str
    head_sha: str
    base_sha: str
    head_ref: str
    base_ref: str
    author: str
    files: list[PullFile]
    state: str = "open"
    draft: bool = False


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    external_id: str | None = None
    details_url: str | None = None
    app_id: int = 0  # the App whose installation created it
    started_at: float = 0.0
    completed_at: float | None = None


@dataclass
class ReviewComment:
    """A review comment. ``line`` and ``original_commit_id`` are where it was made; a later
    push moves ``commit_id`` to the new head, and makes it ``outdated`` (GitHub then answers
    ``line: null``) when its file changed."""

    id: int
    node_id: str
    review_id: int | None
    number: int
    path: str
    line: int
    side: str
    start_line: int | None
    start_side: str | None
    body: str
    commit_id: str
    author: str
    in_reply_to_id: int | None = None
    original_commit_id: str = ""
    outdated: bool = False


@dataclass
class Thread:
    id: str  # GraphQL node id, "PRRT_..."
    number: int
    comment_ids: list[int]
    is_resolved: bool = False


@dataclass
class Review:
    id: int
    number: int
    commit_id: str
    body: str
    event: str
    author: str


@dataclass
class HookDelivery:
    """One attempt at delivering a webhook event (``guid``), as GitHub records it."""

    id: int
    guid: str
    event: str
    action: str | None
    payload: dict[str, Any]
    delivered_at: float
    redelivery: bool
    status: str  # "OK" or what went wrong
    status_code: int  # 0 when no answer came
    duration: float
    installation_id: int | None
    repository_id: int | None


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: float


@dataclass
class Fault:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class RateBucket:
    limit: int = 5000
    remaining: int = 5000
    reset: int = 0


class State:
    """Everything the simulated GitHub knows; thread-safe through ``lock``."""

    def __init__(self, token_lifetime: float = 3600.0) -> None:
        self.lock = threading.RLock()
        self.token_lifetime = token_lifetime
        self.apps: dict[int, str] = {}  # app id -> public key PEM
        self.installations: dict[int, int] = {}  # installation id -> app id
        self.repos: dict[str, Repo] = {}
        self.tokens: dict[str, Token] = {}
        self.tokens_issued: list[int] = []  # installation ids, one per token exchange
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.check_runs: dict[str, list[CheckRun]] = {}
        self.reviews: dict[tuple[str, int], list[Review]] = {}
        self.comments: dict[tuple[str, int], list[ReviewComment]] = {}
        # a pull request's conversation (issue comments): (id, author, body)
        self.conversation: dict[tuple[str, int], list[tuple[int, str, str]]] = {}
        self.thread_list: dict[tuple[str, int], list[Thread]] = {}
        self.faults: list[Fault] = []
        self.rate: dict[str, RateBucket] = {}
        self.unknown_routes: list[str] = []
        self.requests: list[str] = []  # "METHOD /path?query", for debugging failed tests
        self.bot_login = "cairn[bot]"
        self.slug = "cairn"
        # what the collaborators permission endpoint answers: (repo, login) -> admin, maintain,
        # write, triage, read or none; anyone else has read on a public repository, none on a
        # private one
        self.roles: dict[tuple[str, str], str] = {}
        # the App's webhook: where deliveries go, signed with its secret; what was sent
        self.webhook_url: str | None = None
        self.webhook_secret = ""
        self.hook_deliveries: list[HookDelivery] = []
        self.latency = 0.0  # seconds every API answer waits (to catch a job mid-way)
        # installation id -> what its tokens may do (APP_PERMISSIONS unless set)
        self.permissions: dict[int, dict[str, str]] = {}
        # Playing a GitHub Enterprise Server release ("3.17"): only GHES_VERSIONS are served.
        self.ghes: str | None = None
        self.api_versions: list[str | None] = []  # X-GitHub-Api-Version of each REST call
        self._ids = itertools.count(FIRST_ID)
        self._repo_ids = itertools.count(501)

    def next_id(self) -> int:
        return next(self._ids)

    # --- world building --------------------------------------------------------------------

    def register_app(self, app_id: int, public_key_pem: str, slug: str = "cairn") -> None:
        self.apps[app_id] = public_key_pem
        self.slug = slug
        self.bot_login = f"{slug}[bot]"

    def grant(self, repo: str, login: str, permission: str) -> None:
        """Give ``login`` a role on ``repo`` (what GitHub's permission endpoint then says)."""
        with self.lock:
            self.roles[(repo, login)] = permission

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        repos: list[str],
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        """An installation of ``app_id`` with access to ``repos`` ("owner/name", empty git),
        granted ``permissions`` (those app.yml asks for by default)."""
        with self.lock:
            self.installations[installation_id] = app_id
            self.permissions[installation_id] = dict(permissions or APP_PERMISSIONS)
            for full_name in repos:
                owner, name = full_name.split("/")
                repo = Repo(next(self._repo_ids), owner, name, installation_id)
                self.repos[full_name] = repo

    def commit(
        self,
        repo: str,
        files: Mapping[str, str | bytes | Submodule],
        message: str = "change",
        parents: list[str] | None = None,
        branch: str | None = None,
    ) -> str:
        """A commit whose tree holds exactly ``files`` (path -> content); returns its real sha.

        With ``branch``, the branch now points at it.
        """
        with self.lock:
            r = self.repos[repo]
            nested: dict[str, Any] = {}
            for path, content in files.items():
                *dirs, leaf = path.split("/")
                node = nested
                for d in dirs:
                    node = node.setdefault(d, {})
                if isinstance(content, Submodule):
                    node[leaf] = content
                    continue
                data = content.encode() if isinstance(content, str) else content
                sha = blob_sha(data)
                r.blobs[sha] = data
                node[leaf] = sha
            tree = self._write_tree(r, nested)
            body = f"tree {tree}\n"
            for parent in parents or []:
                body += f"parent {parent}\n"
            stamp = "Cairn Test <test@cairn.invalid> 1700000000 +0000"
            body += f"author {stamp}\ncommitter {stamp}\n\n{message}\n"
            raw = body.encode()
            sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()
            r.commits[sha] = Commit(sha, tree, list(parents or []), message)
            if branch is not None:
                r.branches[branch] = sha
            return sha

    def _write_tree(self, repo: Repo, nested: dict[str, Any]) -> str:
        entries: list[TreeEntry] = []
        for name, value in nested.items():
            if isinstance(value, dict):
                entries.append(TreeEntry(name, "040000", "tree", self._write_tree(repo, value)))
            elif isinstance(value, Submodule):
                entries.append(TreeEntry(name, "160000", "commit", value.sha))
            else:
                entries.append(TreeEntry(name, "100644", "blob", value))
        # git orders a tree's entries by name, a directory's name as if it ended with "/"
        entries.sort(key=lambda e: e.name + "/" if e.type == "tree" else e.name)
        raw = b"".join(
            f"{e.mode.lstrip('0')} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha)
            for e in entries
        )
        sha = hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()
        repo.trees[sha] = entries
        return sha

    def open_pull_request(
        self,
        repo: str,
        base: str,
        head: str,
        title: str = "A change",
        body: str = "",
        number: int | None = None,
        author: str = "octocat",
    ) -> PullRequest:
        """A pull request from commit ``head`` onto ``base``, with GitHub's per-file patches."""
        with self.lock:
            r = self.repos[repo]
            old, new = r.snapshot(base), r.snapshot(head)
            removed = {p: s for p, s in old.items() if p not in new}
            files: list[PullFile] = []
            for path in sorted(set(old) | set(new)):
                if path in new and path in old:
                    if new[path] == old[path]:
                        continue
                    files.append(self._pull_file(r, path, "modified", old[path], new[path]))
                elif path in new:
                    renamed_from = next((p for p, s in removed.items() if s == new[path]), None)
                    if renamed_from is not None:
                        del removed[renamed_from]
                        f = PullFile(path, "renamed", new[path], 0, 0, None, renamed_from)
                        files.append(f)
                    else:
                        files.append(self._pull_file(r, path, "added", None, new[path]))
            for path, sha in removed.items():
                files.append(self._pull_file(r, path, "removed", sha, None))
            files.sort(key=lambda f: f.filename)
            n = number or 1 + max((k[1] for k in self.pulls if k[0] == repo), default=0)
            pr = PullRequest(
                n, title, body, head, base, f"feature-{n}", r.default_branch, author, files
            )
            previous = self.pulls.get((repo, n))
            self.pulls[(repo, n)] = pr
            if previous is not None and previous.head_sha != head:
                self._move_comments(r, pr)
            return pr

    def _move_comments(self, r: Repo, pr: PullRequest) -> None:
        """A push to a pull request, as GitHub shows its review comments afterwards: each one's
        ``commit_id`` moves to the new head, and one whose file changed since the commit it was
        made on, or whose line left the diff, is outdated (``line: null``)."""
        head = r.snapshot(pr.head_sha)
        lines = {f.filename: commentable_lines(f.patch) for f in pr.files}
        for c in self.comments.get((r.full_name, pr.number), []):
            made_on = r.snapshot(c.original_commit_id or c.commit_id)
            changed = made_on.get(c.path) != head.get(c.path)
            if changed or c.line not in lines.get(c.path, {}).get(c.side, set()):
                c.outdated = True
            c.commit_id = pr.head_sha

    @staticmethod
    def _pull_file(r: Repo, path: str, status: str, old: str | None, new: str | None) -> PullFile:
        def content(sha: str | None) -> bytes:
            if sha is None:
                return b""
            # a submodule's diff is git's one line naming the commit it points at
            return r.blobs.get(sha, f"Subproject commit {sha}\n".encode())

        patch = unified_patch(content(old), content(new))
        adds, dels = count_changes(patch)
        if patch is not None and (
            patch.count("\n") >= PATCH_MAX_LINES or len(patch.encode()) > PATCH_MAX_BYTES
        ):
            patch = None  # counted, not shown
        return PullFile(path, status, new or old or "", adds, dels, patch)

    # --- tokens and rate limits ------------------------------------------------------------

    def issue_token(self, installation_id: int) -> Token:
        with self.lock:
            token = Token(
                "ghs_" + secrets.token_hex(18),
                installation_id,
                time.time() + self.token_lifetime,
            )
            self.tokens[token.value] = token
            self.tokens_issued.append(installation_id)
            return token

    def served_versions(self) -> tuple[str, ...]:
        """The REST API versions this server answers (X-GitHub-Api-Version)."""
        return GHES_VERSIONS if self.ghes is not None else DOTCOM_VERSIONS

    def expire_tokens(self) -> None:
        """Every installation token issued so far answers 401 from now on."""
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = 0.0

    def bucket(self, key: str) -> RateBucket:
        b = self.rate.setdefault(key, RateBucket())
        now = int(time.time())
        if b.reset <= now:
            b.remaining, b.reset = b.limit, now + 3600
        return b

    def exhaust_rate_limit(self, key: str, reset_in: int) -> None:
        """The primary rate limit of ``key`` ("installation:<id>" or "app") is used up."""
        with self.lock:
            b = self.bucket(key)
            b.remaining, b.reset = 0, int(time.time()) + reset_in

    # --- fault injection -------------------------------------------------------------------

    def fail_next(self, times: int, status: int = 502) -> None:
        """The next ``times`` requests answer ``status`` (a 5xx by default)."""
        body = {"message": "Server Error"} if status >= 500 else {"message": "Injected"}
        with self.lock:
            self.faults.extend(Fault(status, {}, body) for _ in range(times))

    def secondary_rate_limit(self, times: int, retry_after: int | None) -> None:
        """The next ``times`` requests answer 403 secondary rate limit (with ``Retry-After``)."""
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }
        with self.lock:
            self.faults.extend(
                Fault(403, {"retry-after": str(retry_after)} if retry_after else {}, body)
                for _ in range(times)
            )

    # --- webhooks -------------------------------------------------------------------------

    def deliver(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        guid: str | None = None,
        redelivery: bool = False,
        timeout: float = 10.0,
    ) -> HookDelivery:
        """POST a signed delivery to ``webhook_url`` and record the attempt and its answer.

        Blocking: call it from a thread (``asyncio.to_thread``) when the receiver runs on the
        caller's event loop.
        """
        body = json.dumps(payload).encode()
        guid = guid or str(uuid.uuid4())
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/sim",
            "x-github-event": event,
            "x-github-delivery": guid,
            "x-hub-signature-256": f"sha256={signature}",
        }
        started = time.time()
        try:
            if self.webhook_url is None:
                raise httpx.ConnectError("no webhook URL")
            answer = httpx.post(self.webhook_url, content=body, headers=headers, timeout=timeout)
            code = answer.status_code
            status = "OK" if code < 400 else f"Invalid HTTP Response: {code}"
        except httpx.TimeoutException:
            code, status = 0, "timed out"
        except httpx.TransportError:
            code, status = 0, "failed to connect to host"
        installation = payload.get("installation")
        repository = payload.get("repository")
        with self.lock:
            attempt = HookDelivery(
                id=self.next_id(),
                guid=guid,
                event=event,
                action=payload.get("action") if isinstance(payload.get("action"), str) else None,
                payload=payload,
                delivered_at=started,
                redelivery=redelivery,
                status=status,
                status_code=code,
                duration=time.time() - started,
                installation_id=installation.get("id") if isinstance(installation, dict) else None,
                repository_id=repository.get("id") if isinstance(repository, dict) else None,
            )
            self.hook_deliveries.append(attempt)
        return attempt

    def push_events(
        self, repo: str, number: int, action: str = "synchronize"
    ) -> list[tuple[str, dict[str, Any]]]:
        """The deliveries GitHub sends an App with ``checks: write`` for a push to a pull
        request: ``pull_request`` (``action``) and ``check_suite`` ``requested``, both real
        payloads carrying the simulated repository's values."""
        with self.lock:
            r, pr = self.repos[repo], self.pulls[(repo, number)]
            installation = {"id": r.installation_id}
            repository = {"id": r.id, "full_name": repo, "default_branch": r.default_branch}
            pull = _example("pull_request.synchronize")
            pull["action"] = action
            pull["number"] = number
            pull["installation"] = installation
            pull["repository"].update(repository)
            pull["pull_request"].update(number=number, draft=pr.draft)
            pull["pull_request"]["head"].update(sha=pr.head_sha, ref=pr.head_ref)
            pull["pull_request"]["base"].update(sha=pr.base_sha, ref=pr.base_ref)
            suite = _example("check_suite.requested")
            suite["installation"] = installation
            suite["repository"].update(repository)
            suite["check_suite"].update(
                id=self.next_id(),
                head_sha=pr.head_sha,
                head_branch=pr.head_ref,
                app={**suite["check_suite"]["app"], "id": self.installations[r.installation_id]},
                pull_requests=[
                    {
                        "number": number,
                        "head": {"ref": pr.head_ref, "sha": pr.head_sha},
                        "base": {"ref": pr.base_ref, "sha": pr.base_sha},
                    }
                ],
            )
            return [("pull_request", pull), ("check_suite", suite)]

    def redeliver_later(self, delivery: HookDelivery) -> None:
        """Send ``delivery``'s event again, soon, from a thread of its own (GitHub answers the
        request with 202 and delivers afterwards)."""
        threading.Thread(
            target=self.deliver,
            args=(delivery.event, delivery.payload),
            kwargs={"guid": delivery.guid, "redelivery": True},
            daemon=True,
        ).start()

    def attempts(self, guid: str) -> list[HookDelivery]:
        with self.lock:
            return [d for d in self.hook_deliveries if d.guid == guid]

    # --- what a reviewer sees --------------------------------------------------------------

    def runs(self, repo: str, name: str | None = None) -> list[CheckRun]:
        return [c for c in self.check_runs.get(repo, []) if name is None or c.name == name]

    def check_run(self, repo: str, name: str) -> CheckRun:
        """The latest check run of that name (raises if none)."""
        runs = self.runs(repo, name)
        assert runs, f"no check run named {name!r} on {repo}"
        return runs[-1]

    def review_comments(self, repo: str, number: int) -> list[ReviewComment]:
        return list(self.comments.get((repo, number), []))

    def comments_at(self, repo: str, number: int, path: str, line: int) -> list[ReviewComment]:
        return [c for c in self.review_comments(repo, number) if (c.path, c.line) == (path, line)]

    def apply_suggestion(self, repo: str, number: int, comment_id: int) -> str:
        """The file as GitHub's "Commit suggestion" leaves it: the comment's lines (start_line
        to line, RIGHT side, at the head) replaced by its one ``suggestion`` block."""
        comment = next(c for c in self.review_comments(repo, number) if c.id == comment_id)
        [body] = suggestions(comment.body)
        r = self.repos[repo]
        pr = self.pulls[(repo, number)]
        text = r.blobs[r.snapshot(pr.head_sha)[comment.path]].decode()
        lines = text.split("\n")
        start = comment.start_line or comment.line
        lines[start - 1 : comment.line] = body.split("\n") if body else []
        return "\n".join(lines)

    def threads(self, repo: str, number: int) -> list[Thread]:
        return list(self.thread_list.get((repo, number), []))

    def find_thread(self, thread_id: str) -> Thread | None:
        for threads in self.thread_list.values():
            for t in threads:
                if t.id == thread_id:
                    return t
        return None


_FENCE = re.compile(r"^(`{3,}|~{3,})suggestion[ \t]*$")


def suggestions(body: str) -> list[str]:
    """The ``suggestion`` blocks of a comment body, as GitHub reads them: what each would put
    in place of the commented lines."""
    found: list[str] = []
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if opened is None:
            i += 1
            continue
        fence = opened.group(1)
        j = i + 1
        while j < len(lines) and not (
            lines[j].startswith(fence[0] * len(fence)) and not lines[j].strip(fence[0])
        ):
            j += 1
        found.append("\n".join(lines[i + 1 : j]))
        i = j + 1
    return found
