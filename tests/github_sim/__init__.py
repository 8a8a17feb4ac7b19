"""A GitHub REST/GraphQL simulator: in-memory state, served by Starlette, for Cairn's tests.

``State`` holds the world and the helpers to build and inspect it; ``serve`` runs it as a real
HTTP server, ``transport`` in-process. Unknown routes fail loudly and land in
``State.unknown_routes``.
"""

from tests.github_sim.server import serve, transport
from tests.github_sim.state import State, blob_sha

__all__ = ["State", "blob_sha", "serve", "transport"]
