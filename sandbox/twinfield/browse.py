"""Browse data (``<columns code="100">``) and browse definitions, for the customer transactions browse.

Browse 100 yields one row per total line on the debtors account (the line that carries the customer and is
matched). A request lists ``<column>`` elements with ``<field>``, optional ``<visible>`` (default true: shown
as a ``<td>``), ``<operator>`` (equal | between | none) and ``<from>``/``<to>``. Filters compare numbers for
Decimal/Value fields and text otherwise; ``fin.trs.head.status`` accepts temporary, final or normal (both).
Without an office filter the browse covers the request's current office (the CompanyCode header).
Values: ``valuesigned``/``openvaluesigned`` in the transaction's currency (``fin.trs.head.curcode``), the
``base``/``rep`` ones in the office's base currency (EUR, also the reporting currency here).

Reply: ``<browse result="1" first last total>`` with a ``<th>`` of ``<td label hideforuser type>field</td>``
and per row ``<tr>`` of ``<td field hideforuser type>value</td>`` plus ``<key>`` (office, code, number,
line), as Twinfield's browseDataGetResponse; no rows -> first="0" last="0" total="0". An unknown browse code,
field or operator echoes the request with ``result="0"`` and the message on the element concerned.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from sandbox.twinfield.office import Line, Office, Transaction, World, money
from sandbox.twinfield.xmltools import child_text, mark, parse_amount, sub, timestamp, ymd

Row = tuple[Office, Transaction, Line]


def _value(getter: Callable[[Line], Decimal | None]) -> Callable[[Row], str]:
    def render(row: Row) -> str:
        amount = getter(row[2])
        return money(amount) if amount is not None else ""

    return render


# field -> (label, type, value of a row, asked (filterable) by default)
FIELDS: dict[str, tuple[str, str, Callable[[Row], str], bool]] = {
    "fin.trs.head.office": ("Office", "String", lambda r: r[0].code, True),
    "fin.trs.head.officename": ("Office name", "String", lambda r: r[0].name, False),
    "fin.trs.head.yearperiod": ("Period", "String", lambda r: r[1].period, True),
    "fin.trs.head.code": ("Transaction type", "String", lambda r: r[1].daybook, True),
    "fin.trs.head.shortname": ("Name", "String", lambda r: r[0].daybooks[r[1].daybook].shortname, False),
    "fin.trs.head.number": ("Trans. no.", "Decimal", lambda r: r[1].number, True),
    "fin.trs.head.status": ("Status", "String", lambda r: r[1].status, True),
    "fin.trs.head.date": ("Date", "Date", lambda r: ymd(r[1].date), True),
    "fin.trs.head.curcode": ("Currency", "String", lambda r: r[1].currency, False),
    "fin.trs.head.modified": ("Modified", "DateTime", lambda r: timestamp(r[1].modified), True),
    "fin.trs.line.dim1": ("General ledger", "String", lambda r: r[2].dim1, True),
    "fin.trs.line.dim1name": ("Name", "String", lambda r: r[0].accounts[r[2].dim1].name, False),
    "fin.trs.line.dim2": ("Customer", "String", lambda r: r[2].dim2, True),
    "fin.trs.line.dim2name": ("Name", "String", lambda r: r[0].customers[r[2].dim2].name if r[2].dim2 else "", False),
    "fin.trs.line.invnumber": ("Invoice no.", "String", lambda r: r[1].invoicenumber, True),
    "fin.trs.line.datedue": ("Due date", "Date", lambda r: ymd(r[1].duedate), True),
    "fin.trs.line.description": ("Description", "String", lambda r: r[2].description, False),
    "fin.trs.line.debitcredit": ("D/C", "String", lambda r: r[2].debitcredit, True),
    "fin.trs.line.valuesigned": ("Value", "Value", _value(lambda line: line.signed), True),
    "fin.trs.line.basevaluesigned": ("Euro", "Value", _value(lambda line: line.base_signed), True),
    "fin.trs.line.repvaluesigned": ("Reporting value", "Value", _value(lambda line: line.base_signed), False),
    "fin.trs.line.openvaluesigned": ("Open value", "Value", _value(lambda line: line.open_signed), True),
    "fin.trs.line.openbasevaluesigned": ("Open value (Euro)", "Value", _value(lambda line: line.open_base_signed),
                                         True),
    "fin.trs.line.matchstatus": ("Payment status", "String", lambda r: r[2].matchstatus, True),
    "fin.trs.line.matchnumber": ("Match no.", "Decimal", lambda r: str(r[2].matchnumber or ""), False),
    "fin.trs.line.matchdate": ("Match date", "Date", lambda r: ymd(r[2].matchdate), True),
}
BROWSES = {"100": ("Customer transactions", "Customer trans.")}
OPERATORS = ("equal", "between", "none")


def data(world: World, request: etree._Element, current_office: str) -> etree._Element:
    code = request.get("code", "")
    if code not in BROWSES:
        reply = copy.deepcopy(request)
        mark(reply, "error", f"Browsecode '{code}' bestaat niet.", reply)
        return reply
    columns = request.findall("column")
    reply = copy.deepcopy(request)
    for element in reply.findall("column"):
        field = child_text(element, "field")
        if field not in FIELDS:
            mark(element.find("field") if element.find("field") is not None else element, "error",
                 f"Veld '{field}' bestaat niet in browse {code}.", reply)
        elif (child_text(element, "operator") or "none") not in OPERATORS:
            mark(element.find("operator"), "error", f"Operator '{child_text(element, 'operator')}' is ongeldig.", reply)
    if reply.get("result") == "0":
        return reply

    office_code = current_office
    for column in columns:
        if child_text(column, "field") == "fin.trs.head.office" and child_text(column, "operator") == "equal":
            office_code = child_text(column, "from")
    office = world.office(office_code)
    if office is None:
        mark(reply, "error", f"Administratie '{office_code}' bestaat niet of u heeft er geen toegang toe.", reply)
        return reply

    rows = [row for row in _rows(office) if all(_matches(column, row) for column in columns)]
    shown = [column for column in columns if (child_text(column, "visible") or "true") == "true"]
    root = etree.Element("browse", result="1", first="1" if rows else "0", last=str(len(rows)), total=str(len(rows)))
    head = sub(root, "th")
    for column in shown:
        field = child_text(column, "field")
        label, kind, _, _ = FIELDS[field]
        sub(head, "td", field, label=child_text(column, "label") or label, hideforuser="false", type=kind)
    for row in rows:
        tr = sub(root, "tr")
        for column in shown:
            field = child_text(column, "field")
            _, kind, value, _ = FIELDS[field]
            sub(tr, "td", value(row), field=field, hideforuser="false", type=kind)
        key = sub(tr, "key")
        sub(key, "office", office.code)
        sub(key, "code", row[1].daybook)
        sub(key, "number", row[1].number)
        sub(key, "line", row[2].id)
    return root


def definition(office: Office, code: str) -> etree._Element | None:
    """The browse definition (``<read><type>browse</type>``), as browseDefinitionGetResponse."""
    if code not in BROWSES:
        return None
    name, shortname = BROWSES[code]
    root = etree.Element("browse", result="1")
    sub(root, "office", office.code, name=office.name, shortname=office.shortname)
    sub(root, "code", code)
    sub(root, "name", name)
    sub(root, "shortname", shortname)
    sub(root, "visible", "true")
    columns = sub(root, "columns", code=code)
    for index, (field, (label, kind, _, asked)) in enumerate(FIELDS.items(), start=1):
        column = sub(columns, "column", id=index)
        sub(column, "field", field)
        sub(column, "label", label)
        sub(column, "visible", "true")
        sub(column, "ask", "true" if asked else "false")
        operator = "none" if not asked else "equal" if kind == "String" else "between"
        sub(column, "operator", operator)
        sub(column, "from", "normal" if field == "fin.trs.head.status" else "")
        sub(column, "to", "")
        sub(column, "finderparam", "")
    return root


def _rows(office: Office) -> list[Row]:
    rows = []
    for key in sorted(office.transactions):
        transaction = office.transactions[key]
        total = transaction.total_line
        if total is not None and office.accounts[total.dim1].is_debtors:
            rows.append((office, transaction, total))
    return rows


def _matches(column: etree._Element, row: Row) -> bool:
    field = child_text(column, "field")
    operator = child_text(column, "operator") or "none"
    low, high = child_text(column, "from"), child_text(column, "to")
    if operator == "none" or (not low and not high):
        return True
    _, kind, value, _ = FIELDS[field]
    actual = value(row)
    if field == "fin.trs.head.status" and low == "normal":
        return actual in ("temporary", "final")
    if operator == "equal":
        return _compare(kind, actual, low) == 0
    return (not low or _compare(kind, actual, low) >= 0) and (not high or _compare(kind, actual, high) <= 0)


def _compare(kind: str, actual: str, bound: str) -> int:
    if kind in ("Decimal", "Value"):
        left, right = parse_amount(actual), parse_amount(bound)
        if left is None or right is None:
            return -1 if left is None else 1
        return (left > right) - (left < right)
    return (actual > bound) - (actual < bound)
