"""Metrics in Prometheus' text format, gathered across processes.

Workers add to one Redis hash (jobs by outcome and their durations, GitHub calls by status,
the last rate-limit budget seen); Postgres knows the deliveries and findings. ``GET /metrics``
on ``cairn serve`` reads both, so every worker on every machine is counted.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import httpx
from arq.connections import ArqRedis
from arq.worker import Retry
from redis.exceptions import RedisError

from app.store import deliveries
from app.store.database import Pool
from app.store.ledger import finding_counts

METRICS_KEY = "cairn:metrics"

P = ParamSpec("P")
T = TypeVar("T")


class GitHubMeter:
    """What a worker's GitHub client did since the last flush."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()  # what GitHub would not let Cairn do
        self.remaining: int | None = None

    def observe(self, response: httpx.Response) -> None:
        self.calls[f"{response.status_code // 100}xx"] += 1
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            self.remaining = int(remaining)

    def refused(self, what: str, n: int = 1) -> None:
        """GitHub refused something best effort (``resolve_thread``): counted, not failed."""
        self.refusals[what] += n

    async def flush(self, redis: ArqRedis) -> None:
        calls, self.calls = self.calls, Counter()
        refusals, self.refusals = self.refusals, Counter()
        async with redis.pipeline(transaction=False) as pipe:
            for status, n in calls.items():
                pipe.hincrby(METRICS_KEY, f"github_calls|{status}", n)
            for what, n in refusals.items():
                pipe.hincrby(METRICS_KEY, f"github_refusals|{what}", n)
            if self.remaining is not None:
                pipe.hset(METRICS_KEY, "github_rate_limit_remaining", str(self.remaining))
            await pipe.execute()


class MeteredTransport(httpx.AsyncBaseTransport):
    """An httpx transport that tells a meter about every response."""

    def __init__(self, inner: httpx.AsyncBaseTransport, meter: GitHubMeter) -> None:
        self.inner = inner
        self.meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.meter.observe(response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def metered(job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Count a job's outcome (ok, retry, error) and time it, in the shared hash."""

    @functools.wraps(job)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        ctx: dict[str, Any] = args[0]  # type: ignore[assignment]
        started = time.monotonic()
        outcome = "error"
        try:
            result = await job(*args, **kwargs)
            outcome = "ok"
            return result
        except Retry:
            outcome = "retry"
            raise
        finally:
            await _record(ctx, job.__name__, outcome, time.monotonic() - started)

    return run


async def _record(ctx: dict[str, Any], function: str, outcome: str, seconds: float) -> None:
    redis: ArqRedis | None = ctx.get("redis")
    meter: GitHubMeter | None = ctx.get("meter")
    if redis is None:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(METRICS_KEY, f"jobs|{function}|{outcome}", 1)
            pipe.hincrbyfloat(METRICS_KEY, f"job_seconds|{function}", seconds)
            await pipe.execute()
        if meter is not None:
            await meter.flush(redis)
    except (RedisError, OSError):
        pass  # metrics never fail a job


async def render(pool: Pool, redis: ArqRedis) -> str:
    """The Prometheus exposition of Cairn's metrics."""
    out: list[str] = []
    _family(out, "cairn_webhook_deliveries_total", "counter", "Webhook deliveries recorded.")
    for event, state, n in await deliveries.counts(pool):
        out.append(_sample("cairn_webhook_deliveries_total", n, event=event, state=state))
    _family(out, "cairn_findings", "gauge", "Findings on pull requests, by check and state.")
    for check, state, n in await finding_counts(pool):
        out.append(_sample("cairn_findings", n, check=check, state=state))
    try:
        shared: dict[Any, Any] = await redis.hgetall(METRICS_KEY)  # type: ignore[misc]
    except (RedisError, OSError):
        shared = {}
    jobs, seconds, calls, refusals, remaining = [], [], [], [], None
    for raw_key, raw_value in sorted(shared.items()):
        key, value = _text(raw_key), _text(raw_value)
        kind, _, rest = key.partition("|")
        if kind == "jobs":
            function, _, outcome = rest.partition("|")
            jobs.append(_sample("cairn_jobs_total", value, function=function, outcome=outcome))
        elif kind == "job_seconds":
            seconds.append(_sample("cairn_job_seconds_total", value, function=rest))
        elif kind == "github_calls":
            calls.append(_sample("cairn_github_calls_total", value, status=rest))
        elif kind == "github_refusals":
            refusals.append(_sample("cairn_github_refusals_total", value, what=rest))
        elif kind == "github_rate_limit_remaining":
            remaining = value
    _family(out, "cairn_jobs_total", "counter", "Jobs run, by function and outcome.")
    out.extend(jobs)
    _family(out, "cairn_job_seconds_total", "counter", "Seconds spent in jobs, by function.")
    out.extend(seconds)
    _family(out, "cairn_github_calls_total", "counter", "GitHub API calls, by status class.")
    out.extend(calls)
    _family(
        out,
        "cairn_github_refusals_total",
        "counter",
        "What GitHub refused and Cairn did without (resolve_thread: a fixed finding's thread "
        "left open).",
    )
    out.extend(refusals)
    _family(
        out, "cairn_github_rate_limit_remaining", "gauge", "GitHub's rate-limit budget last seen."
    )
    if remaining is not None:
        out.append(_sample("cairn_github_rate_limit_remaining", remaining))
    return "\n".join(out) + "\n"


def _family(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _sample(name: str, value: object, **labels: str) -> str:
    if not labels:
        return f"{name} {value}"
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return f"{name}{{{inner}}} {value}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
