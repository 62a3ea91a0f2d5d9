"""The Focus account behind the emulator: its records, the API methods over them, and the bookkeeper's
actions (edit, book, pay in Focus) that tests use.

Records are the generated ``FocusData`` dicts, shared read-only; a record that changes is copied first, so
answers being written never see a half-made change and the generated data stays as generated.
"""

from __future__ import annotations

import copy
import itertools
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from fastapi import FastAPI

from sandbox.faults import Faults
from sandbox.focus import companies, editing, params, views
from sandbox.focus.data import FocusData, invoice_file, number_key, record_payment
from sandbox.focus.oauth import TokenStore
from sandbox.focus.params import bad_request, not_found
from sandbox.focus.ratelimit import SlidingWindow
from sandbox.focus.routes import build_app
from sandbox.focus.webhooks import Webhooks

UTC = timezone.utc
INVOICE_STATUSES = ("draft", "outstanding", "matched")
CREDIT_NOTE_INFO_SHAPES = ("array", "object", "mixed")
# creditNotes.list has no sort parameter and its order is not documented: by number, or shuffled anew for
# every request (what an unsorted database query may do between two pages).
CREDIT_NOTE_ORDERS = ("number", "shuffled")
Handler = Callable[[dict], tuple[int, object]]


def _normalised_vat(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class FocusSandbox:
    """Teamleader Focus, locally: ``app()`` is the FastAPI app (mounted at /focus by sandbox.server)."""

    def __init__(self, data: FocusData, client_id: str, client_secret: str, initial_refresh_token: str,
                 rate_limit_per_minute: int = 200):
        self.data = data
        self.initial_refresh_token = initial_refresh_token
        self.tokens = TokenStore(client_id, client_secret, initial_refresh_token)
        self.limiter = SlidingWindow(rate_limit_per_minute)
        self.faults = Faults(seconds=3.0)
        self.credit_note_info_shape = "mixed"
        self.webhooks = Webhooks()
        self.credit_note_order = "number"
        self._shuffle = random.Random()
        self.calls: Counter[str] = Counter()  # API method -> requests received (answered or not)
        self.rate_limited = 0
        self._lock = threading.RLock()
        self._invoices = {i["id"]: i for i in data.invoices}
        self._credit_notes = {c["id"]: c for c in data.credit_notes}
        self._companies = {c["id"]: c for c in data.companies}
        self._contacts = {c["id"]: c for c in data.contacts}
        self._payment_methods = {m["id"]: m for m in data.payment_methods}
        self._rates = data.rates()
        self._withheld_rates: dict[str, Decimal] = {}  # withheld tax id -> rate (see editing)
        self._payment_details: dict[tuple[str, int], dict] = {}  # (invoice id, index) -> how it was paid
        self._order_invoices()
        self._credit_note_order = sorted(
            self._credit_notes, key=lambda i: (number_key(self._credit_notes[i]["credit_note_number"]), i))
        self.handlers: dict[str, Handler] = {
            "invoices.list": self.invoices_list,
            "invoices.info": self.invoices_info,
            "invoices.registerPayment": self.invoices_register_payment,
            "creditNotes.list": self.credit_notes_list,
            "creditNotes.info": self.credit_notes_info,
            "companies.list": self.companies_list,
            "companies.info": self.companies_info,
            "companies.add": self.companies_add,
            "contacts.list": self.contacts_list,
            "contacts.info": self.contacts_info,
            "taxRates.list": self.tax_rates_list,
            "productCategories.list": self.product_categories_list,
            "departments.list": self.departments_list,
            "paymentMethods.list": self.payment_methods_list,
            "webhooks.register": self.webhooks.register,
            "webhooks.list": self.webhooks.list,
            "webhooks.unregister": self.webhooks.unregister,
        }

    def __repr__(self) -> str:
        return f"FocusSandbox(invoices={len(self._invoices)}, rate_limit_per_minute={self.limiter.per_minute})"

    def app(self) -> FastAPI:
        return build_app(self)

    # -- inspection -----------------------------------------------------------------------------------
    @property
    def request_count(self) -> int:
        """API requests received (every method, answered or refused)."""
        return sum(self.calls.values())

    def invoice(self, invoice_id: str) -> dict:
        """The invoice as invoices.info would show it now (a copy)."""
        with self._lock:
            return copy.deepcopy(self._invoice(invoice_id))

    def credit_note(self, credit_note_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._credit_note(credit_note_id))

    def companies(self) -> list[dict]:
        """Every company as companies.info would show it now (copies), those added through the API too."""
        with self._lock:
            return copy.deepcopy(list(self._companies.values()))

    def payments(self, invoice_id: str) -> list[dict]:
        """The invoice's payments: paid_at, amount (Decimal), currency, payment_method_id and ``via``
        ("api" for invoices.registerPayment, "focus" for payments made in Focus itself)."""
        with self._lock:
            invoice = self._invoice(invoice_id)
            return [
                {"paid_at": p["paid_at"], "amount": p["payment"]["amount"], "currency": p["payment"]["currency"],
                 **self._payment_details.get((invoice_id, i), {"payment_method_id": None, "via": "focus"})}
                for i, p in enumerate(invoice["payments"])
            ]

    def stats(self) -> dict:
        return {"request_count": self.request_count, "calls": dict(self.calls), "rate_limited": self.rate_limited,
                "grants": dict(self.tokens.grants), "rate_limit_per_minute": self.limiter.per_minute,
                "rate_limit_used": self.limiter.used()}

    # -- control ----------------------------------------------------------------------------------------
    def expire_access_tokens(self) -> None:
        self.tokens.expire_access_tokens()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token dies (the integration was uninstalled): only re-authorising helps."""
        self.tokens.revoke_refresh_tokens()

    def grant_refresh_token(self, scopes: list[str] | None = None) -> str:
        """Re-authorise the integration in one step: a fresh refresh token for ``scopes`` (default: all the
        integration needs)."""
        return self.tokens.grant(None if scopes is None else frozenset(scopes))

    def set_rate_limit(self, per_minute: int | None = None, reset: bool = False) -> None:
        self.limiter.configure(per_minute, reset)

    def set_credit_note_info_shape(self, shape: str) -> None:
        """creditNotes.info answers ``data`` as an array (the spec), an object, or "mixed" (by id)."""
        if shape not in CREDIT_NOTE_INFO_SHAPES:
            raise ValueError(f"shape must be one of {', '.join(CREDIT_NOTE_INFO_SHAPES)}")
        self.credit_note_info_shape = shape

    def set_credit_note_order(self, order: str) -> None:
        """creditNotes.list answers in number order, or "shuffled" anew for every request."""
        if order not in CREDIT_NOTE_ORDERS:
            raise ValueError(f"order must be one of {', '.join(CREDIT_NOTE_ORDERS)}")
        self.credit_note_order = order

    def edit_invoice(self, invoice_id: str, **changes) -> dict:
        """Edit an invoice as a user would in Focus (the keys of ``POST /_sandbox/invoices/{id}/edit``, see
        ``sandbox.focus.editing``); updated_at moves on. Changing amounts of an invoice with payments is refused."""
        return editing.edit_document(self, "invoices", invoice_id, changes)

    def book_invoice(self, invoice_id: str, on: date | None = None) -> dict:
        """Book a draft: it gets the next number of its department and book year, a date and a due date."""
        with self._lock:
            invoice = self._writable_invoice(invoice_id)
            if invoice["status"] != "draft":
                raise ValueError("only a draft invoice can be booked")
            on = on or _now().date()
            department = invoice["department"]["id"]
            taken = [number_key(i["invoice_number"])[2] for i in self._invoices.values()
                     if i["department"]["id"] == department and i["invoice_number"]
                     and number_key(i["invoice_number"])[1] == on.year]
            invoice["invoice_number"] = f"{on.year} / {max(taken, default=0) + 1}"
            invoice.update(invoice_date=on.isoformat(), status="outstanding",
                           due_on=(on + timedelta(days=invoice["payment_term"]["days"])).isoformat(),
                           file=invoice_file(invoice_id))
            self._touch(invoice)
            self._order_invoices()
            answer = copy.deepcopy(invoice)
        self.webhooks.emit("invoice.booked", "invoice", invoice_id)
        return answer

    def delete_invoice(self, invoice_id: str) -> None:
        """Delete an invoice as Focus allows (invoices.delete): a draft, or the last booked invoice of its
        department, and not one a credit note credits. Its info then answers 404, as for an unknown id."""
        with self._lock:
            invoice = self._invoice(invoice_id)
            if invoice["status"] != "draft":
                self._check_last(invoice, self._invoices.values(), "invoice_number", "invoice")
            if any((c["invoice"] or {}).get("id") == invoice_id for c in self._credit_notes.values()):
                raise ValueError("an invoice that has been credited cannot be deleted")
            del self._invoices[invoice_id]
            self._order_invoices()

    def delete_credit_note(self, credit_note_id: str) -> None:
        """Delete a credit note as Focus allows it for invoices: the last booked one of its department."""
        with self._lock:
            note = self._credit_note(credit_note_id)
            self._check_last(note, self._credit_notes.values(), "credit_note_number", "credit note")
            del self._credit_notes[credit_note_id]
            self._credit_note_order.remove(credit_note_id)

    @staticmethod
    def _check_last(record: dict, records, number_field: str, what: str) -> None:
        department = record["department"]["id"]
        last = max((r for r in records if r["department"]["id"] == department and r[number_field]),
                   key=lambda r: number_key(r[number_field]))
        if last["id"] != record["id"]:
            raise ValueError(f"only the last booked {what} of a department can be deleted "
                             f"(the last is {last[number_field]}, not {record[number_field]})")

    def deactivate_customer(self, customer_type: str, customer_id: str) -> None:
        """Deactivate a company or contact in Focus: its lists leave it out from then on, its info still answers."""
        with self._lock:
            records = {"company": self._companies, "contact": self._contacts}.get(customer_type)
            if records is None or customer_id not in records:
                raise ValueError(f"no {customer_type} {customer_id}")
            records[customer_id] = {**records[customer_id], "status": "deactivated"}

    def add_payment(self, invoice_id: str, amount: Decimal, paid_at: datetime | None = None,
                    payment_method_id: str | None = None) -> dict:
        """A payment registered by someone in Focus itself (not through the API)."""
        with self._lock:
            return copy.deepcopy(self._pay(invoice_id, Decimal(amount), paid_at or _now(), payment_method_id, "focus"))

    # -- API: invoices --------------------------------------------------------------------------------
    def invoices_list(self, body: dict) -> tuple[int, object]:
        where = "filter."
        f = params.section(body, "filter")
        ids = params.string_list(f, "ids", where)
        term = params.string(f, "term", where)
        number = params.string(f, "invoice_number", where)
        department = params.string(f, "department_id", where)
        deal = params.string(f, "deal_id", where)
        project = params.string(f, "project_id", where)
        subscription = params.string(f, "subscription_id", where)
        statuses = params.string_list(f, "status", where, INVOICE_STATUSES)
        since = params.moment(f, "updated_since", where)
        order_number = params.string(f, "purchase_order_number", where)
        reference = params.string(f, "payment_reference", where)
        after = params.day(f, "invoice_date_after", where)
        before = params.day(f, "invoice_date_before", where)
        customer = params.customer(f, where)
        size, page = params.page(body)
        # Per openapi.yaml: no sort means invoice_number ascending; an entry without order is descending.
        sort = params.sort(body, ("invoice_number", "invoice_date"), [("invoice_number", "asc")], "desc")
        late_fees = "late_fees" in params.includes(body)

        checks: list[Callable[[dict], bool]] = []  # one per filter given
        if ids is not None:
            checks.append(lambda i: i["id"] in ids)
        if department is not None:
            checks.append(lambda i: i["department"]["id"] == department)
        if statuses is not None:
            checks.append(lambda i: i["status"] in statuses)
        if number is not None:
            checks.append(lambda i: i["invoice_number"] == number)
        if deal is not None:
            checks.append(lambda i: (i["deal"] or {}).get("id") == deal)
        if project is not None:
            checks.append(lambda i: (i["project"] or {}).get("id") == project)
        if subscription is not None:  # no invoice here comes from a subscription
            checks.append(lambda i: False)
        if order_number is not None:
            checks.append(lambda i: i["purchase_order_number"] == order_number)
        if reference is not None:
            checks.append(lambda i: i["payment_reference"] == reference)
        if after is not None:
            checks.append(lambda i: i["invoice_date"] is not None and i["invoice_date"] >= after.isoformat())
        if before is not None:
            checks.append(lambda i: i["invoice_date"] is not None and i["invoice_date"] <= before.isoformat())
        if customer is not None:
            checks.append(lambda i: (i["invoicee"]["customer"]["type"], i["invoicee"]["customer"]["id"]) == customer)
        if since is not None:
            checks.append(lambda i: datetime.fromisoformat(i["updated_at"]) >= since)
        if term is not None:
            term = term.lower()
            checks.append(lambda i: any(term in (v or "").lower() for v in (
                i["invoice_number"], i["purchase_order_number"], i["payment_reference"], i["invoicee"]["name"])))

        with self._lock:
            invoices = map(self._invoices.__getitem__, self._invoice_order)
            found = filter(_all_of(checks), invoices) if checks else invoices
            if sort in ([("invoice_number", "asc")], [("invoice_number", "desc")]):
                if sort[0][1] == "desc":
                    found = reversed(list(found))
                start = (page - 1) * size
                selected = list(itertools.islice(found, start, start + size))  # stop once the page is full
            else:
                found = list(found)
                keys = {"invoice_number": lambda i: number_key(i["invoice_number"]),
                        "invoice_date": lambda i: i["invoice_date"] or ""}
                for field, order in reversed(sort):
                    found.sort(key=keys[field], reverse=order == "desc")
                selected = _page(found, size, page)
        return 200, {"data": [views.invoice_item(i, late_fees) for i in selected]}

    def invoices_info(self, body: dict) -> tuple[int, object]:
        invoice_id = params.string(body, "id", "", required=True)
        late_fees = "late_fees" in params.includes(body)
        with self._lock:
            return 200, {"data": views.invoice_info(self._invoice(invoice_id), late_fees)}

    def invoices_register_payment(self, body: dict) -> tuple[int, object]:
        invoice_id = params.string(body, "id", "", required=True)
        payment = body.get("payment")
        if not isinstance(payment, dict):
            raise bad_request("payment is required and must be an object with amount and currency")
        amount = params.amount(payment, "amount", "payment.")
        currency = params.string(payment, "currency", "payment.", required=True)
        paid_at = params.moment(body, "paid_at", "", required=True)
        method = params.string(body, "payment_method_id", "")
        with self._lock:
            invoice = self._invoice(invoice_id)
            if currency != invoice["currency"]:
                raise bad_request(f"payment.currency must be the invoice's currency ({invoice['currency']})")
            self._pay(invoice_id, amount, paid_at, method, "api")
        return 204, None

    # -- API: credit notes ----------------------------------------------------------------------------
    def credit_notes_list(self, body: dict) -> tuple[int, object]:
        where = "filter."
        f = params.section(body, "filter")
        ids = params.string_list(f, "ids", where)
        department = params.string(f, "department_id", where)
        since = params.moment(f, "updated_since", where)
        invoice_id = params.string(f, "invoice_id", where)
        project = params.string(f, "project_id", where)
        customer = params.customer(f, where)
        after = params.day(f, "credit_note_date_after", where)  # inclusive
        before = params.day(f, "credit_note_date_before", where)  # exclusive
        size, page = params.page(body)

        def wanted(c: dict) -> bool:
            return ((ids is None or c["id"] in ids)
                    and (department is None or c["department"]["id"] == department)
                    and (invoice_id is None or (c["invoice"] or {}).get("id") == invoice_id)
                    and project is None
                    and (customer is None or (c["invoicee"]["customer"]["type"], c["invoicee"]["customer"]["id"])
                         == customer)
                    and (after is None or c["credit_note_date"] >= after.isoformat())
                    and (before is None or c["credit_note_date"] < before.isoformat())
                    and (since is None or datetime.fromisoformat(c["updated_at"]) >= since))

        with self._lock:
            found = [c for c in map(self._credit_notes.__getitem__, self._credit_note_order) if wanted(c)]
            if self.credit_note_order == "shuffled":
                self._shuffle.shuffle(found)
        return 200, {"data": [views.credit_note_item(c) for c in _page(found, size, page)]}

    def credit_notes_info(self, body: dict) -> tuple[int, object]:
        note_id = params.string(body, "id", "", required=True)
        with self._lock:
            note = self._credit_note(note_id)
        shape = self.credit_note_info_shape
        as_array = shape == "array" or (shape == "mixed" and int(note_id[-1], 16) % 2 == 0)
        return 200, {"data": [note] if as_array else note}

    # -- API: customers ---------------------------------------------------------------------------------
    def companies_list(self, body: dict) -> tuple[int, object]:
        f = params.section(body, "filter")
        vat = params.string(f, "vat_number", "filter.")
        size, page = params.page(body)
        sort = params.sort(body, ("name", "added_at", "updated_at"), [("name", "asc")])
        custom_fields = "custom_fields" in params.includes(body)
        wanted = _customer_filter(f, lambda c: [c["name"], c.get("vat_number")])
        with self._lock:
            found = [c for c in self._companies.values()
                     if wanted(c) and (vat is None or _normalised_vat(c.get("vat_number", "")) == _normalised_vat(vat))]
        found = _sorted(found, sort, {"name": lambda c: c["name"].lower()})
        return 200, {"data": [views.company_item(c, custom_fields) for c in _page(found, size, page)]}

    def companies_info(self, body: dict) -> tuple[int, object]:
        company_id = params.string(body, "id", "", required=True)
        wanted = params.includes(body)
        with self._lock:
            company = self._companies.get(company_id)
            if company is None:
                raise not_found(f"Company {company_id} not found")
            related = None
            if wanted & {"related_contacts", "related_companies"}:
                related = [{"type": "contact", "id": c["id"], "position": link.get("position"),
                            "secondary_position": None, "division": None,
                            "is_decision_maker": link.get("decision_maker", False)}
                           for c in self._contacts.values() for link in c["companies"]
                           if link["company"]["id"] == company_id]
            return 200, {"data": views.company_info(company, related)}

    def companies_add(self, body: dict) -> tuple[int, object]:
        company = companies.new_company(body, _now())
        with self._lock:
            self._companies[company["id"]] = company
        return 201, {"data": {"type": "company", "id": company["id"]}}

    def contacts_list(self, body: dict) -> tuple[int, object]:
        f = params.section(body, "filter")
        company_id = params.string(f, "company_id", "filter.")
        size, page = params.page(body)
        sort = params.sort(body, ("name", "added_at", "updated_at"), [("name", "asc")])
        custom_fields = "custom_fields" in params.includes(body)
        wanted = _customer_filter(f, lambda c: [c["first_name"], c["last_name"]])
        with self._lock:
            found = [c for c in self._contacts.values()
                     if wanted(c) and (company_id is None
                                       or any(link["company"]["id"] == company_id for link in c["companies"]))]
        found = _sorted(found, sort, {"name": lambda c: (c["last_name"].lower(), c["first_name"].lower())})
        return 200, {"data": [views.contact_item(c, custom_fields) for c in _page(found, size, page)]}

    def contacts_info(self, body: dict) -> tuple[int, object]:
        contact_id = params.string(body, "id", "", required=True)
        with self._lock:
            contact = self._contacts.get(contact_id)
            if contact is None:
                raise not_found(f"Contact {contact_id} not found")
            return 200, {"data": contact}

    # -- API: the account's settings --------------------------------------------------------------------
    def tax_rates_list(self, body: dict) -> tuple[int, object]:
        department = params.string(params.section(body, "filter"), "department_id", "filter.")
        size, page = params.page(body)
        default = [("department_id", "asc"), ("rate", "asc"), ("description", "asc")]
        sort = params.sort(body, ("department_id", "rate", "description"), default)
        found = [t for t in self.data.tax_rates if department is None or t["department"]["id"] == department]
        found = _sorted(found, sort, {"department_id": lambda t: t["department"]["id"]})
        return 200, {"data": _page(found, size, page)}

    def product_categories_list(self, body: dict) -> tuple[int, object]:
        department = params.string(params.section(body, "filter"), "department_id", "filter.")
        found = [c for c in self.data.product_categories
                 if department is None or any(ledger["department"]["id"] == department for ledger in c["ledgers"])]
        return 200, {"data": found}

    def departments_list(self, body: dict) -> tuple[int, object]:
        f = params.section(body, "filter")
        ids = params.string_list(f, "ids", "filter.")
        statuses = params.string_list(f, "status", "filter.", ("active", "archived"))
        sort = params.sort(body, ("default_department", "name", "created_at"), [])
        # Listed as created, the default department first: only a sort by name changes that order.
        found = [d for d in self.data.departments
                 if (ids is None or d["id"] in ids) and (statuses is None or d["status"] in statuses)]
        keep = lambda d: 0  # noqa: E731
        found = _sorted(found, sort, {"name": lambda d: d["name"].lower(), "default_department": keep,
                                      "created_at": keep})
        return 200, {"data": found}

    def payment_methods_list(self, body: dict) -> tuple[int, object]:
        f = params.section(body, "filter")
        ids = params.string_list(f, "ids", "filter.")
        statuses = params.string_list(f, "status", "filter.", ("active", "archived"))
        size, page = params.page(body)
        found = [m for m in self.data.payment_methods
                 if (ids is None or m["id"] in ids) and (statuses is None or m["status"] in statuses)]
        return 200, {"data": _page(found, size, page)}

    # -- internals ------------------------------------------------------------------------------------
    def _invoice(self, invoice_id: str) -> dict:
        invoice = self._invoices.get(invoice_id)
        if invoice is None:
            raise not_found(f"Invoice {invoice_id} not found")
        return invoice

    def _credit_note(self, note_id: str) -> dict:
        note = self._credit_notes.get(note_id)
        if note is None:
            raise not_found(f"Credit note {note_id} not found")
        return note

    def _writable_invoice(self, invoice_id: str) -> dict:
        invoice = copy.deepcopy(self._invoice(invoice_id))
        self._invoices[invoice_id] = invoice
        return invoice

    def _order_invoices(self) -> None:
        self._invoice_order = sorted(self._invoices,
                                     key=lambda i: (number_key(self._invoices[i]["invoice_number"]), i))

    def _touch(self, invoice: dict) -> None:
        previous = datetime.fromisoformat(invoice["updated_at"])
        invoice["updated_at"] = max(_now(), previous + timedelta(seconds=1)).isoformat(timespec="seconds")

    def _pay(self, invoice_id: str, amount: Decimal, paid_at: datetime, method: str | None, via: str) -> dict:
        if self._invoice(invoice_id)["status"] == "draft":
            raise bad_request("A payment cannot be registered on a draft invoice")
        if method is not None and method not in self._payment_methods:
            raise bad_request(f"payment_method_id {method} does not exist")
        invoice = self._writable_invoice(invoice_id)
        self._payment_details[(invoice_id, len(invoice["payments"]))] = {"payment_method_id": method, "via": via}
        record_payment(invoice, amount, paid_at)
        self._touch(invoice)
        return invoice

def _all_of(checks: list[Callable[[dict], bool]]) -> Callable[[dict], bool]:
    if len(checks) == 1:
        return checks[0]
    return lambda record: all(check(record) for check in checks)


def _page(items: list, size: int, number: int) -> list:
    start = (number - 1) * size
    return items[start:start + size]


def _sorted(items: list[dict], sort: list[tuple[str, str]], keys: dict[str, Callable]) -> list[dict]:
    for field, order in reversed(sort):
        items = sorted(items, key=keys.get(field, lambda r, f=field: r[f]), reverse=order == "desc")
    return items


def _customer_filter(f: dict, term_fields: Callable[[dict], list]) -> Callable[[dict], bool]:
    """The filters companies.list and contacts.list share: ids, term, updated_since, tags, status, email."""
    where = "filter."
    ids = params.string_list(f, "ids", where)
    term = params.string(f, "term", where)
    since = params.moment(f, "updated_since", where)
    tags = params.string_list(f, "tags", where)
    status = params.string(f, "status", where)
    if status is not None and status not in ("active", "deactivated"):
        raise bad_request("filter.status must be active or deactivated")
    email = f.get("email")
    if email is not None and (not isinstance(email, dict) or not isinstance(email.get("email"), str)):
        raise bad_request("filter.email must be an object with type and email")
    term = term.lower() if term else None

    def wanted(record: dict) -> bool:
        # Without a status filter, deactivated customers are left out (as Focus may do), even asked by id.
        return ((ids is None or record["id"] in ids)
                and record["status"] == (status or "active")
                and (tags is None or tags <= set(record["tags"]))
                and (email is None or any(e["email"].lower() == email["email"].lower() for e in record["emails"]))
                and (since is None or datetime.fromisoformat(record["updated_at"]) >= since)
                and (term is None or any(term in (v or "").lower()
                                         for v in [*term_fields(record), *(e["email"] for e in record["emails"])])))

    return wanted
