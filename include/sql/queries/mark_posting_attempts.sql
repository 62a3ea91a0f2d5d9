-- Evidence of a write about to happen: status 'pending' with the content being written, the run and time.
-- The target (office, daybook, booked number) and customer are those of the transaction being written;
-- what Twinfield held before (content_hash, twinfield_number) stays until the outcome is known, and so does the
-- period Twinfield booked it in (the request carries none: Twinfield derives it; the reply says which).
INSERT INTO postings (
    kind, focus_id, focus_number, office, daybook, invoice_number, period, customer_code, currency, total,
    status, attempt_hash, attempt_run_id, attempted_at, attempts
) VALUES (
    :kind, :focus_id, :focus_number, :office, :daybook, :invoice_number, :period, :customer_code, :currency,
    :total, 'pending', :hash, :run_id, :at, 1
)
ON CONFLICT (kind, focus_id) DO UPDATE SET
    focus_number = excluded.focus_number,
    office = excluded.office,
    daybook = excluded.daybook,
    invoice_number = excluded.invoice_number,
    period = CASE WHEN excluded.office = postings.office AND excluded.daybook = postings.daybook
                  AND excluded.invoice_number = postings.invoice_number THEN postings.period ELSE '' END,
    customer_code = excluded.customer_code,
    currency = excluded.currency,
    total = excluded.total,
    status = 'pending',
    attempt_hash = excluded.attempt_hash,
    attempt_run_id = excluded.attempt_run_id,
    attempted_at = excluded.attempted_at,
    attempts = postings.attempts + 1;
