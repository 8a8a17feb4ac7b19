-- Clone detection without sketches in the database, and scans kept between runs.
--
-- Candidates for review and scan now come from an in-memory index built from the units' token
-- streams (analyzers/candidates.py), so the MinHash signature, the LSH band keys with their GIN
-- index, the 64-float embedding with its HNSW index and the index on exact_hash are no longer
-- read (their cost and what was left is in bench/RESULTS.md, "Index footprint"). The token
-- streams stay: they are what is verified.
DROP INDEX IF EXISTS units_by_embedding;
DROP INDEX IF EXISTS units_by_band;
DROP INDEX IF EXISTS units_by_exact_hash;
ALTER TABLE units DROP COLUMN IF EXISTS minhash,
                  DROP COLUMN IF EXISTS bands,
                  DROP COLUMN IF EXISTS embedding;

-- The settings the repository's stored clone pairs were computed with (engine version,
-- threshold, minimum tokens): a scan with other settings recomputes every pair.
CREATE TABLE clone_scans (
    repo_id    bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    settings   text NOT NULL,
    scanned_at timestamptz NOT NULL DEFAULT now()
);

-- The distinct normalised token streams (units.exact_hash) already compared with every other
-- one: a scan compares only the streams not listed here (units added or changed since).
CREATE TABLE clone_streams (
    repo_id    bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    exact_hash bigint NOT NULL,
    PRIMARY KEY (repo_id, exact_hash)
);

-- Verified near-miss pairs of distinct streams (a < b). Units with the same stream are
-- renamed or exact copies of each other and need no row; a pair whose stream no unit of the
-- indexed tree has any more is left out when read, and deleted by the next scan.
CREATE TABLE clone_pairs (
    repo_id    bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    a          bigint NOT NULL,
    b          bigint NOT NULL,
    similarity real   NOT NULL,
    PRIMARY KEY (repo_id, a, b)
);

-- The units the last scan saw, by path and stream: a unit not among them was added or changed
-- since (what `cairn scan --new-only` lists), even when its stream was known (an exact copy).
CREATE TABLE clone_units (
    repo_id    bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    path       text   NOT NULL,
    exact_hash bigint NOT NULL,
    PRIMARY KEY (repo_id, path, exact_hash)
);
