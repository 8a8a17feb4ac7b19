-- The decision log: architecture decision records parsed from the repository at its indexed
-- commit, one row per ADR file. A file is parsed again only when its blob changes. The body
-- is searchable (full text, GIN) for the decisions relevant to a change.
CREATE TABLE decisions (
    repo_id       bigint  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    path          text    NOT NULL,
    blob_sha      text    NOT NULL,
    number        integer,                          -- ADR-n; NULL when the file has none
    title         text    NOT NULL,
    status        text    NOT NULL,                 -- as written; '' when the record has none
    date          text    NOT NULL DEFAULT '',
    supersedes    text[]  NOT NULL DEFAULT '{}',    -- link targets: paths or "ADR-n"
    superseded_by text[]  NOT NULL DEFAULT '{}',
    decision      text    NOT NULL DEFAULT '',
    body          text    NOT NULL,
    explicit      jsonb   NOT NULL DEFAULT '[]',    -- constraints of a `cairn:` block
    derived       jsonb   NOT NULL DEFAULT '[]',    -- constraints read from the prose
    problems      jsonb   NOT NULL DEFAULT '[]',    -- what could not be parsed
    search        tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('english', title), 'A')
                      || setweight(to_tsvector('english', decision), 'B')
                      || setweight(to_tsvector('english', body), 'C')) STORED,
    PRIMARY KEY (repo_id, path)
);
CREATE INDEX decisions_search ON decisions USING gin (search);
