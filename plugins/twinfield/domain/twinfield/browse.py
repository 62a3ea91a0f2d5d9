"""Browses in Twinfield's XML: the request, the reply read row by row, and browse 100's rows as match statuses."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from twinfield.domain.twinfield.common import amount, messages_of, parse, parse_date, sub, to_xml
from twinfield.domain.twinfield_model import MatchStatus, Message


# -- requests -------------------------------------------------------------------------------------------------
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
        el = sub(root, "column", id=str(position))
        sub(el, "field", column.field)
        sub(el, "visible", "true")
        sub(el, "ask", "false" if column.operator == "none" else "true")
        sub(el, "operator", column.operator)
        sub(el, "from", column.start)
        sub(el, "to", column.end)
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


# -- replies ---------------------------------------------------------------------------------------------------
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
                raise BrowseRefused(messages_of(parse(data)), root.tag)
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
    value = amount(v.get("fin.trs.line.valuesigned", "")) or Decimal("0")
    open_value = amount(v.get("fin.trs.line.openvaluesigned", ""))
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
