"""Teamleader Focus documents and reference data as plain values, parsed from the API's JSON.

Input is what ``invoices.info`` / ``creditNotes.info`` / ``taxRates.list`` / ``productCategories.list`` /
``departments.list`` / ``companies.info`` / ``contacts.info`` return (the whole answer or its ``data``),
with numbers already parsed as Decimal (``json.loads(..., parse_float=Decimal)``); floats are refused.

Public API:
- ``FocusDocument`` (kind ``"invoice"`` | ``"credit_note"``) with ``FocusLine``, ``FocusTax``, ``FocusPayment``.
- ``parse_invoice(info, web_url=None)``, ``parse_credit_note(info, web_url=None)`` -> ``FocusDocument``;
  raise ``MalformedFocusData`` naming the document and the field.
- ``content_hash(doc) -> str``: stable sha256 of what would be booked (not of status, payments, sent).
- Reference data: ``FocusDepartment``, ``FocusTaxRate``, ``FocusProductCategory``, ``FocusCustomer`` and
  ``parse_departments``, ``parse_tax_rates``, ``parse_product_categories``, ``parse_customer``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from collections.abc import Iterable, Mapping

from twinfield.domain.money import cents, to_decimal

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"

# Focus shows invoices at this address (the pattern invoices.list's web_url uses); credit notes have no
# documented web page address, so their link is left empty unless the caller passes one.
FOCUS_INVOICE_URL = "https://focus.teamleader.eu/invoice_detail.php?id={id}"


class MalformedFocusData(ValueError):
    """A Focus answer lacks a field the pipeline needs, or holds a value of the wrong kind."""

    def __init__(self, what: str, path: str, problem: str):
        self.what = what
        self.path = path
        self.problem = problem
        super().__init__(f"{what}: {path} {problem}")


@dataclass(frozen=True, order=True)
class CustomerRef:
    """Focus's reference to a customer: ``type`` is ``"company"`` or ``"contact"``."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


@dataclass(frozen=True)
class FocusLine:
    """One invoice line. ``number`` counts from 1 across all sections, as a person reads the invoice."""

    number: int
    description: str
    quantity: Decimal
    product_category_id: str | None
    tax_rate_id: str | None
    net: Decimal  # total tax-exclusive, after the line's own discount
    tax: Decimal | None  # total tax-inclusive minus tax-exclusive, when Focus gave both
    section: str = ""


@dataclass(frozen=True)
class FocusTax:
    """One entry of ``total.taxes``: Focus's own VAT summary per rate (a fraction: 0.21 is 21%)."""

    rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class FocusPayment:
    # The day only: how Focus writes ``paid_at`` back (a date, a date-time in some offset) is not documented.
    paid_on: dt.date
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class PaymentsSeen:
    """What an invoice showed of its payments at one moment: how many, their sum, and ``total.due``."""

    count: int
    paid: Decimal
    due: Decimal | None


def payments_seen(info: Mapping) -> PaymentsSeen:
    """``PaymentsSeen`` of an ``invoices.info`` answer (or its ``data``)."""
    doc = _Reader("invoice", _unwrap(info, "invoice"))
    payments = _payments(doc)
    total = doc.obj("total", required=False)
    due = total.money("due", required=False) if total else None
    return PaymentsSeen(len(payments), sum((p.amount for p in payments), Decimal("0")), due)


def payment_took_effect(before: PaymentsSeen, after_info: Mapping, amount: Decimal, day: dt.date) -> bool:
    """Whether a payment of ``amount`` on ``day`` was added since ``before``: one payment more, the sum up and
    the due amount down by at least ``amount``, and a payment of that amount on that day among them. Payments
    carry no id, so this is what an unknown outcome of invoices.registerPayment is judged by."""
    after = payments_seen(after_info)
    doc = _Reader("invoice", _unwrap(after_info, "invoice"))
    return (
        after.count > before.count
        and after.paid - before.paid >= amount
        and (before.due is None or after.due is None or before.due - after.due >= amount)
        and any(p.amount == amount and p.paid_on == day for p in _payments(doc))
    )


@dataclass(frozen=True)
class FocusDocument:
    kind: str  # INVOICE | CREDIT_NOTE
    id: str
    number: str | None  # "2026 / 12" (invoices), "2026/3" (credit notes); None for a draft invoice
    department_id: str
    date: dt.date | None
    due_date: dt.date | None
    currency: str
    exchange_rate: Decimal | None
    customer: CustomerRef
    invoicee_name: str
    invoicee_vat_number: str
    status: str  # draft | outstanding | matched (invoices); booked (credit notes)
    sent: bool  # credit notes: always True (they are booked on creation)
    lines: tuple[FocusLine, ...]
    taxes: tuple[FocusTax, ...]
    total_excl: Decimal
    total_incl: Decimal
    payable: Decimal
    withheld_tax: Decimal  # sum of total.withheld_taxes[].withheld
    has_discounts: bool  # document-level commercial discounts: line nets then exceed the taxable total
    payments: tuple[FocusPayment, ...] = ()
    paid: bool = False
    invoice_id: str | None = None  # the invoice a credit note credits
    web_url: str | None = None
    updated_at: dt.datetime | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.kind == CREDIT_NOTE

    @property
    def label(self) -> str:
        """How a person names it: ``invoice 2026 / 12`` or ``credit note 2026/3`` (id for drafts)."""
        kind = "credit note" if self.is_credit_note else "invoice"
        return f"{kind} {self.number}" if self.number else f"draft {kind} {self.id}"

    @property
    def paid_amount(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0"))


# --- reading JSON -----------------------------------------------------------------------------------


class _Reader:
    """Walks one JSON object, raising MalformedFocusData with the dotted path on anything unexpected."""

    def __init__(self, what: str, data: Any, path: str = "data"):
        if not isinstance(data, Mapping):
            raise MalformedFocusData(what, path, f"is not an object (got {type(data).__name__})")
        self.what, self.data, self.path = what, data, path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def raw(self, key: str, required: bool = True) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise MalformedFocusData(self.what, self._at(key), "is missing")
        return value

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise MalformedFocusData(self.what, self._at(key), f"is not a string: {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise MalformedFocusData(self.what, self._at(key), f"is not true/false: {value!r}")
        return value

    def decimal(self, key: str, required: bool = True) -> Decimal | None:
        value = self.raw(key, required)
        if value is None:
            return None
        try:
            return to_decimal(value)
        except (TypeError, ValueError) as exc:
            raise MalformedFocusData(self.what, self._at(key), f"is not an exact amount: {exc}") from None

    def money(self, key: str, required: bool = True) -> Decimal | None:
        obj = self.obj(key, required)
        return None if obj is None else obj.decimal("amount")

    def money_currency(self, key: str) -> str | None:
        obj = self.obj(key, required=False)
        return None if obj is None else obj.text("currency", required=False)

    def date(self, key: str, required: bool = True) -> dt.date | None:
        value = self.text(key, required)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            raise MalformedFocusData(self.what, self._at(key), f"is not a date: {value!r}") from None

    def datetime(self, key: str, required: bool = True) -> dt.datetime | None:
        value = self.text(key, required)
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise MalformedFocusData(self.what, self._at(key), f"is not a date-time: {value!r}") from None
        if parsed.tzinfo is None:
            raise MalformedFocusData(self.what, self._at(key), f"has no time zone: {value!r}")
        return parsed

    def obj(self, key: str, required: bool = True) -> _Reader | None:
        value = self.raw(key, required)
        return None if value is None else _Reader(self.what, value, self._at(key))

    def objs(self, key: str) -> list[_Reader]:
        value = self.raw(key, required=False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedFocusData(self.what, self._at(key), "is not a list")
        return [_Reader(self.what, item, f"{self._at(key)}[{i}]") for i, item in enumerate(value)]


def _unwrap(info: Any, what: str) -> Any:
    """Accept the whole answer ({"data": ...}) or its data; a credit note's data may be a one-item list."""
    if isinstance(info, Mapping) and "data" in info and isinstance(info["data"], (Mapping, list)):
        info = info["data"]
    if isinstance(info, list):
        if len(info) != 1:
            raise MalformedFocusData(what, "data", f"holds {len(info)} documents instead of one")
        info = info[0]
    return info


def _lines(doc: _Reader) -> tuple[FocusLine, ...]:
    lines: list[FocusLine] = []
    for group in doc.objs("grouped_lines"):
        section = group.obj("section", required=False)
        title = (section.text("title", required=False) if section else None) or ""
        for item in group.objs("line_items"):
            total = item.obj("total")
            net = total.money("tax_exclusive")
            incl = total.money("tax_inclusive", required=False)
            category = item.obj("product_category", required=False)
            tax = item.obj("tax", required=False)
            lines.append(
                FocusLine(
                    number=len(lines) + 1,
                    description=item.text("description", required=False) or "",
                    quantity=item.decimal("quantity", required=False) or Decimal("0"),
                    product_category_id=category.text("id") if category else None,
                    tax_rate_id=tax.text("id") if tax else None,
                    net=net,
                    tax=None if incl is None else incl - net,
                    section=title,
                )
            )
    return tuple(lines)


def _taxes(total: _Reader) -> tuple[FocusTax, ...]:
    return tuple(
        FocusTax(rate=t.decimal("rate"), taxable=t.money("taxable"), tax=t.money("tax")) for t in total.objs("taxes")
    )


def _payments(doc: _Reader) -> tuple[FocusPayment, ...]:
    payments = []
    for p in doc.objs("payments"):
        money = p.obj("payment")
        payments.append(FocusPayment(p.date("paid_at"), money.decimal("amount"), money.text("currency")))
    return tuple(payments)


def _or(value, default):
    return default if value is None else value


def _common(doc: _Reader) -> dict:
    invoicee = doc.obj("invoicee")
    customer = invoicee.obj("customer")
    total = doc.obj("total")
    rate = doc.obj("currency_exchange_rate", required=False)
    withheld = sum((w.money("withheld") for w in total.objs("withheld_taxes")), Decimal("0"))
    return dict(
        id=doc.text("id"),
        department_id=doc.obj("department").text("id"),
        currency=doc.text("currency", required=False) or total.money_currency("tax_inclusive") or "EUR",
        exchange_rate=rate.decimal("rate", required=False) if rate else None,
        customer=CustomerRef(customer.text("type"), customer.text("id")),
        invoicee_name=invoicee.text("name", required=False) or "",
        invoicee_vat_number=invoicee.text("vat_number", required=False) or "",
        lines=_lines(doc),
        taxes=_taxes(total),
        total_excl=total.money("tax_exclusive"),
        total_incl=total.money("tax_inclusive"),
        payable=_or(total.money("payable", required=False), total.money("tax_inclusive") - withheld),
        withheld_tax=withheld,
        has_discounts=bool(doc.objs("discounts")),
        paid=doc.flag("paid"),
        updated_at=doc.datetime("updated_at", required=False),
    )


def parse_invoice(info: Mapping, web_url: str | None = None) -> FocusDocument:
    """A FocusDocument from ``invoices.info`` (``web_url``: the link invoices.list gave, if at hand)."""
    raw = _unwrap(info, "invoice")
    what = f"invoice {raw.get('id', '?')}" if isinstance(raw, Mapping) else "invoice"
    doc = _Reader(what, raw)
    fields = _common(doc)
    return FocusDocument(
        kind=INVOICE,
        number=doc.text("invoice_number", required=False),
        date=doc.date("invoice_date", required=False),
        due_date=doc.date("due_on", required=False),
        status=doc.text("status"),
        sent=doc.flag("sent"),
        payments=_payments(doc),
        web_url=doc.text("web_url", required=False) or web_url or FOCUS_INVOICE_URL.format(id=fields["id"]),
        **fields,
    )


def parse_credit_note(info: Mapping, web_url: str | None = None) -> FocusDocument:
    """A FocusDocument from ``creditNotes.info`` (object- or array-shaped ``data``)."""
    raw = _unwrap(info, "credit note")
    what = f"credit note {raw.get('id', '?')}" if isinstance(raw, Mapping) else "credit note"
    doc = _Reader(what, raw)
    fields = _common(doc)
    invoice = doc.obj("invoice", required=False)
    return FocusDocument(
        kind=CREDIT_NOTE,
        number=doc.text("credit_note_number", required=False),
        date=doc.date("credit_note_date", required=False),
        due_date=None,
        status=doc.text("status", required=False) or "booked",
        sent=True,
        invoice_id=invoice.text("id") if invoice else None,
        web_url=doc.text("web_url", required=False) or web_url,
        **fields,
    )


def content_hash(doc: FocusDocument) -> str:
    """sha256 over everything that ends up in the Twinfield transaction, and nothing else.

    Status, sent, payments, links and updated_at are left out: they change without changing the booking.
    Amounts are compared to the cent, so 12.1 and 12.10 hash alike.
    """
    payload = {
        "kind": doc.kind,
        "id": doc.id,
        "number": doc.number,
        "department": doc.department_id,
        "date": doc.date.isoformat() if doc.date else None,
        "due": doc.due_date.isoformat() if doc.due_date else None,
        "currency": doc.currency,
        "customer": [doc.customer.type, doc.customer.id],
        "lines": [
            [ln.description, str(ln.quantity.normalize()), ln.product_category_id, ln.tax_rate_id, str(cents(ln.net)),
             None if ln.tax is None else str(cents(ln.tax))]
            for ln in doc.lines
        ],
        "taxes": [[str(t.rate.normalize()), str(cents(t.taxable)), str(cents(t.tax))] for t in doc.taxes],
        "totals": [str(cents(doc.total_excl)), str(cents(doc.total_incl)), str(cents(doc.withheld_tax))],
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# --- reference data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FocusDepartment:
    id: str
    name: str
    currency: str = "EUR"
    vat_number: str = ""


@dataclass(frozen=True)
class FocusTaxRate:
    id: str
    description: str  # "21%", "0% intracommunautair", ...
    rate: Decimal  # a fraction: 0.21 is 21%
    department_id: str

    @property
    def percentage(self) -> Decimal:
        return (self.rate * 100).normalize()


@dataclass(frozen=True)
class FocusProductCategory:
    id: str
    name: str
    ledgers: Mapping[str, str]  # department id -> ledger account number


@dataclass(frozen=True)
class FocusCustomer:
    """A Focus company or contact, as much as Twinfield needs of it."""

    ref: CustomerRef
    name: str
    vat_number: str = ""
    email: str = ""
    iban: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    addressee: str = ""
    payment_days: int | None = None  # from the customer's payment term "after_invoice_date"
    national_identification_number: str = ""  # a company's registration number (KvK, KBO)


def _list(data: Any, what: str) -> list[_Reader]:
    items = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise MalformedFocusData(what, "data", "is not a list")
    return [_Reader(what, item, f"data[{i}]") for i, item in enumerate(items)]


def parse_departments(data: Any) -> dict[str, FocusDepartment]:
    """``departments.list`` -> {id: FocusDepartment}."""
    out = {}
    for d in _list(data, "departments.list"):
        dep = FocusDepartment(d.text("id"), d.text("name"), d.text("currency", required=False) or "EUR",
                              d.text("vat_number", required=False) or "")
        out[dep.id] = dep
    return out


def parse_tax_rates(data: Any) -> dict[str, FocusTaxRate]:
    """``taxRates.list`` (one or several departments' pages, concatenated) -> {id: FocusTaxRate}."""
    out = {}
    for t in _list(data, "taxRates.list"):
        rate = FocusTaxRate(t.text("id"), t.text("description", required=False) or "", t.decimal("rate"),
                            t.obj("department").text("id"))
        out[rate.id] = rate
    return out


def parse_product_categories(data: Any) -> dict[str, FocusProductCategory]:
    """``productCategories.list`` -> {id: FocusProductCategory} with per-department ledger numbers."""
    out = {}
    for c in _list(data, "productCategories.list"):
        ledgers = {}
        for ledger in c.objs("ledgers"):
            number = ledger.text("ledger_account_number", required=False)
            if number:
                ledgers[ledger.obj("department").text("id")] = number.strip()
        cat = FocusProductCategory(c.text("id"), c.text("name", required=False) or "", ledgers)
        out[cat.id] = cat
    return out


def _pick(items: Iterable[_Reader], preferred: str) -> _Reader | None:
    items = list(items)
    for item in items:
        if item.text("type", required=False) == preferred:
            return item
    for item in items:
        if item.text("type", required=False) == "primary":
            return item
    return items[0] if items else None


def parse_customer(customer_type: str, info: Mapping) -> FocusCustomer:
    """A FocusCustomer from ``companies.info`` / ``contacts.info`` (the invoicing address of ``addresses[]``,
    else the primary one) or from an item of ``companies.list`` / ``contacts.list``, which carries
    ``primary_address`` only (and, for a contact, no VAT number)."""
    raw = _unwrap(info, customer_type)
    what = f"{customer_type} {raw.get('id', '?')}" if isinstance(raw, Mapping) else customer_type
    c = _Reader(what, raw)
    if customer_type == "company":
        name = c.text("name")
    elif customer_type == "contact":
        name = " ".join(p for p in (c.text("first_name", required=False), c.text("last_name", required=False)) if p)
        if not name:
            raise MalformedFocusData(what, "data.last_name", "is missing (a contact needs a name)")
    else:
        raise MalformedFocusData(what, "type", f"is {customer_type!r}, not company or contact")
    email = _pick(c.objs("emails"), "invoicing")
    address_entry = _pick(c.objs("addresses"), "invoicing")
    address = address_entry.obj("address") if address_entry else c.obj("primary_address", required=False)
    term = c.obj("payment_term", required=False)
    payment_days = None
    if term and term.text("type", required=False) == "after_invoice_date" and term.raw("days", False) is not None:
        payment_days = int(term.decimal("days"))

    def part(key: str) -> str:
        return (address.text(key, required=False) or "") if address else ""

    return FocusCustomer(
        ref=CustomerRef(customer_type, c.text("id")),
        name=name.strip(),
        vat_number=c.text("vat_number", required=False) or "",
        email=(email.text("email", required=False) or "") if email else "",
        iban=c.text("iban", required=False) or "",
        street=part("line_1"),
        postcode=part("postal_code"),
        city=part("city"),
        country=part("country"),
        addressee=part("addressee"),
        payment_days=payment_days,
        national_identification_number=c.text("national_identification_number", required=False) or "",
    )
