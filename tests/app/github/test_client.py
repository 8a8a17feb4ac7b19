"""app.github against the GitHub simulator, over real HTTP (and once in-process)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from app.github import (
    Annotation,
    CommentDraft,
    Forbidden,
    GitHubApp,
    GitHubUnavailable,
    NotFound,
    RateLimited,
    Unauthorized,
    Unprocessable,
)
from app.settings import Secret
from tests.github_sim import State, serve, transport
from tests.github_sim.keys import rsa_keypair

APP_ID, INSTALLATION, REPO = 1234, 77, "acme/shop"
OLD = "".join(f"line {i}\n" for i in range(1, 41))


class Sim:
    """A running simulator with one App installed on ``acme/shop``, and that App."""

    def __init__(self, base_url: str, state: State) -> None:
        self.base_url, self.state = base_url, state
        self.app = GitHubApp(APP_ID, Secret(rsa_keypair()[0]), base_url)
        self.gh = self.app.installation(INSTALLATION)

    def pull_request(self, files: dict[str, str], base: dict[str, str] | None = None) -> int:
        old = self.state.commit(REPO, base or {"a.py": OLD}, branch="main")
        new = self.state.commit(REPO, files, parents=[old])
        return self.state.open_pull_request(REPO, old, new, title="Add things").number

    def requests(self, prefix: str) -> list[str]:
        return [r for r in self.state.requests if r.startswith(prefix)]


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    state = State()
    state.register_app(APP_ID, rsa_keypair()[1])
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    with serve(state) as base_url:
        sim = Sim(base_url, state)
        async with sim.app:
            yield sim
    assert state.unknown_routes == []


async def test_installation_token_is_exchanged_once_and_cached(sim: Sim) -> None:
    sim.pull_request({"a.py": OLD + "more\n"})
    pr = await sim.gh.pull_request(REPO, 1)
    repo = await sim.gh.repository(REPO)
    assert (pr.number, pr.title, pr.base_ref, pr.head_repo) == (1, "Add things", "main", REPO)
    assert (repo.full_name, repo.default_branch) == (REPO, "main")
    assert sim.state.tokens_issued == [INSTALLATION]


async def test_a_token_near_expiry_is_renewed(sim: Sim) -> None:
    sim.state.token_lifetime = 299  # inside the five-minute margin: never reused
    await sim.gh.repository(REPO)
    await sim.gh.repository(REPO)
    assert sim.state.tokens_issued == [INSTALLATION, INSTALLATION]


async def test_a_revoked_token_is_replaced_and_the_call_retried(sim: Sim) -> None:
    await sim.gh.repository(REPO)
    sim.state.expire_tokens()
    assert (await sim.gh.repository(REPO)).full_name == REPO
    assert sim.state.tokens_issued == [INSTALLATION, INSTALLATION]


async def test_the_token_is_never_logged(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        await sim.gh.repository(REPO)
    (token,) = sim.state.tokens
    assert caplog.records  # the exchange is logged ...
    for record in caplog.records:  # ... without the token, in the message or in extra
        assert token not in repr(record.__dict__)
    assert rsa_keypair()[0] not in repr(sim.app)


async def test_a_wrong_app_key_is_unauthorized(sim: Sim) -> None:
    async with GitHubApp(APP_ID, rsa_keypair(seed=1)[0], sim.base_url) as app:
        with pytest.raises(Unauthorized):
            await app.installation(INSTALLATION).repository(REPO)


async def test_pull_request_files_follow_every_page(sim: Sim) -> None:
    files = {"a.py": OLD.replace("line 7\n", "line seven\n")}
    files |= {f"src/m{i:03}.py": f"value = {i}\n" for i in range(239)}
    number = sim.pull_request(files)
    got = await sim.gh.pull_request_files(REPO, number)
    assert len(got) == 240
    assert len(sim.requests(f"GET /repos/{REPO}/pulls/{number}/files")) == 3
    a = next(f for f in got if f.path == "a.py")
    assert (a.status, a.additions, a.deletions) == ("modified", 1, 1)
    assert a.patch is not None and "+line seven" in a.patch
    assert got[-1].patch == "@@ -0,0 +1 @@\n+value = 238"


async def test_pull_request_files_stop_at_github_cap(sim: Sim) -> None:
    number = sim.pull_request({f"f{i:04}.txt": f"{i}\n" for i in range(3050)})
    got = await sim.gh.pull_request_files(REPO, number)
    assert len(got) == 3000
    assert (await sim.gh.pull_request(REPO, number)).changed_files == 3051  # a.py removed


async def test_tree_blob_and_file_at(sim: Sim) -> None:
    binary = bytes(range(256))
    files = {"a.py": OLD, "img/logo.png": binary, ".cairn.yml": "checks: [duplication]\n"}
    sha = sim.state.commit(REPO, files)  # type: ignore[arg-type]
    tree = {t.path: t for t in await sim.gh.tree(REPO, sha)}
    assert set(tree) == {"a.py", "img", "img/logo.png", ".cairn.yml"}
    assert (tree["img"].type, tree["img/logo.png"].size) == ("tree", 256)
    assert await sim.gh.blob(REPO, tree["img/logo.png"].sha) == binary
    assert await sim.gh.file_at(REPO, sha, ".cairn.yml") == b"checks: [duplication]\n"
    assert await sim.gh.file_at(REPO, sha, "missing.yml") is None
    assert await sim.gh.file_at(REPO, sha, "img") is None  # a directory


async def test_120_annotations_go_in_three_requests(sim: Sim) -> None:
    sim.pull_request({"a.py": OLD + "x\n"})
    head = sim.state.pulls[(REPO, 1)].head_sha
    run_id = await sim.gh.create_check_run(REPO, "cairn/duplication", head)
    notes = [Annotation("a.py", i, i, "warning", f"finding {i}") for i in range(1, 121)]
    await sim.gh.update_check_run(
        REPO,
        run_id,
        status="completed",
        conclusion="neutral",
        title="120 findings",
        summary="See the annotations.",
        annotations=notes,
    )
    run = sim.state.check_run(REPO, "cairn/duplication")
    assert len(sim.requests(f"PATCH /repos/{REPO}/check-runs/{run_id}")) == 3
    assert [a["message"] for a in run.annotations] == [f"finding {i}" for i in range(1, 121)]
    assert (run.status, run.conclusion, run.title) == ("completed", "neutral", "120 findings")


async def test_an_oversized_summary_is_unprocessable(sim: Sim) -> None:
    head = sim.state.commit(REPO, {"a.py": OLD})
    run_id = await sim.gh.create_check_run(REPO, "cairn", head)
    with pytest.raises(Unprocessable, match="65535 characters"):
        await sim.gh.update_check_run(REPO, run_id, title="t", summary="x" * 70_000)


async def test_review_comments_replies_and_threads(sim: Sim) -> None:
    number = sim.pull_request({"a.py": OLD.replace("line 20\n", "line twenty\nline 20b\n")})
    head = sim.state.pulls[(REPO, number)].head_sha
    drafts = [
        CommentDraft("a.py", 21, "Second."),
        CommentDraft("a.py", 20, "First.", start_line=18),
        CommentDraft("a.py", 20, "Removed here.", side="LEFT"),
    ]
    ids = await sim.gh.publish_review(REPO, number, head, "Cairn found 3 things.", drafts)
    assert len(set(ids)) == 3
    seen = {c.id: c for c in sim.state.review_comments(REPO, number)}
    assert [seen[i].body for i in ids] == ["Second.", "First.", "Removed here."]
    assert (seen[ids[1]].start_line, seen[ids[2]].side) == (18, "LEFT")

    reply_id = await sim.gh.reply(REPO, number, ids[0], "Fixed, thanks.")
    comments = await sim.gh.review_comments(REPO, number)
    assert [c.id for c in comments] == [*ids, reply_id]
    assert comments[-1].in_reply_to_id == ids[0]
    assert comments[0].author == "cairn[bot]"

    threads = await sim.gh.review_threads(REPO, number)
    assert min(ids) > 2**31  # GitHub's ids no longer fit GraphQL's Int
    assert [t.comment_ids for t in threads] == [(ids[0], reply_id), (ids[1],), (ids[2],)]
    with pytest.raises(Forbidden):  # contents: read, as app.yml asks
        await sim.gh.resolve_thread(threads[0].id)
    sim.state.permissions[INSTALLATION]["contents"] = "write"
    await sim.gh.resolve_thread(threads[0].id)
    assert [t.is_resolved for t in await sim.gh.review_threads(REPO, number)] == [
        True,
        False,
        False,
    ]
    with pytest.raises(NotFound):
        await sim.gh.resolve_thread("PRRT_missing")


async def test_a_comment_outside_the_diff_is_unprocessable(sim: Sim) -> None:
    number = sim.pull_request({"a.py": OLD.replace("line 5\n", "line five\n")})
    head = sim.state.pulls[(REPO, number)].head_sha
    drafts = [CommentDraft("a.py", 5, "In the diff."), CommentDraft("a.py", 30, "Not.")]
    with pytest.raises(Unprocessable, match="must be part of the diff"):
        await sim.gh.publish_review(REPO, number, head, "Review", drafts)
    assert sim.state.review_comments(REPO, number) == []


async def test_secondary_rate_limit(sim: Sim) -> None:
    await sim.gh.repository(REPO)  # the token first
    sim.state.secondary_rate_limit(1, retry_after=42)
    with pytest.raises(RateLimited) as caught:
        await sim.gh.pull_request(REPO, 1)
    assert caught.value.retry_after == 42
    sim.state.secondary_rate_limit(1, retry_after=None)
    with pytest.raises(RateLimited) as caught:
        await sim.gh.pull_request(REPO, 1)
    assert caught.value.retry_after == 60  # GitHub: wait at least a minute


async def test_primary_rate_limit_waits_until_the_reset(sim: Sim) -> None:
    await sim.gh.repository(REPO)
    sim.state.exhaust_rate_limit(f"installation:{INSTALLATION}", reset_in=90)
    with pytest.raises(RateLimited) as caught:
        await sim.gh.repository(REPO)
    assert 85 <= caught.value.retry_after <= 90


async def test_server_errors_and_missing_things(sim: Sim) -> None:
    await sim.gh.repository(REPO)
    sim.state.fail_next(1, status=502)
    with pytest.raises(GitHubUnavailable) as caught:
        await sim.gh.repository(REPO)
    assert caught.value.status == 502
    with pytest.raises(NotFound):
        await sim.gh.pull_request(REPO, 404)
    with pytest.raises(NotFound):
        await sim.gh.repository("acme/invisible")


async def test_network_errors_are_unavailable() -> None:
    state = State()
    with serve(state) as base_url:
        pass  # the port is closed again
    async with GitHubApp(APP_ID, rsa_keypair()[0], base_url, timeout=5) as app:
        with pytest.raises(GitHubUnavailable):
            await app.installation(INSTALLATION).repository(REPO)


async def test_enterprise_server_paths(sim: Sim) -> None:
    """GHES serves REST under /api/v3 and GraphQL at /api/graphql, and only the REST API
    version 2022-11-28."""
    sim.state.ghes = "3.17"
    number = sim.pull_request({"a.py": OLD + "tail\n"})
    head = sim.state.pulls[(REPO, number)].head_sha
    async with GitHubApp(APP_ID, rsa_keypair()[0], f"{sim.base_url}/api/v3") as app:
        gh = app.installation(INSTALLATION)
        await gh.publish_review(REPO, number, head, "ok", [CommentDraft("a.py", 41, "Tail.")])
        assert len(await gh.review_threads(REPO, number)) == 1
        assert [c.path for c in await gh.review_comments(REPO, number)] == ["a.py"]
        assert await gh.file_at(REPO, head, "a.py") == (OLD + "tail\n").encode()
        assert [r.name for r in await gh.check_runs(REPO, head)] == []
    assert any(r.startswith("POST /graphql") for r in sim.state.requests)
    assert set(sim.state.api_versions) == {"2022-11-28"}


@pytest.mark.parametrize(
    "path", ["docs/a#b.md", "docs/what?.md", "docs/100%.md", "docs/a b.md", "docs/ü.md"]
)
async def test_a_path_with_url_characters_reads_that_file(sim: Sim, path: str) -> None:
    base = sim.state.commit(REPO, {path: "the file\n", "docs/a": "another\n"}, branch="main")
    assert await sim.gh.file_at(REPO, base, path) == b"the file\n"


async def test_in_process_transport() -> None:
    state = State()
    state.register_app(APP_ID, rsa_keypair()[1])
    state.add_installation(INSTALLATION, APP_ID, [REPO])
    sim = transport(state)
    async with GitHubApp(APP_ID, rsa_keypair()[0], "http://github.sim", transport=sim) as app:
        assert (await app.installation(INSTALLATION).repository(REPO)).full_name == REPO
    assert state.unknown_routes == []
