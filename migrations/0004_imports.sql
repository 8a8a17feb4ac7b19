-- The import graph. Extraction is per blob (content-addressed like units: an unchanged blob is
-- never parsed again); resolution depends on the whole tree, so it is kept per path of the
-- indexed tree and updated by difference on every index. Every row is scoped by repository.
CREATE TABLE blob_imports (
    repo_id  bigint  NOT NULL,
    blob_sha text    NOT NULL,
    ordinal  integer NOT NULL,
    line     integer NOT NULL,
    name     text    NOT NULL,                     -- as written: ".models", "./util", "fmt"
    PRIMARY KEY (repo_id, blob_sha, ordinal),
    FOREIGN KEY (repo_id, blob_sha) REFERENCES blobs (repo_id, blob_sha) ON DELETE CASCADE
);

CREATE TABLE imports (
    repo_id  bigint  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    path     text    NOT NULL,                     -- the importing file, in the indexed tree
    line     integer NOT NULL,
    name     text    NOT NULL,
    internal text,                                 -- the imported file, when in the repository
    package  text,                                 -- else the external package
    PRIMARY KEY (repo_id, path, line, name)
);
CREATE INDEX imports_by_target ON imports (repo_id, internal);
