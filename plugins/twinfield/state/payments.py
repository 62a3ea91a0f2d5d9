"""Payments registered in Focus, each at most once.

A payment is identified by the invoice and the running total it brings the invoice to (``paid_total``):
paid in two parts, an invoice of 100.00 gets the rows (inv, "40.00") and (inv, "100.00"). The row is claimed
('pending') before invoices.registerPayment and marked 'registered' after. A claim left 'pending' by a crash
is taken over by a later try of the same run at once, or by another run once its lease has run out; the
taker checks the invoice in Focus before registering again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, text

from twinfield.domain.batching import SQL_PARAMETERS, chunked
from twinfield.domain.focus_model import PaymentsSeen
from twinfield.domain.money import format_amount
from twinfield.state.db import StateStore
from twinfield.state.encoding import iso, now

LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Payment:
    focus_invoice_id: str
    paid_total: Decimal
    amount: Decimal
    currency: str
    paid_at: dt.date
    status: str  # pending | registered
    run_id: str


def _payment(r) -> Payment:
    return Payment(r.focus_invoice_id, Decimal(r.paid_total), Decimal(r.amount), r.currency,
                   dt.date.fromisoformat(r.paid_at), r.status, r.run_id)


def registered_totals(store: StateStore, invoice_ids: list[str]) -> dict[str, Decimal]:
    """The running total registered so far per invoice (invoices without payments are left out)."""
    totals: dict[str, Decimal] = {}
    select = text(
        "SELECT focus_invoice_id, paid_total FROM payments WHERE status = 'registered' AND focus_invoice_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with store.begin() as conn:
        for chunk in chunked(invoice_ids, SQL_PARAMETERS):
            for r in conn.execute(select, {"ids": chunk}):
                totals[r.focus_invoice_id] = max(totals.get(r.focus_invoice_id, Decimal(0)), Decimal(r.paid_total))
    return totals


def claim(
    store: StateStore,
    run_id: str,
    invoice_id: str,
    *,
    paid_total: Decimal,
    amount: Decimal,
    currency: str,
    paid_at: dt.date,
    at: dt.datetime | None = None,
) -> str:
    """Claim the payment before registering it. Returns:

    - "new": claimed; nobody tried it before;
    - "retry": claimed a pending attempt that crashed: check Focus before registering again;
    - "done": already registered;
    - "busy": another run's attempt, still within its lease: leave it.
    """
    stamp = iso(at) if at else now()
    params = {"inv": invoice_id, "total": format_amount(paid_total), "amount": format_amount(amount),
              "cur": currency, "paid_at": iso(paid_at), "run": run_id, "at": stamp}
    with store.begin() as conn:
        inserted = conn.execute(
            text(
                "INSERT INTO payments (focus_invoice_id, paid_total, amount, currency, paid_at, status, run_id,"
                " attempted_at) VALUES (:inv, :total, :amount, :cur, :paid_at, 'pending', :run, :at)"
                " ON CONFLICT (focus_invoice_id, paid_total) DO NOTHING"
            ),
            params,
        ).rowcount
        if inserted == 1:
            return "new"
        row = conn.execute(
            text(
                "SELECT status, run_id, attempted_at FROM payments"
                " WHERE focus_invoice_id = :inv AND paid_total = :total"
            ),
            params,
        ).one()
        if row.status == "registered":
            return "done"
        expired = dt.datetime.fromisoformat(row.attempted_at) + LEASE <= dt.datetime.fromisoformat(stamp)
        if row.run_id != run_id and not expired:
            return "busy"
        taken = conn.execute(
            text(
                "UPDATE payments SET run_id = :run, attempted_at = :at WHERE focus_invoice_id = :inv"
                " AND paid_total = :total AND status = 'pending' AND attempted_at = :old"
            ),
            {**params, "old": row.attempted_at},
        ).rowcount
    return "retry" if taken == 1 else "busy"


def mark_registered(store: StateStore, invoice_id: str, paid_total: Decimal, amount: Decimal) -> None:
    """The invoice now shows ``paid_total`` paid in Focus; ``amount`` is what this payment added (0.00 when
    Focus already showed it paid)."""
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE payments SET status = 'registered', registered_at = :at, amount = :amount"
                " WHERE focus_invoice_id = :inv AND paid_total = :total"
            ),
            {"inv": invoice_id, "total": format_amount(paid_total), "amount": format_amount(amount), "at": now()},
        )


def release(store: StateStore, invoice_id: str, paid_total: Decimal) -> None:
    """Drop a claim whose payment was not registered (Focus refused it, or nothing was left to pay)."""
    with store.begin() as conn:
        params = {"inv": invoice_id, "total": format_amount(paid_total)}
        deleted = conn.execute(
            text("DELETE FROM payments WHERE focus_invoice_id = :inv AND paid_total = :total AND status = 'pending'"),
            params,
        ).rowcount
        if deleted:
            conn.execute(text("DELETE FROM payment_checks WHERE focus_invoice_id = :inv AND paid_total = :total"),
                         params)


def record_before(store: StateStore, invoice_id: str, paid_total: Decimal, amount: Decimal,
                  seen: PaymentsSeen) -> None:
    """Before invoices.registerPayment: what the invoice shows now, and the amount about to be sent."""
    params = {"inv": invoice_id, "total": format_amount(paid_total), "amount": format_amount(amount),
              "count": seen.count, "paid": format_amount(seen.paid),
              "due": None if seen.due is None else format_amount(seen.due), "at": now()}
    with store.begin() as conn:
        conn.execute(text("DELETE FROM payment_checks WHERE focus_invoice_id = :inv AND paid_total = :total"), params)
        conn.execute(
            text(
                "INSERT INTO payment_checks (focus_invoice_id, paid_total, amount, payments_before, paid_before,"
                " due_before, recorded_at) VALUES (:inv, :total, :amount, :count, :paid, :due, :at)"
            ),
            params,
        )


def recorded_before(store: StateStore, invoice_id: str, paid_total: Decimal) -> tuple[Decimal, PaymentsSeen] | None:
    """(amount sent, what the invoice showed before) of the last attempt to register this payment, if any."""
    with store.begin() as conn:
        row = conn.execute(
            text(
                "SELECT amount, payments_before, paid_before, due_before FROM payment_checks"
                " WHERE focus_invoice_id = :inv AND paid_total = :total"
            ),
            {"inv": invoice_id, "total": format_amount(paid_total)},
        ).one_or_none()
    if row is None:
        return None
    due = None if row.due_before is None else Decimal(row.due_before)
    return Decimal(row.amount), PaymentsSeen(int(row.payments_before), Decimal(row.paid_before), due)


def registered_in_run(store: StateStore, run_id: str) -> list[Payment]:
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT focus_invoice_id, paid_total, amount, currency, paid_at, status, run_id FROM payments"
                " WHERE run_id = :r AND status = 'registered' ORDER BY focus_invoice_id, paid_total"
            ),
            {"r": run_id},
        ).all()
    return [_payment(r) for r in rows]


def pending(store: StateStore) -> list[Payment]:
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT focus_invoice_id, paid_total, amount, currency, paid_at, status, run_id FROM payments"
                " WHERE status = 'pending' ORDER BY focus_invoice_id, paid_total"
            )
        ).all()
    return [_payment(r) for r in rows]
