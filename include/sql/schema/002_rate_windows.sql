-- The requests a rate-limited client sent in the current window, per integration (client id + API host),
-- handed from one task to the next: each new hook starts from what the tasks before it sent instead of from
-- an empty window (which would run it straight into a 429 after a busy task).
CREATE TABLE IF NOT EXISTS rate_windows (
    name TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
