-- Focus webhook events, kept only as hints of which documents changed: the next webhook-triggered sync run
-- takes the pending ones (run_id set) and re-reads those documents from the API.
CREATE TABLE IF NOT EXISTS webhook_hints (
    event_type TEXT NOT NULL,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('invoice', 'creditNote')),
    subject_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    run_id TEXT,
    PRIMARY KEY (subject_type, subject_id, received_at)
);
CREATE INDEX IF NOT EXISTS webhook_hints_pending ON webhook_hints (run_id);
