"""A per-installation limit on the heavy jobs (review, index), shared by every worker.

One installation's huge monorepo must not take every worker while other installations wait.
Each installation has a Redis sorted set of slots: member = the arq job id holding it, score =
when the slot lapses. Taking a slot first drops the lapsed ones, so a worker killed mid-job
(SIGKILL: no ``finally`` runs) cannot leak its slot for longer than the lease, which lasts as
long as arq keeps the job "in progress"; the job's own re-run (same job id) takes its slot
back at once. A job over the limit is deferred by the caller (arq ``Retry``), never left
waiting in a worker slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from arq.connections import ArqRedis

SLOTS_KEY = "cairn:slots:{installation}"
WAITS_KEY = "cairn:waits:{job}"  # how often a job was deferred for want of a slot
WAITS_TTL = 86_400  # seconds; arq gives up on a job after a day in the queue anyway

# KEYS[1] the installation's slots; ARGV: job id, now, lease end, limit. 1 when the job holds a
# slot (taken now, or already its own), else 0.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
    return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
    redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[3]) - tonumber(ARGV[2])) * 1000))
    return 1
end
return 0
"""


class InstallationSlots:
    """At most ``limit`` jobs of one installation at a time, each slot leased for ``lease`` s."""

    def __init__(
        self,
        redis: ArqRedis,
        limit: int,
        lease: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError("an installation needs at least one slot")
        self.redis, self.limit, self.lease, self._clock = redis, limit, lease, clock

    async def acquire(self, installation_id: int, job_id: str) -> bool:
        """Take a slot for ``job_id`` (or keep the one it holds); False when all are taken."""
        now = self._clock()
        redis: Any = self.redis  # redis-py types eval as sync-or-async
        held = await redis.eval(
            _ACQUIRE,
            1,
            SLOTS_KEY.format(installation=installation_id),
            job_id,
            repr(now),
            repr(now + self.lease),
            str(self.limit),
        )
        return bool(held)

    async def release(self, installation_id: int, job_id: str) -> None:
        await self.redis.zrem(SLOTS_KEY.format(installation=installation_id), job_id)

    async def holders(self, installation_id: int) -> list[str]:
        """The job ids holding a slot now (lapsed ones excluded)."""
        key = SLOTS_KEY.format(installation=installation_id)
        members = await self.redis.zrangebyscore(key, repr(self._clock()), "+inf")
        return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

    async def waited(self, job_id: str) -> int:
        """Count one more deferral of ``job_id``; returns how many it has had."""
        key = WAITS_KEY.format(job=job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WAITS_TTL)
            count, _ = await pipe.execute()
        return int(count)

    async def waits(self, job_id: str) -> int:
        """How often ``job_id`` was deferred for want of a slot."""
        raw = await self.redis.get(WAITS_KEY.format(job=job_id))
        return int(raw) if raw is not None else 0
