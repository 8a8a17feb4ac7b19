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

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix

from app.concurrency import WAITS_KEY

logger = logging.getLogger(__name__)

BATCH = 500  # deliveries per sweep; the next sweep takes the rest
EPOCH_KEY = "cairn:reconciler:epoch"  # present while Redis keeps its data
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


async def reconcile(pool: asyncpg.Pool, redis: ArqRedis, *, limit: int = BATCH) -> Reconciled:
    """Enqueue the jobs of deliveries still ``received``, oldest first; mark them ``queued``.

    A Redis error stops the sweep where it is: what is left stays ``received`` for the next.
    """
    requeued = await _after_data_loss(pool, redis)
    rows = await pool.fetch(
        """
        SELECT id, jobs FROM deliveries WHERE state = 'received'
        ORDER BY received_at, id LIMIT $1
        """,
        limit,
    )
    deliveries = jobs = 0
    for row in rows:
        log = {"delivery": row["id"]}
        for job in json.loads(row["jobs"]):
            queued = await redis.enqueue_job(job["function"], *job["args"], _job_id=job["job_id"])
            jobs += queued is not None
        await pool.execute(
            "UPDATE deliveries SET state = 'queued' WHERE id = $1 AND state = 'received'",
            row["id"],
        )
        deliveries += 1
        logger.info("delivery %s queued by the reconciler", row["id"], extra=log)
    recovered = await recover_unfinished(pool, redis, limit=limit)
    return Reconciled(deliveries, jobs, requeued, recovered)


async def job_started(pool: asyncpg.Pool, job_id: str) -> int:
    """Record an attempt of ``job_id`` starting (the job is not done until it completes);
    returns the attempt's number, for ``job_done``."""
    attempt: int = await pool.fetchval(
        """
        INSERT INTO job_runs (job_id, attempt, started_at) VALUES ($1, 1, now())
        ON CONFLICT (job_id) DO UPDATE
        SET attempt = job_runs.attempt + 1, started_at = now(), done_at = NULL
        RETURNING attempt
        """,
        job_id,
    )
    return attempt


async def job_done(pool: asyncpg.Pool, job_id: str, attempt: int) -> None:
    """Record ``job_id`` done, unless a newer attempt started since ``attempt`` did."""
    await pool.execute(
        "UPDATE job_runs SET done_at = now() WHERE job_id = $1 AND attempt = $2", job_id, attempt
    )


async def job_gave_up(pool: asyncpg.Pool, job_id: str) -> None:
    """Record that ``job_id`` gave up after its last try: not done, and the reconciler queues
    it again only after its backoff."""
    await pool.execute(
        """
        INSERT INTO job_runs (job_id, requeue_at) VALUES ($1, now() + make_interval(secs => $2))
        ON CONFLICT (job_id) DO UPDATE
        SET done_at = NULL,
            requeue_at = now() + make_interval(secs => $2 * 2 ^ job_runs.requeued)
        """,
        job_id,
        REQUEUE_BACKOFF,
    )


async def recover_unfinished(pool: asyncpg.Pool, redis: ArqRedis, *, limit: int = BATCH) -> int:
    """Queue again the jobs of the last day's queued deliveries that Postgres does not record
    done and that Redis holds neither queued nor running; returns how many."""
    rows = await pool.fetch(
        """
        SELECT DISTINCT ON (job->>'job_id')
               job->>'job_id' AS job_id, job, coalesce(r.requeued, 0) AS requeued
        FROM deliveries d
        CROSS JOIN LATERAL jsonb_array_elements(d.jobs) AS job
        LEFT JOIN job_runs r ON r.job_id = job->>'job_id'
        WHERE d.state = 'queued' AND d.received_at > now() - $1::interval
          AND r.done_at IS NULL
          AND (r.requeue_at IS NULL OR r.requeue_at <= now())
          AND coalesce(r.requeued, 0) < $2
        ORDER BY job->>'job_id', d.received_at
        LIMIT $3
        """,
        RECOVER_WITHIN,
        MAX_REQUEUES,
        limit,
    )
    recovered = 0
    for row in rows:
        job_id: str = row["job_id"]
        async with redis.pipeline(transaction=False) as pipe:
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
            queued, running = await pipe.execute()
        if queued or running:
            continue
        # Done since the query (arq drops the job's data once it completed)?
        done = await pool.fetchval("SELECT done_at FROM job_runs WHERE job_id = $1", job_id)
        if done is not None:
            continue
        job = json.loads(row["job"])
        # arq's result of a failed or "expired" run would make the enqueue a no-op
        await redis.delete(result_key_prefix + job_id, WAITS_KEY.format(job=job_id))
        if await redis.enqueue_job(job["function"], *job["args"], _job_id=job_id) is None:
            continue
        requeued = int(row["requeued"]) + 1
        await pool.execute(
            """
            INSERT INTO job_runs (job_id, requeued, requeue_at)
            VALUES ($1, 1, now() + make_interval(secs => $2))
            ON CONFLICT (job_id) DO UPDATE
            SET requeued = job_runs.requeued + 1,
                requeue_at = now() + make_interval(secs => $2 * 2 ^ job_runs.requeued)
            """,
            job_id,
            REQUEUE_BACKOFF,
        )
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


async def _after_data_loss(pool: asyncpg.Pool, redis: ArqRedis) -> int:
    """Queue again the jobs of the last hour's queued deliveries when Redis lost its data.

    A Redis restarted without persistence (or flushed) forgets the jobs it held, and their
    deliveries say 'queued'. A key the sweep keeps in Redis tells: when it is missing, every
    job of a delivery queued within arq's result lifetime (an hour) is enqueued again; arq
    drops those it still knows (queued, running or finished), so only lost ones run.
    """
    if not await redis.set(EPOCH_KEY, "1", nx=True):
        return 0
    rows = await pool.fetch(
        """
        SELECT id, jobs FROM deliveries
        WHERE state = 'queued' AND received_at > now() - interval '1 hour'
        ORDER BY received_at, id
        """
    )
    jobs = 0
    for row in rows:
        for job in json.loads(row["jobs"]):
            queued = await redis.enqueue_job(job["function"], *job["args"], _job_id=job["job_id"])
            jobs += queued is not None
    if jobs:
        logger.warning("Redis had lost its data: %d lost jobs queued again", jobs)
    return jobs
