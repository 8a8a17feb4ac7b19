"""Ask GitHub to send again the deliveries that never reached Cairn.

GitHub does not retry a failed webhook delivery by itself. This sweep, a periodic job of the
worker, lists the App's recent deliveries and asks for a redelivery of each event (``guid``)
whose latest attempt failed (an error status, a timeout, a refused connection) or that the
``deliveries`` table does not know (Cairn records every delivery it accepts before answering,
so an unknown guid never arrived). Each guid is asked for at most once per ``window`` (a
Redis key that lapses), and none older than ``max_age``: GitHub keeps deliveries three days.
A redelivery that reaches Cairn is harmless: the endpoint dedupes on the delivery id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from arq.connections import ArqRedis

from app.github import GitHubApp, GitHubError, GitHubUnavailable, HookDelivery, RateLimited
from app.store import deliveries
from app.store.database import Pool

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(days=3)  # GitHub keeps (and redelivers) deliveries for three days
WINDOW = timedelta(hours=1)  # one request per guid per window
ASKED_KEY = "cairn:redelivery:{guid}"


@dataclass(frozen=True, slots=True)
class Redelivered:
    """What one sweep did: the guids it asked GitHub to send again, and why."""

    listed: int = 0  # attempts GitHub listed within ``max_age``
    asked: dict[str, str] = field(default_factory=dict)  # guid -> "failed" | "unknown"
    refused: dict[str, str] = field(default_factory=dict)  # guid -> GitHub's answer


def latest_attempts(deliveries: Iterable[HookDelivery]) -> dict[str, HookDelivery]:
    """Each event's latest attempt, by guid."""
    latest: dict[str, HookDelivery] = {}
    for d in deliveries:
        seen = latest.get(d.guid)
        if seen is None or (d.delivered_at, d.id) > (seen.delivered_at, seen.id):
            latest[d.guid] = d
    return latest


async def redeliver(
    github: GitHubApp,
    pool: Pool,
    redis: ArqRedis,
    *,
    now: datetime | None = None,
    max_age: timedelta = MAX_AGE,
    window: timedelta = WINDOW,
) -> Redelivered:
    """One sweep: ask for a redelivery of each recent event that failed or never arrived."""
    now = now or datetime.now(UTC)
    listed = await github.hook_deliveries(since=now - max_age)
    latest = latest_attempts(listed)
    known = await deliveries.known(pool, latest)
    report = Redelivered(listed=len(listed))
    for guid, attempt in sorted(latest.items(), key=lambda item: item[1].delivered_at):
        reason = "failed" if attempt.failed else "unknown" if guid not in known else None
        if reason is None:
            continue
        # at most once per guid per window, whichever worker sweeps
        key = ASKED_KEY.format(guid=guid)
        fresh = await redis.set(key, "1", ex=max(int(window.total_seconds()), 1), nx=True)
        if not fresh:
            continue
        log = {"delivery": guid, "event": attempt.event}
        try:
            await github.redeliver(attempt.id)
        except GitHubError as exc:
            if isinstance(exc, RateLimited | GitHubUnavailable):
                await redis.delete(key)  # not asked after all: the next sweep asks
            # GitHub's refusal (a 422: too old) stands for the window
            logger.warning("redelivery of %s refused: %s", guid, exc, extra=log)
            report.refused[guid] = str(exc)
            continue
        logger.info("asked GitHub to redeliver %s (%s)", guid, reason, extra=log)
        report.asked[guid] = reason
    return report
