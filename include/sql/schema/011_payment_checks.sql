-- What a Focus invoice showed of its payments just before invoices.registerPayment was sent for a payment row
-- (payments: focus_invoice_id, paid_total). Payments carry no id in Focus: after an unknown outcome (a crash, a
-- timeout) these numbers tell whether the payment took effect, whatever Focus writes back as its paid_at.
CREATE TABLE IF NOT EXISTS payment_checks (
    focus_invoice_id TEXT NOT NULL,
    paid_total TEXT NOT NULL,
    amount TEXT NOT NULL,          -- what was sent
    payments_before INTEGER NOT NULL,
    paid_before TEXT NOT NULL,     -- sum of the invoice's payments
    due_before TEXT,               -- total.due (NULL when Focus gave none)
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (focus_invoice_id, paid_total)
);
