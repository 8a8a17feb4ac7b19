"""Nothing leaked: across tenants, and of the App's secrets.

Two installations of the App hold near-identical code. Reviews of one never cite the other,
and removing an installation or a repository deletes every row Cairn keeps about it (every
table with a ``repo_id``, found in the schema, so a table added later is covered too) and
none of the other's. The private key, the webhook secret, the App's JWTs and the installation
tokens never appear in the logs (DEBUG, across reviews that succeed and fail), in the error
messages Cairn publishes, in ``/metrics`` or in a settings error.

Real Postgres, a Redis server of the test's own, the simulator, burst-mode workers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from app.settings import Settings
from app.store import Store
from app.web import create_app
from app.worker import build_worker
from checks.config import ConfigError
from tests.app.samples import INVOICE_TOTAL, PARSE_DATE, PARSE_DATE_RENAMED, UNRELATED, module
from tests.github_sim import State, serve
from tests.github_sim.keys import rsa_keypair

APP_ID, TENANT_A, TENANT_B = 7171, 101, 102
REPO_A, REPO_B = "alpha/payments", "bravo/payments"  # same name, different owners
SECRET = "tenancy webhook secret 5f1c"

pytestmark = [
    pytest.mark.slow,  # real workers on Redis, every tenant's rows, end to end
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@dataclass
class World:
    state: State
    settings: Settings
    redis: ArqRedis
    store: Store
    private_key: str

    def repo_id(self, repo: str) -> int:
        return self.state.repos[repo].id

    async def run(self, *jobs: tuple[str, tuple[object, ...]]) -> None:
        for function, args in jobs:
            assert await self.redis.enqueue_job(function, *args, _job_id=f"{function}:{args}")
        worker = build_worker(self.settings, burst=True)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    def pull_request(self, repo: str, base: dict[str, str], added: dict[str, str]) -> str:
        base_sha = self.state.commit(repo, base, "base", branch="main")
        head = self.state.commit(repo, base | added, "head", parents=[base_sha])
        self.state.open_pull_request(repo, base_sha, head, number=1)
        return head

    def review(self, repo: str, installation: int, head: str) -> tuple[str, tuple[object, ...]]:
        return ("review_pull_request", (installation, self.repo_id(repo), repo, 1, head))

    def index(self, repo: str, installation: int) -> tuple[str, tuple[object, ...]]:
        return ("index_repository", (installation, self.repo_id(repo), repo, None))

    def published(self, repo: str) -> str:
        """Everything a person can read of Cairn's on the repository: runs and comments."""
        text = []
        for run in self.state.runs(repo):
            text += [run.title or "", run.summary or "", run.text or ""]
            text += [str(a) for a in run.annotations]
        for (name, _), comments in self.state.comments.items():
            if name == repo:
                text += [c.body for c in comments]
        for (name, _), reviews in self.state.reviews.items():
            if name == repo:
                text += [r.body for r in reviews]
        return "\n".join(text)


@pytest.fixture
async def world(store: Store, cairn_env: dict[str, str], redis_url: str) -> AsyncIterator[World]:
    state = State()
    private, public = rsa_keypair()
    state.register_app(APP_ID, public)
    state.add_installation(TENANT_A, APP_ID, [REPO_A])
    state.add_installation(TENANT_B, APP_ID, [REPO_B])
    with serve(state) as api_url:
        env = dict(
            cairn_env,
            GITHUB_APP_ID=str(APP_ID),
            GITHUB_PRIVATE_KEY=private,
            GITHUB_WEBHOOK_SECRET=SECRET,
            GITHUB_API_URL=api_url,
            REDIS_URL=redis_url,
        )
        redis = await create_pool(RedisSettings.from_dsn(redis_url))
        try:
            yield World(state, Settings.from_env(env), redis, store, private)
        finally:
            await redis.aclose()
    assert state.unknown_routes == []


async def rows_by_table(store: Store, repo_id: int) -> dict[str, int]:
    """The repository's rows in every table that has a ``repo_id`` column, and its own row."""
    tables = await store.pool.fetch(
        """
        SELECT table_name FROM information_schema.columns
        WHERE column_name = 'repo_id' AND table_schema = current_schema()
        ORDER BY table_name
        """
    )
    counts = {
        "repositories": await store.pool.fetchval(
            "SELECT count(*) FROM repositories WHERE id = $1", repo_id
        )
    }
    for row in tables:
        name = row["table_name"]
        counts[name] = await store.pool.fetchval(
            f'SELECT count(*) FROM "{name}" WHERE repo_id = $1', repo_id
        )
    return counts


# --- tenancy ---------------------------------------------------------------------------------

SHARED = {"billing/invoices.py": module(INVOICE_TOTAL), "reports/table.py": module(UNRELATED)}


async def test_a_finding_in_one_tenant_never_cites_the_other(world: World) -> None:
    # Both tenants hold the date parser, at different paths; A's pull request copies it.
    world.state.commit(REPO_B, SHARED | {"common/dates.py": module(PARSE_DATE)}, branch="main")
    head = world.pull_request(
        REPO_A,
        SHARED | {"billing/dates.py": module(PARSE_DATE)},
        {"exports/csv.py": module(PARSE_DATE_RENAMED)},
    )
    await world.run(world.index(REPO_B, TENANT_B), world.review(REPO_A, TENANT_A, head))

    comments = world.state.review_comments(REPO_A, 1)
    assert len(comments) == 1
    assert "billing/dates.py" in comments[0].body
    assert f"{REPO_A}/blob/" in comments[0].body
    published = world.published(REPO_A)
    assert "common/dates.py" not in published
    assert "bravo" not in published and str(world.repo_id(REPO_B)) not in published


async def test_code_only_the_other_tenant_holds_is_no_duplicate(world: World) -> None:
    world.state.commit(REPO_B, SHARED | {"common/dates.py": module(PARSE_DATE)}, branch="main")
    head = world.pull_request(REPO_A, SHARED, {"exports/csv.py": module(PARSE_DATE_RENAMED)})
    await world.run(world.index(REPO_B, TENANT_B), world.review(REPO_A, TENANT_A, head))

    assert world.state.review_comments(REPO_A, 1) == []
    assert world.state.check_run(REPO_A, "cairn/duplication").conclusion == "success"
    assert "common/dates.py" not in world.published(REPO_A)


@pytest.mark.parametrize(
    "removal",
    [
        pytest.param("forget_installation", id="installation-deleted"),
        pytest.param("forget_repositories", id="repository-removed"),
    ],
)
async def test_removing_a_tenant_deletes_all_its_rows_and_none_of_the_other(
    world: World, removal: str
) -> None:
    heads = {
        repo: world.pull_request(
            repo,
            SHARED | {"billing/dates.py": module(PARSE_DATE)},
            {"exports/csv.py": module(PARSE_DATE_RENAMED)},
        )
        for repo in (REPO_A, REPO_B)
    }
    await world.run(
        world.review(REPO_A, TENANT_A, heads[REPO_A]),
        world.review(REPO_B, TENANT_B, heads[REPO_B]),
    )
    a, b = world.repo_id(REPO_A), world.repo_id(REPO_B)
    before_a, before_b = await rows_by_table(world.store, a), await rows_by_table(world.store, b)
    for table in ("repositories", "files", "units", "findings"):
        assert before_a[table] > 0 and before_b[table] > 0, (table, before_a, before_b)

    await world.run((removal, (TENANT_A, [a])))

    assert set((await rows_by_table(world.store, a)).values()) == {0}
    assert await rows_by_table(world.store, b) == before_b


# --- secrets ---------------------------------------------------------------------------------


async def test_secrets_never_reach_logs_errors_or_metrics(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ok = world.pull_request(
        REPO_A,
        SHARED | {"billing/dates.py": module(PARSE_DATE)},
        {"exports/csv.py": module(PARSE_DATE_RENAMED)},
    )
    world.state.commit(REPO_B, SHARED, branch="main")
    failing = world.state.commit(
        REPO_B,
        SHARED | {"a.py": module(PARSE_DATE)},
        "head",
        parents=[world.state.repos[REPO_B].branches["main"]],
    )
    world.state.open_pull_request(
        REPO_B, world.state.repos[REPO_B].branches["main"], failing, number=1
    )

    class Outage(list[str]):
        """The first call after B's three check runs are open answers 403: its review fails."""

        def append(self, request: str) -> None:
            opened = sum(1 for r in self if r == f"POST /repos/{REPO_B}/check-runs")
            if opened == 3 and not getattr(self, "armed", False):
                self.armed = True
                world.state.fail_next(1, 403)
            super().append(request)

    with caplog.at_level(logging.DEBUG):
        await world.run(world.review(REPO_A, TENANT_A, ok))
        world.state.requests = Outage()
        await world.run(world.review(REPO_B, TENANT_B, failing))
        app = create_app(world.store.pool, world.redis, world.settings.app().webhook_secret)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://cairn.test"
        ) as client:
            metrics = (await client.get("/metrics")).text

    assert world.state.review_comments(REPO_A, 1)  # the first review ran to the end
    failed = world.state.check_run(REPO_B, "cairn/duplication")
    assert (failed.status, failed.conclusion) == ("completed", "failure")
    tokens = list(world.state.tokens)
    assert {world.state.tokens[t].installation_id for t in tokens} == {TENANT_A, TENANT_B}
    key_body = "".join(world.private_key.strip().splitlines()[1:-1])
    secrets = [SECRET, *tokens, key_body[:64], key_body[-64:]]
    logged = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    assert "review_pull_request" in metrics  # the page is about these jobs
    for where, text in {
        "logs": logged,
        "metrics": metrics,
        "published A": world.published(REPO_A),
        "published B": world.published(REPO_B),
    }.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the {where}"
        assert "eyJ" not in text, f"a JWT in the {where}"  # every JWT starts with {"


def test_a_settings_error_names_the_setting_never_its_value(cairn_env: dict[str, str]) -> None:
    env = dict(
        cairn_env,
        GITHUB_APP_ID="12",
        GITHUB_PRIVATE_KEY="hunter2-not-a-pem-key",
        GITHUB_WEBHOOK_SECRET="s3cr3t-webhook",
        REDIS_URL="redis://127.0.0.1:6379",
        CAIRN_JOB_TIMEOUT="soon",
    )
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env).app()
    message = str(raised.value) + repr(raised.value.problems)
    assert "private key is not a PEM private key" in message
    assert "CAIRN_JOB_TIMEOUT must be a non-negative number, not 'soon'" in message
    assert "hunter2" not in message and "s3cr3t" not in message
    assert "hunter2" not in repr(Settings.from_env(env))
