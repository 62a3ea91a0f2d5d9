"""Sales transactions in Twinfield's XML: the draft write, the delete and read requests, and the read reply."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from lxml import etree

from twinfield.domain.money import format_amount, to_decimal
from twinfield.domain.twinfield.common import amount, check_count, format_date, parse, parse_date, sub, text, to_xml
from twinfield.domain.twinfield_model import DebitCredit, PostedTransaction, SalesTransaction, TransactionLine
from twinfield.domain.xml_text import xml_safe


# -- requests -------------------------------------------------------------------------------------------------
def _line_element(parent: etree._Element, line: TransactionLine, line_id: int, fallback_description: str) -> None:
    el = sub(parent, "line", type=line.type, id=str(line_id))
    if line.dim1:
        sub(el, "dim1", line.dim1)
    if line.dim2:
        sub(el, "dim2", line.dim2)
    sub(el, "debitcredit", line.debitcredit.value)
    sub(el, "value", format_amount(line.value))
    description = line.description or (fallback_description if line.type == "total" else "")
    if description:
        sub(el, "description", description)
    if line.vatcode:
        sub(el, "vatcode", line.vatcode)
    if line.vat_value is not None:
        sub(el, "vatvalue", format_amount(line.vat_value))
    if line.performance_type:
        sub(el, "performancetype", line.performance_type)
    if line.performance_date is not None:
        sub(el, "performancedate", format_date(line.performance_date))


def sales_transaction_element(tx: SalesTransaction) -> etree._Element:
    """One draft ``<transaction>``. The header description, when given, describes the total line.

    A new transaction carries no ``<number>``; an update of a draft carries the draft's. No ``<period>``
    (Twinfield derives it from the date) and no ``raisewarning``: Twinfield's default (warnings fail the
    transaction) is what refuses a second transaction with an invoice number the daybook already holds.

    Values are in the header's ``<currency>`` (the document's own). Lines carry no ``<rate>`` or
    ``<basevalue>``: Twinfield converts to the office's base currency with its own rates. The references at
    hand (the WSDLs, Twinfield's samples, a client library that treats both as read-only) show a line's rate
    only in replies and never say which way it converts, so sending one could book a wrong euro amount. A
    currency the office does not keep is held back at validation, before anything is sent."""
    el = etree.Element("transaction", destiny="temporary", autobalancevat="true")
    header = sub(el, "header")
    sub(header, "office", tx.office)
    sub(header, "code", tx.daybook)
    if tx.number:
        sub(header, "number", str(tx.number))
    sub(header, "currency", tx.currency)
    sub(header, "date", format_date(tx.date))
    sub(header, "invoicenumber", tx.invoice_number)
    if tx.due_date is not None:
        sub(header, "duedate", format_date(tx.due_date))
    lines = sub(el, "lines")
    for position, line in enumerate(tx.lines, start=1):
        _line_element(lines, line, position, tx.header_description)
    return el


def sales_transactions_xml(transactions: Sequence[SalesTransaction]) -> str:
    """``<transactions>`` with at most 25 drafts."""
    check_count(transactions, "transactions")
    root = etree.Element("transactions")
    for tx in transactions:
        root.append(sales_transaction_element(tx))
    return to_xml(root)


def delete_transaction_xml(office: str, daybook: str, number: str, reason: str) -> str:
    """Delete a draft: ``<transaction action="delete" reason=...>`` with office, code, number."""
    root = etree.Element("transaction", action="delete", reason=xml_safe(reason))
    sub(root, "office", office)
    sub(root, "code", daybook)
    sub(root, "number", str(number))
    return to_xml(root)


def read_transaction_xml(office: str, daybook: str, number: str) -> str:
    root = etree.Element("read")
    sub(root, "type", "transaction")
    sub(root, "office", office)
    sub(root, "code", daybook)
    sub(root, "number", str(number))
    return to_xml(root)


# -- replies -----------------------------------------------------------------------------------------------------
def _signed(value: Decimal, side: str) -> Decimal:
    return value if side == DebitCredit.DEBIT.value else -value


def _transaction_line(el: etree._Element) -> TransactionLine:
    vat_value = amount(text(el, "vatvalue"))
    return TransactionLine(
        type=el.get("type", ""),
        dim1=text(el, "dim1"),
        value=to_decimal(text(el, "value") or "0"),
        debitcredit=DebitCredit(text(el, "debitcredit") or "debit"),
        dim2=text(el, "dim2") or None,
        vatcode=text(el, "vatcode") or None,
        vat_value=vat_value,
        description=text(el, "description"),
        performance_type=text(el, "performancetype") or None,
        performance_date=parse_date(text(el, "performancedate")),
    )


def parse_transaction(reply: str | bytes) -> PostedTransaction | None:
    """A ``<read>`` of one transaction; None when Twinfield answered result="0" (no such transaction)."""
    root = parse(reply)
    if root.tag != "transaction" or root.get("result") != "1":
        return None
    header = root.find("header")
    lines = tuple(_transaction_line(el) for el in root.findall("lines/line"))
    transaction = SalesTransaction(
        office=text(header, "office"),
        daybook=text(header, "code"),
        currency=text(header, "currency"),
        date=parse_date(text(header, "date")),
        period=text(header, "period"),
        invoice_number=text(header, "invoicenumber"),
        due_date=parse_date(text(header, "duedate")),
        lines=lines,
        number=text(header, "number") or None,
    )
    total = next((el for el in root.findall("lines/line") if el.get("type") == "total"), None)
    open_value = amount(text(total, "openvalue")) if total is not None else None
    return PostedTransaction(
        transaction=transaction,
        location=root.get("location", ""),
        match_status=text(total, "matchstatus") or None,
        open_value=_signed(open_value, text(total, "debitcredit")) if open_value is not None else None,
        match_date=parse_date(text(total, "matchdate")),
    )


def signed_total(tx: SalesTransaction) -> Decimal:
    """The transaction's total lines, debit positive: what a browse shows as its value."""
    return sum(
        (ln.value if ln.debitcredit is DebitCredit.DEBIT else -ln.value for ln in tx.lines if ln.type == "total"),
        Decimal("0"),
    )
