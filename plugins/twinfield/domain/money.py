"""Money rules: Decimal only, rounded half-up to the cent (as Focus and Twinfield show amounts)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """Exact Decimal from an API value (str, int or Decimal). Floats are refused: they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be a {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def cents(value: object) -> Decimal:
    """Round to the cent, half-up."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal) -> str:
    """Twinfield's amount notation: plain, two decimals, no thousands separator (``121.00``)."""
    return f"{cents(value):.2f}"
