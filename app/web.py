"""The webhook endpoint: verify, record, enqueue, answer. Nothing else.

No GitHub call and no analysis happens in the request: a delivery is recorded in Postgres
(with the jobs it implies) before the answer, so a delivery that Redis could not take is
still there to enqueue later, and a redelivered id enqueues nothing new.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.metrics import render as render_metrics
from app.settings import Secret
from app.store import database, deliveries
from app.store.database import Pool
from app.webhooks import Delivery, route

logger = logging.getLogger(__name__)

# GitHub caps webhook payloads at 25 MB and drops larger ones; anything bigger is not GitHub.
# https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap
MAX_BODY = 25 * 1024 * 1024
MAX_HEADER = 200  # characters of X-GitHub-Delivery (a 36-character guid) or X-GitHub-Event
MAX_DIGITS = 40  # of a JSON integer; Python refuses past 4,300, GitHub's fit in 20
BODY_TIMEOUT = 10.0  # seconds the whole body may take to arrive (CAIRN_BODY_TIMEOUT)


def create_app(
    pool: Pool,
    redis: ArqRedis,
    secret: Secret,
    *,
    review_drafts: bool = False,
    metrics_token: Secret | None = None,
    body_timeout: float = BODY_TIMEOUT,
) -> Starlette:
    """The ASGI app, with its dependencies passed in (no globals)."""

    async def webhooks(request: Request) -> Response:
        try:
            async with asyncio.timeout(body_timeout):
                body = await _read_limited(request)
        except TimeoutError:
            return _answer(408, f"the body took longer than {body_timeout:g} s to arrive")
        except ClientDisconnect:
            return _answer(400, "the client went away mid-body")
        if body is None:
            return _answer(413, "payload larger than 25 MB")
        if not _signed(body, request.headers.get("x-hub-signature-256"), secret):
            return _answer(401, "missing or wrong X-Hub-Signature-256")
        event = request.headers.get("x-github-event")
        delivery_id = request.headers.get("x-github-delivery")
        if not event or not delivery_id:
            return _answer(400, "X-GitHub-Event and X-GitHub-Delivery are required")
        if not _header_value(event) or not _header_value(delivery_id):
            return _answer(
                400, "X-GitHub-Event and X-GitHub-Delivery must be short printable ASCII"
            )
        try:
            payload = json.loads(body, parse_int=_int, parse_constant=_constant)
        except RecursionError:
            return _answer(400, "the body nests too deep")
        except ValueError as exc:  # not UTF-8, not JSON, an integer past MAX_DIGITS
            return _answer(400, f"the body is not JSON Cairn reads: {_why(exc)}")
        if not isinstance(payload, dict):
            return _answer(400, "the body is not a JSON object")
        delivery = route(event, payload, delivery_id, review_drafts=review_drafts)
        log = {"delivery": delivery_id, "event": event, "repo": delivery.repo_id}
        try:
            state: str | None = "new"
            if not await _record(pool, delivery_id, delivery):
                state = await deliveries.state(pool, delivery_id)
        except database.UNAVAILABLE as exc:
            # Not recorded, so not accepted: GitHub marks the delivery failed and the
            # redelivery sweep has it sent again once the database is back.
            logger.warning("delivery %s not recorded: %r", delivery_id, exc, extra=log)
            return _answer(503, "the database is unavailable: deliver again later")
        # A delivery recorded earlier while Redis was down ('received') is queued by its
        # redelivery (job ids dedupe); any other seen before enqueues nothing.
        if state not in ("new", "received"):
            logger.info("delivery %s seen before: nothing enqueued", delivery_id, extra=log)
            return _answer(202, "duplicate delivery")
        if not delivery.jobs:
            return _answer(202, "nothing to do")
        try:
            for job in delivery.jobs:
                await redis.enqueue_job(job.function, *job.args, _job_id=job.job_id)
        except (RedisError, OSError) as exc:
            # Recorded as 'received': enqueued again once Redis is back.
            logger.warning("delivery %s recorded, not queued: %s", delivery_id, exc, extra=log)
            return _answer(202, "recorded")
        try:
            await deliveries.mark_queued(pool, delivery_id)
        except database.UNAVAILABLE as exc:
            # Queued all the same; the reconciler's re-enqueue of a 'received' one is a no-op.
            logger.warning("delivery %s queued, not marked: %r", delivery_id, exc, extra=log)
        return _answer(202, "queued")

    async def healthz(request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            await database.ping(pool)
            checks["database"] = "ok"
        except (*database.UNAVAILABLE, database.DatabaseError) as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await redis.ping()
            checks["redis"] = "ok"
        except (RedisError, OSError) as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse(checks, status_code=200 if healthy else 503)

    async def metrics(request: Request) -> Response:
        if metrics_token is not None and not _bearer(request, metrics_token):
            return Response(
                "a bearer token is required\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="cairn metrics"'},
            )
        body = await render_metrics(pool, redis)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return Starlette(
        routes=[
            Route("/webhooks", webhooks, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )


async def _read_limited(request: Request) -> bytes | None:
    """The body, or None as soon as it is known to exceed MAX_BODY (never buffered whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _header_value(value: str) -> bool:
    """A delivery id or event name Cairn can record: GitHub's are short printable ASCII (a
    header in other bytes arrives as Latin-1 text: refused, never recorded as mojibake)."""
    return len(value) <= MAX_HEADER and value.isascii() and value.isprintable()


def _signed(body: bytes, header: str | None, secret: Secret) -> bool:
    """Whether ``header`` is ``sha256=`` + the HMAC of the body, compared in constant time.

    Compared as bytes: the header arrives as Latin-1 text, and ``compare_digest`` refuses
    (TypeError, a 500) a str with other than ASCII in it."""
    if not header or not header.startswith("sha256="):
        return False
    expected = (
        b"sha256=" + hmac.new(secret.reveal().encode(), body, hashlib.sha256).hexdigest().encode()
    )
    return hmac.compare_digest(expected, header.encode("latin-1", errors="replace"))


def _bearer(request: Request, token: Secret) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant time)."""
    given = request.headers.get("authorization", "").encode("latin-1", errors="replace")
    return hmac.compare_digest(given, b"Bearer " + token.reveal().encode())


def _int(text: str) -> int:
    """A JSON integer; ValueError past MAX_DIGITS (GitHub's ids and counts fit in 20)."""
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text):,} digits")
    return int(text)


def _constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def _why(exc: ValueError) -> str:
    return "not UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc).split("\n")[0][:200]


async def _record(pool: Pool, delivery_id: str, delivery: Delivery) -> bool:
    """Record the delivery; False when its id was recorded before (a redelivery)."""
    return await deliveries.record(
        pool,
        delivery_id,
        event=delivery.event,
        action=delivery.action,
        installation_id=delivery.installation_id,
        repo_id=delivery.repo_id,
        jobs=[job.as_json() for job in delivery.jobs],
    )


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)
