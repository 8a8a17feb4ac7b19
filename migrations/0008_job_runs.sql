-- The jobs of recorded deliveries as Postgres knows them, the source of truth for the
-- reconciler (Redis may lose a job, or arq may record it "expired"): a job is done once its
-- latest attempt completed (a review: its check runs completed). `attempt` counts attempts
-- started, so an older attempt finishing late cannot mark a newer one's work done.
-- `requeued` and `requeue_at`: the reconciler's own re-queues of the job and its backoff.
CREATE TABLE job_runs (
    job_id     text PRIMARY KEY,
    attempt    integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    done_at    timestamptz,
    requeued   integer NOT NULL DEFAULT 0,
    requeue_at timestamptz
);
CREATE INDEX deliveries_queued ON deliveries (received_at) WHERE state = 'queued';
