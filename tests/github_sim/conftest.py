"""The ``github_sim`` fixture: a running simulator and its state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.github_sim import State, serve


@pytest.fixture
def github_sim() -> Iterator[tuple[str, State]]:
    state = State()
    with serve(state) as base_url:
        yield base_url, state
    assert not state.unknown_routes, state.unknown_routes
