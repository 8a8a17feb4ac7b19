"""How a ``cairn`` process stops: Ctrl-C, SIGTERM, and child processes that leave both to it.

Ctrl-C reaches every process of the terminal's foreground group, the indexer's parsing
processes included; each would print its own ``KeyboardInterrupt`` traceback, and the parent a
``BrokenProcessPool`` for each chunk they dropped. Children are therefore started with SIGINT
blocked (``quiet_spawn_context``): the parent alone decides, cancels what it queued and stops
them. SIGTERM becomes ``Terminated``, an exception like ``KeyboardInterrupt``, so that
``finally`` blocks and exit handlers run (the embedded Postgres is released by its last user
only at a normal exit).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker
from multiprocessing.context import SpawnContext, SpawnProcess
from types import FrameType


class Terminated(BaseException):
    """SIGTERM was received: stop as for Ctrl-C."""


def raise_on_sigterm() -> None:
    """From now on SIGTERM raises ``Terminated`` in the main thread (call it from there)."""
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class _QuietSpawnProcess(SpawnProcess):
    """A spawned process that never sees SIGINT: it starts with the signal blocked.

    The mask is inherited through fork and exec (a blocked signal is never delivered, and
    Python does not unblock it), and pending signals are not, so a Ctrl-C pressed while the
    child starts reaches only the parent, once the parent's mask is restored.
    """

    def start(self) -> None:
        # The first spawn starts multiprocessing's resource tracker, which blocks SIGINT around
        # its own start and then UNBLOCKS it in this thread: the child would start unprotected
        # (seen as a KeyboardInterrupt traceback from a child importing site). Start it first.
        resource_tracker.ensure_running()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _QuietSpawnContext(SpawnContext):
    Process = _QuietSpawnProcess


def quiet_spawn_context() -> multiprocessing.context.BaseContext:
    """A ``spawn`` context whose processes leave Ctrl-C to their parent."""
    return _QuietSpawnContext()


@contextmanager
def stop_signals_recorded() -> Iterator[list[int]]:
    """Inside, SIGINT and SIGTERM are only recorded, in the list yielded.

    For a server that handles them itself while it runs and raises them again once it has
    stopped (uvicorn): the caller then closes what it opened and decides how to exit.
    """
    received: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
