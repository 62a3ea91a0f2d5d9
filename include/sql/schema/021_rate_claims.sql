-- The Focus requests each hook (holder) sent or may send in the current window, per integration (client id +
-- API host). A hook writes its row before it sends, claiming a few slots ahead at the end of a short lease, so
-- that a hook killed at any point leaves a row that a new hook can count (rate_windows, saved only now and
-- then and at the end of a task, missed what a killed task sent). last_at: the latest moment in sent_at, for
-- clearing rows that left the window.
CREATE TABLE IF NOT EXISTS rate_claims (
    name TEXT NOT NULL,
    holder TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    last_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (name, holder)
);
DROP TABLE IF EXISTS rate_windows;
