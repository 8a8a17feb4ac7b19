"""Every verb of ``app.github`` against GitHub's published REST description and GraphQL schema.

Each verb is called through ``ContractTransport``: the request must keep the description's
contract (github.com's and each GHES release's), and the answer is the description's own
example, so Cairn's lenient parsing meets GitHub's documented shapes (the legacy review
comment without ``line``, a contents answer, a check-run listing) rather than the
simulator's. GraphQL documents are validated against the schema, and answered by executing
them on the schema with made-up data.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

from app.github import Annotation, CommentDraft, GitHubApp, Installation
from app.settings import Secret
from tests.contract.conftest import DESCRIPTIONS, description
from tests.contract.graphql import GraphQLContract
from tests.contract.openapi import ContractTransport
from tests.github_sim.keys import rsa_keypair

pytestmark = pytest.mark.slow  # every verb against four published descriptions

APP_ID, INSTALLATION, REPO, SHA = (
    1,
    42,
    "octocat/Hello-World",
    "6dcb09b5b57875f334f61aebed695e2e4193db5e",
)
THREAD = "PRRT_kwDOAHz1OX4uYAah"
# what the GraphQL schema is executed on: one pull request with one thread of two comments
ANSWERS: dict[str, Any] = {
    "query": {
        "repository": {
            "pullRequest": {
                "reviewThreads": {
                    "nodes": [
                        {
                            "id": THREAD,
                            "isResolved": False,
                            "comments": {
                                "nodes": [
                                    {"fullDatabaseId": "2600000001"},
                                    {"fullDatabaseId": "2600000002"},
                                ]
                            },
                        }
                    ],
                    "pageInfo": {"hasNextPage": False, "endCursor": "Y3Vyc29yOjE="},
                }
            }
        }
    },
    "mutation": {"resolveReviewThread": {"thread": {"id": THREAD, "isResolved": True}}},
}

Verb = Callable[[GitHubApp, Installation], Awaitable[Any]]


async def _publish_review(app: GitHubApp, gh: Installation) -> Any:
    # the description's example of a review's comments: "Great stuff!" on file1.txt, in the
    # legacy shape (no line, no side)
    draft = CommentDraft("file1.txt", 12, "Great stuff!", start_line=10)
    return await gh.publish_review(REPO, 1, SHA, "Cairn found 1 new finding.", [draft])


async def _update_check_run(app: GitHubApp, gh: Installation) -> Any:
    annotations = [
        Annotation("src/a.py", n, n + 1, level, f"finding {n}", title=f"rule {n}")
        for n, level in zip(range(1, 121), ["notice", "warning", "failure"] * 40, strict=True)
    ]
    return await gh.update_check_run(
        REPO,
        4,
        status="completed",
        conclusion="neutral",
        title="120 findings",
        summary="Summary.",
        text="Text.",
        annotations=annotations,
    )


async def _review_threads(app: GitHubApp, gh: Installation) -> Any:
    threads = await gh.review_threads(REPO, 1)
    assert [t.comment_ids for t in threads] == [(2600000001, 2600000002)]
    return threads


#: Every verb, called as Cairn calls it.
VERBS: dict[str, Verb] = {
    "GitHubApp.hook_deliveries": lambda app, gh: app.hook_deliveries(
        datetime.now(UTC) - timedelta(days=3)
    ),
    "GitHubApp.redeliver": lambda app, gh: app.redeliver(12345678),
    "GitHubApp.bot_login": lambda app, gh: app.bot_login(),
    "Installation.permission": lambda app, gh: gh.permission(REPO, "octocat"),
    "Installation.repository": lambda app, gh: gh.repository(REPO),
    "Installation.pull_request": lambda app, gh: gh.pull_request(REPO, 1347),
    "Installation.pull_request_files": lambda app, gh: gh.pull_request_files(REPO, 1347),
    "Installation.tree": lambda app, gh: gh.tree(REPO, SHA),
    "Installation.blob": lambda app, gh: gh.blob(REPO, SHA),
    "Installation.file_at": lambda app, gh: gh.file_at(REPO, SHA, "docs/a #1?.md"),
    "Installation.review_comments": lambda app, gh: gh.review_comments(REPO, 1),
    "Installation.review_threads": _review_threads,
    "Installation.check_runs": lambda app, gh: gh.check_runs(
        REPO, SHA, name="cairn/duplication", status="in_progress"
    ),
    "Installation.create_check_run": lambda app, gh: gh.create_check_run(
        REPO, "cairn/duplication", SHA, external_id="x", details_url="https://cairn.example/r"
    ),
    "Installation.update_check_run": _update_check_run,
    "Installation.publish_review": _publish_review,
    "Installation.commit_sha": lambda app, gh: gh.commit_sha(REPO, "main"),
    "Installation.comment": lambda app, gh: gh.comment(REPO, 1, "`/cairn ignore` works ..."),
    "Installation.reply": lambda app, gh: gh.reply(REPO, 1, 10, "Fixed in abc."),
    "Installation.resolve_thread": lambda app, gh: gh.resolve_thread(THREAD),
}


def test_every_verb_is_held_to_the_contract() -> None:
    """A verb added to app.github without a case here fails this test."""
    public = {
        f"{cls.__name__}.{name}"
        for cls in (GitHubApp, Installation)
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(member) and name != "aclose"
    }
    assert public == set(VERBS)


@pytest.mark.parametrize("name", DESCRIPTIONS)
async def test_every_verb_keeps_the_published_contract(
    name: str, contract_cache: Path, graphql_schema: GraphQLSchema
) -> None:
    ghes = name.startswith("ghes-")
    graphql = GraphQLContract(graphql_schema, answers=ANSWERS)
    contract = ContractTransport(
        description(name, contract_cache),
        base_path="/api/v3" if ghes else "",
        graphql=graphql.check,
    )
    api_url = "https://ghe.example.com/api/v3" if ghes else "https://api.github.com"
    failures: dict[str, str] = {}
    async with GitHubApp(APP_ID, Secret(rsa_keypair()[0]), api_url, transport=contract) as app:
        gh = app.installation(INSTALLATION)
        for verb, call in VERBS.items():
            try:
                await call(app, gh)
            except Exception as e:  # noqa: BLE001 -- every verb's failure, not the first only
                failures[verb] = f"{type(e).__name__}: {e}"
    assert {"violations": contract.violations, "failures": failures} == {
        "violations": [],
        "failures": {},
    }
    called = {c.operation for c in contract.calls}
    assert "apps/create-installation-access-token" in called
    assert len(graphql.documents) == 2
