"""The index's footprint: what each Postgres structure costs on disk and to build, and whether
review or scan reads it.

A corpus is indexed and scanned from an empty database with ``cairn scan``; then every table
and index of the index is measured (``pg_relation_size``, heap and TOAST together). The three
structures the index dropped in migration 0014 — the MinHash signature (126 uint32), the LSH
band keys (42 bigints) with their GIN index, the 64-float embedding with its HNSW index
(m = 8, ef_construction = 32, as they were) — and the dropped B-tree on ``exact_hash`` are
rebuilt on the same units, in a scratch copy of the table, timed and measured, then dropped:
their cost on this very data. (The embedding function went with its column: the vectors here
are random unit vectors of the same dimension, which an HNSW index stores and links alike.)

Usage: ``python bench/footprint.py [--corpus django] [--json FILE]`` (writes its section of
``bench/RESULTS.md``)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import corpus
import detectors
import numpy as np

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
BEGIN, END = "<!-- footprint:begin -->", "<!-- footprint:end -->"

# Who reads each structure now (app/store/index.py).
READERS = {
    "units": "scan and review: token streams, verified natively",
    "units_pkey": "the blob cascade, the joins with files",
    "blobs": "incremental indexing (content-addressed)",
    "files": "every query: the indexed tree",
    "files_by_blob": "the units ↔ files join",
    "clone_pairs": "incremental scans: pairs verified earlier",
    "clone_streams": "incremental scans: streams already compared",
    "blob_declarations": "mined conventions",
    "blob_imports": "the import graph",
    "imports": "patterns, conventions, why",
}


async def measure(name: str, repo: Path) -> dict[str, Any]:
    home = BENCH / ".work" / "cairn-home" / f"footprint-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    detectors.warm_up(home)
    run = detectors.run_cairn([*detectors.CAIRN_SCAN, "--repo", str(repo)], home)
    if not run.ok:
        raise SystemExit(f"cairn scan failed: {run.stderr[-800:]}")
    os.environ["CAIRN_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    from analyzers import fingerprint as fp
    from app.settings import Settings
    from app.store import database

    out: dict[str, Any] = {"corpus": name, "scan_s": run.wall_s, "relations": [], "dropped": []}
    async with database.connect(Settings.from_env()) as pool:
        rows = await pool.fetch(
            """
            SELECT c.relname, c.relkind, pg_total_relation_size(c.oid) - CASE WHEN c.relkind = 'r'
                   THEN pg_indexes_size(c.oid) ELSE 0 END AS bytes
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
            ORDER BY bytes DESC
            """
        )
        for r in rows:
            if r["bytes"] >= 64 * 1024:
                kind = r["relkind"]
                kind = kind.decode() if isinstance(kind, bytes) else str(kind)
                out["relations"].append({"name": r["relname"], "kind": kind, "bytes": r["bytes"]})
        units = await pool.fetchval("SELECT count(*) FROM units")
        out["units"] = units
        # The dropped structures, rebuilt on a scratch copy of the units.
        await pool.execute("DROP TABLE IF EXISTS footprint_units")
        await pool.execute(
            "CREATE TABLE footprint_units AS SELECT repo_id, blob_sha, ordinal, token_count,"
            " exact_hash, tokens FROM units"
        )
        started = time.perf_counter()
        records = await pool.fetch("SELECT blob_sha, ordinal, tokens FROM footprint_units")
        streams = [np.frombuffer(r["tokens"], dtype="<u4").tolist() for r in records]
        signatures = fp.signatures(streams)
        keys = fp.band_keys(signatures)
        sketch_s = time.perf_counter() - started
        await pool.execute(
            "ALTER TABLE footprint_units ADD COLUMN minhash bytea, ADD COLUMN bands bigint[],"
            " ADD COLUMN embedding vector(64)"
        )
        vectors = np.random.default_rng(0).standard_normal((len(records), 64)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE TEMP TABLE fp_new (blob_sha text, ordinal int, minhash bytea,"
                " bands bigint[], embedding real[])"
            )
            await conn.copy_records_to_table(
                "fp_new",
                records=[
                    (
                        r["blob_sha"],
                        r["ordinal"],
                        signatures[i].astype("<u4").tobytes(),
                        keys[i].tolist(),
                        vectors[i].tolist(),
                    )
                    for i, r in enumerate(records)
                ],
            )
            await conn.execute(
                "UPDATE footprint_units u SET minhash = n.minhash, bands = n.bands,"
                " embedding = n.embedding::vector FROM fp_new n"
                " WHERE u.blob_sha = n.blob_sha AND u.ordinal = n.ordinal"
            )
        store_s = time.perf_counter() - started
        columns = {}
        for column in ("minhash", "bands", "embedding"):
            columns[column] = await pool.fetchval(
                f"SELECT sum(pg_column_size({column})) FROM footprint_units"
            )
        timings = {}
        for index, ddl in (
            ("units_by_band (GIN)", "CREATE INDEX fp_band ON footprint_units USING gin (bands)"),
            (
                "units_by_embedding (HNSW)",
                "CREATE INDEX fp_embedding ON footprint_units USING hnsw"
                " (embedding vector_cosine_ops) WITH (m = 8, ef_construction = 32)"
                " WHERE token_count >= 50",
            ),
            (
                "units_by_exact_hash (B-tree)",
                "CREATE INDEX fp_exact ON footprint_units (repo_id, exact_hash)",
            ),
        ):
            started = time.perf_counter()
            await pool.execute(ddl)
            timings[index] = time.perf_counter() - started
        sizes = {
            "units_by_band (GIN)": await pool.fetchval("SELECT pg_relation_size('fp_band')"),
            "units_by_embedding (HNSW)": await pool.fetchval(
                "SELECT pg_relation_size('fp_embedding')"
            ),
            "units_by_exact_hash (B-tree)": await pool.fetchval(
                "SELECT pg_relation_size('fp_exact')"
            ),
        }
        await pool.execute("DROP TABLE footprint_units")
        out["dropped"] = [
            {"name": "minhash column (126 uint32)", "bytes": columns["minhash"], "build_s": None},
            {"name": "bands column (42 bigint)", "bytes": columns["bands"], "build_s": None},
            {
                "name": "embedding column (vector 64)",
                "bytes": columns["embedding"],
                "build_s": None,
            },
            *({"name": k, "bytes": sizes[k], "build_s": timings[k]} for k in sizes),
        ]
        out["sketch_s"] = sketch_s
        out["store_s"] = store_s
    shutil.rmtree(home, ignore_errors=True)
    return out


def _mib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**20:.1f} MiB"


def section(figures: dict[str, Any]) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        BEGIN,
        "## Index footprint",
        "",
        f"`python bench/footprint.py --corpus {figures['corpus']}` ({when}; load average "
        f"{load}) — {figures['corpus']} indexed and scanned from an empty database "
        f"({figures['units']:,} units). What the index keeps now, and who reads it:",
        "",
        "| relation | kind | on disk | read by |",
        "| --- | --- | --- | --- |",
    ]
    for r in figures["relations"]:
        kind = "table" if r["kind"] == "r" else "index"
        lines.append(
            f"| {r['name']} | {kind} | {_mib(r['bytes'])} | {READERS.get(r['name'], '')} |"
        )
    lines += [
        "",
        "Dropped by migration 0014, rebuilt here on the same units to measure what they cost "
        f"(sketching every unit: {figures['sketch_s']:.2f} s; storing the three columns: "
        f"{figures['store_s']:.2f} s; the embeddings are random unit vectors of the same "
        "dimension). Neither review nor scan reads them any more: "
        "candidates come from LSH bands computed in memory from the token streams.",
        "",
        "| structure | on disk | build |",
        "| --- | --- | --- |",
    ]
    for d in figures["dropped"]:
        build = "" if d["build_s"] is None else f"{d['build_s']:.2f} s"
        lines.append(f"| {d['name']} | {_mib(d['bytes'])} | {build} |")
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else ""
    begin, end = old.find(BEGIN), old.find(END)
    if begin != -1 and end != -1:
        new = old[:begin] + text.rstrip("\n") + old[end + len(END) :]
    else:
        new = (old.rstrip("\n") + "\n\n" if old else "") + text
    RESULTS.write_text(new if new.endswith("\n") else new + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="django", choices=[c.name for c in corpus.CORPORA])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    built = corpus.build_all((args.corpus,))
    figures = asyncio.run(measure(args.corpus, built[args.corpus]))
    text = section(figures)
    print(text)
    write_section(text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
