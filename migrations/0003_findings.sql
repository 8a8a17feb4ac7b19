-- The findings ledger: what Cairn reported on each pull request, and what silenced it.
-- Every row is scoped by repository; a finding's identity is its stable fingerprint, which
-- survives line moves and rebases, so a re-push updates the row rather than adding one.
CREATE TABLE findings (
    repo_id       bigint  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    pr_number     integer NOT NULL,
    fingerprint   text    NOT NULL,
    check_name    text    NOT NULL,                -- "duplication" | "patterns" | "decisions"
    rule          text    NOT NULL,
    path          text    NOT NULL,
    start_line    integer NOT NULL,                -- in the revision head_sha
    end_line      integer NOT NULL,
    message       text    NOT NULL,
    severity      text    NOT NULL CHECK (severity IN ('notice', 'warning', 'error')),
    head_sha      text    NOT NULL,                -- the last head the finding was seen on
    state         text    NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'fixed', 'dismissed')),
    comment_id    bigint,                          -- the inline review comment, once posted
    thread_id     text,                            -- its review thread (GraphQL node id)
    fixed_sha     text,                            -- the first head without the finding
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    fixed_at      timestamptz,
    PRIMARY KEY (repo_id, pr_number, fingerprint)
);
CREATE INDEX findings_open ON findings (repo_id, pr_number) WHERE state = 'open';

-- Every dismissal, auditable: an inline `cairn: ignore[rule] reason` or a `/cairn ignore
-- reason` reply. A suppression names a fingerprint (one finding) or a rule ("check/rule").
CREATE TABLE suppressions (
    id          bigserial PRIMARY KEY,
    repo_id     bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    fingerprint text,
    rule        text,
    reason      text   NOT NULL,
    author      text   NOT NULL,
    comment_id  bigint,                            -- the comment that asked for it, if any
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (fingerprint IS NOT NULL OR rule IS NOT NULL)
);
CREATE INDEX suppressions_by_repo ON suppressions (repo_id);

-- Merged pull requests: the decision history the decisions check searches.
CREATE TABLE pull_requests (
    repo_id   bigint  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    number    integer NOT NULL,
    title     text    NOT NULL,
    body      text    NOT NULL DEFAULT '',
    labels    text[]  NOT NULL DEFAULT '{}',
    files     text[]  NOT NULL DEFAULT '{}',
    merged_at timestamptz,
    PRIMARY KEY (repo_id, number)
);
