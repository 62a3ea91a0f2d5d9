"""Amounts as Teamleader Focus computes them: Decimal, rounded half-up to the cent.

A line's total is quantity x unit price minus its percentage discount, rounded to the cent. A document's
taxes are computed per rate over the sum of its lines at that rate; the tax-inclusive total is the
tax-exclusive total plus those taxes. So a document always adds up to the cent, while the per-line
tax-inclusive amounts (shown for information) need not sum to it, as in Focus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> dict:
    """A Money object of the API: ``{"amount": ..., "currency": ...}``."""
    return {"amount": amount, "currency": currency}


def line_total(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal | None, rate: Decimal,
               currency: str) -> dict:
    """The ``total`` object of one line item."""
    before_discount = cents(quantity * unit_price)
    if discount_percent:
        exclusive = cents(quantity * unit_price * (100 - discount_percent) / 100)
    else:
        exclusive = before_discount
    return {
        "tax_exclusive": money(exclusive, currency),
        "tax_exclusive_before_discount": money(before_discount, currency),
        "tax_inclusive": money(exclusive + cents(exclusive * rate), currency),
        "tax_inclusive_before_discount": money(before_discount + cents(before_discount * rate), currency),
    }


def line_items(grouped_lines: Iterable[Mapping]) -> Iterable[dict]:
    for group in grouped_lines:
        yield from group["line_items"]


def price_lines(grouped_lines: list[dict], rates: Mapping[str, Decimal], currency: str,
                withheld_rates: Mapping[str, Decimal] | None = None) -> dict:
    """Set every line's ``total`` (from quantity, unit price, discount and its tax rate's rate, looked up
    by tax rate id in ``rates``) and return the document totals: tax-exclusive and -inclusive (before and
    after discounts), ``taxes`` per rate (highest first), ``withheld_taxes`` per withheld tax id (its rate in
    ``withheld_rates``, over the net of the lines that name it), and ``payable`` (inclusive minus withheld)."""
    withheld_rates = withheld_rates or {}
    withheld_taxable: dict[str, Decimal] = {}
    taxable: dict[Decimal, Decimal] = {}
    taxable_before_discount: dict[Decimal, Decimal] = {}
    for line in line_items(grouped_lines):
        rate = rates[line["tax"]["id"]]
        discount = line["discount"]["value"] if line["discount"] else None
        line["total"] = total = line_total(line["quantity"], line["unit_price"]["amount"], discount, rate, currency)
        taxable[rate] = taxable.get(rate, ZERO) + total["tax_exclusive"]["amount"]
        taxable_before_discount[rate] = (
            taxable_before_discount.get(rate, ZERO) + total["tax_exclusive_before_discount"]["amount"]
        )
        if line.get("withheld_tax"):
            key = line["withheld_tax"]["id"]
            withheld_taxable[key] = withheld_taxable.get(key, ZERO) + total["tax_exclusive"]["amount"]
    taxes = [
        {"rate": rate, "taxable": money(amount, currency), "tax": money(cents(amount * rate), currency)}
        for rate, amount in sorted(taxable.items(), reverse=True)
    ]
    exclusive = sum(taxable.values(), ZERO)
    inclusive = exclusive + sum((t["tax"]["amount"] for t in taxes), ZERO)
    exclusive_before = sum(taxable_before_discount.values(), ZERO)
    inclusive_before = exclusive_before + sum(
        (cents(amount * rate) for rate, amount in taxable_before_discount.items()), ZERO
    )
    return {
        "tax_exclusive": money(exclusive, currency),
        "tax_exclusive_before_discount": money(exclusive_before, currency),
        "tax_inclusive": money(inclusive, currency),
        "tax_inclusive_before_discount": money(inclusive_before, currency),
        "taxes": taxes,
        "withheld_taxes": [
            {"id": key, "taxable": money(amount, currency),
             "withheld": money(cents(amount * withheld_rates[key]), currency)}
            for key, amount in withheld_taxable.items()],
        "payable": money(inclusive - sum((cents(a * withheld_rates[k]) for k, a in withheld_taxable.items()), ZERO),
                         currency),
    }
