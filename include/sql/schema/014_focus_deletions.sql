-- Focus documents that Focus no longer knows (deleted there: a draft, or the last booked invoice of a
-- department), recorded by the run that found them, so each is reported once. What Twinfield held for it then:
-- outcome as in twinfield.domain.report (not_booked, draft_deleted, draft_kept, draft_not_deleted, final,
-- nothing_held), and where it was booked: its postings row is removed when it is recorded. A document recorded
-- here is left out of later runs' checks and of the documents retried.
CREATE TABLE IF NOT EXISTS focus_deletions (
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    focus_id TEXT NOT NULL,
    focus_number TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',
    daybook TEXT NOT NULL DEFAULT '',
    invoice_number TEXT NOT NULL DEFAULT '',  -- the number it was booked under in Twinfield ('' when never)
    twinfield_number TEXT,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    run_id TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    PRIMARY KEY (kind, focus_id)
);
CREATE INDEX IF NOT EXISTS ix_focus_deletions_run ON focus_deletions (run_id);
