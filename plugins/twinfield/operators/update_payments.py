"""Stage 6: register in Focus what Twinfield shows paid, once."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from twinfield import assets
from twinfield.domain.focus_model import payment_took_effect, payments_seen
from twinfield.domain.money import format_amount
from twinfield.domain.payment_plan import PaymentDue, plan_payments, still_to_register
from twinfield.errors import FocusApiError, FocusAuthError, FocusRateLimited, FocusUnavailable
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import payments, postings

# What reading an invoice Focus answered in an unknown form raises (MalformedFocusData is a ValueError).
UNREADABLE = (ValueError, KeyError, TypeError, ArithmeticError)


class UpdatePaymentsOperator(SyncStageOperator):
    """For each invoice that Twinfield shows paid (matched) or partly paid beyond what was registered so far,
    registers the difference in Focus with invoices.registerPayment: amount, date, currency and the
    configured payment method.

    Each payment is claimed in the state store first (invoice + the running total it brings the invoice to)
    and the Focus invoice is read just before registering: whatever Focus already shows paid is not
    registered again. What the invoice showed (number and sum of payments, total.due) is recorded before the
    send; a later try of a claim whose outcome was never recorded compares Focus with it, so neither a crash
    nor a re-run registers a payment twice. Twinfield going back to unpaid never changes Focus. Credit notes
    are reported, not paid.

    One invoice's trouble stays with it: Focus refusing its payment, or an invoice that cannot be read, is
    reported with the invoice (nothing was sent: its claim is dropped), and an unexpected error while sending
    leaves its claim pending for the next run to check; the others go on. Focus down past its retries, or the
    connection refused (auth, rate limit), stops the stage: that is not about one invoice.
    """

    stage = "update_payments"

    def sync(self, run: StageRun) -> dict:
        candidates = [p for p in postings.to_reconcile(run.store) if p.paid_amount]
        registered = payments.registered_totals(run.store, [p.focus_id for p in candidates])
        due = plan_payments(candidates, registered, dt.datetime.now(dt.timezone.utc).date())
        summary: dict[str, Any] = {"paid_in_twinfield": len(candidates), "to_register": len(due)}
        if run.dry_run:
            run.details["would_register"] = [payment.as_dict() for payment in due]
            return summary
        return self._register(run, due, summary)

    def _register(self, run: StageRun, due: list[PaymentDue], summary: dict[str, Any]) -> dict:
        """Register the planned payments in Focus, each claimed first; adds each one's outcome to ``summary``."""
        method = run.config.payment_method_id
        problems: list[dict] = []

        def problem(payment: PaymentDue, reason: str) -> None:
            problems.append({"focus_number": payment.posting.focus_number, "focus_id": payment.posting.focus_id,
                             "amount": format_amount(payment.paid_total), "reason": reason})

        def register(payment: PaymentDue) -> str:
            posting, target, when = payment.posting, payment.paid_total, payment.paid_at
            claim = payments.claim(run.store, run.run_id, posting.focus_id, paid_total=target, amount=payment.amount,
                                   currency=posting.currency, paid_at=when.date())
            if claim in ("done", "busy"):
                return claim
            sending = False
            try:
                info = run.focus.invoice_info(posting.focus_id)
                earlier = payments.recorded_before(run.store, posting.focus_id, target) if claim == "retry" else None
                if earlier is not None and payment_took_effect(earlier[1], info, earlier[0], when.date()):
                    # An attempt whose outcome was never recorded (a crash, a kill) took effect.
                    payments.mark_registered(run.store, posting.focus_id, target, earlier[0])
                    return "registered_before"
                amount = still_to_register(info, target)
                if amount > 0:
                    seen = payments_seen(info)
                    payments.record_before(run.store, posting.focus_id, target, amount, seen)
                    sending = True
                    run.focus.register_payment(posting.focus_id, amount, posting.currency, when,
                                               payment_method_id=method, before=seen)
            except FocusUnavailable:
                raise  # outcome unknown: the claim stays pending, a retry checks Focus first
            except (FocusAuthError, FocusRateLimited):
                payments.release(run.store, posting.focus_id, target)  # refused before Focus did anything
                raise
            except FocusApiError as exc:
                payments.release(run.store, posting.focus_id, target)
                self.log.warning("Focus refused the payment of invoice %s: %s", posting.focus_number, exc.title)
                problem(payment, f"Focus refused the payment: {exc.title}")
                return "refused"
            except Exception as exc:  # noqa: BLE001 - one invoice's trouble never stops the others
                error = f"{type(exc).__name__}: {exc}"
                if sending:  # whether Focus took it is not known: the claim stays, the next run checks Focus first
                    self.log.warning("Registering the payment of invoice %s failed: %s", posting.focus_number, error)
                    problem(payment, f"registering the payment failed ({error}); whether Focus took it is checked "
                                     "before anything is sent again, by the next run")
                    return "unknown"
                if not isinstance(exc, UNREADABLE):
                    raise  # not about this invoice (the state store, a bug): the claim stays for a retry to check
                payments.release(run.store, posting.focus_id, target)
                self.log.warning("Invoice %s: payment not registered: %s", posting.focus_number, error)
                problem(payment, f"not registered: the invoice in Focus could not be read ({error})")
                return "failed"
            payments.mark_registered(run.store, posting.focus_id, target, max(amount, Decimal(0)))
            return "registered" if amount > 0 else "already_paid_in_focus"

        run.doing(f"registering {len(due)} payment(s) in Focus")
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="focus-payments") as pool:
            results = list(pool.map(register, due))
        for outcome in ("registered", "registered_before", "already_paid_in_focus", "refused", "busy", "done",
                        "failed", "unknown"):
            summary[outcome] = results.count(outcome)
        run.details["payment_problems"] = sorted(problems, key=lambda p: p["focus_number"])
        assets.emit_payments(run.context, run.run_id, summary["registered"])
        return summary
