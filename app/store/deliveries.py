"""Webhook deliveries in Postgres: one row per delivery id, and its state.

The states, and who moves a delivery between them::

    (new) ──record──▶ received ──mark_queued──▶ queued
      │                  ▲ (the endpoint, once Redis took its jobs; or the reconciler)
      └──record──▶ ignored   (no jobs: recorded for dedupe and metrics only)

A delivery is recorded, with the jobs it implies, before the endpoint answers; an id seen
before is never recorded twice (a redelivery enqueues nothing new).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class Recorded:
    """A delivery's id and the jobs recorded with it (``function``, ``args``, ``job_id``)."""

    id: str
    jobs: tuple[Mapping[str, Any], ...]


async def record(
    pool: asyncpg.Pool,
    delivery_id: str,
    *,
    event: str,
    action: str | None,
    installation_id: int | None,
    repo_id: int | None,
    jobs: Sequence[Mapping[str, Any]],
) -> bool:
    """Record a delivery, ``received`` (or ``ignored`` without jobs); False when its id was
    recorded before (a redelivery)."""
    inserted = await pool.fetchval(
        """
        INSERT INTO deliveries (id, event, action, installation_id, repo_id, state, jobs)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
        ON CONFLICT (id) DO NOTHING RETURNING true
        """,
        delivery_id,
        event,
        action,
        installation_id,
        repo_id,
        "received" if jobs else "ignored",
        json.dumps(list(jobs)),
    )
    return bool(inserted)


async def state(pool: asyncpg.Pool, delivery_id: str) -> str | None:
    """The delivery's state, or None when it was never recorded."""
    found: str | None = await pool.fetchval(
        "SELECT state FROM deliveries WHERE id = $1", delivery_id
    )
    return found


async def mark_queued(pool: asyncpg.Pool, delivery_id: str, *, if_received: bool = False) -> None:
    """The delivery's jobs are in Redis (``if_received``: unless another process said so)."""
    if if_received:
        await pool.execute(
            "UPDATE deliveries SET state = 'queued' WHERE id = $1 AND state = 'received'",
            delivery_id,
        )
    else:
        await pool.execute("UPDATE deliveries SET state = 'queued' WHERE id = $1", delivery_id)


async def received(pool: asyncpg.Pool, *, limit: int) -> list[Recorded]:
    """The oldest deliveries still ``received`` (their jobs not yet in Redis)."""
    rows = await pool.fetch(
        """
        SELECT id, jobs FROM deliveries WHERE state = 'received'
        ORDER BY received_at, id LIMIT $1
        """,
        limit,
    )
    return [_recorded(r) for r in rows]


async def queued_within(pool: asyncpg.Pool, within: timedelta) -> list[Recorded]:
    """The deliveries marked ``queued`` that arrived within ``within``, oldest first."""
    rows = await pool.fetch(
        """
        SELECT id, jobs FROM deliveries
        WHERE state = 'queued' AND received_at > now() - $1::interval
        ORDER BY received_at, id
        """,
        within,
    )
    return [_recorded(r) for r in rows]


async def known(pool: asyncpg.Pool, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` were recorded."""
    rows = await pool.fetch("SELECT id FROM deliveries WHERE id = ANY($1::text[])", list(ids))
    return {r["id"] for r in rows}


async def counts(pool: asyncpg.Pool) -> list[tuple[str, str, int]]:
    """(event, state, how many) of every delivery recorded, by event then state."""
    rows = await pool.fetch(
        "SELECT event, state, count(*) AS n FROM deliveries GROUP BY event, state ORDER BY 1, 2"
    )
    return [(r["event"], r["state"], r["n"]) for r in rows]


def _recorded(row: asyncpg.Record) -> Recorded:
    return Recorded(row["id"], tuple(json.loads(row["jobs"])))
