"""What the bookkeeper does in Twinfield's UI, and what tests and the demo inspect.

- ``finalize``: a draft (temporary) transaction becomes final; final ones cannot be changed or deleted.
- ``match``: a payment is matched against a final transaction's total line. ``amount`` None (or the whole open
  value) matches fully: matchstatus ``matched``, open value 0, ``matchdate`` set, a match number given.
  A smaller amount matches partly: the open value drops, matchstatus stays ``available``. Amounts are
  positive, in the transaction's currency, in the direction of the line (for a credit note: the refund).
- ``close_periods``: periods up to and including ``through`` ("YYYY/PP") no longer accept postings.

Inspection returns plain dicts (amounts as strings with two decimals, dates ISO) so that they travel as JSON;
``value`` and the lines' ``value`` are in the transaction's ``currency``, ``basevalue`` in the office's base
currency (EUR), converted at the line's ``rate``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sandbox.twinfield.office import Customer, Office, Transaction, World, money, now
from sandbox.twinfield.xmltools import decimals, parse_amount


class BookkeeperError(Exception):
    """``status`` is the HTTP status of the control endpoint: 404 not found, 409 not possible in this state."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def finalize(world: World, office: str, daybook: str, number: str) -> dict:
    with world.lock:
        transaction = _find(world, office, daybook, number)
        if transaction.status == "final":
            raise BookkeeperError(409, f"{daybook} {number} is already final")
        transaction.status = "final"
        transaction.modified = now()
        return transaction_dict(transaction)


def match(world: World, office: str, daybook: str, number: str, amount: Decimal | str | None = None,
          date: dt.date | str | None = None) -> dict:
    day = dt.date.fromisoformat(date) if isinstance(date, str) else date or dt.date.today()
    with world.lock:
        transaction = _find(world, office, daybook, number)
        total = transaction.total_line
        if transaction.status != "final":
            raise BookkeeperError(409, f"{daybook} {number} is a draft: make it final before matching")
        if total is None or total.openvalue is None or total.matchstatus != "available":
            raise BookkeeperError(409, f"{daybook} {number} has nothing open to match")
        paid = total.openvalue if amount is None else parse_amount(str(amount))
        if paid is None or paid <= 0 or decimals(paid) > 2 or paid > total.openvalue:
            raise BookkeeperError(409, f"amount {amount} must be positive, in cents, and at most the open value "
                                       f"{money(total.openvalue)}")
        total.openvalue -= paid
        if total.openvalue == 0:
            world.offices[office].last_matchnumber += 1
            total.matchnumber = world.offices[office].last_matchnumber
            total.matchstatus = "matched"
            total.matchdate = day
        transaction.modified = now()
        return transaction_dict(transaction)


def close_periods(world: World, office: str, through: str) -> None:
    with world.lock:
        found = _office(world, office)
        if found.period_state(through) == "invalid":
            raise BookkeeperError(409, f"period {through!r} is not a valid period")
        found.closed_through = through


def transactions(world: World, office: str | None = None) -> list[dict]:
    with world.lock:
        offices = [_office(world, office)] if office else list(world.offices.values())
        return [transaction_dict(t) for o in offices for _, t in sorted(o.transactions.items())]


def customers(world: World, office: str | None = None) -> list[dict]:
    with world.lock:
        offices = [_office(world, office)] if office else list(world.offices.values())
        return [customer_dict(o.code, c) for o in offices for _, c in sorted(o.customers.items())]


def transaction_dict(transaction: Transaction) -> dict:
    total = transaction.total_line
    return {
        "office": transaction.office,
        "daybook": transaction.daybook,
        "number": transaction.number,
        "status": transaction.status,
        "invoicenumber": transaction.invoicenumber,
        "date": transaction.date.isoformat(),
        "period": transaction.period,
        "duedate": transaction.duedate.isoformat() if transaction.duedate else None,
        "currency": transaction.currency,
        "customer": total.dim2 if total else None,
        "value": money(total.signed) if total else None,
        "basevalue": money(total.base_signed) if total else None,
        "openvalue": money(total.open_signed) if total and total.open_signed is not None else None,
        "matchstatus": total.matchstatus if total else None,
        "matchdate": total.matchdate.isoformat() if total and total.matchdate else None,
        "lines": [
            {
                "id": line.id,
                "type": line.type,
                "dim1": line.dim1,
                "dim2": line.dim2,
                "debitcredit": line.debitcredit,
                "value": money(line.value),
                "rate": str(line.rate),
                "basevalue": money(line.base),
                "vatcode": line.vatcode,
                "vatvalue": money(line.vatvalue) if line.vatvalue is not None else None,
                "description": line.description,
                "performancetype": line.performancetype,
                "performancedate": line.performancedate.isoformat() if line.performancedate else None,
            }
            for line in transaction.lines
        ],
    }


def customer_dict(office: str, customer: Customer) -> dict:
    return {
        "office": office,
        "code": customer.code,
        "name": customer.name,
        "shortname": customer.shortname,
        "status": customer.status,
        "vatnumber": customer.vatnumber,
        "cocnumber": customer.cocnumber,
        "duedays": customer.duedays,
        "collective_account": customer.collective_account,
        "addresses": customer.addresses,
        "banks": customer.banks,
    }


def _office(world: World, code: str) -> Office:
    found = world.office(code)
    if found is None:
        raise BookkeeperError(404, f"office {code!r} does not exist")
    return found


def _find(world: World, office: str, daybook: str, number: str) -> Transaction:
    found = _office(world, office).transactions.get((daybook, str(number)))
    if found is None:
        raise BookkeeperError(404, f"transaction {office} {daybook} {number} does not exist")
    return found
