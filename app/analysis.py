"""Analysis in bounded child processes: no repository's content can hold the event loop.

Parsing, fingerprinting, the decision log's parsing and the three checks are pure functions
of bytes Cairn does not control. ``Analysis.run(fn, *args)`` runs one of them in a child
process and awaits it without blocking the loop; the child has an address-space limit
(``RLIMIT_AS``) and the call a wall-clock limit after which the child is killed (SIGKILL: no
code of the analysis runs after that) and replaced. Indexing and reviews share one
``Analysis``, so both use every core.

* CairnError
  + AnalysisError         the analysis could not finish; ``reason`` says why, for people
    - AnalysisKilled      over its wall clock, or its process died (out of memory, a crash)

An error the function itself raises (a ``ValueError``, a ``ConfigError``) comes back as that
error, as if it ran in-process. ``Inline`` runs the same calls in-process with no bounds: for
tests and the few commands that analyse nothing a pull request wrote.

Children are started with ``spawn`` (no state of the parent's event loop or its connections
is copied) on first use and kept for the next call; at most ``processes`` run at once, and a
call waits for a free one. The App's worker gives every job slot its own (``MAX_JOBS``), so a
job never waits for another job's analysis: the kernel shares the cores between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any, Protocol, TypeVar

from app.errors import AnalysisError, AnalysisKilled
from app.signals import quiet_spawn_context

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0  # seconds one call may run (CAIRN_ANALYSIS_TIMEOUT)
DEFAULT_MEMORY_MB = 2048  # address space of one child (CAIRN_ANALYSIS_MEMORY_MB)


class Runner(Protocol):
    """What runs the analysis: ``Analysis`` (bounded child processes) or ``Inline``."""

    @property
    def width(self) -> int:
        """How many calls run at once with benefit (the cores it uses)."""
        ...

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """``fn(*args)``'s result; ``fn`` and its arguments must pickle."""
        ...


class Inline:
    """The analysis in this process, unbounded (``Analysis``'s interface)."""

    width = 1

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        return fn(*args)


class _Child:
    """One child process and the pipe to it."""

    def __init__(self, ctx: Any, memory: int) -> None:
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(theirs, memory), daemon=True)
        self.process.start()
        theirs.close()
        self.calls = 0

    def kill(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(5)
        self.conn.close()

    def exit_reason(self) -> str:
        self.process.join(5)
        code = self.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGKILL:
                return f"its process was killed ({name}; out of memory?)"
            return f"its process died ({name})"
        return f"its process exited ({code})"


class Analysis:
    """Bounded child processes for analysis; ``async with`` closes them."""

    def __init__(
        self,
        processes: int = 0,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ) -> None:
        cores = os.cpu_count() or 1
        self.processes = processes if processes > 0 else cores
        self.width = min(self.processes, cores)
        self.timeout = timeout
        self.memory = memory_mb << 20
        # children start with SIGINT blocked: a Ctrl-C while one starts (importing Cairn,
        # before _serve ignores it) reaches only the parent (app.signals)
        self._ctx = quiet_spawn_context()
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._slots = asyncio.Semaphore(self.processes)
        # one thread per running call waits on its pipe: the loop never does
        self._threads = ThreadPoolExecutor(self.processes, thread_name_prefix="cairn-analysis")
        self._closed = False

    async def __aenter__(self) -> Analysis:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """``fn(*args)`` in a child; AnalysisKilled past ``timeout`` (default: the pool's)."""
        if self._closed:
            raise AnalysisError("the analysis processes are closed")
        limit = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        async with self._slots:
            child = (
                self._idle.pop()
                if self._idle
                else await loop.run_in_executor(self._threads, _Child, self._ctx, self.memory)
            )
            self._busy.add(child)
            started = time.monotonic()
            call = loop.run_in_executor(self._threads, _call, child.conn, fn, args)
            try:
                status, value = await asyncio.wait_for(call, limit)
            except TimeoutError:
                self._discard(child)
                raise AnalysisKilled(f"the analysis took longer than {limit:g} s") from None
            except (EOFError, OSError):  # the child died mid-call
                reason = child.exit_reason()
                self._discard(child)
                raise AnalysisKilled(f"the analysis stopped: {reason}") from None
            except asyncio.CancelledError:
                self._discard(child)  # nobody waits for its answer any more
                raise
            self._busy.discard(child)
            child.calls += 1
            if status == "memory":
                self._discard(child)
                raise AnalysisKilled(
                    f"the analysis ran out of memory (over {self.memory >> 20:,} MiB)"
                )
            if len(self._idle) < self.width:
                self._idle.append(child)
            else:
                self._discard(child)
            logger.debug("%s ran %.2f s in a child", _name(fn), time.monotonic() - started)
            if status == "error":
                raise value
            return value  # type: ignore[no-any-return]

    def _discard(self, child: _Child) -> None:
        self._busy.discard(child)
        child.kill()

    async def aclose(self) -> None:
        """Stop every child (idle ones at once; busy ones are killed)."""
        self._closed = True
        for child in [*self._idle, *self._busy]:
            child.kill()
        self._idle.clear()
        self._busy.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)


def _call(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    """Send one call and wait for its answer (in a thread of the parent)."""
    conn.send((fn, args))
    answer: tuple[str, Any] = conn.recv()
    return answer


def _serve(conn: Connection, memory: int) -> None:
    """The child's loop: calls in, answers out, until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory > 0:
        with contextlib.suppress(ValueError, OSError):  # a lower hard limit stays
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            answer = ("memory", None)
        except Exception as exc:  # noqa: BLE001 (the child's top level: the error is the answer)
            answer = ("error", exc)
        try:
            conn.send(answer)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # noqa: BLE001 (an answer that does not pickle)
            conn.send(
                ("error", AnalysisError(f"{_name(fn)} gave an answer that cannot be sent: {exc!r}"))
            )


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
