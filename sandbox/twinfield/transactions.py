"""``<transaction>`` requests: post (create or update) a sales/memorial transaction, or delete a draft.

What the sandbox checks, and where it puts the message (see xmltools.mark; texts are Dutch, as Twinfield's are):
- transaction: destiny other than temporary|final, no header, no lines, not exactly one total line, out of
  balance (debit != credit incl. VAT, message as Twinfield words it), changing or deleting a final transaction.
  More than 1000 lines is not a message at all: the whole request gets HTTP 400 (see processxml.TooManyLines);
- header fields: unknown office (the rest is then not checked), unknown daybook ``code``, a ``currency`` the
  office does not keep (default: its base currency), missing/invalid ``date``, invalid or closed ``period``,
  ``number`` of a transaction that does not exist;
- warnings, which (as in Twinfield) fail the transaction unless ``raisewarning="false"`` (on the transaction,
  or on the element concerned): a date outside the given period; an ``invoicenumber`` that the daybook already
  holds (draft or final) when the header carries no ``number`` ("double invoice number");
- line fields: unknown ``type``, missing/unknown ``dim1`` (a total line without dim1 takes its customer's
  collective account), a total line on a non-debtors account (sales daybook), a missing (on the line) or
  unknown ``dim2`` customer on the total line, ``debitcredit`` other than debit|credit,
  ``value``/``vatvalue``/``basevalue`` not a number or with more than 2 decimals, a ``rate`` that is not a
  positive number, unknown ``vatcode`` or a purchase VAT code in a sales daybook, an intra-community (ICT) VAT
  code without ``performancetype`` goods|services (and, for services, without a valid ``performancedate``),
  ``description`` longer than 40 characters, or missing in a daybook that requires one (NLA001's VRK).

Period: ``<period>`` left out (or empty) is derived from the date by the office's period scheme (NLA001 has 13
four-week periods, NLA002 calendar months; see Office.period_of).

VAT: a detail line with a VAT code books ``vatvalue`` when given, else value x percentage (on the transaction
date) rounded half-up to cents. Per VAT code without an explicit ``type="vat"`` line, the sandbox adds one VAT
line on the code's VAT account. With ``autobalancevat="true"`` a difference of at most two cents per transaction
is absorbed by the largest derived VAT line (rounding); larger differences are rejected.

Currency: values are in the transaction's currency. In another currency than the office's base currency, each
line also gets its value in the base currency: its own ``<basevalue>`` when given, else value / rate (its own
``<rate>`` when given, else the sandbox's rate on the transaction date; see currencies.py). A difference in the
base currency of at most one cent per line (rounding) is absorbed by the largest converted line other than the
total line (else the total line); with nothing converted, or more than that, the transaction is refused as out
of balance in the base currency. In the base currency a line's rate is 1 and ``rate``/``basevalue`` are ignored.

Creating vs updating: without a header ``number`` a transaction is new (Twinfield numbers it); with the ``number``
of a draft of the daybook it updates that draft in place and keeps its number; the number of a final transaction
is refused. ``destiny`` defaults to temporary. A deletion is ``<transaction action="delete" reason="...">`` with
office, code (daybook) and number either in a ``<header>`` or directly under ``<transaction>``.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from sandbox.twinfield.currencies import to_base
from sandbox.twinfield.office import (
    CENT,
    USER_CODE,
    Daybook,
    USER_NAME,
    Line,
    Office,
    Transaction,
    World,
    money,
    now,
    round_half_up,
)
from sandbox.twinfield.xmltools import (
    child_text,
    decimals,
    mark,
    parse_amount,
    parse_date,
    sub,
    ymd,
)

MAX_LINES = 1000
MAX_DESCRIPTION = 40
AUTOBALANCE_LIMIT = Decimal("0.02")  # per transaction
PERFORMANCE_TYPES = ("goods", "services")


@dataclass
class _Checked:
    """A request line that passed its checks, with the parsed values."""

    type: str
    dim1: str
    debitcredit: str
    value: Decimal
    dim2: str = ""
    vatcode: str = ""
    vatvalue: Decimal | None = None
    description: str = ""
    rate: Decimal | None = None
    basevalue: Decimal | None = None
    performancetype: str = ""
    performancedate: dt.date | None = None


def process(world: World, request: etree._Element) -> etree._Element:
    """Apply one ``<transaction>`` element; returns the element to put in the reply."""
    if request.get("action") == "delete":
        return _delete(world, request)
    reply = copy.deepcopy(request)
    if request.get("action") is not None:
        mark(reply, "error", f"Actie '{request.get('action')}' is niet toegestaan.", reply)
        return reply
    destiny = request.get("destiny", "temporary")
    if destiny not in ("temporary", "final"):
        mark(reply, "error", f"Bestemming '{destiny}' is ongeldig (temporary of final).", reply)
        return reply
    header = reply.find("header")
    if header is None:
        mark(reply, "error", "De boeking heeft geen kop (header).", reply)
        return reply

    office_element = header.find("office")
    office = world.office(child_text(header, "office"))
    if office is None:
        code = child_text(header, "office")
        target = office_element if office_element is not None else header
        mark(target, "error", f"Administratie '{code}' bestaat niet of u heeft er geen toegang toe.", reply)
        return reply

    checked_header = _check_header(office, reply, header)
    existing = _existing(office, reply, header, checked_header)
    lines = _check_lines(office, reply, checked_header)
    if reply.get("result") == "0" or lines is None or checked_header is None:
        return reply
    booked = _book_vat(office, reply, lines, checked_header["date"])
    if booked is None or not _book_base(office, reply, lines, booked, checked_header["currency"],
                                        checked_header["date"]):
        return reply

    if existing is not None:
        transaction = existing
        transaction.status = destiny
    else:
        number = office.next_number(checked_header["daybook"], checked_header["date"].year)
        transaction = Transaction(
            office.code, checked_header["daybook"], number, destiny, checked_header["date"],
            checked_header["period"], checked_header["currency"], [],
        )
    previous_invoicenumber = transaction.invoicenumber
    transaction.date = checked_header["date"]
    transaction.period = checked_header["period"]
    transaction.currency = checked_header["currency"]
    transaction.invoicenumber = checked_header["invoicenumber"]
    transaction.paymentreference = child_text(header, "paymentreference")
    transaction.freetexts = {f"freetext{i}": child_text(header, f"freetext{i}") for i in (1, 2, 3)}
    transaction.raisewarning = request.get("raisewarning", "true")
    transaction.autobalancevat = request.get("autobalancevat", "false")
    transaction.lines = booked
    transaction.duedate = checked_header["duedate"] or _default_duedate(office, transaction)
    transaction.modified = now()
    office.store(transaction, previous_invoicenumber)
    return render(office, transaction)


def render(office: Office, transaction: Transaction) -> etree._Element:
    """A stored transaction as Twinfield returns it from a post or a read."""
    root = etree.Element(
        "transaction",
        autobalancevat=transaction.autobalancevat,
        raisewarning=transaction.raisewarning,
        result="1",
        location=transaction.status,
    )
    header = sub(root, "header")
    daybook = office.daybooks[transaction.daybook]
    sub(header, "code", daybook.code, name=daybook.name, shortname=daybook.shortname)
    currency = office.currencies[transaction.currency]
    sub(header, "currency", currency.code, name=currency.name, shortname=currency.name)
    sub(header, "date", ymd(transaction.date))
    sub(header, "period", transaction.period)
    sub(header, "invoicenumber", transaction.invoicenumber)
    sub(header, "paymentreference", transaction.paymentreference)
    sub(header, "office", office.code, name=office.name, shortname=office.shortname)
    sub(header, "duedate", ymd(transaction.duedate))
    sub(header, "origin", "import")
    sub(header, "originreference", "")
    sub(header, "user", USER_CODE, name=USER_NAME, shortname=USER_NAME)
    for key, value in transaction.freetexts.items():
        if value:
            sub(header, key, value)
    sub(header, "number", transaction.number)
    lines = sub(root, "lines")
    for line in transaction.lines:
        _render_line(office, sub(lines, "line", type=line.type, id=line.id), transaction, line)
    return root


def _render_line(office: Office, element: etree._Element, transaction: Transaction, line: Line) -> None:
    account = office.accounts[line.dim1]
    sub(element, "dim1", line.dim1, name=account.name, shortname=account.name, type=account.type,
        inuse="true", vatcode="", vatobligatory="false")
    if line.dim2:
        customer = office.customers[line.dim2]
        sub(element, "dim2", line.dim2, name=customer.name, shortname=customer.shortname, type="DEB",
            inuse="true", vatcode=customer.vatcode, vatobligatory="false")
    sub(element, "value", money(line.value))
    sub(element, "debitcredit", line.debitcredit)
    if line.type == "vat":
        sub(element, "vatcode", line.vatcode)
        sub(element, "vatturnover", money(line.vatturnover or Decimal(0)))
        sub(element, "vatbaseturnover", money(line.in_base(line.vatturnover or Decimal(0))))
        bases = [other.id for other in transaction.lines if other.type == "detail" and other.vatcode == line.vatcode]
        sub(element, "baseline", bases[0] if bases else "")
    else:
        sub(element, "description", line.description)
    if line.type == "detail" and line.vatcode:
        vat = office.vatcodes[line.vatcode]
        sub(element, "vatcode", vat.code, name=vat.name, shortname=vat.code)
    if line.performancetype:
        sub(element, "performancetype", line.performancetype)
        if line.performancedate is not None:
            sub(element, "performancedate", ymd(line.performancedate))
    # The reporting currency is the base currency (EUR) in every sandbox office.
    sub(element, "rate", line.rate)
    sub(element, "basevalue", money(line.base))
    sub(element, "reprate", line.rate)
    sub(element, "repvalue", money(line.base))
    if line.type == "detail":
        sub(element, "currencydate", "")
        if line.vatvalue is not None:
            sub(element, "vatvalue", money(line.vatvalue))
            sub(element, "vatbasevalue", money(line.in_base(line.vatvalue)))
    if line.type == "total":
        vat_lines = [other for other in transaction.lines if other.type == "vat"]
        sub(element, "vattotal", money(sum((other.value for other in vat_lines), Decimal(0))))
        sub(element, "vatbasetotal", money(sum((other.base for other in vat_lines), Decimal(0))))
        sub(element, "matchlevel", "2")
        sub(element, "customersupplier", "2")
        open_value = line.openvalue if line.openvalue is not None else line.value
        open_base = abs(line.open_base_signed) if line.openvalue is not None else line.base
        sub(element, "openvalue", money(open_value))
        sub(element, "openbasevalue", money(open_base))
        sub(element, "openrepvalue", money(open_base))
    if line.type != "vat":
        sub(element, "matchstatus", line.matchstatus)
    if line.matchdate is not None:
        sub(element, "matchdate", ymd(line.matchdate))


# -- checks -----------------------------------------------------------------------------------------------
def _check_header(office: Office, item: etree._Element, header: etree._Element) -> dict | None:
    ok = True
    daybook_code = child_text(header, "code")
    if daybook_code not in office.daybooks:
        ok = False
        target = header.find("code")
        mark(target if target is not None else header, "error",
             f"Dagboek '{daybook_code}' bestaat niet in administratie {office.code}.", item)
    currency = child_text(header, "currency") or office.base_currency
    if currency not in office.currencies:
        ok = False
        mark(header.find("currency"), "error", f"Valuta '{currency}' bestaat niet in administratie {office.code}.",
             item)

    date_element = header.find("date")
    day = parse_date(child_text(header, "date"))
    if day is None:
        ok = False
        target = date_element if date_element is not None else header
        mark(target, "error", f"Datum '{child_text(header, 'date')}' is ongeldig (JJJJMMDD).", item)
    period = child_text(header, "period") or (office.period_of(day) if day else "")
    period_element = header.find("period")
    state = office.period_state(period) if period else "invalid"
    if day is not None and state == "invalid":
        ok = False
        mark(period_element if period_element is not None else header, "error", f"Periode '{period}' bestaat niet.",
             item)
    elif state == "closed":
        ok = False
        mark(period_element if period_element is not None else header, "error", f"Periode {period} is gesloten.", item)
    elif day is not None and period != office.period_of(day) and _warns(item, date_element):
        ok = False
        mark(date_element, "warning",
             f"Datum {day.strftime('%d-%m-%Y')} valt buiten de opgegeven periode ({period}).", item)

    duedate = None
    if child_text(header, "duedate"):
        duedate = parse_date(child_text(header, "duedate"))
        if duedate is None:
            ok = False
            mark(header.find("duedate"), "error", f"Vervaldatum '{child_text(header, 'duedate')}' is ongeldig.", item)
    if not ok:
        return None
    return {
        "daybook": daybook_code,
        "currency": currency,
        "date": day,
        "period": period,
        "duedate": duedate,
        "invoicenumber": child_text(header, "invoicenumber"),
    }


def _warns(item: etree._Element, element: etree._Element | None) -> bool:
    """Whether a warning on ``element`` counts: raisewarning on the element itself wins over the transaction's."""
    own = element.get("raisewarning") if element is not None else None
    return (own if own is not None else item.get("raisewarning", "true")) != "false"


def _existing(office: Office, item: etree._Element, header: etree._Element, checked: dict | None) -> Transaction | None:
    """The draft this request updates (by its header ``number``), if any. Without a number the transaction is new,
    and an invoice number the daybook already holds is a warning."""
    daybook = child_text(header, "code")
    number = child_text(header, "number")
    invoicenumber = checked["invoicenumber"] if checked is not None else ""
    held = [t for t in office.find_by_invoicenumber(daybook, invoicenumber) if t.number != number]
    element = header.find("invoicenumber")
    if held and _warns(item, element):
        numbers = ", ".join(t.number for t in held)
        mark(element, "warning", f"Factuurnummer {invoicenumber} is al gebruikt in dagboek {daybook} "
             f"(boeking {numbers}).", item)
    if not number:
        return None
    existing = office.transactions.get((daybook, number))
    if existing is None:
        mark(header.find("number"), "error", f"Boeking {daybook} {number} bestaat niet.", item)
        return None
    if existing.status == "final":
        mark(item, "error",
             f"Boeking {existing.daybook} {existing.number} (factuur {existing.invoicenumber}) is definitief "
             "en kan niet meer worden gewijzigd.", item)
        return None
    return existing


def _check_lines(office: Office, item: etree._Element, header: dict | None) -> list[_Checked] | None:
    container = item.find("lines")
    elements = container.findall("line") if container is not None else []
    if not elements:
        mark(item, "error", "De boeking heeft geen regels.", item)
        return None
    totals = [e for e in elements if e.get("type") == "total"]
    if len(totals) != 1:
        mark(item, "error", f"Een boeking moet precies 1 totaalregel hebben ({len(totals)} opgegeven).", item)
    daybook = office.daybooks.get(header["daybook"]) if header else None
    checked = [_check_line(office, item, element, daybook) for element in elements]
    if any(line is None for line in checked):
        return None
    return checked  # type: ignore[return-value]


def _check_line(office: Office, item: etree._Element, line: etree._Element, daybook: Daybook | None) -> _Checked | None:
    ok = True
    daybook_type = daybook.type if daybook else ""

    def fail(field: str, message: str) -> None:
        nonlocal ok
        ok = False
        target = line.find(field) if field else None
        mark(target if target is not None else line, "error", message, item)

    line_type = line.get("type", "")
    if line_type not in ("total", "detail", "vat"):
        fail("", f"Regeltype '{line_type}' is ongeldig (total, detail of vat).")
    dim1 = child_text(line, "dim1")
    vatcode = child_text(line, "vatcode")
    dim2 = child_text(line, "dim2")
    if not dim1 and line_type == "vat" and vatcode in office.vatcodes:
        dim1 = office.vatcodes[vatcode].percentages[-1][2]
    if not dim1 and line_type == "total" and dim2 in office.customers:
        dim1 = office.customers[dim2].collective_account
    if not dim1 and line_type == "total":
        if not dim2:  # (an unknown dim2 is reported below)
            fail("", "Debiteur (dim2) is verplicht op de totaalregel.")
    elif not dim1:
        fail("", "Grootboekrekening (dim1) is verplicht.")
    elif dim1 not in office.accounts:
        fail("dim1", f"Grootboekrekening {dim1} bestaat niet in administratie {office.code}.")
    if line_type == "total" and dim1 in office.accounts:
        if daybook_type == "sales" and not office.accounts[dim1].is_debtors:
            fail("dim1", f"Grootboekrekening {dim1} is geen debiteurenrekening en kan niet op de totaalregel.")
        elif office.accounts[dim1].is_debtors and not dim2:
            fail("", f"Debiteur (dim2) is verplicht bij grootboekrekening {dim1}.")
    if dim2 and dim2 not in office.customers:
        fail("dim2", f"Debiteur {dim2} bestaat niet in administratie {office.code}.")
    debitcredit = child_text(line, "debitcredit")
    if debitcredit not in ("debit", "credit"):
        fail("debitcredit", f"Debet/credit '{debitcredit}' is ongeldig (debit of credit).")
    value = _amount(line, "value", fail, required=True)
    vatvalue = _amount(line, "vatvalue", fail, required=False)
    basevalue = _amount(line, "basevalue", fail, required=False)
    rate = parse_amount(child_text(line, "rate")) if child_text(line, "rate") else None
    if child_text(line, "rate") and (rate is None or rate <= 0):
        fail("rate", f"Koers '{child_text(line, 'rate')}' is ongeldig.")
    if vatcode:
        vat = office.vatcodes.get(vatcode)
        if vat is None:
            fail("vatcode", f"Btw-code {vatcode} bestaat niet in administratie {office.code}.")
        elif daybook_type == "sales" and vat.type != "sales":
            fail("vatcode", f"Btw-code {vatcode} is een inkoopcode en mag niet in een verkoopboeking.")
    elif line_type == "vat":
        fail("", "Btw-code is verplicht op een btw-regel.")
    performancetype = child_text(line, "performancetype")
    performancedate = parse_date(child_text(line, "performancedate")) if child_text(line, "performancedate") else None
    if vatcode in office.vatcodes and office.vatcodes[vatcode].ict and line_type == "detail":
        if performancetype not in PERFORMANCE_TYPES:
            fail("performancetype" if performancetype else "",
                 f"Prestatietype (performancetype) is verplicht bij ICP-btw-code {vatcode}: goods of services.")
        elif performancetype == "services" and performancedate is None:
            fail("performancedate" if child_text(line, "performancedate") else "",
                 f"Prestatiedatum (performancedate) is verplicht bij diensten met ICP-btw-code {vatcode}.")
    description = child_text(line, "description")
    if len(description) > MAX_DESCRIPTION:
        fail("description", f"Omschrijving is langer dan {MAX_DESCRIPTION} tekens ({len(description)}).")
    elif not description and line_type in ("total", "detail") and daybook is not None and daybook.descriptions_required:
        fail("", f"Omschrijving is verplicht in dagboek {daybook.code}.")
    if not ok:
        return None
    return _Checked(line_type, dim1, debitcredit, value, dim2, vatcode, vatvalue, description,  # type: ignore[arg-type]
                    rate, basevalue, performancetype, performancedate)


def _amount(line: etree._Element, field: str, fail, required: bool) -> Decimal | None:
    text = child_text(line, field)
    if not text:
        if required:
            fail("", f"Bedrag ({field}) is verplicht.")
        return None
    value = parse_amount(text)
    if value is None:
        fail(field, f"Bedrag '{text}' is ongeldig.")
        return None
    if decimals(value) > 2:
        fail(field, f"Bedrag {text} heeft meer dan 2 decimalen.")
        return None
    return value


def _book_vat(office: Office, item: etree._Element, lines: list[_Checked], day: dt.date) -> list[Line] | None:
    """The lines to store: the request's, plus derived VAT lines; None (and item marked) when out of balance."""
    explicit_vat = {line.vatcode for line in lines if line.type == "vat"}
    booked: list[Line] = []
    derived: dict[str, Line] = {}
    turnover: dict[str, Decimal] = {}
    for line in lines:
        stored = Line(len(booked) + 1, line.type, line.dim1, line.debitcredit, line.value, line.dim2,
                      line.vatcode, None, line.description, performancetype=line.performancetype,
                      performancedate=line.performancedate)
        if line.type == "total":
            stored.openvalue = line.value
            stored.matchstatus = "available"
        booked.append(stored)
        if line.type != "detail" or not line.vatcode:
            continue
        rate = office.vatcodes[line.vatcode].percentage_on(day)
        if rate is None:
            mark(item, "error", f"Btw-code {line.vatcode} heeft geen percentage op {day.strftime('%d-%m-%Y')}.", item)
            return None
        percentage, vat_account = rate
        vat = line.vatvalue if line.vatvalue is not None else round_half_up(line.value * percentage / 100)
        stored.vatvalue = vat
        signed_vat = vat if line.debitcredit == "debit" else -vat
        signed_turnover = line.value if line.debitcredit == "debit" else -line.value
        turnover[line.vatcode] = turnover.get(line.vatcode, Decimal(0)) + signed_turnover
        if line.vatcode in explicit_vat:
            continue
        vat_line = derived.setdefault(line.vatcode,
                                      Line(0, "vat", vat_account, "credit", Decimal(0), vatcode=line.vatcode))
        vat_line.value += signed_vat  # signed while accumulating; turned into value + side below
    for vat_line in booked + list(derived.values()):
        if vat_line.type == "vat":
            vat_line.vatturnover = abs(turnover.get(vat_line.vatcode, Decimal(0)))
    for vat_line in derived.values():
        vat_line.id = len(booked) + 1
        vat_line.debitcredit = "debit" if vat_line.value > 0 else "credit"
        vat_line.value = abs(vat_line.value)
        booked.append(vat_line)

    difference = sum((line.signed for line in booked), Decimal(0))
    if difference and derived and item.get("autobalancevat") == "true" and abs(difference) <= AUTOBALANCE_LIMIT:
        largest = max(derived.values(), key=lambda line: line.value)
        adjusted = largest.signed - difference
        largest.debitcredit = "debit" if adjusted > 0 else "credit"
        largest.value = abs(adjusted)
        difference = Decimal(0)
    if difference:
        missing = money(abs(difference))
        side = "credit" if difference > 0 else "debet"
        mark(item, "error",
             f"De boeking is niet in balans. Er ontbreekt {missing} {side}."
             f"//De boeking balanceert niet in de basisvaluta. Er ontbreekt {missing} {side}."
             f"//De boeking balanceert niet in de rapportagevaluta. Er ontbreekt {missing} {side}.", item)
        return None
    return booked


def _book_base(office: Office, item: etree._Element, lines: list[_Checked], booked: list[Line], currency: str,
               day: dt.date) -> bool:
    """Set each booked line's rate and base value (see the module's Currency); False (and item marked) when
    they do not balance in the base currency."""
    if currency == office.base_currency:
        return True
    table_rate = office.currencies[currency].rate_on(day)
    converted: list[Line] = []
    for line, stored in zip(lines, booked):  # the request's lines come first, in order
        stored.rate = line.rate or table_rate
        stored.basevalue = line.basevalue
        if line.basevalue is None:
            stored.basevalue = to_base(stored.value, stored.rate)
            converted.append(stored)
    for stored in booked[len(lines):]:  # derived VAT lines: at the rate of their first detail line
        stored.rate = next((b.rate for b in booked if b.type == "detail" and b.vatcode == stored.vatcode),
                           table_rate)
        stored.basevalue = to_base(stored.value, stored.rate)
        converted.append(stored)

    difference = sum((line.base_signed for line in booked), Decimal(0))
    if difference and converted and abs(difference) <= CENT * len(booked):
        others = [line for line in converted if line.type != "total"]
        largest = max(others, key=lambda line: line.base) if others else converted[0]
        adjusted = largest.base_signed - difference
        largest.basevalue = adjusted if largest.debitcredit == "debit" else -adjusted
        difference = Decimal(0)
    if difference:
        missing, side = money(abs(difference)), "credit" if difference > 0 else "debet"
        mark(item, "error", f"De boeking balanceert niet in de basisvaluta. Er ontbreekt {missing} {side}.", item)
        return False
    return True


def _default_duedate(office: Office, transaction: Transaction) -> dt.date:
    total = transaction.total_line
    customer = office.customers.get(total.dim2) if total is not None and total.dim2 else None
    return transaction.date + dt.timedelta(days=customer.duedays if customer else 30)


# -- delete -------------------------------------------------------------------------------------------------
def _delete(world: World, request: etree._Element) -> etree._Element:
    reply = copy.deepcopy(request)
    source = reply.find("header")
    if source is None:
        source = reply
    office = world.office(child_text(source, "office"))
    daybook, number = child_text(source, "code"), child_text(source, "number")
    if office is None:
        target = source.find("office")
        mark(target if target is not None else reply, "error",
             f"Administratie '{child_text(source, 'office')}' bestaat niet of u heeft er geen toegang toe.", reply)
        return reply
    transaction = office.transactions.get((daybook, number))
    if transaction is None:
        target = source.find("number")
        mark(target if target is not None else reply, "error", f"Boeking {daybook} {number} bestaat niet.", reply)
        return reply
    if transaction.status == "final":
        mark(reply, "error", f"Boeking {daybook} {number} is definitief en kan niet worden verwijderd.", reply)
        return reply
    office.remove(transaction)
    reply.set("result", "1")
    return reply
