"""Which payments update_payments registers in Focus, from what Twinfield shows paid (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from twinfield.domain.focus_model import parse_invoice
from twinfield.domain.money import format_amount, to_decimal


class Paid(Protocol):
    """A booked invoice with its payment state (``twinfield.state.postings.Posting``)."""

    focus_id: str
    focus_number: str
    currency: str
    total: Decimal
    paid_amount: Decimal | None
    match_date: dt.date | None


@dataclass(frozen=True)
class PaymentDue:
    """A payment to register: ``paid_total`` is the running total it brings the invoice to in Focus."""

    posting: Paid
    paid_total: Decimal
    amount: Decimal  # paid_total less what earlier runs registered
    paid_at: dt.datetime

    def as_dict(self) -> dict:
        """What a dry run reports (``would_register``)."""
        return {"focus_number": self.posting.focus_number, "currency": self.posting.currency,
                "paid_at": self.paid_at.date().isoformat(), "amount": format_amount(self.amount)}


def paid_at(posting: Paid, today: dt.date) -> dt.datetime:
    """When it was paid: the match date (fully paid), else the day the partial payment was seen; noon UTC, so
    the day is the same in every European time zone."""
    day = posting.match_date or today
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)


def plan_payments(candidates: Iterable[Paid], registered: Mapping[str, Decimal], today: dt.date) -> list[PaymentDue]:
    """The invoices paid in Twinfield beyond what was registered in Focus so far (``registered``: Focus invoice id
    -> running total registered); never more than the invoice's total."""
    due = []
    for posting in candidates:
        target = min(posting.paid_amount, posting.total)
        before = registered.get(posting.focus_id, Decimal(0))
        if target > before:
            due.append(PaymentDue(posting, target, target - before, paid_at(posting, today)))
    return due


def still_to_register(info: dict, paid_in_twinfield: Decimal) -> Decimal:
    """What Focus does not show paid yet of what Twinfield shows paid: never more than Focus still has due
    (a credit note, or a payment registered in Focus by hand, lowers it)."""
    invoice = parse_invoice(info)
    due = to_decimal(info["total"]["due"]["amount"])
    return min(paid_in_twinfield - invoice.paid_amount, due)
