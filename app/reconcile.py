"""The reconciler: queue the deliveries that were recorded while Redis could not take them.

The webhook endpoint records a delivery, with the jobs it implies, before it answers; when
Redis is down it answers all the same and leaves the delivery ``received``. This sweep, run
by the worker at start-up and then every minute, enqueues those jobs under their recorded ids
(arq drops an id it already holds, so a sweep racing the endpoint queues nothing twice) and
marks the delivery ``queued``.

Postgres, not Redis, says whether a queued delivery's jobs were done (``job_runs``: a job is
done once its latest attempt completed). Each sweep also queues again the jobs of the last
day's queued deliveries that are not done and that Redis holds neither queued nor running:
lost with Redis's data, found "expired" by arq (a deferred attempt whose data Redis had lost:
arq then records a failed result that blocks any re-enqueue of the id for an hour), or given
up after their last try. Each such re-queue backs off (1, 2, 4, ... minutes), at most
``MAX_REQUEUES`` times a job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix

from app.concurrency import WAITS_KEY
from app.store import deliveries, jobs
from app.store.database import Pool

logger = logging.getLogger(__name__)

BATCH = 500  # deliveries per sweep; the next sweep takes the rest
EPOCH_KEY = "cairn:reconciler:epoch"  # present while Redis keeps its data
LOST_WITHIN = timedelta(hours=1)  # arq's result lifetime: what it would still dedupe
RECOVER_WITHIN = timedelta(days=1)  # queued deliveries whose unfinished jobs a sweep queues again
MAX_REQUEUES = 8  # re-queues of one job by the reconciler (then it is left, and logged)
REQUEUE_BACKOFF = 60.0  # seconds before a re-queued job may be re-queued again; doubles


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one sweep did."""

    deliveries: int = 0  # recorded-but-unqueued deliveries now queued
    jobs: int = 0  # jobs enqueued (a job arq already held is not counted)
    requeued: int = 0  # jobs queued again after Redis lost its data
    recovered: int = 0  # unfinished jobs Redis no longer held, queued again


async def reconcile(pool: Pool, redis: ArqRedis, *, limit: int = BATCH) -> Reconciled:
    """Enqueue the jobs of deliveries still ``received``, oldest first; mark them ``queued``.

    A Redis error stops the sweep where it is: what is left stays ``received`` for the next.
    """
    requeued = await _after_data_loss(pool, redis)
    delivered = queued_jobs = 0
    for delivery in await deliveries.received(pool, limit=limit):
        log = {"delivery": delivery.id}
        for job in delivery.jobs:
            queued = await redis.enqueue_job(job["function"], *job["args"], _job_id=job["job_id"])
            queued_jobs += queued is not None
        await deliveries.mark_queued(pool, delivery.id, if_received=True)
        delivered += 1
        logger.info("delivery %s queued by the reconciler", delivery.id, extra=log)
    recovered = await recover_unfinished(pool, redis, limit=limit)
    return Reconciled(delivered, queued_jobs, requeued, recovered)


async def job_started(pool: Pool, job_id: str) -> int:
    """Record an attempt of ``job_id`` starting; returns its number, for ``job_done``."""
    return await jobs.started(pool, job_id)


async def job_done(pool: Pool, job_id: str, attempt: int) -> None:
    """Record ``job_id`` done, unless a newer attempt started since ``attempt`` did."""
    await jobs.done(pool, job_id, attempt)


async def job_gave_up(pool: Pool, job_id: str) -> None:
    """Record that ``job_id`` gave up after its last try: not done, and the reconciler queues
    it again only after its backoff."""
    await jobs.gave_up(pool, job_id, REQUEUE_BACKOFF)


async def recover_unfinished(pool: Pool, redis: ArqRedis, *, limit: int = BATCH) -> int:
    """Queue again the jobs of the last day's queued deliveries that Postgres does not record
    done and that Redis holds neither queued nor running; returns how many."""
    rows = await jobs.unfinished(
        pool, within=RECOVER_WITHIN, max_requeues=MAX_REQUEUES, limit=limit
    )
    recovered = 0
    for row in rows:
        job_id = row.job_id
        async with redis.pipeline(transaction=False) as pipe:
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
            queued, running = await pipe.execute()
        if queued or running:
            continue
        # Done since the query (arq drops the job's data once it completed)?
        if await jobs.is_done(pool, job_id):
            continue
        job = row.job
        # arq's result of a failed or "expired" run would make the enqueue a no-op
        await redis.delete(result_key_prefix + job_id, WAITS_KEY.format(job=job_id))
        if await redis.enqueue_job(job["function"], *job["args"], _job_id=job_id) is None:
            continue
        requeued = row.requeued + 1
        await jobs.requeued(pool, job_id, REQUEUE_BACKOFF)
        recovered += 1
        log = {"job": job_id}
        if requeued >= MAX_REQUEUES:
            logger.error(
                "job %s queued again for the last time (%d): not done", job_id, requeued, extra=log
            )
        else:
            logger.warning(
                "job %s not done and not in Redis: queued again (%d)", job_id, requeued, extra=log
            )
    return recovered


async def _after_data_loss(pool: Pool, redis: ArqRedis) -> int:
    """Queue again the jobs of the last hour's queued deliveries when Redis lost its data.

    A Redis restarted without persistence (or flushed) forgets the jobs it held, and their
    deliveries say 'queued'. A key the sweep keeps in Redis tells: when it is missing, every
    job of a delivery queued within arq's result lifetime (an hour) is enqueued again; arq
    drops those it still knows (queued, running or finished), so only lost ones run.
    """
    if not await redis.set(EPOCH_KEY, "1", nx=True):
        return 0
    queued_jobs = 0
    for delivery in await deliveries.queued_within(pool, LOST_WITHIN):
        for job in delivery.jobs:
            queued = await redis.enqueue_job(job["function"], *job["args"], _job_id=job["job_id"])
            queued_jobs += queued is not None
    if queued_jobs:
        logger.warning("Redis had lost its data: %d lost jobs queued again", queued_jobs)
    return queued_jobs
