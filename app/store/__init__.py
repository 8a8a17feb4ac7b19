"""Postgres: every SQL statement Cairn runs, and the only package that imports asyncpg.

- ``database``: the server (embedded or ``DATABASE_URL``), the pool, the migrations
- ``index``: repositories, files, code units, imports, clone scans (``Store``)
- ``decisions``: the ADRs of the indexed tree (a part of ``Store``)
- ``ledger``: findings on pull requests, suppressions, recorded pull requests
- ``history``: the recorded pull requests, read as decision history
- ``deliveries``: webhook deliveries and their states (received, queued, ignored)
- ``jobs``: job runs, so Postgres knows what was done whatever Redis kept
- ``mcp``: the units' words (full-text search for agents), the MCP endpoint's tokens

Every query takes the repository id and filters on it; nothing here can return rows of
another repository than the one asked for.
"""

from app.store.index import ParsedBlob, Repository, Store, StoredPairs, Streams, local_repository_id

__all__ = ["ParsedBlob", "Repository", "Store", "StoredPairs", "Streams", "local_repository_id"]
