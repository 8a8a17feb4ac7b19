-- Every declaration of a parsed blob (functions, methods, classes, whatever their size; the
-- units table keeps only those worth comparing for duplication) with its decorators and base
-- types: what mined naming and structure conventions read. Content-addressed like units.
CREATE TABLE blob_declarations (
    repo_id  bigint  NOT NULL,
    blob_sha text    NOT NULL,
    ordinal  integer NOT NULL,
    kind     text    NOT NULL,                     -- function | method | class
    name     text    NOT NULL,
    qualname text    NOT NULL,
    line     integer NOT NULL,
    traits   text[]  NOT NULL,                     -- "decorator:app.route", "base:BaseHandler"
    PRIMARY KEY (repo_id, blob_sha, ordinal),
    FOREIGN KEY (repo_id, blob_sha) REFERENCES blobs (repo_id, blob_sha) ON DELETE CASCADE
);

-- Blobs parsed before this table existed have no declarations: forget them (their units,
-- extracted imports and tree rows cascade) so that the next index parses them again.
DELETE FROM blobs WHERE skipped IS NULL;
