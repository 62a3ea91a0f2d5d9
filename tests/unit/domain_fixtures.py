"""Hand-made Focus data for the domain tests, in the shapes of openapi.yaml, priced the way Focus prices.

A line's total is quantity x unit price less its discount, to the cent; a document's VAT is computed per
rate over the sum of its lines at that rate (so per-line VAT need not add up to it); a document-level
percentage discount lowers each rate's taxable amount. Nothing here reads the sandbox.
"""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from twinfield.domain.config import SyncConfig
from twinfield.domain.focus_model import parse_departments, parse_product_categories, parse_tax_rates
from twinfield.domain.twinfield_model import LedgerAccount, VatCode

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "domain"
CENT = Decimal("0.01")

DEP_NL, DEP_BE, DEP_DE = "6f0e8a52-0d1e-4c1f-9d7e-000000000001", "6f0e8a52-0d1e-4c1f-9d7e-000000000002", \
    "6f0e8a52-0d1e-4c1f-9d7e-000000000003"
NL21, NL9, NL0, NL_ICP, NL_EXP = "tr-nl-21", "tr-nl-9", "tr-nl-0", "tr-nl-icp", "tr-nl-exp"
BE21, BE6, BE_ICP = "tr-be-21", "tr-be-6", "tr-be-icp"
HARDWARE, TRAINING, CONSULTING, ICP, EXPORT, LEGACY, NL_ONLY = (
    "cat-hardware", "cat-training", "cat-consulting", "cat-icp", "cat-export", "cat-legacy", "cat-nl-only")

DEPARTMENTS = {"data": [
    {"id": DEP_NL, "name": "Acme Nederland", "vat_number": "NL862512345B01", "currency": "EUR", "status": "active"},
    {"id": DEP_BE, "name": "Acme Belgie", "vat_number": "BE0712345650", "currency": "EUR", "status": "active"},
    {"id": DEP_DE, "name": "Acme Deutschland", "currency": "EUR", "status": "active"},
]}
_RATES = [
    (NL21, "21%", "0.21", DEP_NL), (NL9, "9%", "0.09", DEP_NL), (NL0, "0%", "0.00", DEP_NL),
    (NL_ICP, "0% intracommunautair", "0.00", DEP_NL), (NL_EXP, "0% export", "0.00", DEP_NL),
    (BE21, "21%", "0.21", DEP_BE), (BE6, "6%", "0.06", DEP_BE), (BE_ICP, "0% intracommunautair", "0.00", DEP_BE),
]
TAX_RATES = {"data": [{"id": i, "description": d, "rate": Decimal(r), "department": {"type": "department", "id": dep}}
                      for i, d, r, dep in _RATES]}
RATE = {i: Decimal(r) for i, _d, r, _dep in _RATES}
_CATEGORIES = [(HARDWARE, "Hardware", "8000"), (TRAINING, "Training", "8010"), (CONSULTING, "Consulting", "8020"),
               (ICP, "Intra-EU deliveries", "8100"), (EXPORT, "Export", "8110"), (LEGACY, "Legacy services", "8999")]
PRODUCT_CATEGORIES = {"data": [
    *({"id": i, "name": n, "ledgers": [{"department": {"type": "department", "id": dep}, "ledger_account_number": led}
                                       for dep in (DEP_NL, DEP_BE)]} for i, n, led in _CATEGORIES),
    {"id": NL_ONLY, "name": "Dutch courses",
     "ledgers": [{"department": {"type": "department", "id": DEP_NL}, "ledger_account_number": "8010"}]},
]}

LEDGER_ACCOUNTS = [LedgerAccount(code, name, kind) for code, name, kind in [
    ("0110", "Inventaris", "BAS"), ("1300", "Debiteuren", "BAS"), ("1500", "Te betalen BTW hoog", "BAS"),
    ("8000", "Omzet hardware", "PNL"), ("8010", "Omzet training", "PNL"), ("8020", "Omzet diensten", "PNL"),
    ("8100", "Omzet intracommunautair", "PNL"), ("8110", "Omzet export", "PNL"), ("8200", "Omzet overig", "PNL")]]
VAT_CODES = [VatCode(code, name, kind, Decimal(pct)) for code, name, kind, pct in [
    ("VH", "BTW hoog", "sales", "21"), ("VL", "BTW laag", "sales", "9"), ("VN", "BTW nul", "sales", "0"),
    ("VICP", "Intracommunautaire levering", "sales", "0"), ("VEXP", "Export buiten de EU", "sales", "0"),
    ("IH", "Voorbelasting hoog", "purchase", "21"), ("IL", "Voorbelasting laag", "purchase", "9")]]

VAT_MAP = [
    {"department": "Acme Nederland", "tax_rate": "21%", "vat_code": "VH"},
    {"department": "Acme Nederland", "tax_rate": "9%", "vat_code": "VL"},
    {"department": "Acme Nederland", "tax_rate": "0%", "vat_code": "VN"},
    {"tax_rate": "0% intracommunautair", "vat_code": "VICP"},
    {"department": "Acme Nederland", "tax_rate": "0% export", "vat_code": "VEXP"},
    {"department": "Acme Belgie", "tax_rate": "21%", "vat_code": "VH"},
]


def config(**overrides) -> SyncConfig:
    data = {
        "departments": [{"department": "Acme Nederland", "office": "NLA001"},
                        {"department": "Acme Belgie", "office": "NLA001", "number_prefix": "BE"}],
        "vat_codes": VAT_MAP,
        **overrides,
    }
    return SyncConfig.from_mapping(data)


def reference() -> dict:
    """The keyword arguments of validate() that describe Focus and Twinfield (not the customers)."""
    return dict(
        ledger_accounts={"NLA001": LEDGER_ACCOUNTS},
        vat_codes={"NLA001": VAT_CODES},
        currencies={"NLA001": ("EUR", "USD")},
        categories=parse_product_categories(PRODUCT_CATEGORIES),
        tax_rates=parse_tax_rates(TAX_RATES),
        departments=parse_departments(DEPARTMENTS),
    )


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str = "EUR") -> dict:
    return {"amount": amount, "currency": currency}


def line(description: str, quantity: str, unit_price: str, tax_rate: str, category: str | None = HARDWARE,
         discount: str | None = None, currency: str = "EUR") -> dict:
    qty, price = Decimal(quantity), Decimal(unit_price)
    before = cents(qty * price)
    excl = cents(qty * price * (100 - Decimal(discount)) / 100) if discount else before
    rate = RATE[tax_rate]
    return {
        "product": None,
        "product_category": {"type": "productCategory", "id": category} if category else None,
        "quantity": qty,
        "description": description,
        "extended_description": None,
        "unit": None,
        "unit_price": {"amount": price, "tax": "excluding"},
        "tax": {"type": "taxRate", "id": tax_rate},
        "discount": {"type": "percentage", "value": Decimal(discount)} if discount else None,
        "total": {
            "tax_exclusive": money(excl, currency),
            "tax_exclusive_before_discount": money(before, currency),
            "tax_inclusive": money(excl + cents(excl * rate), currency),
            "tax_inclusive_before_discount": money(before + cents(before * rate), currency),
        },
        "withheld_tax": None,
    }


def _totals(lines: list[dict], currency: str, discount: str | None) -> dict:
    taxable: dict[Decimal, Decimal] = {}
    for item in lines:
        rate = RATE[item["tax"]["id"]]
        taxable[rate] = taxable.get(rate, Decimal("0.00")) + item["total"]["tax_exclusive"]["amount"]
    if discount:
        taxable = {r: cents(t * (100 - Decimal(discount)) / 100) for r, t in taxable.items()}
    taxes = [{"rate": r, "taxable": money(t, currency), "tax": money(cents(t * r), currency)}
             for r, t in sorted(taxable.items(), reverse=True)]
    excl = sum(taxable.values(), Decimal("0.00"))
    incl = excl + sum((t["tax"]["amount"] for t in taxes), Decimal("0.00"))
    return {"tax_exclusive": money(excl, currency), "tax_inclusive": money(incl, currency), "taxes": taxes,
            "withheld_taxes": [], "payable": money(incl, currency)}


def invoice(lines: list[dict], *, id: str = "inv-1", number: str | None = "2026 / 12", department: str = DEP_NL,
            date: str | None = "2026-03-02", due: str | None = "2026-04-01", currency: str = "EUR",
            status: str = "outstanding", sent: bool = True, customer: tuple[str, str] = ("company", "cust-1"),
            name: str = "Jansen & Zonen B.V.", vat: str | None = "NL123456789B01", discount: str | None = None,
            sections: list[tuple[str, int]] | None = None) -> dict:
    """An invoices.info answer. ``sections``: (title, number of lines) to split the lines into groups."""
    lines = copy.deepcopy(lines)
    groups, start = [], 0
    for title, count in sections or [("", len(lines))]:
        groups.append({"section": {"title": title}, "line_items": lines[start:start + count]})
        start += count
    return {"data": {
        "id": id,
        "department": {"type": "department", "id": department},
        "invoice_number": number,
        "invoice_date": date,
        "status": status,
        "due_on": due,
        "paid": False,
        "paid_at": None,
        "sent": sent,
        "invoicee": {"name": name, "vat_number": vat, "customer": {"type": customer[0], "id": customer[1]},
                     "for_attention_of": None, "email": "administratie@jansen.example"},
        "discounts": [{"type": "percentage", "value": Decimal(discount), "description": "loyalty"}] if discount else [],
        "grouped_lines": groups,
        "total": _totals(lines, currency, discount),
        "payment_term": {"type": "after_invoice_date", "days": 30},
        "payments": [],
        "currency": currency,
        "currency_exchange_rate": {"from": currency, "to": "EUR", "rate": Decimal("1") if currency == "EUR"
                                   else Decimal("1.0842")},
        "created_at": "2026-03-02T09:12:00+00:00",
        "updated_at": "2026-03-02T09:15:00+00:00",
        "web_url": f"https://focus.teamleader.eu/invoice_detail.php?id={id}",
    }}


def credit_note(lines: list[dict], *, id: str = "cn-1", number: str = "2026/3", invoice_id: str | None = "inv-1",
                department: str = DEP_NL, date: str = "2026-03-10", currency: str = "EUR",
                customer: tuple[str, str] = ("company", "cust-1"), name: str = "Jansen & Zonen B.V.") -> dict:
    """A creditNotes.info answer, array-shaped as Focus sometimes sends it."""
    lines = copy.deepcopy(lines)
    return {"data": [{
        "id": id,
        "department": {"type": "department", "id": department},
        "credit_note_number": number,
        "credit_note_date": date,
        "status": "booked",
        "invoice": {"type": "invoice", "id": invoice_id} if invoice_id else None,
        "paid": False,
        "paid_at": None,
        "invoicee": {"name": name, "vat_number": None, "customer": {"type": customer[0], "id": customer[1]}},
        "discounts": [],
        "total": {k: v for k, v in _totals(lines, currency, None).items() if k != "withheld_taxes"},
        "grouped_lines": [{"section": {"title": ""}, "line_items": lines}],
        "currency": currency,
        "currency_exchange_rate": {"from": currency, "to": "EUR", "rate": Decimal("1")},
        "created_at": "2026-03-10T10:00:00+00:00",
        "updated_at": "2026-03-10T10:00:00+00:00",
    }]}


def load_json(name: str):
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"), parse_float=Decimal)
