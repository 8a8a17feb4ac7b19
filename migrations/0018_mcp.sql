-- What `cairn mcp` adds: words of every unit for full-text search (similar_code's `query`
-- mode), and the bearer tokens of the streamable HTTP transport on `cairn serve`.

-- A unit's words: its name, the identifiers it uses split into words, its docstrings and
-- comments. Content-addressed like the units (a blob is worded once per repository); gone
-- with its unit.
CREATE TABLE unit_words (
    repo_id  bigint   NOT NULL,
    blob_sha text     NOT NULL,
    ordinal  integer  NOT NULL,
    words    tsvector NOT NULL,
    PRIMARY KEY (repo_id, blob_sha, ordinal),
    FOREIGN KEY (repo_id, blob_sha, ordinal)
        REFERENCES units (repo_id, blob_sha, ordinal) ON DELETE CASCADE
);
CREATE INDEX unit_words_search ON unit_words USING gin (words);

-- Tokens of the MCP endpoint: one installation each (every repository of it), stored as the
-- SHA-256 of the token (the token itself is shown once, when created). Revoked ones stay,
-- marked, for the record.
CREATE TABLE mcp_tokens (
    id              bigserial   PRIMARY KEY,
    installation_id bigint      NOT NULL,
    repository      text        NOT NULL,          -- the OWNER/NAME it was created for
    token_hash      text        NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX mcp_tokens_by_installation ON mcp_tokens (installation_id);
