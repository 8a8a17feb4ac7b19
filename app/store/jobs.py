"""Job runs in Postgres (``job_runs``): whether a queued job was done, whatever Redis kept.

A job is done once its latest attempt completed. A job that gave up, or that the reconciler
queued again, may be queued again only after its backoff (``requeue_at``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A recorded job not done, with how many times it was queued again."""

    job_id: str
    job: Mapping[str, Any]  # function, args, job_id
    requeued: int


async def started(pool: asyncpg.Pool, job_id: str) -> int:
    """Record an attempt of ``job_id`` starting (the job is not done until it completes);
    returns the attempt's number, for ``done``."""
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


async def done(pool: asyncpg.Pool, job_id: str, attempt: int) -> None:
    """Record ``job_id`` done, unless a newer attempt started since ``attempt`` did."""
    await pool.execute(
        "UPDATE job_runs SET done_at = now() WHERE job_id = $1 AND attempt = $2", job_id, attempt
    )


async def is_done(pool: asyncpg.Pool, job_id: str) -> bool:
    """Whether the latest attempt of ``job_id`` completed."""
    at = await pool.fetchval("SELECT done_at FROM job_runs WHERE job_id = $1", job_id)
    return at is not None


async def gave_up(pool: asyncpg.Pool, job_id: str, backoff: float) -> None:
    """Record that ``job_id`` gave up after its last try: not done, and not to be queued
    again before ``backoff`` seconds times 2 to the number of its re-queues."""
    await pool.execute(
        """
        INSERT INTO job_runs (job_id, requeue_at) VALUES ($1, now() + make_interval(secs => $2))
        ON CONFLICT (job_id) DO UPDATE
        SET done_at = NULL,
            requeue_at = now() + make_interval(secs => $2 * 2 ^ job_runs.requeued)
        """,
        job_id,
        backoff,
    )


async def requeued(pool: asyncpg.Pool, job_id: str, backoff: float) -> None:
    """Record that ``job_id`` was queued again; the next time waits twice as long."""
    await pool.execute(
        """
        INSERT INTO job_runs (job_id, requeued, requeue_at)
        VALUES ($1, 1, now() + make_interval(secs => $2))
        ON CONFLICT (job_id) DO UPDATE
        SET requeued = job_runs.requeued + 1,
            requeue_at = now() + make_interval(secs => $2 * 2 ^ job_runs.requeued)
        """,
        job_id,
        backoff,
    )


async def unfinished(
    pool: asyncpg.Pool, *, within: timedelta, max_requeues: int, limit: int
) -> list[Unfinished]:
    """The jobs of the deliveries queued within ``within`` that are not done, whose backoff
    has passed and that were queued again fewer than ``max_requeues`` times."""
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
        within,
        max_requeues,
        limit,
    )
    return [Unfinished(r["job_id"], json.loads(r["job"]), int(r["requeued"])) for r in rows]
