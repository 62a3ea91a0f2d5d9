-- The sync pipeline's state. Portable SQLite / PostgreSQL: money is TEXT holding a decimal string
-- ("121.00"), timestamps are ISO 8601 TEXT in UTC with their offset ("2025-03-01T03:00:00+00:00"),
-- dates are ISO TEXT ("2025-03-01"). JSON documents are TEXT.

-- One row per DAG run: its window and parameters.
CREATE TABLE IF NOT EXISTS sync_runs (
    run_id TEXT PRIMARY KEY,
    window_start TEXT,            -- updated_since, or NULL with a starting date
    window_end TEXT,
    starting_date TEXT,           -- invoiced on or after this date (the "Starting date" param)
    params_json TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
);

-- The run log: one row per stage of a run (a re-run of the task replaces it), with its error if it failed.
CREATE TABLE IF NOT EXISTS sync_stage_log (
    run_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    summary_json TEXT NOT NULL DEFAULT '{}',
    api_calls_json TEXT NOT NULL DEFAULT '{}',
    error TEXT,                   -- why the stage failed ("TwinfieldUnavailable: ..."), NULL when it did not
    PRIMARY KEY (run_id, stage)
);

-- Focus documents (invoices and credit notes) as extracted by a run, with their details.
CREATE TABLE IF NOT EXISTS staged_documents (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    focus_id TEXT NOT NULL,
    focus_number TEXT NOT NULL,
    updated_at TEXT,              -- Focus's updated_at of the list item
    raw_json TEXT NOT NULL,       -- the info answer, amounts as decimal strings
    content_hash TEXT NOT NULL,
    staged_at TEXT NOT NULL,
    PRIMARY KEY (run_id, kind, focus_id)
);
CREATE INDEX IF NOT EXISTS ix_staged_documents_focus ON staged_documents (kind, focus_id, updated_at);

-- Focus customer <-> Twinfield DEB customer, per office. 'pending' is written with the reserved code
-- before the customer is created in Twinfield, so a crash leaves evidence and a re-run re-uses the code.
CREATE TABLE IF NOT EXISTS customer_links (
    focus_type TEXT NOT NULL CHECK (focus_type IN ('company', 'contact')),
    focus_id TEXT NOT NULL,
    office TEXT NOT NULL,
    twinfield_code TEXT NOT NULL,
    matched_by TEXT NOT NULL CHECK (matched_by IN ('vat_number', 'name', 'created')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'linked')),
    run_id TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (focus_type, focus_id, office),
    UNIQUE (office, twinfield_code)
);

-- Per document and run: the outcome of validation, every reason, and the transaction to post.
CREATE TABLE IF NOT EXISTS validation_results (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    focus_id TEXT NOT NULL,
    focus_number TEXT NOT NULL,
    focus_link TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',  -- the Twinfield office it books into ('' when its department has none)
    valid INTEGER NOT NULL,
    reasons_json TEXT NOT NULL DEFAULT '[]',
    waiting INTEGER NOT NULL DEFAULT 0,  -- held back only until Focus books or sends it: nothing to fix
    transaction_json TEXT,        -- the SalesTransaction to post (valid documents only)
    content_hash TEXT NOT NULL,
    PRIMARY KEY (run_id, kind, focus_id)
);

-- What is in Twinfield for a Focus document. The attempt (status 'pending', attempt_hash, attempt_run_id,
-- attempted_at) is written BEFORE each write to Twinfield; the outcome after it.
--   pending:  a write was started; its outcome is unknown until Twinfield is asked
--   posted:   a draft (temporary) transaction holds content_hash
--   final:    the bookkeeper made it final; never written again
--   rejected: Twinfield refused the last write and holds nothing for it (see last_error)
--   deleted:  the draft was deleted (the document moved to another office)
CREATE TABLE IF NOT EXISTS postings (
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    focus_id TEXT NOT NULL,
    focus_number TEXT NOT NULL,
    office TEXT NOT NULL,
    daybook TEXT NOT NULL,
    invoice_number TEXT NOT NULL,  -- the number booked in Twinfield
    period TEXT NOT NULL,          -- "YYYY/PP" it is booked in
    customer_code TEXT,
    currency TEXT NOT NULL,
    total TEXT NOT NULL,           -- tax-inclusive, positive decimal string
    status TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'final', 'rejected', 'deleted')),
    content_hash TEXT,             -- content Twinfield holds (NULL until a write succeeded)
    twinfield_number TEXT,
    attempt_hash TEXT,
    attempt_run_id TEXT,
    attempted_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    posted_run_id TEXT,
    posted_at TEXT,
    last_error TEXT,
    -- what pull_reconciliations last saw in Twinfield
    match_status TEXT,
    paid_amount TEXT,
    open_amount TEXT,
    match_date TEXT,
    checked_at TEXT,
    PRIMARY KEY (kind, focus_id),
    UNIQUE (office, daybook, invoice_number)
);
CREATE INDEX IF NOT EXISTS ix_postings_status ON postings (status);

-- Payments registered in Focus. A row is written ('pending') before invoices.registerPayment and marked
-- 'registered' after; (focus_invoice_id, paid_total) is unique: the running total this payment brings
-- the invoice to, so the same payment can never be registered twice.
CREATE TABLE IF NOT EXISTS payments (
    focus_invoice_id TEXT NOT NULL,
    paid_total TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'registered')),
    run_id TEXT NOT NULL,
    attempted_at TEXT NOT NULL,
    registered_at TEXT,
    PRIMARY KEY (focus_invoice_id, paid_total)
);

-- The report of each run, as a person reads it and as data.
CREATE TABLE IF NOT EXISTS sync_reports (
    run_id TEXT PRIMARY KEY,
    markdown TEXT NOT NULL,
    report_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
