"""Editing invoices, credit notes, customers and tax rates as a user could in Focus (or as Focus' data can
end up), through control endpoints, so that tests and anyone trying the product can build any unusual case.

Every answer stays in the shapes of openapi.yaml: money in a currency of its CurrencyCode list, Money objects
and totals recomputed as Focus computes them (``sandbox.focus.amounts``). Webhooks fire as for any edit.

- ``POST /_sandbox/invoices/{id}/edit`` and ``/_sandbox/credit_notes/{id}/edit``, every key optional:
  document: ``note``, ``purchase_order_number`` (invoices), ``number`` (any text, "" or null: none), ``date``,
  ``due_on`` (invoices; null: none), ``currency`` (a Focus currency code), ``invoicee`` ``{name?,
  vat_number?, customer?: {type, id}}`` (an id Focus does not know is kept as given);
  one line, ``line`` (0-based over all sections, default 0): ``description``, ``quantity``, ``unit_price``
  (negative allowed), ``tax_rate_id`` (an id taxRates.list does not list keeps the line's current rate, as a
  rate removed after booking), ``product_category_id`` (null: none), ``discount`` (a percentage, 100 makes the
  line free; null: none), ``withheld_tax`` (invoices: a rate such as "0.15", null: none);
- ``POST /_sandbox/invoices/{id}/lines`` and ``/_sandbox/credit_notes/{id}/lines`` ``{lines: [{description,
  quantity, unit_price, tax_rate_id, product_category_id?, discount?}], repeat?}``: lines added at the end
  (``repeat`` times the list: 999 more lines make an invoice of exactly 1000);
- ``POST /_sandbox/customers/{company|contact}/{id}/edit`` ``{name?, vat_number? (null: none), address?:
  {line_1?, postal_code?, city?, country?} (a null removes that field; null as a whole: no address)}``;
- ``DELETE /_sandbox/customers/{company|contact}/{id}``: deleted; lists and info no longer know it, its
  invoices still name it;
- ``POST /_sandbox/tax_rates`` ``{department_id, description, rate}`` -> the new tax rate (e.g. "0% verlegd",
  reverse charge).
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response

from sandbox.focus import jsonio
from sandbox.focus.amounts import money, price_lines
from sandbox.focus.data import stable_id

if TYPE_CHECKING:
    from sandbox.focus.emulator import FocusSandbox

# openapi.yaml's CurrencyCode: every Money object carries one of these.
CURRENCY_CODES = frozenset(("BAM", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP", "INR", "ISK",
                            "JPY", "MAD", "MXN", "NOK", "PEN", "PLN", "RON", "SEK", "TRY", "USD", "ZAR"))
KINDS = {"invoices": ("invoice", "invoice_number", "invoice_date"),
         "credit_notes": ("creditNote", "credit_note_number", "credit_note_date")}
ADDRESS_FIELDS = ("line_1", "postal_code", "city", "country")


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a number") from None


def _day(value: object, name: str) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD)") from None


def _lines(document: dict) -> list[dict]:
    return [item for group in document["grouped_lines"] for item in group["line_items"]]


def _records(focus: FocusSandbox, kind: str) -> dict:
    return focus._invoices if kind == "invoices" else focus._credit_notes


def _writable(focus: FocusSandbox, kind: str, document_id: str) -> dict:
    current = focus._invoice(document_id) if kind == "invoices" else focus._credit_note(document_id)
    record = copy.deepcopy(current)
    _records(focus, kind)[document_id] = record
    return record


def reprice(focus: FocusSandbox, kind: str, document: dict) -> None:
    """Totals after a change, as Focus computes them; on an invoice, what was paid or credited stays so."""
    currency = document["currency"]
    for line in _lines(document):
        line["unit_price"] = {**line["unit_price"], **({"currency": currency} if "currency" in line["unit_price"]
                                                       else {})}
    total = price_lines(document["grouped_lines"], focus._rates, currency, focus._withheld_rates)
    if kind == "invoices":
        settled = document["total"]["payable"]["amount"] - document["total"]["due"]["amount"]
        document["total"] = {**total, "due": money(total["payable"]["amount"] - settled, currency)}
    else:
        document["total"] = {k: total[k] for k in ("tax_exclusive", "tax_inclusive", "payable", "taxes")}
    rate = document.get("currency_exchange_rate")
    if rate and rate["from"] != currency:
        document["currency_exchange_rate"] = {**rate, "from": currency,
                                              **({"rate": Decimal("1")} if currency == rate["to"] else {})}


def _new_line(focus: FocusSandbox, spec: dict, currency: str, credit_note: bool) -> dict:
    tax_rate_id = str(spec.get("tax_rate_id") or "")
    if tax_rate_id not in focus._rates:
        raise ValueError(f"tax_rate_id {tax_rate_id!r} is not a tax rate of this account")
    category = spec.get("product_category_id")
    line = {
        "product": None,
        "product_category": {"type": "productCategory", "id": str(category)} if category else None,
        "quantity": _decimal(spec.get("quantity", 1), "quantity"),
        "description": str(spec.get("description", "")),
        "unit": None,
        "unit_price": {"amount": _decimal(spec.get("unit_price", 0), "unit_price"), "tax": "excluding",
                       **({"currency": currency} if credit_note else {})},
        "tax": {"type": "taxRate", "id": tax_rate_id},
        "discount": ({"type": "percentage", "value": _decimal(spec["discount"], "discount")}
                     if spec.get("discount") is not None else None),
        "total": None,
    }
    if not credit_note:
        line.update(extended_description=None, withheld_tax=None)
    return line


def _edit_line(focus: FocusSandbox, kind: str, item: dict, body: dict) -> None:
    if "description" in body:
        item["description"] = str(body["description"])
    for key in ("quantity",):
        if key in body:
            item[key] = _decimal(body[key], key)
    if "unit_price" in body:
        item["unit_price"]["amount"] = _decimal(body["unit_price"], "unit_price")
    if "tax_rate_id" in body:
        new = str(body["tax_rate_id"])
        if new not in focus._rates:  # a rate removed from the account after booking: the line keeps its rate
            focus._rates[new] = focus._rates[item["tax"]["id"]]
        item["tax"] = {"type": "taxRate", "id": new}
    if "product_category_id" in body:
        category = body["product_category_id"]
        item["product_category"] = {"type": "productCategory", "id": str(category)} if category else None
    if "discount" in body:
        value = body["discount"]
        item["discount"] = None if value is None else {"type": "percentage", "value": _decimal(value, "discount")}
    if "withheld_tax" in body:
        if kind != "invoices":
            raise ValueError("withheld taxes exist on invoices only")
        rate = body["withheld_tax"]
        if rate is None:
            item["withheld_tax"] = None
        else:
            rate = _decimal(rate, "withheld_tax")
            withheld_id = stable_id("withheld_tax", str(rate.normalize()))
            focus._withheld_rates[withheld_id] = rate
            item["withheld_tax"] = {"type": "withheldTax", "id": withheld_id}


LINE_KEYS = ("description", "quantity", "unit_price", "tax_rate_id", "product_category_id", "discount", "withheld_tax")


def edit_document(focus: FocusSandbox, kind: str, document_id: str, body: dict) -> dict:
    """Apply ``body`` (see the module's docstring) to an invoice or credit note; returns it as it is now."""
    subject, number_field, date_field = KINDS[kind]
    amounts = any(k in body for k in ("quantity", "unit_price", "tax_rate_id", "discount", "withheld_tax",
                                      "currency"))
    with focus._lock:
        current = focus._invoice(document_id) if kind == "invoices" else focus._credit_note(document_id)
        count = len(_lines(current))
        line = int(body.get("line", 0))
        if ("line" in body or any(k in body for k in LINE_KEYS)) and not 0 <= line < count:
            raise ValueError(f"the document has {count} lines; no line {line}")
        if amounts and current.get("payments"):
            raise ValueError("the amounts of an invoice with payments cannot change")
        if "currency" in body and body["currency"] not in CURRENCY_CODES:
            raise ValueError(f"Focus has no currency {body['currency']!r}")
        document = _writable(focus, kind, document_id)
        for key in ("note", "purchase_order_number"):
            if key in body:
                document[key] = body[key]
        if "number" in body:
            document[number_field] = body["number"] or None
        if "date" in body:
            document[date_field] = _day(body["date"], "date")
        if "due_on" in body:
            if kind != "invoices":
                raise ValueError("credit notes have no due date")
            document["due_on"] = None if body["due_on"] is None else _day(body["due_on"], "due_on")
        if "currency" in body:
            document["currency"] = body["currency"]
        invoicee = body.get("invoicee") or {}
        for key in ("name", "vat_number"):
            if key in invoicee:
                document["invoicee"][key] = invoicee[key]
        if "customer" in invoicee:
            customer = invoicee["customer"]
            document["invoicee"]["customer"] = {"type": str(customer["type"]), "id": str(customer["id"])}
        if any(k in body for k in LINE_KEYS):
            _edit_line(focus, kind, _lines(document)[line], body)
        if amounts or any(k in body for k in LINE_KEYS):
            reprice(focus, kind, document)
        focus._touch(document)
        if kind == "invoices":
            focus._order_invoices()
        answer = copy.deepcopy(document)
    focus.webhooks.emit(f"{subject}.updated", subject, document_id)
    return answer


def add_lines(focus: FocusSandbox, kind: str, document_id: str, specs: list[dict], repeat: int = 1) -> dict:
    subject = KINDS[kind][0]
    if not specs or not isinstance(specs, list):
        raise ValueError("lines must be a non-empty list")
    with focus._lock:
        current = focus._invoice(document_id) if kind == "invoices" else focus._credit_note(document_id)
        if current.get("payments"):
            raise ValueError("the amounts of an invoice with payments cannot change")
        document = _writable(focus, kind, document_id)
        new = [_new_line(focus, spec, document["currency"], kind == "credit_notes") for spec in specs]
        group = document["grouped_lines"][-1]["line_items"]
        for _ in range(max(1, int(repeat))):
            group.extend(copy.deepcopy(new))
        reprice(focus, kind, document)
        focus._touch(document)
        answer = copy.deepcopy(document)
    focus.webhooks.emit(f"{subject}.updated", subject, document_id)
    return answer


def _customer_records(focus: FocusSandbox, customer_type: str) -> dict:
    records = {"company": focus._companies, "contact": focus._contacts}.get(customer_type)
    if records is None:
        raise ValueError("customer type must be company or contact")
    return records


def edit_customer(focus: FocusSandbox, customer_type: str, customer_id: str, body: dict) -> dict:
    with focus._lock:
        records = _customer_records(focus, customer_type)
        if customer_id not in records:
            raise ValueError(f"no {customer_type} {customer_id}")
        record = copy.deepcopy(records[customer_id])
        if "name" in body:
            if customer_type == "company":
                record["name"] = str(body["name"])
            else:
                record["last_name"] = str(body["name"])
        if "vat_number" in body:
            if body["vat_number"] is None:
                record.pop("vat_number", None) if customer_type == "company" else record.update(vat_number=None)
            else:
                record["vat_number"] = str(body["vat_number"])
        if "address" in body:
            if body["address"] is None:
                record["addresses"] = []
            else:
                for entry in record["addresses"]:
                    for key in ADDRESS_FIELDS:
                        if key in body["address"]:
                            if body["address"][key] is None:
                                entry["address"].pop(key, None)
                            else:
                                entry["address"][key] = str(body["address"][key])
        focus._touch(record)
        records[customer_id] = record
        return copy.deepcopy(record)


def delete_customer(focus: FocusSandbox, customer_type: str, customer_id: str) -> None:
    with focus._lock:
        records = _customer_records(focus, customer_type)
        if records.pop(customer_id, None) is None:
            raise ValueError(f"no {customer_type} {customer_id}")


def add_tax_rate(focus: FocusSandbox, body: dict) -> dict:
    department = str(body.get("department_id") or "")
    if department not in {d["id"] for d in focus.data.departments}:
        raise ValueError(f"no department {department!r}")
    description = str(body.get("description") or "")
    if not description:
        raise ValueError("description is required")
    rate = _decimal(body.get("rate"), "rate")
    tax_rate = {"id": stable_id("tax_rate", department, description), "description": description, "rate": rate,
                "department": {"type": "department", "id": department}}
    with focus._lock:
        if tax_rate["id"] in focus._rates:
            raise ValueError(f"department {department} already has a tax rate {description!r}")
        focus.data.tax_rates.append(tax_rate)
        focus._rates[tax_rate["id"]] = rate
    return tax_rate


def add_routes(app: FastAPI, focus: FocusSandbox) -> None:
    def ok(payload: object, status: int = 200) -> Response:
        return Response(jsonio.dumps(payload).encode(), status_code=status, media_type="application/json")

    async def body_of(request: Request) -> dict:
        body = jsonio.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the request body must be a JSON object")
        return body

    def document_routes(kind: str) -> None:
        @app.post(f"/_sandbox/{kind}/{{document_id}}/edit")
        async def document_edit(document_id: str, request: Request) -> Response:
            return ok({"data": edit_document(focus, kind, document_id, await body_of(request))})

        @app.post(f"/_sandbox/{kind}/{{document_id}}/lines")
        async def document_lines(document_id: str, request: Request) -> Response:
            body = await body_of(request)
            return ok({"data": add_lines(focus, kind, document_id, body.get("lines"), int(body.get("repeat", 1)))})

    for kind in KINDS:
        document_routes(kind)

    @app.post("/_sandbox/customers/{customer_type}/{customer_id}/edit")
    async def customer_edit(customer_type: str, customer_id: str, request: Request) -> Response:
        return ok({"data": edit_customer(focus, customer_type, customer_id, await body_of(request))})

    @app.delete("/_sandbox/customers/{customer_type}/{customer_id}")
    def customer_delete(customer_type: str, customer_id: str) -> Response:
        delete_customer(focus, customer_type, customer_id)
        return Response(status_code=204)

    @app.post("/_sandbox/tax_rates")
    async def tax_rate_add(request: Request) -> Response:
        return ok({"data": add_tax_rate(focus, await body_of(request))}, 201)
