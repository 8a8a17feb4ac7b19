-- Webhook deliveries: recorded before the endpoint answers, so none is lost and none is
-- processed twice. `jobs` holds what the delivery asks for (function and arguments), so a
-- delivery recorded while Redis was down can be enqueued later.
CREATE TABLE deliveries (
    id              text PRIMARY KEY,                 -- X-GitHub-Delivery
    event           text NOT NULL,                    -- X-GitHub-Event
    action          text,
    installation_id bigint,
    repo_id         bigint,
    received_at     timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'received'
                    CHECK (state IN ('received', 'queued', 'ignored')),
    jobs            jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX deliveries_unqueued ON deliveries (received_at) WHERE state = 'received';
