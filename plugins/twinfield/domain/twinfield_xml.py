"""Twinfield ProcessXml payloads built from the model, and Twinfield's replies read back into it.

Pure: lxml and the model only. Builders return the request as a string (what ``ProcessXmlString`` takes);
lxml does the escaping. Parsers take the reply string and never trust its shape more than needed: a
missing element gives an empty value, not an exception.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from twinfield.domain.money import format_amount, to_decimal
from twinfield.domain.xml_text import xml_safe
from twinfield.domain.twinfield_model import (
    Address,
    Customer,
    DebitCredit,
    ItemResult,
    MatchStatus,
    Message,
    Office,
    PostedTransaction,
    SalesTransaction,
    TransactionLine,
    VatCode,
)

MAX_CHILDREN = 25  # Twinfield rejects more than 25 children (transactions, dimensions) in one request

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True)


# -- small helpers ---------------------------------------------------------------------------------------
def to_xml(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def parse(reply: str | bytes) -> etree._Element:
    data = reply.encode("utf-8") if isinstance(reply, str) else reply
    return etree.fromstring(data, _PARSER)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """Every text and attribute value goes through ``xml_safe``: lxml refuses what XML cannot carry."""
    child = etree.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        child.text = xml_safe(text)
    return child


def _text(element: etree._Element | None, path: str = "") -> str:
    """Stripped text of ``element`` (or of its first ``path`` child); "" when absent."""
    if element is None:
        return ""
    found = element.find(path) if path else element
    return (found.text or "").strip() if found is not None else ""


def format_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def parse_date(value: str) -> dt.date | None:
    """Twinfield's YYYYMMDD (reads may append a time: YYYYMMDDhhmmss); None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"not a date (YYYYMMDD): {value!r}") from None


def _amount(value: str) -> Decimal | None:
    if not value.strip():
        return None
    amount = to_decimal(value)
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def chunked(items: Sequence, size: int = MAX_CHILDREN) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _check_count(items: Sequence, what: str) -> None:
    if not items:
        raise ValueError(f"no {what} to send")
    if len(items) > MAX_CHILDREN:
        raise ValueError(f"{len(items)} {what} in one request; Twinfield takes at most {MAX_CHILDREN}")


# -- requests: sales transactions -------------------------------------------------------------------------
def _line_element(parent: etree._Element, line: TransactionLine, line_id: int, fallback_description: str) -> None:
    el = _sub(parent, "line", type=line.type, id=str(line_id))
    if line.dim1:
        _sub(el, "dim1", line.dim1)
    if line.dim2:
        _sub(el, "dim2", line.dim2)
    _sub(el, "debitcredit", line.debitcredit.value)
    _sub(el, "value", format_amount(line.value))
    description = line.description or (fallback_description if line.type == "total" else "")
    if description:
        _sub(el, "description", description)
    if line.vatcode:
        _sub(el, "vatcode", line.vatcode)
    if line.vat_value is not None:
        _sub(el, "vatvalue", format_amount(line.vat_value))
    if line.performance_type:
        _sub(el, "performancetype", line.performance_type)
    if line.performance_date is not None:
        _sub(el, "performancedate", format_date(line.performance_date))


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
    header = _sub(el, "header")
    _sub(header, "office", tx.office)
    _sub(header, "code", tx.daybook)
    if tx.number:
        _sub(header, "number", str(tx.number))
    _sub(header, "currency", tx.currency)
    _sub(header, "date", format_date(tx.date))
    _sub(header, "invoicenumber", tx.invoice_number)
    if tx.due_date is not None:
        _sub(header, "duedate", format_date(tx.due_date))
    lines = _sub(el, "lines")
    for position, line in enumerate(tx.lines, start=1):
        _line_element(lines, line, position, tx.header_description)
    return el


def sales_transactions_xml(transactions: Sequence[SalesTransaction]) -> str:
    """``<transactions>`` with at most 25 drafts (chunk with :func:`chunked` first)."""
    _check_count(transactions, "transactions")
    root = etree.Element("transactions")
    for tx in transactions:
        root.append(sales_transaction_element(tx))
    return to_xml(root)


def delete_transaction_xml(office: str, daybook: str, number: str, reason: str) -> str:
    """Delete a draft: ``<transaction action="delete" reason=...>`` with office, code, number."""
    root = etree.Element("transaction", action="delete", reason=xml_safe(reason))
    _sub(root, "office", office)
    _sub(root, "code", daybook)
    _sub(root, "number", str(number))
    return to_xml(root)


def read_transaction_xml(office: str, daybook: str, number: str) -> str:
    root = etree.Element("read")
    _sub(root, "type", "transaction")
    _sub(root, "office", office)
    _sub(root, "code", daybook)
    _sub(root, "number", str(number))
    return to_xml(root)


# -- requests: dimensions, VAT, offices ---------------------------------------------------------------
def customer_element(customer: Customer, office: str) -> etree._Element:
    """A DEB ``<dimension>``; without a code Twinfield numbers it. The VAT number goes both in
    ``<vatnumber>`` and in the invoice address's field4 (where older administrations keep it); the company
    registration number likewise in ``<cocnumber>`` and field5 (Twinfield's customer read shows both places);
    the street is field2."""
    el = etree.Element("dimension")
    _sub(el, "office", customer.office or office)
    _sub(el, "type", "DEB")
    if customer.code:
        _sub(el, "code", customer.code)
    _sub(el, "name", customer.name)
    if customer.vat_number:
        _sub(el, "vatnumber", customer.vat_number)
    if customer.coc_number:
        _sub(el, "cocnumber", customer.coc_number)
    if customer.due_days is not None:
        financials = _sub(el, "financials")
        _sub(financials, "duedays", str(customer.due_days))
    address = customer.address or (Address(name=customer.name) if customer.vat_number or customer.coc_number
                                   else None)
    if address is not None:
        addresses = _sub(el, "addresses")
        a = _sub(addresses, "address", type="invoice", default="true")
        _sub(a, "name", address.name or customer.name)
        # Only what is known: an empty element would wipe what the bookkeeper filled in.
        for tag, value in (("country", address.country), ("city", address.city), ("postcode", address.postcode),
                           ("email", address.email), ("field2", address.street), ("field4", customer.vat_number),
                           ("field5", customer.coc_number)):
            if value:
                _sub(a, tag, value)
    if customer.iban:
        banks = _sub(el, "banks")
        bank = _sub(banks, "bank", default="true")
        _sub(bank, "iban", customer.iban)
    return el


def customers_xml(customers: Sequence[Customer], office: str) -> str:
    _check_count(customers, "customers")
    root = etree.Element("dimensions")
    for customer in customers:
        root.append(customer_element(customer, office))
    return to_xml(root)


def read_dimension_xml(office: str, dimtype: str, code: str) -> str:
    root = etree.Element("read")
    _sub(root, "type", "dimensions")
    _sub(root, "office", office)
    _sub(root, "dimtype", dimtype)
    _sub(root, "code", code)
    return to_xml(root)


def read_vat_xml(office: str, code: str) -> str:
    root = etree.Element("read")
    _sub(root, "type", "vat")
    _sub(root, "office", office)
    _sub(root, "code", code)
    return to_xml(root)


def list_offices_xml() -> str:
    root = etree.Element("list")
    _sub(root, "type", "offices")
    return to_xml(root)


# -- requests: browse -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrowseColumn:
    """One ``<column>`` of a browse request; ``operator`` "none" only asks for the value."""

    field: str
    operator: str = "none"  # none | equal | between
    start: str = ""  # <from>
    end: str = ""  # <to>


def browse_xml(code: str, columns: Sequence[BrowseColumn]) -> str:
    root = etree.Element("columns", code=code)
    for position, column in enumerate(columns, start=1):
        el = _sub(root, "column", id=str(position))
        _sub(el, "field", column.field)
        _sub(el, "visible", "true")
        _sub(el, "ask", "false" if column.operator == "none" else "true")
        _sub(el, "operator", column.operator)
        _sub(el, "from", column.start)
        _sub(el, "to", column.end)
    return to_xml(root)


MATCH_BROWSE_CODE = "100"  # customer transactions: the total lines on debtors
MATCH_FIELDS = (
    "fin.trs.head.office",
    "fin.trs.head.code",
    "fin.trs.head.number",
    "fin.trs.head.status",
    "fin.trs.head.yearperiod",
    "fin.trs.head.curcode",
    "fin.trs.line.invnumber",
    "fin.trs.line.dim2",
    "fin.trs.line.valuesigned",
    "fin.trs.line.openvaluesigned",
    "fin.trs.line.matchstatus",
    "fin.trs.line.matchdate",
)


def match_status_browse_xml(
    office: str,
    daybook: str,
    invoice_range: tuple[str, str] | None = None,
    period_range: tuple[str, str] | None = None,
) -> str:
    """Browse 100 over one daybook, drafts and final alike (status "normal"), optionally narrowed to an
    invoice-number range and a period range (both inclusive, as Twinfield's "between")."""
    filters = {
        "fin.trs.head.office": BrowseColumn("fin.trs.head.office", "equal", office),
        "fin.trs.head.code": BrowseColumn("fin.trs.head.code", "equal", daybook),
        "fin.trs.head.status": BrowseColumn("fin.trs.head.status", "equal", "normal"),
    }
    if period_range is not None:
        filters["fin.trs.head.yearperiod"] = BrowseColumn("fin.trs.head.yearperiod", "between", *period_range)
    if invoice_range is not None:
        filters["fin.trs.line.invnumber"] = BrowseColumn("fin.trs.line.invnumber", "between", *invoice_range)
    return browse_xml(MATCH_BROWSE_CODE, [filters.get(f, BrowseColumn(f)) for f in MATCH_FIELDS])


# -- replies: per-item results ------------------------------------------------------------------------------
def _messages_of(item: etree._Element) -> tuple[Message, ...]:
    """Every message in ``item``, in document order, with the element it sat on and its line."""
    lines = item.findall("lines/line")
    messages: list[Message] = []
    for el in item.iter():
        if not isinstance(el.tag, str) or not el.get("msg"):
            continue
        line = next((a for a in el.iterancestors() if a.tag == "line"), el if el.tag == "line" else None)
        line_id = None
        if line is not None:
            line_id = line.get("id") or (str(lines.index(line) + 1) if line in lines else None)
        for text in el.get("msg").split("//"):
            if text.strip():
                messages.append(Message(el.get("msgtype", "error"), text.strip(), el.tag, line_id))
    return tuple(messages)


def _item_key(item: etree._Element) -> str:
    """What identifies the item: a transaction's invoice number (or number), a dimension's code (or name)."""
    if item.tag == "transaction":
        return _text(item, "header/invoicenumber") or _text(item, "header/number") or _text(item, "number")
    return _text(item, "code") or _text(item, "name")


def _item_number(item: etree._Element) -> str | None:
    if item.tag == "transaction":
        return _text(item, "header/number") or _text(item, "number") or None
    return _text(item, "code") or None


def item_result(item: etree._Element, index: int) -> ItemResult:
    ok = item.get("result") == "1"
    return ItemResult(
        index=index,
        ok=ok,
        key=_item_key(item),
        number=_item_number(item) if ok else None,
        location=item.get("location"),
        messages=_messages_of(item),
        period=_text(item, "header/period") if item.tag == "transaction" else "",
    )


def parse_item_results(reply: str | bytes, sent: int, first_index: int = 0) -> list[ItemResult]:
    """Per-child results of a write, in the order sent. A reply with a single item as its root (one
    ``<transaction>``) counts as one child. Children missing from the reply count as failed, with the
    root's own messages (e.g. a request Twinfield refused as a whole)."""
    root = parse(reply)
    items = [root] if root.tag in ("transaction", "dimension") else [c for c in root if isinstance(c.tag, str)]
    results = [item_result(item, first_index + i) for i, item in enumerate(items[:sent])]
    root_messages = tuple(
        Message(root.get("msgtype", "error"), text.strip(), root.tag)
        for text in (root.get("msg") or "").split("//")
        if text.strip()
    ) or (Message("error", "Twinfield returned no result for this item", root.tag),)
    for i in range(len(results), sent):
        results.append(ItemResult(index=first_index + i, ok=False, messages=root_messages))
    return results


# -- replies: reads ---------------------------------------------------------------------------------------------
def _signed(value: Decimal, side: str) -> Decimal:
    return value if side == DebitCredit.DEBIT.value else -value


def _transaction_line(el: etree._Element) -> TransactionLine:
    vat_value = _amount(_text(el, "vatvalue"))
    return TransactionLine(
        type=el.get("type", ""),
        dim1=_text(el, "dim1"),
        value=to_decimal(_text(el, "value") or "0"),
        debitcredit=DebitCredit(_text(el, "debitcredit") or "debit"),
        dim2=_text(el, "dim2") or None,
        vatcode=_text(el, "vatcode") or None,
        vat_value=vat_value,
        description=_text(el, "description"),
        performance_type=_text(el, "performancetype") or None,
        performance_date=parse_date(_text(el, "performancedate")),
    )


def parse_transaction(reply: str | bytes) -> PostedTransaction | None:
    """A ``<read>`` of one transaction; None when Twinfield answered result="0" (no such transaction)."""
    root = parse(reply)
    if root.tag != "transaction" or root.get("result") != "1":
        return None
    header = root.find("header")
    lines = tuple(_transaction_line(el) for el in root.findall("lines/line"))
    transaction = SalesTransaction(
        office=_text(header, "office"),
        daybook=_text(header, "code"),
        currency=_text(header, "currency"),
        date=parse_date(_text(header, "date")),
        period=_text(header, "period"),
        invoice_number=_text(header, "invoicenumber"),
        due_date=parse_date(_text(header, "duedate")),
        lines=lines,
        number=_text(header, "number") or None,
    )
    total = next((el for el in root.findall("lines/line") if el.get("type") == "total"), None)
    open_value = _amount(_text(total, "openvalue")) if total is not None else None
    return PostedTransaction(
        transaction=transaction,
        location=root.get("location", ""),
        match_status=_text(total, "matchstatus") or None,
        open_value=_signed(open_value, _text(total, "debitcredit")) if open_value is not None else None,
        match_date=parse_date(_text(total, "matchdate")),
    )


def customer_from_element(el: etree._Element) -> Customer:
    """A DEB ``<dimension>`` as read. The VAT number is ``<vatnumber>``, else the invoice address's field4; the
    registration number ``<cocnumber>``, else field5."""
    addresses = el.findall("addresses/address")
    address_el = next(
        (a for a in addresses if a.get("type") == "invoice" and a.get("default") == "true"),
        next((a for a in addresses if a.get("type") == "invoice"), addresses[0] if addresses else None),
    )
    address = None
    if address_el is not None:
        address = Address(
            name=_text(address_el, "name"),
            street=_text(address_el, "field2"),
            postcode=_text(address_el, "postcode"),
            city=_text(address_el, "city"),
            country=_text(address_el, "country"),
            email=_text(address_el, "email"),
        )
    banks = el.findall("banks/bank")
    bank = next((b for b in banks if b.get("default") == "true"), banks[0] if banks else None)
    due_days = _text(el, "financials/duedays")
    return Customer(
        code=_text(el, "code") or None,
        name=_text(el, "name"),
        vat_number=_text(el, "vatnumber") or _text(address_el, "field4"),
        due_days=int(due_days) if due_days else None,
        address=address,
        iban=_text(bank, "iban"),
        office=_text(el, "office"),
        coc_number=_text(el, "cocnumber") or _text(address_el, "field5"),
    )


def parse_customer(reply: str | bytes) -> Customer | None:
    """A ``<read>`` of one DEB dimension; None when Twinfield answered result="0" (no such customer)."""
    root = parse(reply)
    if root.tag != "dimension" or root.get("result") != "1":
        return None
    return customer_from_element(root)


def current_percentage(percentages: Iterable[tuple[dt.date, Decimal]], on: dt.date) -> Decimal | None:
    """The percentage valid on ``on``: the newest one dated on or before it."""
    valid = [(date, pct) for date, pct in percentages if date <= on]
    return max(valid)[1] if valid else None


def parse_vat_code(reply: str | bytes, on: dt.date) -> VatCode | None:
    """A ``<read>`` of one VAT code: its type and dated percentages (newest first)."""
    root = parse(reply)
    if root.tag != "vat" or root.get("result") != "1":
        return None
    dated = []
    for el in root.findall("percentages/percentage"):
        date, pct = parse_date(_text(el, "date")), _text(el, "percentage")
        if date is not None and pct:
            dated.append((date, to_decimal(pct).normalize()))
    dated.sort(reverse=True)
    return VatCode(
        code=_text(root, "code"),
        name=_text(root, "name"),
        type=_text(root, "type"),
        percentage=current_percentage(dated, on),
        percentages=tuple(dated),
    )


def parse_offices(reply: str | bytes) -> list[Office]:
    root = parse(reply)
    return [
        Office(code=_text(el), name=el.get("name", ""), extra={"shortname": el.get("shortname", "")})
        for el in root.findall("office")
    ]


# -- replies: browse ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BrowseRow:
    values: dict[str, str]  # field -> text
    key: dict[str, str] = field(default_factory=dict)  # office, code, number, line


@dataclass(frozen=True)
class BrowseResult:
    first: int
    last: int
    total: int
    rows: tuple[BrowseRow, ...]  # those the reader kept
    received: int  # rows in the reply, kept or not

    @property
    def complete(self) -> bool:
        """True when every matching row came back (Twinfield caps large answers: last < total)."""
        return self.received >= self.total


class BrowseRefused(ValueError):
    """The reply is not a browse answer, or Twinfield refused the browse (result="0"): its messages."""

    def __init__(self, messages: Sequence[Message], tag: str):
        self.messages = tuple(messages)
        super().__init__("; ".join(m.text for m in messages) or f"<{tag}> reply")


def parse_browse(reply: str | bytes, keep: Callable[[BrowseRow], bool] | None = None) -> BrowseResult:
    """A browse answer read row by row (a whole period can be tens of megabytes): each ``<tr>`` is read and
    dropped from the tree at once, and only the rows ``keep`` accepts are held."""
    data = reply.encode("utf-8") if isinstance(reply, str) else reply
    rows: list[BrowseRow] = []
    received = 0
    root = None
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False, no_network=True,
                             remove_comments=True, huge_tree=True)
    for event, element in events:
        if root is None:
            root = element
            if root.tag != "browse" or root.get("result") == "0":
                raise BrowseRefused(_messages_of(parse(data)), root.tag)
            continue
        if event != "end" or element.tag != "tr" or element.getparent() is not root:
            continue
        values = {td.get("field"): (td.text or "").strip() for td in element.findall("td") if td.get("field")}
        key_el = element.find("key")
        key = {k.tag: (k.text or "").strip() for k in key_el} if key_el is not None else {}
        received += 1
        row = BrowseRow(values, key)
        if keep is None or keep(row):
            rows.append(row)
        element.clear()
        while element.getprevious() is not None:  # the rows already read, and the header
            del root[0]
    total = int(root.get("total") or received)
    return BrowseResult(int(root.get("first") or 1), int(root.get("last") or received), total, tuple(rows),
                        received)


def match_status_from_row(row: BrowseRow) -> MatchStatus:
    """The payment state a row of browse 100 shows; ValueError when an amount or a date cannot be read."""
    v = row.values
    value = _amount(v.get("fin.trs.line.valuesigned", "")) or Decimal("0")
    open_value = _amount(v.get("fin.trs.line.openvaluesigned", ""))
    return MatchStatus(
        office=v.get("fin.trs.head.office") or row.key.get("office", ""),
        daybook=v.get("fin.trs.head.code") or row.key.get("code", ""),
        number=v.get("fin.trs.head.number") or row.key.get("number", ""),
        invoice_number=v.get("fin.trs.line.invnumber", ""),
        customer_code=v.get("fin.trs.line.dim2", ""),
        status=v.get("fin.trs.head.status", ""),
        value=value,
        open_value=value if open_value is None else open_value,
        match_status=v.get("fin.trs.line.matchstatus", ""),
        match_date=parse_date(v.get("fin.trs.line.matchdate", "")),
        currency=v.get("fin.trs.head.curcode") or "EUR",
        period=v.get("fin.trs.head.yearperiod", ""),
    )


# -- Finder rows (the hook hands over plain lists of strings) ----------------------------------------------------
def finder_records(items: Iterable[Sequence[str]]) -> list[dict[str, str]]:
    """Finder items as {"code", "name"}, by position: the column titles are in the user's language
    (["Code", "Naam"] for a Dutch user), so they are never read."""
    return [{"code": (item[0] if len(item) > 0 else "") or "", "name": (item[1] if len(item) > 1 else "") or ""}
            for item in items]
