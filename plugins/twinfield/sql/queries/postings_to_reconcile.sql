-- Invoices in Twinfield (draft or final) whose payment may still have to reach Focus: not yet seen fully
-- matched, or seen paid for more than the payments registered in Focus so far. Credit notes are reported
-- with their booking, never paid.
SELECT p.kind, p.focus_id, p.focus_number, p.office, p.daybook, p.invoice_number, p.period, p.customer_code,
       p.currency, p.total, p.status, p.content_hash, p.twinfield_number, p.attempt_hash, p.attempt_run_id,
       p.attempts, p.posted_run_id, p.last_error, p.match_status, p.paid_amount, p.open_amount, p.match_date
FROM postings p
WHERE p.kind = 'invoice'
  AND p.status IN ('posted', 'final')
  AND p.twinfield_number IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM payments pay
      WHERE pay.focus_invoice_id = p.focus_id AND pay.status = 'registered' AND pay.paid_total = p.total
  )
ORDER BY p.office, p.daybook, p.invoice_number;
