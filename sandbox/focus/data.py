"""A Teamleader Focus account as the sandbox holds it (``FocusData``: API-shaped dicts, the ``*.info`` shape
of each resource, money as ``Decimal`` inside Money objects), ids stable across seeds (``stable_id``), and how a
payment changes an invoice (``record_payment``). ``sandbox.focus.generate`` makes a realistic, seeded account."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.focus.amounts import ZERO, money

UTC = timezone.utc
ACCOUNT_TIME_ZONE = ZoneInfo("Europe/Brussels")  # the account's own (both departments are in CET)
APP_URL = "https://focus.teamleader.eu"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://focus.teamleader.eu/focus-twinfield-sandbox")


def stable_id(kind: str, *names: str) -> str:
    """An id that depends only on what the record is (reference data keeps its ids across seeds)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join((kind, *names))))


@dataclass
class FocusData:
    """One Focus account. Lists of API-shaped dicts (the ``*.info`` shape of each resource)."""

    anchor: date
    departments: list[dict]
    tax_rates: list[dict]
    product_categories: list[dict]
    payment_methods: list[dict]
    companies: list[dict]
    contacts: list[dict]
    invoices: list[dict]
    credit_notes: list[dict]

    def rates(self) -> dict[str, Decimal]:
        """Tax rate id -> rate (``Decimal("0.21")``)."""
        return {t["id"]: t["rate"] for t in self.tax_rates}


def record_payment(invoice: dict, amount: Decimal, paid_at: datetime) -> None:
    """Add a payment to an invoice as Focus does: payments[], due reduced, and paid (status matched, paid,
    paid_at) once nothing is due any more. ``paid_at`` is kept as the day it is in the account's time zone:
    how Focus writes it back is not documented, and a client must not rely on its echo."""
    currency = invoice["currency"]
    paid_at = paid_at.astimezone(ACCOUNT_TIME_ZONE).date().isoformat()
    invoice["payments"].append({"paid_at": paid_at, "payment": money(amount, currency)})
    invoice["total"]["due"] = money(invoice["total"]["due"]["amount"] - amount, currency)
    if invoice["total"]["due"]["amount"] <= ZERO:
        invoice.update(status="matched", paid=True, paid_at=paid_at)


def invoice_file(invoice_id: str) -> dict:
    """The PDF Focus renders when an invoice is booked (a draft has none: ``file`` is left out)."""
    return {"type": "file", "id": stable_id("file", invoice_id)}


def number_key(number: str | None) -> tuple[int, ...]:
    """Sort key of a document number "2026 / 12" (or "2026/12"): book year, then sequence; no number (a draft)
    first."""
    if number is None:
        return (0,)
    return (1, *(int(part) for part in re.findall(r"\d+", number)))
