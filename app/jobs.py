"""How every job of the worker runs: its shared state, retries, records and installation slots.

Rate limits defer a job (``Retry(defer=...)``) instead of sleeping in a worker slot, and so
does GitHub being unavailable (5xx, network) or the database, with exponential backoff up to
``MAX_TRIES``. Each attempt is recorded in Postgres, so the reconciler knows what was done
whatever Redis kept. Reviews and indexes take one of their installation's slots first; a job
over the limit is deferred too, and those waits do not count as tries.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from arq.worker import Retry

from app.analysis import Inline, Runner
from app.concurrency import InstallationSlots
from app.github import GitHubApp, GitHubError, GitHubUnavailable, RateLimited
from app.metrics import GitHubMeter
from app.reconcile import job_done, job_gave_up, job_started
from app.settings import AppSettings, Settings
from app.store import database
from app.store.database import Pool

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_TRIES = 5
# Deferrals for want of an installation slot (``limited``) are not tries: arq may pick a
# limited job up this many times more (every CAIRN_CONCURRENCY_RETRY seconds).
MAX_WAITS = 10_000
RETRY_BACKOFF = 5.0  # seconds before the second try when GitHub is unavailable; doubles after


def backoff(tries: int) -> float:
    """How long to wait after ``tries`` attempts met a GitHub outage: 5, 10, 20, 40 s."""
    return float(RETRY_BACKOFF * 2 ** (tries - 1))


def retry_delay(ctx: dict[str, Any], exc: GitHubError) -> float | None:
    """Seconds until a job that met ``exc`` runs again; None when it should not."""
    # the job's tries, less the times it was only deferred for an installation slot
    tries = int(ctx.get("job_try") or 1) - int(ctx.get("slot_waits") or 0)
    if isinstance(exc, RateLimited):
        return exc.retry_after if tries < MAX_TRIES else None
    if isinstance(exc, GitHubUnavailable):
        return backoff(tries) if tries < MAX_TRIES else None
    return None


def retrying(job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Defer a job that met GitHub's rate limit or an outage (5xx, network), never sleeping in
    a worker slot: one mechanism for every job and every call it makes."""

    @functools.wraps(job)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        ctx: dict[str, Any] = args[0]  # type: ignore[assignment]
        try:
            return await job(*args, **kwargs)
        except (RateLimited, GitHubUnavailable) as exc:
            delay = retry_delay(ctx, exc)
            if delay is None:
                await _gave_up(ctx)
                raise
            logger.warning("%s: %s; trying again in %.0f s", job.__name__, exc, delay)
            raise Retry(defer=delay) from exc
        except database.UNAVAILABLE as exc:
            tries = int(ctx.get("job_try") or 1) - int(ctx.get("slot_waits") or 0)
            if tries >= MAX_TRIES:
                await _gave_up(ctx)
                raise
            delay = backoff(tries)
            logger.warning(
                "%s: the database is unavailable (%r); trying again in %.0f s",
                job.__name__,
                exc,
                delay,
            )
            raise Retry(defer=delay) from exc

    return run


async def _gave_up(ctx: dict[str, Any]) -> None:
    """Record in Postgres that the job gave up after its last try (GitHub got its 202 and will
    not deliver again): the reconciler queues it again after a backoff. Best effort: without
    the record, the job is still not done, and the reconciler's next sweep queues it."""
    job_id = ctx.get("job_id")
    if not job_id or "cairn" not in ctx:
        return
    try:
        await job_gave_up(state_of(ctx).pool, str(job_id))
    except database.UNAVAILABLE as exc:
        logger.warning("could not record that job %s gave up: %r", job_id, exc)


def recorded(job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Record each attempt in Postgres (``job_runs``): started, then done once the job returns
    (a review: its check runs completed). The reconciler queues again the jobs of queued
    deliveries that are not done and that Redis no longer holds; Redis may lose a job, arq
    may find it "expired", but Postgres says what was done."""

    @functools.wraps(job)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        ctx: dict[str, Any] = args[0]  # type: ignore[assignment]
        job_id = ctx.get("job_id")
        if not job_id:
            return await job(*args, **kwargs)
        pool = state_of(ctx).pool
        attempt = await job_started(pool, str(job_id))
        result = await job(*args, **kwargs)
        await job_done(pool, str(job_id), attempt)
        return result

    return run


def limited(job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run the job only in one of its installation's slots (the first argument after ``ctx``);
    with none free, defer it by CAIRN_CONCURRENCY_RETRY seconds without holding a worker."""

    @functools.wraps(job)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        ctx: dict[str, Any] = args[0]  # type: ignore[assignment]
        installation_id = int(args[1])  # type: ignore[call-overload]
        w = state_of(ctx)
        slots = InstallationSlots(
            ctx["redis"],
            w.app.installation_concurrency,
            lease=w.app.job_timeout + w.app.rerun_after,
        )
        job_id = str(ctx.get("job_id") or job.__name__)
        ctx["slot_waits"] = await slots.waits(job_id)
        if not await slots.acquire(installation_id, job_id):
            ctx["slot_waits"] = await slots.waited(job_id)
            logger.info(
                "%s: installation %d has %d jobs running; trying again in %.0f s",
                job.__name__,
                installation_id,
                w.app.installation_concurrency,
                w.app.concurrency_retry,
                extra={"installation": installation_id},
            )
            raise Retry(defer=w.app.concurrency_retry)
        try:
            return await job(*args, **kwargs)
        finally:
            await slots.release(installation_id, job_id)

    return run


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What every job shares: settings, the database, the App's GitHub client."""

    settings: Settings
    app: AppSettings
    pool: Pool
    github: GitHubApp
    meter: GitHubMeter | None = None
    analysis: Runner = field(default_factory=Inline)  # bounded child processes (startup)


def state_of(ctx: dict[str, Any]) -> WorkerState:
    state: WorkerState = ctx["cairn"]
    return state
