"""The simulator behaves like GitHub where Cairn depends on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import GitRepoBuilder
from tests.github_sim import State, blob_sha, serve, transport
from tests.github_sim.keys import app_jwt, rsa_keypair
from tests.github_sim.patch import commentable_lines, unified_patch

APP_ID, INSTALLATION, REPO = 42, 7, "acme/shop"


@pytest.fixture
def state() -> State:
    state = State()
    state.register_app(APP_ID, rsa_keypair()[1])
    state.add_installation(INSTALLATION, APP_ID, [REPO, "acme/other"])
    state.add_installation(8, APP_ID, ["someone/else"])
    return state


@pytest.fixture
async def client(state: State) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport(state), base_url="http://sim") as c:
        jwt = app_jwt(APP_ID, rsa_keypair()[0])
        r = await c.post(
            f"/app/installations/{INSTALLATION}/access_tokens",
            headers={"Authorization": f"Bearer {jwt}"},
        )
        assert r.status_code == 201, r.text
        c.headers["Authorization"] = f"token {r.json()['token']}"
        yield c
    assert not state.unknown_routes


def test_git_object_ids_are_real(state: State, repo: GitRepoBuilder) -> None:
    files = {"a.py": "print(1)\n", "pkg/b.py": "x = 2\n", "pkg/sub/c.txt": "c", "pkg.txt": ""}
    sha = state.commit(REPO, files)
    repo.write(files).commit()
    assert state.repos[REPO].commits[sha].tree == repo.git("rev-parse", "HEAD^{tree}")
    assert blob_sha(b"c") == repo.git("rev-parse", "HEAD:pkg/sub/c.txt")


def test_patch_matches_git_diff(repo: GitRepoBuilder) -> None:
    old = "".join(f"line {i}\n" for i in range(1, 21))
    new = old.replace("line 5\n", "line five\n").replace("line 20\n", "line 20")
    repo.write({"f.txt": old}).commit()
    repo.write({"f.txt": new})
    git = repo.git("diff", "-U3", "f.txt")
    assert unified_patch(old.encode(), new.encode()) == git[git.index("@@") :]
    assert unified_patch(b"\0bin", b"text") is None


@pytest.mark.parametrize(
    ("patch", "right", "left"),
    [
        pytest.param("@@ -0,0 +1,2 @@\n+a\n+b", {1, 2}, set(), id="added-file"),
        pytest.param("@@ -3,3 +3,3 @@\n c\n-d\n+D\n e", {3, 4, 5}, {3, 4, 5}, id="modified"),
        pytest.param("@@ -1,2 +0,0 @@\n-a\n-b", set(), {1, 2}, id="removed-file"),
        pytest.param(None, set(), set(), id="binary"),
    ],
)
def test_commentable_lines(patch: str | None, right: set[int], left: set[int]) -> None:
    assert commentable_lines(patch) == {"RIGHT": right, "LEFT": left}


async def test_auth(state: State) -> None:
    private, _ = rsa_keypair()
    other_private, _ = rsa_keypair(seed=1)
    async with httpx.AsyncClient(transport=transport(state), base_url="http://sim") as c:
        url = f"/app/installations/{INSTALLATION}/access_tokens"
        for bad in (app_jwt(APP_ID, private, expires_in=-10), app_jwt(APP_ID, other_private)):
            r = await c.post(url, headers={"Authorization": f"Bearer {bad}"})
            assert r.status_code == 401, r.text
        r = await c.get(f"/repos/{REPO}")
        assert r.status_code == 401
        state.token_lifetime = 600
        r = await c.post(url, headers={"Authorization": f"Bearer {app_jwt(APP_ID, private)}"})
        token = r.json()["token"]
        assert r.json()["expires_at"].endswith("Z")
        r = await c.get(f"/repos/{REPO}", headers={"Authorization": f"token {token}"})
        assert r.json()["full_name"] == REPO
        assert int(r.headers["x-ratelimit-remaining"]) == 4999
        r = await c.get("/repos/someone/else", headers={"Authorization": f"token {token}"})
        assert r.status_code == 404  # another installation's repository
        state.expire_tokens()
        r = await c.get(f"/repos/{REPO}", headers={"Authorization": f"token {token}"})
        assert (r.status_code, r.json()["message"]) == (401, "Bad credentials")


async def test_files_are_paginated_with_links_and_capped(
    state: State, client: httpx.AsyncClient
) -> None:
    base = state.commit(REPO, {"README": "hi\n"})
    head = state.commit(REPO, {"README": "hi\n", **{f"f{i:04}.py": f"{i}\n" for i in range(3100)}})
    pr = state.open_pull_request(REPO, base, head)
    url: str | None = f"/repos/{REPO}/pulls/{pr.number}/files?per_page=100"
    seen: list[dict[str, Any]] = []
    while url:
        r = await client.get(url)
        seen += r.json()
        url = r.links.get("next", {}).get("url")
    assert len(seen) == 3000
    assert seen[0] == {
        "sha": blob_sha(b"0\n"),
        "filename": "f0000.py",
        "status": "added",
        "additions": 1,
        "deletions": 0,
        "changes": 1,
        "patch": "@@ -0,0 +1 @@\n+0",
    }
    r = await client.get(f"/repos/{REPO}/pulls/{pr.number}/files")
    assert len(r.json()) == 30
    assert 'page=100>; rel="last"' in r.headers["link"]


async def test_trees_blobs_contents(state: State, client: httpx.AsyncClient) -> None:
    sha = state.commit(REPO, {"src/a.py": "a = 1\n", ".cairn.yml": "x: 1\n"}, branch="main")
    r = await client.get(f"/repos/{REPO}/git/trees/{sha}", params={"recursive": 1})
    tree = {e["path"]: e for e in r.json()["tree"]}
    assert tree.keys() == {".cairn.yml", "src", "src/a.py"}
    assert tree["src/a.py"]["size"] == 6 and tree["src"]["type"] == "tree"
    r = await client.get(f"/repos/{REPO}/git/blobs/{tree['src/a.py']['sha']}")
    assert r.json()["encoding"] == "base64" and r.json()["size"] == 6
    r = await client.get(f"/repos/{REPO}/contents/.cairn.yml")  # the default branch
    assert r.json()["sha"] == blob_sha(b"x: 1\n")
    r = await client.get(f"/repos/{REPO}/contents/missing.yml", params={"ref": sha})
    assert r.status_code == 404


async def test_check_runs_enforce_limits_and_accumulate_annotations(
    state: State, client: httpx.AsyncClient
) -> None:
    sha = state.commit(REPO, {"a.py": "a\n"})
    url = f"/repos/{REPO}/check-runs"
    r = await client.post(url, json={"name": "cairn", "head_sha": sha, "status": "in_progress"})
    run_id = r.json()["id"]
    note = {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "warning"}
    notes = [{**note, "message": f"m{i}"} for i in range(51)]
    output = {"title": "t", "summary": "s"}
    for body, expected in [
        ({"output": {**output, "annotations": notes}}, 422),
        ({"output": {**output, "summary": "x" * 65_536}}, 422),
        ({"status": "done"}, 422),
        ({"status": "completed"}, 422),  # a completed run needs a conclusion
        ({"output": {**output, "annotations": notes[:50]}}, 200),
        ({"conclusion": "neutral", "output": {**output, "annotations": notes[50:]}}, 200),
    ]:
        r = await client.patch(f"{url}/{run_id}", json=body)
        assert r.status_code == expected, (body, r.text)
    run = state.check_run(REPO, "cairn")
    assert (run.status, run.conclusion, len(run.annotations)) == ("completed", "neutral", 51)


async def test_review_comments_must_be_inside_the_diff(
    state: State, client: httpx.AsyncClient
) -> None:
    old = "".join(f"l{i}\n" for i in range(1, 30))
    base = state.commit(REPO, {"a.py": old})
    head = state.commit(REPO, {"a.py": old.replace("l10\n", "L10\n")})
    pr = state.open_pull_request(REPO, base, head)
    url = f"/repos/{REPO}/pulls/{pr.number}"
    good = {"path": "a.py", "line": 10, "side": "RIGHT", "body": "here"}
    bad = {**good, "line": 20}
    review = {"commit_id": head, "event": "COMMENT", "body": "Cairn", "comments": [good, bad]}
    r = await client.post(f"{url}/reviews", json=review)
    assert r.status_code == 422
    assert "must be part of the diff" in r.json()["errors"][0]
    assert state.review_comments(REPO, pr.number) == []  # all or nothing
    r = await client.post(f"{url}/reviews", json={**review, "comments": [good]})
    assert r.status_code == 200, r.text
    r = await client.get(f"{url}/reviews/{r.json()['id']}/comments")
    (comment,) = r.json()
    r = await client.post(f"{url}/comments/{comment['id']}/replies", json={"body": "fixed"})
    assert r.json()["in_reply_to_id"] == comment["id"]
    assert [c.body for c in state.comments_at(REPO, pr.number, "a.py", 10)] == ["here", "fixed"]

    query = (
        "query($owner:String!,$name:String!,$number:Int!){repository(owner:$owner,name:$name)"
        "{pullRequest(number:$number){reviewThreads(first:100){nodes{id isResolved}}}}}"
    )
    variables = {"owner": "acme", "name": "shop", "number": pr.number}
    r = await client.post("/graphql", json={"query": query, "variables": variables})
    (thread,) = r.json()["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]
    mutation = "mutation($id:ID!){resolveReviewThread(input:{threadId:$id}){thread{id}}}"
    resolve = {"query": mutation, "variables": {"id": thread["id"]}}
    r = await client.post("/graphql", json=resolve)  # contents: read, as app.yml asks
    assert r.json()["errors"][0]["type"] == "FORBIDDEN"
    assert [t.is_resolved for t in state.threads(REPO, pr.number)] == [False]
    state.permissions[INSTALLATION]["contents"] = "write"
    r = await client.post("/graphql", json=resolve)
    assert r.json()["data"]["resolveReviewThread"]["thread"]["isResolved"] is True
    assert [t.is_resolved for t in state.threads(REPO, pr.number)] == [True]


async def test_ids_are_past_32_bits_and_databaseid_overflows(
    state: State, client: httpx.AsyncClient
) -> None:
    base = state.commit(REPO, {"a.py": "a\n"})
    head = state.commit(REPO, {"a.py": "b\n"})
    pr = state.open_pull_request(REPO, base, head)
    url = f"/repos/{REPO}/pulls/{pr.number}"
    comment = {"path": "a.py", "line": 1, "side": "RIGHT", "body": "here"}
    r = await client.post(f"{url}/reviews", json={"event": "COMMENT", "comments": [comment]})
    assert r.json()["id"] >= 2**31
    [made] = state.review_comments(REPO, pr.number)
    assert made.id >= 2**31

    def query(field: str) -> dict[str, Any]:
        text = (
            "query($owner:String!,$name:String!,$number:Int!){repository(owner:$owner,name:$name)"
            "{pullRequest(number:$number){reviewThreads(first:100){nodes{id isResolved "
            f"comments(first:100){{nodes{{{field}}}}}}}}}}}}}"
        )
        return {"query": text, "variables": {"owner": "acme", "name": "shop", "number": 1}}

    r = await client.post("/graphql", json=query("databaseId"))
    assert r.json()["data"] is None and "32-bit" in r.json()["errors"][0]["message"]
    r = await client.post("/graphql", json=query("fullDatabaseId"))
    [node] = r.json()["data"]["repository"]["pullRequest"]["reviewThreads"]["nodes"]
    assert node["comments"]["nodes"] == [{"fullDatabaseId": str(made.id)}]


async def test_a_push_outdates_comments_and_moves_their_commit(
    state: State, client: httpx.AsyncClient
) -> None:
    lines = "".join(f"l{i}\n" for i in range(1, 30))
    base = state.commit(REPO, {"a.py": lines, "b.py": lines})
    first = state.commit(REPO, {"a.py": lines + "a\n", "b.py": lines + "b\n"})
    pr = state.open_pull_request(REPO, base, first)
    url = f"/repos/{REPO}/pulls/{pr.number}"
    comments = [
        {"path": path, "line": 30, "side": "RIGHT", "body": path} for path in ("a.py", "b.py")
    ]
    r = await client.post(f"{url}/reviews", json={"event": "COMMENT", "comments": comments})
    review_id = r.json()["id"]
    second = state.commit(REPO, {"a.py": lines + "a\n", "b.py": lines + "B\n"})
    state.open_pull_request(REPO, base, second, number=pr.number)

    listed = {c["path"]: c for c in (await client.get(f"{url}/comments")).json()}
    assert {p: (c["line"], c["original_line"]) for p, c in listed.items()} == {
        "a.py": (30, 30),
        "b.py": (None, 30),  # its line changed: outdated
    }
    assert {c["commit_id"] for c in listed.values()} == {second}
    assert {c["original_commit_id"] for c in listed.values()} == {first}
    # a review's comments come in the legacy shape: no line, no side
    legacy = (await client.get(f"{url}/reviews/{review_id}/comments")).json()
    assert [("line" in c, "side" in c, c["path"]) for c in legacy] == [
        (False, False, "a.py"),
        (False, False, "b.py"),
    ]


async def test_replies_to_replies_are_refused(state: State, client: httpx.AsyncClient) -> None:
    base = state.commit(REPO, {"a.py": "a\n"})
    pr = state.open_pull_request(REPO, base, state.commit(REPO, {"a.py": "b\n"}))
    url = f"/repos/{REPO}/pulls/{pr.number}"
    comment = {"path": "a.py", "line": 1, "side": "RIGHT", "body": "here"}
    await client.post(f"{url}/reviews", json={"event": "COMMENT", "comments": [comment]})
    [top] = state.review_comments(REPO, pr.number)
    r = await client.post(f"{url}/comments/{top.id}/replies", json={"body": "one"})
    assert r.status_code == 201
    r = await client.post(f"{url}/comments/{r.json()['id']}/replies", json={"body": "two"})
    assert r.status_code == 422
    assert [c.body for c in state.review_comments(REPO, pr.number)] == ["here", "one"]


async def test_an_empty_repository_answers_409(state: State, client: httpx.AsyncClient) -> None:
    for path in ("commits/main", "git/trees/main", "commits/main/check-runs"):
        r = await client.get(f"/repos/{REPO}/{path}")
        assert (r.status_code, r.json()["message"]) == (409, "Git Repository is empty."), path
    r = await client.get(f"/repos/{REPO}/contents/README.md")
    assert r.status_code == 404
    state.commit(REPO, {"README.md": "hi\n"}, branch="main")
    assert (await client.get(f"/repos/{REPO}/commits/main")).status_code == 200


@pytest.mark.parametrize(
    ("ghes", "version", "status"),
    [
        pytest.param(None, None, 200, id="dotcom-default"),
        pytest.param(None, "2022-11-28", 200, id="dotcom-2022"),
        pytest.param(None, "2026-03-10", 200, id="dotcom-2026"),
        pytest.param(None, "2021-01-01", 400, id="dotcom-unknown"),
        pytest.param("3.17", "2022-11-28", 200, id="ghes-2022"),
        pytest.param("3.17", "2026-03-10", 400, id="ghes-2026"),
    ],
)
async def test_the_api_version_is_recorded_and_checked(
    state: State, client: httpx.AsyncClient, ghes: str | None, version: str | None, status: int
) -> None:
    state.ghes = ghes
    headers = {"X-GitHub-Api-Version": version} if version else {}
    r = await client.get(f"/repos/{REPO}", headers=headers)
    assert r.status_code == status, r.text
    assert state.api_versions[-1] == version
    if status == 400:
        assert "X-GitHub-Api-Version" in r.json()["message"]


def test_a_push_sends_pull_request_and_check_suite_requested(state: State) -> None:
    base = state.commit(REPO, {"a.py": "a\n"}, branch="main")
    pr = state.open_pull_request(REPO, base, state.commit(REPO, {"a.py": "b\n"}))
    (event, pull), (suite_event, suite) = state.push_events(REPO, pr.number)
    assert (event, pull["action"], pull["pull_request"]["head"]["sha"]) == (
        "pull_request",
        "synchronize",
        pr.head_sha,
    )
    assert (suite_event, suite["action"], suite["check_suite"]["head_sha"]) == (
        "check_suite",
        "requested",
        pr.head_sha,
    )
    assert [p["number"] for p in suite["check_suite"]["pull_requests"]] == [pr.number]
    assert suite["repository"]["id"] == pull["repository"]["id"] == state.repos[REPO].id


async def test_faults_rate_limits_and_unknown_routes(
    state: State, client: httpx.AsyncClient
) -> None:
    state.fail_next(2)
    assert [(await client.get(f"/repos/{REPO}")).status_code for _ in range(3)] == [502, 502, 200]
    state.secondary_rate_limit(1, retry_after=17)
    r = await client.get(f"/repos/{REPO}")
    assert (r.status_code, r.headers["retry-after"]) == (403, "17")
    state.exhaust_rate_limit(f"installation:{INSTALLATION}", reset_in=90)
    r = await client.get(f"/repos/{REPO}")
    assert (r.status_code, r.headers["x-ratelimit-remaining"]) == (403, "0")
    r = await client.delete(f"/repos/{REPO}")
    assert r.status_code == 599 and "unknown route DELETE" in r.text
    r = await client.post("/graphql", json={"query": "query { viewer { login } }"})
    assert r.status_code == 400
    assert state.unknown_routes == [
        f"DELETE /repos/{REPO}",
        "POST /graphql query { viewer { login } }",
    ]
    state.unknown_routes.clear()


def test_serves_over_real_http(state: State) -> None:
    with serve(state) as base_url:
        r = httpx.get(f"{base_url}/api/v3/repos/{REPO}")  # GitHub Enterprise's prefix
    assert r.status_code == 401
    assert r.headers["x-ratelimit-limit"]


async def test_hook_deliveries_are_listed_newest_first_by_cursor_and_redelivered(
    state: State, client: httpx.AsyncClient
) -> None:
    # deliveries to a port nobody listens on: each attempt is recorded as failed
    state.webhook_url = "http://127.0.0.1:9/webhooks"
    sent = [state.deliver("ping", {"zen": "Keep it logically awesome.", "n": i}) for i in range(5)]
    assert {(d.status, d.status_code) for d in sent} == {("failed to connect to host", 0)}
    app = {"Authorization": f"Bearer {app_jwt(APP_ID, rsa_keypair()[0])}"}
    seen: list[int] = []
    url: str | None = "/app/hook/deliveries?per_page=2"
    while url:
        r = await client.get(url, headers=app)
        assert r.status_code == 200, r.text
        seen += [d["id"] for d in r.json()]
        url = r.links.get("next", {}).get("url")
    assert seen == [d.id for d in reversed(sent)]
    r = await client.get("/app/hook/deliveries?status=success", headers=app)
    assert r.json() == []
    # an installation token is not the App: 401
    assert (await client.get("/app/hook/deliveries")).status_code == 401

    r = await client.post(f"/app/hook/deliveries/{sent[0].id}/attempts", headers=app)
    assert (r.status_code, r.json()) == (202, {})
    r = await client.post("/app/hook/deliveries/999999/attempts", headers=app)
    assert r.status_code == 404
    sent[1].delivered_at -= 4 * 86_400
    r = await client.post(f"/app/hook/deliveries/{sent[1].id}/attempts", headers=app)
    assert r.status_code == 422


async def test_check_runs_for_a_ref_filter_by_app_name_and_status(
    state: State, client: httpx.AsyncClient
) -> None:
    sha = state.commit(REPO, {"a.py": "x = 1\n"})
    for name, status in (
        ("cairn/a", "in_progress"),
        ("cairn/b", "completed"),
        ("cairn/a", "in_progress"),
    ):
        body: dict[str, Any] = {"name": name, "head_sha": sha, "status": status}
        if status == "completed":
            body["conclusion"] = "success"
        assert (await client.post(f"/repos/{REPO}/check-runs", json=body)).status_code == 201

    async def names(query: str) -> list[tuple[str, str]]:
        r = await client.get(f"/repos/{REPO}/commits/{sha}/check-runs?{query}")
        assert r.status_code == 200, r.text
        assert r.json()["total_count"] == len(r.json()["check_runs"])
        return [(c["name"], c["status"]) for c in r.json()["check_runs"]]

    assert await names("") == [("cairn/a", "in_progress"), ("cairn/b", "completed")]
    assert len(await names("filter=all")) == 3
    assert await names("status=completed") == [("cairn/b", "completed")]
    assert await names("check_name=cairn/b&filter=all") == [("cairn/b", "completed")]
    assert await names(f"app_id={APP_ID}&filter=all&status=in_progress") == [
        ("cairn/a", "in_progress"),
        ("cairn/a", "in_progress"),
    ]
    assert await names("app_id=1") == []
