"""``cairn worker``: the arq jobs behind the GitHub App.

Every job's top level is where an unexpected error is caught, logged with its context and
turned into failed check runs, so a required status check never stays "in progress".
Rate limits defer the job (``Retry(defer=...)``) instead of sleeping in a worker slot.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import asyncpg
from arq.connections import RedisSettings
from arq.worker import Retry, Worker

from app import database
from app.github import GitHubApp, RateLimited
from app.indexer import index_commit
from app.settings import AppSettings, Settings
from app.source import GitHubSource
from app.store import Store

logger = logging.getLogger(__name__)

JOB_TIMEOUT = 900  # seconds: a first index of a large repository fits
MAX_TRIES = 5


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What every job shares: settings, the database, the App's GitHub client."""

    settings: Settings
    app: AppSettings
    pool: asyncpg.Pool
    github: GitHubApp


def _state(ctx: dict[str, Any]) -> WorkerState:
    state: WorkerState = ctx["cairn"]
    return state


async def index_repository(
    ctx: dict[str, Any], installation_id: int, repo_id: int, full_name: str, sha: str | None
) -> str:
    """Bring a repository's index to ``sha`` (or its default branch's head)."""
    w = _state(ctx)
    gh = w.github.installation(installation_id)
    log = {"repo": full_name, "sha": sha}
    try:
        info = await gh.repository(full_name)
        commit = sha or info.default_branch
        store = Store(w.pool)
        repo = await store.repository(
            full_name,
            repo_id=repo_id,
            installation_id=installation_id,
            default_branch=info.default_branch,
        )
        report = await index_commit(store, repo, GitHubSource(gh, full_name, commit, ()), commit)
    except RateLimited as exc:
        logger.warning("rate limited; indexing again in %.0f s", exc.retry_after, extra=log)
        raise Retry(defer=exc.retry_after) from exc
    logger.info("indexed %s: %d parsed", full_name, report.parsed, extra=log)
    return f"indexed {report.files} files ({report.parsed} parsed)"


async def forget_repositories(
    ctx: dict[str, Any], installation_id: int, repo_ids: list[int]
) -> str:
    """Delete everything Cairn keeps about repositories the App may no longer see."""
    store = Store(_state(ctx).pool)
    for repo_id in repo_ids:
        await store.delete_repository(repo_id)
    return f"forgot {len(repo_ids)} repositories"


async def forget_installation(
    ctx: dict[str, Any], installation_id: int, repo_ids: list[int]
) -> str:
    """Delete everything Cairn keeps about an uninstalled installation's repositories."""
    store = Store(_state(ctx).pool)
    forgotten = await store.delete_installation(installation_id)
    for repo_id in repo_ids:
        await store.delete_repository(repo_id)
    return f"forgot installation {installation_id} ({forgotten} repositories)"


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    stack = AsyncExitStack()
    app = settings.app()
    pool = await stack.enter_async_context(database.connect(settings))
    github = await stack.enter_async_context(GitHubApp(app.app_id, app.private_key, app.api_url))
    ctx["stack"] = stack
    ctx["cairn"] = WorkerState(settings=settings, app=app, pool=pool, github=github)


async def shutdown(ctx: dict[str, Any]) -> None:
    stack: AsyncExitStack | None = ctx.get("stack")
    if stack is not None:
        await stack.aclose()


FUNCTIONS: tuple[Any, ...] = (index_repository, forget_repositories, forget_installation)


def build_worker(
    settings: Settings, *, burst: bool = False, queue_name: str | None = None
) -> Worker:
    """An arq worker for the App's jobs (``burst``: stop when the queue is empty, for tests)."""
    app = settings.app()
    options: dict[str, Any] = {} if queue_name is None else {"queue_name": queue_name}
    return Worker(
        FUNCTIONS,
        redis_settings=RedisSettings.from_dsn(app.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"settings": settings},
        burst=burst,
        handle_signals=not burst,
        job_timeout=JOB_TIMEOUT,
        max_tries=MAX_TRIES,
        **options,
    )
