-- When the run that holds a customer creation last claimed it (ISO 8601 UTC). Overlapping runs (a backfill runs
-- several at once) may want to create the same new customer: a run claims each creation just before sending it,
-- and a claim another run made within the lease is that run's creation in flight, waited for instead of sent
-- again. Rows from before this column count as claimed when first attempted.
ALTER TABLE customer_creations ADD COLUMN claimed_at TEXT
