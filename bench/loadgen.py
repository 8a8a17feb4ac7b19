"""An open-loop (and closed-loop) HTTP/1.1 load generator for loopback, with latency figures.

Open loop: request i is sent at t0 + i/rate whatever happened to the earlier ones, and its
latency runs from that scheduled time, so a server that falls behind shows its queue instead of
slowing the generator down (coordinated omission). The client is minimal on purpose: prepared
request bytes on keep-alive connections, only the status line and Content-Length read back;
httpx's AsyncClient cost ~1.7 ms of CPU a request here and could not keep a 500/s schedule.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field

TIMEOUT_S = 10.0


@dataclass
class LoadRun:
    mode: str  # "open" | "closed"
    offered_rate: float | None  # per second, open loop
    concurrency: int | None  # closed loop
    seconds: float
    sent: int = 0
    accepted: int = 0  # 202
    errors: dict[str, int] = field(default_factory=dict)
    achieved_rate: float = 0.0  # 202s per second of the send window
    latency_ms: dict[str, float] = field(default_factory=dict)
    lag_ms: dict[str, float] = field(default_factory=dict)  # actual send start - scheduled
    connections: int = 0
    cpu: dict[str, float] = field(default_factory=dict)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: write a prepared request, read one response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[str] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result("connection lost")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end == -1 or self.waiter is None:
            return
        head = self.buffer[:head_end].lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15 : head.find(b"\r\n", at)]) if at != -1 else 0
        if len(self.buffer) >= head_end + 4 + length:
            self.buffer = self.buffer[head_end + 4 + length :]
            if not self.waiter.done():
                self.waiter.set_result(head[9:12].decode())

    async def request(self, raw: bytes) -> str:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class Generator:
    """A minimal HTTP/1.1 client for the load: prepared request bytes, a pool of keep-alive
    connections (a new one whenever all are busy), the status code as the only answer read.
    httpx costs ~1.7 ms of CPU a request here, which at 500/s took most of a core and fell
    seconds behind its schedule; this costs a few tens of microseconds.
    """

    def __init__(self, port: int, max_connections: int = 1000) -> None:
        self.port = port
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(max_connections)
        self.opened = 0

    async def send(self, raw: bytes) -> str:
        async with self.slots:
            while self.idle and self.idle[-1].closed:
                self.idle.pop()
            if self.idle:
                conn = self.idle.pop()
            else:
                loop = asyncio.get_running_loop()
                try:
                    _, conn = await loop.create_connection(_Connection, "127.0.0.1", self.port)
                except OSError as exc:
                    return type(exc).__name__
                self.opened += 1
            try:
                status = await asyncio.wait_for(conn.request(raw), TIMEOUT_S)
            except TimeoutError:
                assert conn.transport is not None
                conn.transport.close()
                return "timeout"
            if not conn.closed:
                self.idle.append(conn)
            return status

    def close(self) -> None:
        for conn in self.idle:
            if conn.transport is not None:
                conn.transport.close()


async def open_loop(port: int, requests: list[bytes], rate: float, seconds: float) -> LoadRun:
    """Send request i at t0 + i/rate whatever the answers; latency from that scheduled time."""
    count = int(rate * seconds)
    assert count <= len(requests)
    statuses: list[str] = [""] * count
    latency: list[float] = [0.0] * count
    lag: list[float] = [0.0] * count
    gen = Generator(port)
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    last = [t0]

    async def one(i: int, scheduled: float) -> None:
        lag[i] = loop.time() - scheduled
        statuses[i] = await gen.send(requests[i])
        done = loop.time()
        last[0] = max(last[0], done)
        latency[i] = done - scheduled

    tasks = []
    for i in range(count):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    gen.close()
    run = LoadRun("open", rate, None, seconds, sent=count, connections=gen.opened)
    # answers per second from the first scheduled send to the last answer
    _summarise(run, statuses, latency, lag, last[0] - t0)
    return run


async def closed_loop(
    port: int, requests: list[bytes], concurrency: int, seconds: float
) -> LoadRun:
    """``concurrency`` clients, each sending its next request when the last is answered."""
    statuses: list[str] = []
    latency: list[float] = []
    gen = Generator(port)
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    next_index = iter(range(len(requests)))

    async def client_loop() -> None:
        while loop.time() < stop:
            i = next(next_index, None)
            if i is None:
                return
            start = loop.time()
            statuses.append(await gen.send(requests[i]))
            latency.append(loop.time() - start)

    t0 = loop.time()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    window = loop.time() - t0
    gen.close()
    run = LoadRun("closed", None, concurrency, seconds, sent=len(statuses), connections=gen.opened)
    _summarise(run, statuses, latency, [], window)
    return run


def _summarise(
    run: LoadRun, statuses: list[str], latency: list[float], lag: list[float], window: float
) -> None:
    run.accepted = statuses.count("202")
    for status in statuses:
        if status != "202":
            run.errors[status] = run.errors.get(status, 0) + 1
    run.achieved_rate = run.accepted / window if window > 0 else 0.0
    run.latency_ms = {k: v * 1000 for k, v in _percentiles(latency).items()}
    run.lag_ms = {k: v * 1000 for k, v in _percentiles(lag).items()}


def show(run: LoadRun) -> None:
    what = f"{run.offered_rate:.0f}/s open" if run.mode == "open" else f"{run.concurrency} clients"
    lat = run.latency_ms
    print(
        f"  {what}: sent {run.sent}, 202 {run.accepted}, errors {run.errors or 0}, "
        f"{run.achieved_rate:.0f}/s; p50 {lat.get('p50', 0):.1f} p90 {lat.get('p90', 0):.1f} "
        f"p99 {lat.get('p99', 0):.1f} max {lat.get('max', 0):.1f} ms; lag p99 "
        f"{run.lag_ms.get('p99', 0):.1f} ms; cores gen {run.cpu['generator_cores']:.2f} "
        f"serve {run.cpu['serve_cores']:.2f} pg {run.cpu['postgres_cores']:.2f} machine "
        f"{run.cpu['machine_busy_cores']:.2f}",
        flush=True,
    )


def sustained(run: LoadRun) -> bool:
    """The endpoint kept up: nothing failed, the answers kept pace, the tail stayed bounded."""
    assert run.offered_rate is not None
    return (
        not run.errors
        and run.achieved_rate >= 0.95 * run.offered_rate
        and run.latency_ms.get("p99", 1e9) < 1000
    )
