-- A customer about to be created in Twinfield, written before it is sent. Twinfield numbers new customers
-- itself (within the office's code mask), so no code is known until its reply: after a crash or a lost reply
-- the next run looks for the customer (same name and VAT number, changed since attempted_at) before sending
-- it again.
CREATE TABLE IF NOT EXISTS customer_creations (
    focus_type TEXT NOT NULL CHECK (focus_type IN ('company', 'contact')),
    focus_id TEXT NOT NULL,
    office TEXT NOT NULL,
    name TEXT NOT NULL,
    vat_number TEXT NOT NULL,
    run_id TEXT NOT NULL,
    attempted_at TEXT NOT NULL,  -- the first attempt, ISO 8601 UTC
    PRIMARY KEY (focus_type, focus_id, office)
);
