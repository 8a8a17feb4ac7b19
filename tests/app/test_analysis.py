"""Bounded analysis processes: a runaway analysis is killed on time, a memory hog at its limit,
and the event loop keeps ticking meanwhile; errors come back as themselves."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.analysis import Analysis
from app.errors import AnalysisKilled


def add(a: int, b: int) -> int:
    return a + b


def spin() -> None:
    while True:
        pass


def hog() -> None:
    kept = []
    while True:
        kept.append(bytearray(64 << 20))


def refuse(value: str) -> None:
    raise ValueError(f"cannot read {value}")


async def _stalls(stop: asyncio.Event) -> float:
    """The longest the loop went without running this task (beyond its 10 ms sleeps)."""
    worst, last = 0.0, time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        worst, last = max(worst, now - last - 0.01), now
    return worst


@pytest.mark.slow
async def test_runaway_analyses_are_killed_and_the_loop_never_waits() -> None:
    async with Analysis(2, timeout=1.5, memory_mb=512) as analysis:
        stop = asyncio.Event()
        ticking = asyncio.create_task(_stalls(stop))
        assert await analysis.run(add, 2, 3) == 5

        started = time.monotonic()
        with pytest.raises(AnalysisKilled, match=r"took longer than 1\.5 s"):
            await analysis.run(spin)
        assert 1.4 < time.monotonic() - started < 5

        # the memory limit, not the clock, stops a hog (filling 512 MiB can take seconds under load)
        with pytest.raises(AnalysisKilled, match="out of memory"):
            await analysis.run(hog, timeout=60)

        with pytest.raises(ValueError, match="cannot read that"):
            await analysis.run(refuse, "that")

        # both runaways at once: a third call still gets an answer as soon as one is freed
        spinning = [asyncio.create_task(analysis.run(spin, timeout=1.0)) for _ in range(2)]
        assert await analysis.run(add, 1, 1) == 2
        for task in spinning:
            with pytest.raises(AnalysisKilled):
                await task
        stop.set()
        assert await ticking < 0.5


@pytest.mark.slow
async def test_one_runaway_does_not_hold_another_callers_analysis() -> None:
    async with Analysis(4, timeout=20) as analysis:
        runaway = asyncio.create_task(analysis.run(spin))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        assert await analysis.run(add, 20, 22) == 42
        assert time.monotonic() - started < 5
        runaway.cancel()  # the caller gave up: its child is killed
        with pytest.raises(asyncio.CancelledError):
            await runaway
