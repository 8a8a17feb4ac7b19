"""The App's decisions check end to end: a burst-mode worker, the GitHub simulator, Postgres."""

from __future__ import annotations

import re

import pytest

from tests.app.test_worker import BASE, INSTALLATION, REPO, World, world  # noqa: F401

ADR = """# 1. Use httpx as the HTTP client

Date: 2021-03-04

## Status

Accepted

## Decision

Use `httpx` instead of `requests` for every outgoing HTTP call.
"""
CLIENT = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, timeout=5)\n"

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def test_a_decision_finding_links_the_merged_pull_request_that_made_it(
    world: World,  # noqa: F811 (the fixture, imported)
) -> None:
    # Pull request #5 added the ADR and was merged: the App recorded it.
    before = world.state.commit(REPO, BASE, "base", branch="main")
    after = world.state.commit(
        REPO, BASE | {"docs/adr/0001-use-httpx.md": ADR}, "adr", parents=[before], branch="main"
    )
    world.state.open_pull_request(REPO, before, after, title="Adopt httpx (ADR-0001)", number=5)
    recorded = await world.run(
        "record_pull_request", INSTALLATION, world.repo_id(), REPO, 5, "2021-03-04T12:00:00Z", []
    )
    assert recorded.result == "recorded"

    # Pull request #1 adds `requests` to a new client.
    base, head = world.pull_request(
        {"app/client.py": CLIENT}, base=BASE | {"docs/adr/0001-use-httpx.md": ADR}
    )
    result = await world.run("review_pull_request", *world.review_args(head))

    assert result.success, result.result
    assert world.runs()["cairn/decisions"] == ("completed", "neutral")  # a derived rule: warning
    [comment] = world.state.review_comments(REPO, 1)
    assert comment.path == "app/client.py" and comment.line == 1
    assert "ADR-0001 'Use httpx as the HTTP client' (accepted 2021-03-04)" in comment.body
    assert f"/{REPO}/blob/{base}/docs/adr/0001-use-httpx.md#L11" in comment.body
    # "#\u200b5": escaped text never cross-references an issue; the link goes to #5 itself
    made = (
        "[#\u200b5 Adopt httpx (ADR-0001) (pull-request): "
        "2021-03-04 changed docs/adr/0001-use-httpx.md]"
    )
    assert re.search(re.escape(made) + rf"\(http://[\w.:]+/{REPO}/pull/5\)", comment.body)
    run = world.state.check_run(REPO, "cairn/decisions")
    assert run.summary is not None
    assert "### Decisions relevant to this change\n\n- [ADR-0001 Use httpx as the HTTP client]" in (
        run.summary
    )
