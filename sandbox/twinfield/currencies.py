"""The currencies an office keeps, and the sandbox's rate table for converting to the office's base currency.

Each office keeps the currencies of ``chart.OFFICE_CURRENCIES``, its base currency (EUR) first. A transaction
in a kept currency holds its values in that currency and, per line, the value in the base currency
(``basevalue``) with the ``rate`` used. The sandbox's convention for a rate, the one Focus uses for
``currency_exchange_rate``: units of the currency that make one unit of the base currency (USD 1.0850 means
1 EUR = 1.0850 USD), so ``basevalue = value / rate``, rounded half-up to cents. Twinfield's own wording of
its line ``<rate>`` leaves the direction open; this module is where the sandbox decides it.

Rates are dated: the rate of a transaction is the newest one dated on or before the transaction's date (the
oldest one before any).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sandbox import chart

CENT = Decimal("0.01")
NAMES = {"EUR": "Euro", "USD": "Amerikaanse dollar", "GBP": "Brits pond"}
# Per currency: (valid from, units per 1 EUR), oldest first.
RATES = {
    "EUR": ((dt.date(2000, 1, 1), Decimal("1")),),
    "USD": ((dt.date(2000, 1, 1), Decimal("1.1200")), (dt.date(2024, 1, 1), Decimal("1.0850"))),
    "GBP": ((dt.date(2000, 1, 1), Decimal("0.8700")), (dt.date(2024, 1, 1), Decimal("0.8550"))),
}


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    rates: tuple[tuple[dt.date, Decimal], ...]

    def rate_on(self, day: dt.date) -> Decimal:
        valid = [rate for start, rate in self.rates if start <= day]
        return valid[-1] if valid else self.rates[0][1]


def of_office(office: str) -> dict[str, Currency]:
    """The currencies ``office`` keeps, by code, base currency first."""
    return {code: Currency(code, NAMES[code], RATES[code]) for code in chart.OFFICE_CURRENCIES[office]}


def to_base(value: Decimal, rate: Decimal) -> Decimal:
    return (value / rate).quantize(CENT, rounding=ROUND_HALF_UP)
