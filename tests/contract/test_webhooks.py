"""Every real example payload of every event Cairn handles, routed as the README says.

The examples are ``@octokit/webhooks-examples`` (api.github.com and GHES 3.1-3.5 indexes):
payloads GitHub sent. Many were sent to repository webhooks and carry no ``installation``; an
App always gets one, so each example is also routed with one added. What each (event,
action) should queue is written here from the README's table, not from ``app.webhooks``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from app.webhooks import Job, route

ROOT = Path(__file__).resolve().parent.parent.parent
HANDLED = (
    "pull_request",
    "check_suite",
    "check_run",
    "push",
    "installation",
    "installation_repositories",
    "issue_comment",
    "pull_request_review_comment",
)
INSTALLATION = 4242


def _review(p: dict[str, Any], number: int, head: str) -> tuple[str, tuple[Any, ...]]:
    repo = p["repository"]
    return ("review_pull_request", (INSTALLATION, repo["id"], repo["full_name"], number, head))


def expected(event: str, p: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The jobs the README promises for a delivery (function and arguments)."""
    action = p.get("action")
    repo = p.get("repository") or {}
    if event == "pull_request":
        pr = p["pull_request"]
        if action in ("opened", "synchronize", "reopened", "ready_for_review"):
            return [] if pr.get("draft") else [_review(p, pr["number"], pr["head"]["sha"])]
        if action == "closed" and pr.get("merged"):
            labels = [label["name"] for label in pr.get("labels") or []]
            args = (INSTALLATION, repo["id"], repo["full_name"], pr["number"])
            return [("record_pull_request", (*args, pr["merged_at"], labels))]
        return []
    if event in ("check_suite", "check_run"):
        if action != "rerequested":  # requested comes with every push: not a re-request
            return []
        item = p[event]
        prs = item.get("pull_requests") or []
        if event == "check_run":
            prs = item.get("check_suite", {}).get("pull_requests") or prs
        return [_review(p, pr["number"], item["head_sha"]) for pr in prs]
    if event == "push":
        default = f"refs/heads/{repo.get('default_branch')}"
        if p["ref"] != default or set(p["after"]) == {"0"}:
            return []
        return [("index_repository", (INSTALLATION, repo["id"], repo["full_name"], p["after"]))]
    if event in ("installation", "installation_repositories"):
        key = {
            "created": "repositories",
            "added": "repositories_added",
            "deleted": "repositories",
            "removed": "repositories_removed",
        }.get(str(action))
        repos = [(r["id"], r["full_name"]) for r in p.get(key or "") or []]
        if action in ("created", "added"):
            return [("index_repository", (INSTALLATION, i, n, None)) for i, n in repos]
        if action == "deleted":
            return [("forget_installation", (INSTALLATION, [i for i, _ in repos]))]
        if action == "removed" and repos:
            return [("forget_repositories", (INSTALLATION, [i for i, _ in repos]))]
        return []
    if event in ("issue_comment", "pull_request_review_comment"):
        comment = p["comment"]
        on_pull = "pull_request" in p or "pull_request" in (p.get("issue") or {})
        command = re.search(r"^\s*/cairn\s+(recheck|ignore)\b", comment["body"] or "", re.M)
        if action != "created" or not on_pull or command is None:
            return []
        if comment["user"]["type"] == "Bot":
            return []
        number = (p.get("issue") or p.get("pull_request"))["number"]
        args = (INSTALLATION, repo["id"], repo["full_name"], number)
        if command.group(1) == "recheck":
            return [("recheck_pull_request", args)]
        return [("ignore_finding", args)]  # arguments checked by tests/app/test_worker.py
    raise AssertionError(f"no expectation for {event}")


def _jobs(jobs: tuple[Job, ...]) -> list[tuple[str, tuple[Any, ...]]]:
    out = []
    for job in jobs:
        args = job.args[:4] if job.function == "ignore_finding" else job.args
        out.append((job.function, tuple(args)))
    return out


def test_every_example_of_every_handled_event_routes(
    webhook_examples: dict[str, list[dict[str, Any]]],
) -> None:
    routed, wrong = 0, []
    for key, examples in sorted(webhook_examples.items()):
        event = key.split("/", 1)[1]
        if event not in HANDLED:
            continue
        for i, example in enumerate(examples):
            as_sent = route(event, example, f"{key}#{i}")
            if "installation" not in example:
                assert as_sent.jobs == (), f"{key}#{i}: a job without an installation"
            payload = copy.deepcopy(example)
            payload["installation"] = {"id": INSTALLATION}
            delivery = route(event, payload, f"{key}#{i}")
            routed += 1
            if _jobs(delivery.jobs) != expected(event, payload):
                wrong.append((key, i, payload.get("action"), _jobs(delivery.jobs)))
            assert delivery.event == event and delivery.action == payload.get("action")
            assert delivery.repo_id == (payload.get("repository") or {}).get("id")
    assert wrong == []
    assert routed == 158  # what the pinned package holds of these events


def test_every_example_of_every_other_event_queues_nothing(
    webhook_examples: dict[str, list[dict[str, Any]]],
) -> None:
    for key, examples in webhook_examples.items():
        event = key.split("/", 1)[1]
        if event in HANDLED:
            continue
        for i, example in enumerate(examples):
            payload = {**example, "installation": {"id": INSTALLATION}}
            assert route(event, payload, f"{key}#{i}").jobs == (), f"{key}#{i}"


def test_the_manifest_subscribes_to_the_handled_events() -> None:
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    # installation events reach every App without a subscription
    assert set(manifest["default_events"]) == set(HANDLED) - {
        "installation",
        "installation_repositories",
    }
