"""How much update_payments registers: what Twinfield shows paid, less what Focus already shows paid, never
more than Focus still has due."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from sandbox.focus.data import record_payment
from sandbox.focus.generate import generate
from twinfield.domain.payment_plan import still_to_register


@pytest.fixture(scope="module")
def unpaid_invoice() -> dict:
    data = generate(seed=3, invoices=40)
    return next(i for i in data.invoices if i["status"] == "outstanding" and not i["payments"]
                and i["total"]["due"]["amount"] == i["total"]["tax_inclusive"]["amount"])


def test_registers_what_twinfield_shows_paid(unpaid_invoice):
    total = unpaid_invoice["total"]["tax_inclusive"]["amount"]
    assert still_to_register(unpaid_invoice, total) == total
    assert still_to_register(unpaid_invoice, Decimal("10.00")) == Decimal("10.00")


def test_what_focus_already_shows_paid_is_not_registered_again(unpaid_invoice):
    invoice = copy.deepcopy(unpaid_invoice)
    total = invoice["total"]["tax_inclusive"]["amount"]
    record_payment(invoice, Decimal("10.00"), dt.datetime(2025, 3, 1, 12, tzinfo=dt.timezone.utc))  # earlier, or a person
    assert still_to_register(invoice, Decimal("10.00")) == 0
    assert still_to_register(invoice, total) == total - Decimal("10.00")


def test_never_more_than_focus_has_due(unpaid_invoice):
    invoice = copy.deepcopy(unpaid_invoice)
    total = invoice["total"]["tax_inclusive"]["amount"]
    invoice["total"]["due"]["amount"] = total - Decimal("25.00")  # a credit note took 25.00 off
    assert still_to_register(invoice, total) == total - Decimal("25.00")
