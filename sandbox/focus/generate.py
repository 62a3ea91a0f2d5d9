"""A realistic, seeded Teamleader Focus account (``FocusData``), as the API would return it.

``generate(seed, invoices, anchor)`` builds departments, tax rates, product categories and payment methods
from ``sandbox.chart`` (with ids that are stable across seeds, so mappings can name them), companies and
contacts (Faker), and invoices and credit notes dated in the ~90 days before ``anchor``. Every record is a
dict with exactly the field names and nesting of Focus' ``*.info`` answers (``openapi.yaml``); money is
``Decimal`` inside Money objects ``{"amount": ..., "currency": ...}``. The same seed and anchor give the
same data.

What makes it realistic (and awkward for an integration): departments with their own tax rates and
invoice numbering per book year; companies with and without VAT numbers (some formatted with spaces and
dots), companies sharing a name, names with ``&``, ``<``, quotes and accents; contacts as customers, some
with a VAT number; invoices with several lines in sections, percentage discounts, mixed tax rates,
intra-community and export rates, USD/GBP invoices with an exchange rate, drafts, outstanding, partly paid
and paid (matched) invoices, credit notes (full and partial) with their own numbering, lines without a
product category and lines whose category's ledger (8999) is not in the Twinfield chart.

Conventions worth knowing: a draft has no number, date or due date; ``currency_exchange_rate.rate`` is how
many units of the invoice currency make one unit of the department currency (``from: USD, to: EUR, rate:
1.0842``: 1 EUR = 1.0842 USD; EUR invoices carry rate 1); optional string fields that the spec does not
declare nullable are left out when empty (e.g. a company's ``vat_number``); every timestamp is before
midnight UTC at the start of ``anchor``.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from faker import Faker

from sandbox import chart
from sandbox.focus.amounts import cents, money, price_lines
from sandbox.focus.data import APP_URL, UTC, FocusData, invoice_file, record_payment, stable_id

WINDOW_DAYS = 90

# -- the account's fixed part --------------------------------------------------------------------------

DEPARTMENT_COUNTRY = {"Acme Nederland": "NL", "Acme Belgie": "BE"}
DEPARTMENT_VAT = {"Acme Nederland": "NL862512345B01", "Acme Belgie": "BE0712345650"}
PAYMENT_METHODS = [("Bank transfer", "active"), ("Cash", "active"), ("Credit card", "active"),
                   ("Coupons", "archived")]
DOCUMENT_TEMPLATE_ID = stable_id("document_template", "default")
RESPONSIBLE_USER_ID = stable_id("user", "sales")

# country: (Faker locales for names and addresses, in the EU, language)
COUNTRIES = {
    "NL": (("nl_NL",), True, "nl"),
    "BE": (("nl_BE", "fr_BE"), True, "nl"),
    "DE": (("de_DE",), True, "de"),
    "FR": (("fr_FR",), True, "fr"),
    "GB": (("en_GB",), False, "en"),
    "US": (("en_US",), False, "en"),
}
COMPANY_COUNTRIES = (["NL"] * 45) + (["BE"] * 25) + (["DE"] * 10) + (["FR"] * 7) + (["GB"] * 7) + (["US"] * 6)
FOREIGN_CURRENCY = {"GB": "GBP", "US": "USD"}
EXCHANGE_RATE_RANGE = {"USD": (10500, 11800), "GBP": (8300, 8800)}  # x 1/10000, per 1 EUR

# (name, country, with VAT number): always present, first, so they also get many invoices.
SPECIAL_COMPANIES = [
    ("Jansen & Zonen B.V.", "NL", True),
    ("Jansen & Zonen B.V.", "NL", False),  # same name, another company
    ("De Boer <Techniek> B.V.", "NL", True),
    ('Bakkerij "Het Gouden Korenaar"', "NL", False),  # deactivated since (see DEACTIVATED)
    ("L'Atelier d'Élodie SPRL", "BE", True),
    ("Brasserie Øresund & Zoë BVBA", "BE", True),
    ("Müller & Söhne GmbH", "DE", True),
    ("Société d'Équipement Électrique SARL", "FR", True),
    ("O'Brien & Partners Ltd", "GB", True),
    ("Acme Widgets Inc.", "US", False),
]

# Companies deactivated in Focus after they were invoiced: companies.list leaves them out.
DEACTIVATED = frozenset({'Bakkerij "Het Gouden Korenaar"'})

# Lines by product category: (descriptions, unit price range in cents, quantities)
LINE_KINDS = {
    "Hardware": (
        ['Laptop 14" (i7, 32 GB)', "Docking station USB-C", "27\" monitor", "Keyboard & mouse set",
         "Network switch 24 ports <PoE>", "Rack server 2U with redundant power supplies and rails"],
        (1500, 240000), ["1", "1", "2", "3", "5", "10"]),
    "Training": (
        ["Training day", "Workshop 'Data & Reporting'", "E-learning licence", "Opleiding beheer (2 dagen)"],
        (45000, 145000), ["1", "1", "2", "3"]),
    "Consulting": (
        ["Consultancy", "Project management", "Implementatie-ondersteuning", "Support hours Q&A",
         "Analyse & advies \"go-live\""],
        (8500, 14500), ["1", "2.5", "4", "7.5", "8", "16", "24", "0.25"]),
    "Intra-EU deliveries": (
        ["Delivery of spare parts", "Lieferung Ersatzteile", "Livraison matériel réseau"],
        (2000, 90000), ["1", "2", "4", "10"]),
    "Export": (["Export shipment spare parts", "Overseas delivery of equipment"],
               (5000, 150000), ["1", "2", "5"]),
    "Legacy services": (["Maintenance contract (legacy)", "Onderhoud oude installatie"],
                        (12000, 60000), ["1", "1", "12"]),
}
UNCATEGORISED_LINES = ["Travel expenses", "Verzendkosten", "Miscellaneous"]
DISCOUNTS = ["5", "10", "12.5", "15", "20"]
SECTION_TITLES = ["Products", "Services", "Hardware", "Diensten"]


# -- generation ----------------------------------------------------------------------------------------


def generate(seed: int = 42, invoices: int = 200, anchor: date | None = None) -> FocusData:
    """A Focus account with ``invoices`` invoices dated in the ~90 days before ``anchor`` (default today,
    UTC). Deterministic for a given seed and anchor."""
    anchor = anchor or datetime.now(UTC).date()
    return _Generator(seed, anchor).run(invoices)


@dataclass
class _Customer:
    """What invoicing needs to know about a company or contact."""

    ref: dict
    name: str
    vat_number: str | None
    email: str | None
    country: str
    currency: str
    payment_days: int
    is_company: bool


class _Generator:
    def __init__(self, seed: int, anchor: date):
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.latest = datetime.combine(anchor, time(0), UTC) - timedelta(seconds=1)
        self.fakers: dict[str, Faker] = {}
        for i, locale in enumerate(sorted({loc for locs, _, _ in COUNTRIES.values() for loc in locs})):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + i)
            self.fakers[locale] = fake

    def run(self, invoice_count: int) -> FocusData:
        self.departments = [self._department(name, currency) for name, currency, _ in chart.DEPARTMENTS]
        self.department_country = {d["id"]: DEPARTMENT_COUNTRY[d["name"]] for d in self.departments}
        self.department_in = {country: department for department, country in self.department_country.items()}
        self.tax_rates = [
            {"id": stable_id("tax_rate", name, description), "description": description, "rate": Decimal(rate),
             "department": {"type": "department", "id": stable_id("department", name)}}
            for name, _, rates in chart.DEPARTMENTS for description, rate in rates
        ]
        self.rates = {t["id"]: t["rate"] for t in self.tax_rates}
        self.tax_rate_by = {(t["department"]["id"], t["description"]): t["id"] for t in self.tax_rates}
        self.categories = [
            {"id": stable_id("product_category", name), "name": name,
             "ledgers": [{"department": {"type": "department", "id": d["id"]}, "ledger_account_number": ledger}
                         for d in self.departments]}
            for name, ledger in chart.PRODUCT_CATEGORIES
        ]
        self.category_id = {c["name"]: c["id"] for c in self.categories}
        payment_methods = [{"id": stable_id("payment_method", name), "name": name, "status": status}
                           for name, status in PAYMENT_METHODS]

        companies, company_customers = self._companies(max(12, invoice_count // 6))
        contacts, contact_customers = self._contacts(max(6, invoice_count // 25), companies)
        invoices = [self._invoice(company_customers, contact_customers) for _ in range(invoice_count)]
        self._number(invoices, "invoice_number", "invoice_date", "{year} / {n}")
        credit_notes = self._credit_notes(invoices)
        self._number(credit_notes, "credit_note_number", "credit_note_date", "{year}/{n}")
        return FocusData(
            anchor=self.anchor, departments=self.departments, tax_rates=self.tax_rates,
            product_categories=self.categories, payment_methods=payment_methods, companies=companies,
            contacts=contacts, invoices=invoices, credit_notes=credit_notes,
        )

    # -- helpers ------------------------------------------------------------------------------------------
    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _weighted(self, items: Sequence):
        """Earlier items much more often: a few customers get many invoices."""
        return items[int(len(items) * self.rng.random() ** 2)]

    def _moment(self, day: date) -> datetime:
        """A time during office hours on ``day`` (UTC), never after ``latest``."""
        moment = datetime.combine(day, time(7), UTC) + timedelta(seconds=self.rng.randrange(10 * 3600))
        return min(moment, self.latest)

    def _later(self, start: datetime, max_days: float) -> datetime:
        """A moment after ``start``, at most ``max_days`` later and never after ``latest``."""
        end = min(start + timedelta(days=max_days), self.latest)
        span = max(0, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randint(0, span))

    def _faker(self, country: str) -> Faker:
        return self.fakers[self.rng.choice(COUNTRIES[country][0])]

    # -- reference data -----------------------------------------------------------------------------------
    def _department(self, name: str, currency: str) -> dict:
        slug = _slug(name)
        return {
            "id": stable_id("department", name), "name": name, "vat_number": DEPARTMENT_VAT[name],
            "currency": currency, "emails": [{"type": "invoicing", "email": f"facturen@{slug}.example"}],
            "status": "active",
        }

    # -- customers ------------------------------------------------------------------------------------
    def _companies(self, count: int) -> tuple[list[dict], list[_Customer]]:
        specs = list(SPECIAL_COMPANIES)
        while len(specs) < count:
            country = self.rng.choice(COMPANY_COUNTRIES)
            if self.rng.random() < 0.03:
                name = self.rng.choice(specs)[0]  # another company of the same name
            else:
                name = self._faker(country).company()
            with_vat = self.rng.random() < (0.75 if COUNTRIES[country][1] else 0.4)
            specs.append((name, country, with_vat and country != "US"))
        companies, customers = [], []
        for name, country, with_vat in specs:
            company, customer = self._company(name, country, with_vat)
            companies.append(company)
            customers.append(customer)
        return companies, customers

    def _company(self, name: str, country: str, with_vat: bool) -> tuple[dict, _Customer]:
        fake = self._faker(country)
        company_id = self._id()
        vat_number = _vat_number(self.rng, country) if with_vat else None
        currency = FOREIGN_CURRENCY.get(country) if self.rng.random() < 0.4 else None  # a few bill in USD/GBP
        payment_days = self.rng.choice([14, 30, 30, 30, 60])
        email = f"administratie@{fake.domain_name()}"
        added_at = self._moment(self.anchor - timedelta(days=self.rng.randint(WINDOW_DAYS + 5, 900)))
        addresses = [{"type": "primary", "address": _address(fake, country)}]
        if self.rng.random() < 0.2:
            invoicing = _address(fake, country)
            invoicing["addressee"] = "Crediteurenadministratie"
            addresses.append({"type": "invoicing", "address": invoicing})
        registration = _registration_number(company_id, country, vat_number)
        company = {
            "id": company_id,
            "name": name,
            "status": "deactivated" if name in DEACTIVATED else "active",
            **({"vat_number": vat_number} if vat_number else {}),
            **({"national_identification_number": registration} if registration else {}),
            "emails": [{"type": "primary", "email": email}],
            "telephones": [{"type": "phone", "number": fake.phone_number()}],
            "website": f"https://www.{fake.domain_name()}",
            "addresses": addresses,
            **({"iban": fake.iban()} if COUNTRIES[country][1] and self.rng.random() < 0.6 else {}),
            "language": COUNTRIES[country][2],
            "preferred_currency": currency or "EUR",
            "payment_term": {"type": "after_invoice_date", "days": payment_days},
            "invoicing_preferences": {"electronic_invoicing_address": None},
            "responsible_user": {"type": "user", "id": RESPONSIBLE_USER_ID},
            "added_at": _iso(added_at),
            "updated_at": _iso(self._updated(added_at)),
            "web_url": f"{APP_URL}/company_detail.php?id={company_id}",
            "tags": self.rng.choice([[], [], ["customer"], ["customer", "vip"]]),
            "custom_fields": [],
            "marketing_mails_consent": False,
        }
        customer = _Customer({"type": "company", "id": company_id}, name, vat_number, email, country,
                             currency or "EUR", payment_days, True)
        return company, customer

    def _contacts(self, count: int, companies: list[dict]) -> tuple[list[dict], list[_Customer]]:
        contacts, customers = [], []
        for _ in range(count):
            country = self.rng.choice(["NL"] * 5 + ["BE"] * 3 + ["DE", "FR"])
            fake = self._faker(country)
            contact_id = self._id()
            first, last = fake.first_name(), fake.last_name()
            vat_number = _vat_number(self.rng, country) if self.rng.random() < 0.2 else None
            email = f"{_slug(first)}.{_slug(last)}@{fake.free_email_domain()}"
            added_at = self._moment(self.anchor - timedelta(days=self.rng.randint(WINDOW_DAYS + 5, 900)))
            employer = self.rng.choice(companies) if self.rng.random() < 0.3 else None
            contacts.append({
                "id": contact_id,
                "first_name": first,
                "last_name": last,
                "status": "active",
                "vat_number": vat_number,
                "emails": [{"type": "primary", "email": email}],
                "telephones": [{"type": "mobile", "number": fake.phone_number()}],
                "addresses": [{"type": "primary", "address": _address(fake, country)}],
                "gender": self.rng.choice(["female", "male", "unknown"]),
                "language": COUNTRIES[country][2],
                "payment_term": {"type": "after_invoice_date", "days": 14},
                "invoicing_preferences": {"electronic_invoicing_address": None},
                "companies": ([{"position": "Owner", "decision_maker": True,
                                "company": {"type": "company", "id": employer["id"]}}] if employer else []),
                "tags": [],
                "custom_fields": [],
                "added_at": _iso(added_at),
                "updated_at": _iso(self._updated(added_at)),
                "web_url": f"{APP_URL}/contact_detail.php?id={contact_id}",
                "marketing_mails_consent": False,
            })
            customers.append(_Customer({"type": "contact", "id": contact_id}, f"{first} {last}", vat_number,
                                       email, country, "EUR", 14, False))
        return contacts, customers

    def _updated(self, added_at: datetime) -> datetime:
        """Most customers unchanged since long; some edited within the window."""
        if self.rng.random() < 0.15:
            return self._moment(self.anchor - timedelta(days=self.rng.randint(1, WINDOW_DAYS)))
        return self._later(added_at, 60)

    # -- invoices -------------------------------------------------------------------------------------
    def _invoice(self, companies: list[_Customer], contacts: list[_Customer]) -> dict:
        rng = self.rng
        customer = self._weighted(companies if rng.random() < 0.85 else contacts)
        department_id = self._department_for(customer)
        regime = self._tax_regime(department_id, customer)
        currency = customer.currency
        invoice_id = self._id()
        grouped_lines = self._grouped_lines(department_id, regime)
        total = price_lines(grouped_lines, self.rates, currency)
        is_draft = rng.random() < 0.05
        day = self.anchor - timedelta(days=rng.randint(1, WINDOW_DAYS))
        created_at = self._moment(day)
        updated_at = self._later(created_at, 3)
        invoice = {
            "id": invoice_id,
            "department": {"type": "department", "id": department_id},
            "invoice_number": None,
            "invoice_date": None if is_draft else day.isoformat(),
            "status": "draft" if is_draft else "outstanding",
            "due_on": None if is_draft else (day + timedelta(days=customer.payment_days)).isoformat(),
            "paid": False,
            "paid_at": None,
            "sent": False if is_draft else rng.random() < 0.9,
            "purchase_order_number": f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.2 else None,
            "payment_reference": (_structured_reference(rng)
                                  if self.department_country[department_id] == "BE" and not is_draft else None),
            "invoicee": {
                "name": customer.name,
                "vat_number": customer.vat_number,
                "customer": dict(customer.ref),
                # A name typed on the invoice, not a contact of Focus: ``contact`` is left out (the spec
                # forbids null there).
                "for_attention_of": (
                    {"name": self._faker(customer.country).name()}
                    if customer.is_company and rng.random() < 0.25 else None),
                "email": customer.email,
                "national_identification_number": None,
            },
            "discounts": [],
            "grouped_lines": grouped_lines,
            "total": {**total, "due": money(total["payable"]["amount"], currency)},
            "payment_term": {"type": "after_invoice_date", "days": customer.payment_days},
            "payments": [],
            "note": "Bedankt voor uw bestelling & tot ziens!" if rng.random() < 0.1 else None,
            "currency": currency,
            "currency_exchange_rate": self._exchange_rate(currency),
            "expected_payment_method": None,
            "deal": None,
            "project": None,
            "on_hold_since": None,
            "custom_fields": [],
            "created_at": _iso(created_at),
            "updated_at": _iso(updated_at),
            "document_template": {"type": "documentTemplate", "id": DOCUMENT_TEMPLATE_ID},
            "delivery_date": None,
            "web_url": f"{APP_URL}/invoice_detail.php?id={invoice_id}",
        }
        if not is_draft:
            invoice["file"] = invoice_file(invoice_id)
            self._maybe_paid(invoice, created_at)
        return invoice

    def _department_for(self, customer: _Customer) -> str:
        """Belgian customers mostly buy from the Belgian department, which also sells to EU businesses;
        everything else goes through the Dutch one (the only one with an export rate)."""
        dutch, belgian = self.department_in["NL"], self.department_in["BE"]
        if customer.country == "BE":
            return belgian if self.rng.random() < 0.8 else dutch
        if COUNTRIES[customer.country][1] and customer.vat_number and self.rng.random() < 0.15:
            return belgian
        return dutch

    def _tax_regime(self, department_id: str, customer: _Customer) -> str:
        if customer.country == self.department_country[department_id]:
            return "domestic"
        if not COUNTRIES[customer.country][1]:
            return "export"
        return "intra_eu" if customer.vat_number else "domestic"

    def _tax_rate_id(self, department_id: str, regime: str) -> str:
        if regime == "intra_eu":
            description = "0% intracommunautair"
        elif regime == "export":
            description = "0% export"
        elif self.department_country[department_id] == "BE":
            description = self.rng.choice(["21%"] * 3 + ["6%"])
        else:
            description = self.rng.choice(["21%"] * 14 + ["9%"] * 5 + ["0%"])
        return self.tax_rate_by[(department_id, description)]

    def _category(self, regime: str) -> str:
        if regime == "intra_eu" and self.rng.random() < 0.7:
            return "Intra-EU deliveries"
        if regime == "export" and self.rng.random() < 0.7:
            return "Export"
        return self.rng.choice(["Hardware", "Hardware", "Training", "Consulting", "Consulting"])

    def _grouped_lines(self, department_id: str, regime: str) -> list[dict]:
        rng = self.rng
        count = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8])
        lines = [self._line(self._category(regime), self._tax_rate_id(department_id, regime))
                 for _ in range(count)]
        roll = rng.random()
        if roll < 0.03:  # a line nobody gave a product category
            lines[rng.randrange(count)].update(
                product_category=None, description=rng.choice(UNCATEGORISED_LINES))
        elif roll < 0.05:  # a category whose ledger 8999 Twinfield does not know
            lines[rng.randrange(count)] = self._line("Legacy services", self._tax_rate_id(department_id, regime))
        if count >= 4 and rng.random() < 0.4:
            split = rng.randint(1, count - 1)
            titles = rng.sample(SECTION_TITLES, 2)
            return [{"section": {"title": titles[0]}, "line_items": lines[:split]},
                    {"section": {"title": titles[1]}, "line_items": lines[split:]}]
        return [{"section": {"title": ""}, "line_items": lines}]

    def _line(self, category: str, tax_rate_id: str) -> dict:
        rng = self.rng
        descriptions, (low, high), quantities = LINE_KINDS[category]
        return {
            "product": None,
            "product_category": {"type": "productCategory", "id": self.category_id[category]},
            "quantity": Decimal(rng.choice(quantities)),
            "description": rng.choice(descriptions),
            "extended_description": "Zie bijlage & voorwaarden" if rng.random() < 0.05 else None,
            "unit": None,
            "unit_price": {"amount": Decimal(rng.randint(low, high)).scaleb(-2), "tax": "excluding"},
            "tax": {"type": "taxRate", "id": tax_rate_id},
            "discount": ({"type": "percentage", "value": Decimal(rng.choice(DISCOUNTS))}
                         if rng.random() < 0.15 else None),
            "total": None,  # set by price_lines
            "withheld_tax": None,
        }

    def _exchange_rate(self, currency: str) -> dict:
        if currency == "EUR":
            return {"from": "EUR", "to": "EUR", "rate": Decimal("1")}
        low, high = EXCHANGE_RATE_RANGE[currency]
        return {"from": currency, "to": "EUR", "rate": Decimal(self.rng.randint(low, high)).scaleb(-4)}

    def _maybe_paid(self, invoice: dict, created_at: datetime) -> None:
        """Some booked invoices were paid (in full: matched) or partly paid in Focus already."""
        roll = self.rng.random()
        payable = invoice["total"]["payable"]["amount"]
        if roll < 0.12:
            amount = payable
        elif roll < 0.16:
            amount = cents(payable * Decimal(self.rng.randint(30, 70)) / 100)
        else:
            return
        paid_at = self._later(created_at, 30)
        record_payment(invoice, amount, paid_at)
        invoice["updated_at"] = _iso(max(paid_at, datetime.fromisoformat(invoice["updated_at"])))

    # -- credit notes ---------------------------------------------------------------------------------
    def _credit_notes(self, invoices: list[dict]) -> list[dict]:
        notes = []
        for invoice in invoices:
            if invoice["status"] != "outstanding" or invoice["payments"] or self.rng.random() >= 0.06:
                continue
            notes.append(self._credit_note(invoice))
        return notes

    def _credit_note(self, invoice: dict) -> dict:
        rng = self.rng
        currency = invoice["currency"]
        invoice_created = datetime.fromisoformat(invoice["created_at"])
        created_at = self._later(invoice_created, 20)
        full = rng.random() < 0.5
        source_lines = list(_all_lines(invoice))
        if not full:
            source_lines = source_lines[:1]
        lines = []
        for source in source_lines:
            quantity = source["quantity"]
            if not full and quantity > 1:
                quantity = quantity / 2
            line = {k: source[k] for k in ("product", "product_category", "description", "unit", "tax", "discount")}
            if source["extended_description"] is not None:  # a string here per the spec, never null
                line["extended_description"] = source["extended_description"]
            line.update(quantity=quantity, total=None,
                        unit_price={"amount": source["unit_price"]["amount"], "currency": currency, "tax": "excluding"})
            lines.append(line)
        grouped_lines = [{"section": {"title": ""}, "line_items": lines}]
        total = price_lines(grouped_lines, self.rates, currency)
        credited = total["tax_inclusive"]["amount"]
        invoice["total"]["due"]["amount"] -= credited
        settled = invoice["total"]["due"]["amount"] <= 0
        if settled:
            invoice.update(status="matched", paid=True, paid_at=_iso(created_at))
        invoice["updated_at"] = _iso(max(created_at, datetime.fromisoformat(invoice["updated_at"])))
        note_id = self._id()
        invoicee = invoice["invoicee"]
        return {
            "id": note_id,
            "department": dict(invoice["department"]),
            "credit_note_number": None,
            "credit_note_date": created_at.date().isoformat(),
            "status": "booked",
            "invoice": {"type": "invoice", "id": invoice["id"]},
            "paid": settled,
            "paid_at": _iso(created_at) if settled else None,
            "invoicee": {k: invoicee[k] for k in ("name", "vat_number", "customer", "email",
                                                   "national_identification_number")},
            "discounts": [],
            "total": {k: total[k] for k in ("tax_exclusive", "tax_inclusive", "payable", "taxes")},
            "grouped_lines": grouped_lines,
            "currency": currency,
            "currency_exchange_rate": dict(invoice["currency_exchange_rate"]),
            "created_at": _iso(created_at),
            "updated_at": _iso(self._later(created_at, 1)),
            "document_template": {"type": "documentTemplate", "id": DOCUMENT_TEMPLATE_ID},
        }

    # -- numbering ------------------------------------------------------------------------------------
    def _number(self, documents: list[dict], number_field: str, date_field: str, pattern: str) -> None:
        """Number booked documents in date order, restarting per department and book year. The window's
        first book year continues a sequence begun before the window."""
        booked = sorted((d for d in documents if d[date_field]),
                        key=lambda d: (d[date_field], d["created_at"]))
        next_number: dict[tuple[str, int], int] = {}
        first_year: dict[str, int] = {}
        for document in booked:
            department = document["department"]["id"]
            year = int(document[date_field][:4])
            first_year.setdefault(department, year)
            key = (department, year)
            if key not in next_number:
                next_number[key] = self.rng.randint(20, 400) if year == first_year[department] else 1
            document[number_field] = pattern.format(year=year, n=next_number[key])
            next_number[key] += 1


# -- shared with the sandbox's payment handling ---------------------------------------------------------


def _all_lines(document: dict):
    for group in document["grouped_lines"]:
        yield from group["line_items"]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def _address(fake: Faker, country: str) -> dict:
    return {
        "line_1": fake.street_address().replace("\n", ", "),
        "postal_code": fake.postcode(),
        "city": fake.city(),
        "country": country,
    }  # no area_level_two: it is an object when present, never null (openapi.yaml)


def _registration_number(company_id: str, country: str, vat_number: str | None) -> str | None:
    """A Belgian company's enterprise number (its VAT number's digits), a Dutch one's 8-digit KvK number;
    none elsewhere. Derived, not drawn, so the rest of the generated data stays as it was."""
    if country == "BE" and vat_number:
        return re.sub(r"\D", "", vat_number)
    if country == "NL":
        return f"{uuid.UUID(company_id).int % 10**8:08d}"
    return None


def _vat_number(rng: random.Random, country: str) -> str:
    """A VAT number of the country's form; Belgian ones carry a valid mod-97 check and are sometimes written
    the way people type them (``BE 0xxx.xxx.xxx``)."""
    digits = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if country == "BE":
        base = "0" + str(rng.randint(2000000, 9999999))
        number = base + f"{97 - int(base) % 97:02d}"
        if rng.random() < 0.3:
            return f"BE {number[:4]}.{number[4:7]}.{number[7:]}"
        return "BE" + number
    if country == "NL":
        return f"NL{digits(9)}B{rng.choice(['01', '01', '02'])}"
    if country == "FR":
        return f"FR{digits(2)}{digits(9)}"
    return f"{country}{digits(9)}"  # DE, GB


def _structured_reference(rng: random.Random) -> str:
    """A Belgian structured payment reference (OGM): +++ddd/dddd/dddcc+++ with a mod-97 check."""
    base = rng.randint(10**9, 10**10 - 1)
    check = base % 97 or 97
    digits = f"{base:010d}{check:02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"
