"""How values are written to the state store: JSON with exact decimals, ISO timestamps in UTC.

Money goes in as decimal strings ("121.00") and comes back as ``Decimal``; dates and datetimes as ISO text.
Sales transactions are stored as JSON so that load_drafts posts exactly what validate checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from twinfield.domain import exact_json
from twinfield.domain.twinfield_model import DebitCredit, SalesTransaction, TransactionLine


def dumps(value: Any) -> str:
    """JSON text in the store's stable form: keys sorted, Decimals as decimal strings, dates as ISO strings."""
    return exact_json.dumps(value, canonical=True)


def loads(text: str | None) -> Any:
    """JSON text back to Python; numbers with a fraction come back as Decimal, never float."""
    return None if text is None else exact_json.loads(text)


def now() -> str:
    """The current time, ISO 8601 in UTC with its offset."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """A date as ISO text; an aware datetime in UTC. A naive datetime is refused: its zone is unknown."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"datetime without a time zone: {value!r}")
        return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    return value.isoformat()


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def transaction_to_json(tx: SalesTransaction) -> str:
    return dumps(asdict(tx))


def transaction_from_json(text: str) -> SalesTransaction:
    data = loads(text)
    lines = tuple(
        TransactionLine(
            type=ln["type"],
            dim1=ln["dim1"],
            value=Decimal(ln["value"]),
            debitcredit=DebitCredit(ln["debitcredit"]),
            dim2=ln.get("dim2"),
            vatcode=ln.get("vatcode"),
            vat_value=None if ln.get("vat_value") is None else Decimal(ln["vat_value"]),
            description=ln.get("description", ""),
            performance_type=ln.get("performance_type"),
            performance_date=dt.date.fromisoformat(ln["performance_date"]) if ln.get("performance_date") else None,
        )
        for ln in data["lines"]
    )
    return SalesTransaction(
        office=data["office"],
        daybook=data["daybook"],
        currency=data["currency"],
        date=dt.date.fromisoformat(data["date"]),
        period=data.get("period", ""),
        invoice_number=data["invoice_number"],
        due_date=dt.date.fromisoformat(data["due_date"]) if data.get("due_date") else None,
        lines=lines,
        header_description=data.get("header_description", ""),
        number=data.get("number"),
    )
