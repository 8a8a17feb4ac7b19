"""Serve the simulator: a real uvicorn server on 127.0.0.1 in a thread, or an httpx transport."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from tests.github_sim.app import create_app
from tests.github_sim.state import State


@contextmanager
def serve(state: State) -> Iterator[str]:
    """Run the simulator on a free port for the duration of the block; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit it; without it a kept-alive connection waits ~40 ms a call,
    # Nagle's algorithm holding uvicorn's second write until the client's delayed ACK
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; no race with other tests
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(state), lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("github_sim: uvicorn did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def transport(state: State) -> httpx.ASGITransport:
    """An in-process httpx transport to the simulator (no socket)."""
    return httpx.ASGITransport(app=create_app(state))
