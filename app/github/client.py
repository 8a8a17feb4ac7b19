"""The client: the verbs Cairn uses on one installation (or on a workflow's token).

``Installation`` exposes verbs that say what they do (``pull_request_files``, ``file_at``,
``create_check_run``, ``publish_review``) and returns Cairn's own dataclasses. The Action has
no App: ``Installation.from_token`` gives the same verbs on a workflow's token.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal, cast
from urllib.parse import quote

import httpx
from githubkit import GitHub
from githubkit.auth import TokenAuthStrategy
from githubkit.response import Response

from app.github.errors import GitHubError, NotFound, translated
from app.github.models import (
    Annotation,
    CheckConclusion,
    CheckRun,
    CheckStatus,
    CommentDraft,
    PullFile,
    PullRequest,
    Repository,
    ReviewComment,
    ReviewThread,
    TreeItem,
    decode_base64,
    parse_check_run,
    parse_pull_file,
    parse_pull_request,
    parse_repository,
    parse_review_comment,
    published_as,
    split_repo,
)
from app.settings import Secret

logger = logging.getLogger(__name__)

GITHUB_API = "https://api.github.com"
# The REST API version Cairn speaks (X-GitHub-Api-Version): the one GitHub Enterprise Server
# serves as well as github.com. https://docs.github.com/en/rest/about-the-rest-api/api-versions
API_VERSION: Literal["2022-11-28"] = "2022-11-28"
# https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files: at most 3000 files
MAX_PULL_FILES = 3000
# https://docs.github.com/en/rest/checks/runs#update-a-check-run: at most 50 annotations
# per request; more are sent by further updates, and GitHub appends them to the run's.
MAX_ANNOTATIONS = 50


def json_body(response: Response[Any, Any]) -> Any:
    return response.raw_response.json()


def json_list(response: Response[Any, Any]) -> list[Any]:
    body = json_body(response)
    if not isinstance(body, list):
        raise GitHubError(f"expected a list from {response.raw_request.url.path}")
    return body


class Installation:
    """The App as one installation: reads pull requests and code, writes checks and reviews."""

    def __init__(
        self, installation_id: int, github: GitHub[Any], *, app_id: int | None = None
    ) -> None:
        self.installation_id = installation_id
        self.app_id = app_id  # None with a plain token: whose runs are whose is unknown
        self._github = github
        self._rest = github.rest(API_VERSION)

    def __repr__(self) -> str:
        return f"Installation({self.installation_id})"

    @classmethod
    def from_token(
        cls,
        token: Secret | str,
        api_url: str = GITHUB_API,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Installation:
        """The same verbs with a plain token (a workflow's ``GITHUB_TOKEN``): no App, no JWT.

        Its ``installation_id`` is 0; what the token may do is GitHub's to say (a read-only
        token's writes raise ``Forbidden``).
        """
        value = token.reveal() if isinstance(token, Secret) else token
        github = GitHub(
            TokenAuthStrategy(value),
            base_url=api_url.rstrip("/") + "/",
            timeout=timeout,
            async_transport=transport,
            auto_retry=False,
            http_cache=False,
            rest_api_validate_body=False,
            user_agent="cairn-review (token)",
        )
        return cls(0, github)

    # --- reading -----------------------------------------------------------------------

    async def repository(self, repo: str) -> Repository:
        with translated():
            response = await self._rest.repos.async_get(*split_repo(repo))
        return parse_repository(json_body(response))

    async def pull_request(self, repo: str, number: int) -> PullRequest:
        with translated():
            response = await self._rest.pulls.async_get(*split_repo(repo), number)
        return parse_pull_request(json_body(response))

    async def pull_request_files(self, repo: str, number: int) -> list[PullFile]:
        """Every file of the pull request, all pages; GitHub lists at most 3000."""
        owner, name = split_repo(repo)
        files: list[PullFile] = []
        pages = self._github.rest.paginate(
            self._rest.pulls.async_list_files,
            map_func=json_list,
            owner=owner,
            repo=name,
            pull_number=number,
            per_page=100,
        )
        with translated():
            async for raw in pages:
                files.append(parse_pull_file(raw))
                if len(files) >= MAX_PULL_FILES:
                    break
        return files

    async def tree(self, repo: str, sha: str) -> list[TreeItem]:
        """Every entry under a commit or tree, recursively."""
        with translated():
            response = await self._rest.git.async_get_tree(*split_repo(repo), sha, recursive="1")
        raw = json_body(response)
        if raw.get("truncated"):
            # GitHub stops at 100,000 entries or 7 MB; the caller sees a partial tree
            logger.warning("git tree truncated by GitHub", extra={"repo": repo, "sha": sha})
        return [
            TreeItem(str(e["path"]), str(e["mode"]), str(e["type"]), str(e["sha"]), e.get("size"))
            for e in raw["tree"]
        ]

    async def blob(self, repo: str, sha: str) -> bytes:
        with translated():
            response = await self._rest.git.async_get_blob(*split_repo(repo), sha)
        raw = json_body(response)
        if raw.get("encoding") == "base64":
            content = decode_base64(raw["content"])
            if content is None:
                raise GitHubError(f"blob {sha} of {repo}: its content is not base64")
            return content
        return str(raw["content"]).encode("utf-8")

    async def file_at(self, repo: str, ref: str, path: str) -> bytes | None:
        """A file's content at a ref, or None when there is no file at that path."""
        owner, name = split_repo(repo)
        try:
            with translated():
                # githubkit puts the path in the URL as it is: a '#' or '?' in it would end
                # the path and read another file
                response = await self._rest.repos.async_get_content(
                    owner, name, quote(path, safe="/"), ref=ref
                )
        except NotFound:
            return None
        raw = json_body(response)
        if not isinstance(raw, dict) or raw.get("type") != "file":
            return None  # a directory, a symlink or a submodule
        if raw.get("encoding") == "base64" and raw.get("content"):
            content = decode_base64(raw["content"])
            if content is not None:
                return content
        # over 1 MB the contents API leaves content empty (encoding "none"), and content that
        # does not decode is read again from its blob, the source of truth
        return await self.blob(repo, str(raw["sha"]))

    async def review_comments(self, repo: str, number: int) -> list[ReviewComment]:
        """Every review comment of the pull request, replies included, oldest first."""
        owner, name = split_repo(repo)
        pages = self._github.rest.paginate(
            self._rest.pulls.async_list_review_comments,
            map_func=json_list,
            owner=owner,
            repo=name,
            pull_number=number,
            per_page=100,
        )
        with translated():
            return [parse_review_comment(raw) async for raw in pages]

    async def permission(self, repo: str, login: str) -> str:
        """``login``'s role on the repository: admin, maintain, write, triage, read or none.
        https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
        """
        owner, name = split_repo(repo)
        try:
            with translated():
                response = await self._rest.repos.async_get_collaborator_permission_level(
                    owner, name, login
                )
        except NotFound:  # no such user
            return "none"
        raw = json_body(response)
        return str(raw.get("role_name") or raw.get("permission") or "none")

    async def review_threads(self, repo: str, number: int) -> list[ReviewThread]:
        """The pull request's review threads (GraphQL: REST has no threads)."""
        owner, name = split_repo(repo)
        threads: list[ReviewThread] = []
        cursor: str | None = None
        while True:
            variables = {"owner": owner, "name": name, "number": number, "cursor": cursor}
            with translated():
                data = await self._github.async_graphql(_THREADS_QUERY, variables)
            pull = ((data.get("repository") or {}).get("pullRequest")) or {}
            page = pull.get("reviewThreads")
            if page is None:
                raise NotFound(f"pull request {repo}#{number}")
            for node in page["nodes"]:
                # a BigInt, sent as a string: comment ids passed 2**31 (an Int's limit)
                ids = tuple(int(c["fullDatabaseId"]) for c in node["comments"]["nodes"])
                threads.append(ReviewThread(str(node["id"]), bool(node["isResolved"]), ids))
            if not page["pageInfo"]["hasNextPage"]:
                return threads
            cursor = page["pageInfo"]["endCursor"]

    async def check_runs(
        self,
        repo: str,
        ref: str,
        *,
        name: str | None = None,
        status: CheckStatus | None = None,
    ) -> list[CheckRun]:
        """The check runs on a commit, oldest first; this App's only when its id is known;
        with ``name`` and ``status``, only those.
        https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference
        """
        owner, repo_name = split_repo(repo)
        options: dict[str, Any] = {"per_page": 100, "filter_": "all"}
        if name is not None:
            options["check_name"] = name
        if status is not None:
            options["status"] = status
        if self.app_id is not None:
            options["app_id"] = self.app_id
        runs: list[CheckRun] = []
        page = 1
        while True:
            with translated():
                response = await self._rest.checks.async_list_for_ref(
                    owner, repo_name, ref, page=page, **options
                )
            body = json_body(response)
            batch = [parse_check_run(raw) for raw in body.get("check_runs") or []]
            runs.extend(r for r in batch if self.app_id is None or r.app_id in (None, self.app_id))
            if len(batch) < 100 or page * 100 >= int(body.get("total_count") or 0):
                return sorted(runs, key=lambda r: r.id)
            page += 1

    # --- writing -----------------------------------------------------------------------

    async def create_check_run(
        self,
        repo: str,
        name: str,
        head_sha: str,
        *,
        status: CheckStatus = "in_progress",
        external_id: str | None = None,
        details_url: str | None = None,
    ) -> int:
        """A new check run on ``head_sha``; returns its id."""
        body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if external_id is not None:
            body["external_id"] = external_id
        if details_url is not None:
            body["details_url"] = details_url
        with translated():
            response = await self._rest.checks.async_create(*split_repo(repo), data=cast(Any, body))
        return int(json_body(response)["id"])

    async def update_check_run(
        self,
        repo: str,
        check_run_id: int,
        *,
        status: CheckStatus | None = None,
        conclusion: CheckConclusion | None = None,
        title: str,
        summary: str,
        text: str | None = None,
        annotations: Sequence[Annotation] = (),
    ) -> None:
        """Set a run's output; annotations go in batches of 50, the status with the last."""
        batches = [
            annotations[i : i + MAX_ANNOTATIONS]
            for i in range(0, len(annotations), MAX_ANNOTATIONS)
        ] or [()]
        owner, name = split_repo(repo)
        for i, batch in enumerate(batches):
            output: dict[str, Any] = {"title": title, "summary": summary}
            if text is not None:
                output["text"] = text
            if batch:
                output["annotations"] = [a.to_json() for a in batch]
            body: dict[str, Any] = {"output": output}
            # complete the run only with the last batch: a required check must not turn
            # green while its annotations are still arriving
            if i == len(batches) - 1:
                if status is not None:
                    body["status"] = status
                if conclusion is not None:
                    body["conclusion"] = conclusion
            with translated():
                await self._rest.checks.async_update(
                    owner, name, check_run_id, data=cast(Any, body)
                )

    async def publish_review(
        self,
        repo: str,
        number: int,
        commit_id: str,
        body: str,
        comments: Sequence[CommentDraft],
    ) -> list[int]:
        """One COMMENT review with inline comments; the comments' ids, in ``comments`` order.

        GitHub creates a review whole or not at all: one comment outside the diff raises
        ``Unprocessable`` and nothing is published. The review's comments are listed in
        GitHub's "legacy" shape, which may leave out ``line`` and ``side``: each draft is
        matched to what was published by its body (Cairn's carry a unique marker), by place
        only when GitHub gave one.
        """
        owner, name = split_repo(repo)
        payload = {
            "commit_id": commit_id,
            "event": "COMMENT",
            "body": body,
            "comments": [c.to_json() for c in comments],
        }
        with translated():
            response = await self._rest.pulls.async_create_review(
                owner, name, number, data=cast(Any, payload)
            )
            review_id = int(json_body(response)["id"])
            pages = self._github.rest.paginate(
                self._rest.pulls.async_list_comments_for_review,
                map_func=json_list,
                owner=owner,
                repo=name,
                pull_number=number,
                review_id=review_id,
                per_page=100,
            )
            published = [parse_review_comment(raw) async for raw in pages]
        # the review answer carries no comment ids: match each draft to what was published
        ids: list[int] = []
        left = list(published)
        for draft in comments:
            match = published_as(draft, left)
            if match is None:
                raise GitHubError(f"review {review_id}: no comment at {draft.path}:{draft.line}")
            left.remove(match)
            ids.append(match.id)
        return ids

    async def commit_sha(self, repo: str, ref: str) -> str:
        """The commit a branch, tag or sha names."""
        with translated():
            response = await self._rest.repos.async_get_commit(*split_repo(repo), ref)
        return str(json_body(response)["sha"])

    async def comment(self, repo: str, number: int, body: str) -> int:
        """A comment in the pull request's conversation; returns its id."""
        with translated():
            response = await self._rest.issues.async_create_comment(
                *split_repo(repo), number, body=body
            )
        return int(json_body(response)["id"])

    async def reply(self, repo: str, number: int, comment_id: int, body: str) -> int:
        """A reply in the thread of ``comment_id``; returns the reply's id."""
        with translated():
            response = await self._rest.pulls.async_create_reply_for_review_comment(
                *split_repo(repo), number, comment_id, body=body
            )
        return int(json_body(response)["id"])

    async def resolve_thread(self, thread_id: str) -> None:
        """Mark a review thread resolved (its GraphQL node id, from ``review_threads``)."""
        with translated():
            await self._github.async_graphql(_RESOLVE_MUTATION, {"threadId": thread_id})


_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        nodes { id isResolved comments(first: 100) { nodes { fullDatabaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

_RESOLVE_MUTATION = """
mutation($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } }
}
"""
