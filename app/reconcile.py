"""The reconciler: queue the deliveries that were recorded while Redis could not take them.

The webhook endpoint records a delivery, with the jobs it implies, before it answers; when
Redis is down it answers all the same and leaves the delivery ``received``. This sweep, run
by the worker at start-up and then every minute, enqueues those jobs under their recorded ids
(arq drops an id it already holds, so a sweep racing the endpoint queues nothing twice) and
marks the delivery ``queued``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import asyncpg
from arq.connections import ArqRedis

logger = logging.getLogger(__name__)

BATCH = 500  # deliveries per sweep; the next sweep takes the rest
EPOCH_KEY = "cairn:reconciler:epoch"  # present while Redis keeps its data


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one sweep did."""

    deliveries: int = 0  # recorded-but-unqueued deliveries now queued
    jobs: int = 0  # jobs enqueued (a job arq already held is not counted)
    requeued: int = 0  # jobs queued again after Redis lost its data


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
    return Reconciled(deliveries, jobs, requeued)


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
