"""twinfield.domain.focus_model: Focus JSON -> documents and reference data; malformed input; content hash."""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.unit import domain_fixtures as fx
from twinfield.domain.focus_model import (
    CREDIT_NOTE, INVOICE, CustomerRef, MalformedFocusData, content_hash, parse_credit_note, parse_customer,
    parse_departments, parse_invoice, parse_product_categories, parse_tax_rates,
)


def test_invoice_fields():
    doc = parse_invoice(fx.load_json("invoice_mixed_rates.focus.json"))
    assert (doc.kind, doc.number, doc.department_id, doc.date, doc.due_date, doc.currency) == (
        INVOICE, "2026 / 12", fx.DEP_NL, dt.date(2026, 3, 2), dt.date(2026, 4, 1), "EUR")
    assert (doc.customer, doc.invoicee_name, doc.invoicee_vat_number) == (
        CustomerRef("company", "cust-1"), "Jansen & Zonen B.V.", "NL123456789B01")
    assert (doc.status, doc.sent, doc.exchange_rate) == ("outstanding", True, Decimal("1"))
    assert (doc.total_excl, doc.total_incl, doc.payable, doc.withheld_tax) == (
        Decimal("3392.35"), Decimal("4014.74"), Decimal("4014.74"), Decimal("0"))
    assert [(t.rate, t.taxable, t.tax) for t in doc.taxes] == [
        (Decimal("0.21"), Decimal("2642.35"), Decimal("554.89")),
        (Decimal("0.09"), Decimal("750.00"), Decimal("67.50"))]
    assert doc.web_url.endswith("?id=0b6c2f3e-5a8d-4e21-9c55-1a2b3c4d5e01")
    assert doc.updated_at == dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    assert doc.label == "invoice 2026 / 12"


def test_lines_are_numbered_across_sections_with_their_net_and_tax():
    doc = parse_invoice(fx.load_json("invoice_mixed_rates.focus.json"))
    assert [(ln.number, ln.section, ln.product_category_id, ln.tax_rate_id) for ln in doc.lines] == [
        (1, "Hardware", fx.HARDWARE, fx.NL21), (2, "Hardware", fx.HARDWARE, fx.NL21),
        (3, "Services", fx.TRAINING, fx.NL9), (4, "Services", fx.CONSULTING, fx.NL21), (5, "Services", None, fx.NL21)]
    docking = doc.lines[1]
    assert (docking.quantity, docking.net, docking.tax) == (Decimal("3"), Decimal("404.87"), Decimal("85.02"))


def test_credit_note_array_shaped_and_linked_to_its_invoice():
    doc = parse_credit_note(fx.load_json("credit_note_partial.focus.json"))
    assert (doc.kind, doc.number, doc.status, doc.sent, doc.due_date) == (CREDIT_NOTE, "2026/3", "booked", True, None)
    assert doc.invoice_id == "0b6c2f3e-5a8d-4e21-9c55-1a2b3c4d5e01"
    assert doc.web_url is None and doc.label == "credit note 2026/3"
    assert parse_credit_note(fx.load_json("credit_note_partial.focus.json")["data"][0]) == doc  # object-shaped too


def test_draft_invoice_without_number_or_dates():
    doc = parse_invoice(fx.invoice([fx.line("x", "1", "1.00", fx.NL21)], number=None, date=None, due=None,
                                   status="draft", sent=False))
    assert (doc.number, doc.date, doc.due_date, doc.label) == (None, None, None, "draft invoice inv-1")


def test_payments_are_read_by_day_whether_paid_at_is_a_date_or_a_date_time():
    raw = fx.invoice([fx.line("x", "1", "100.00", fx.NL21)])
    raw["data"]["payments"] = [{"paid_at": "2026-03-20T00:30:00+01:00", "payment": fx.money(Decimal("21.00"))},
                               {"paid_at": "2026-03-25", "payment": fx.money(Decimal("100.00"))}]
    doc = parse_invoice(raw)
    assert doc.paid_amount == Decimal("121.00")
    assert [p.paid_on for p in doc.payments] == [dt.date(2026, 3, 20), dt.date(2026, 3, 25)]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("total"), "invoice inv-1: data.total is missing"),
    (lambda d: d["total"]["tax_inclusive"].update(amount=1.5), "data.total.tax_inclusive.amount is not an exact "
                                                               "amount: money must not be a float"),
    (lambda d: d["total"]["tax_inclusive"].update(amount="12,50"), "data.total.tax_inclusive.amount is not an exact"),
    (lambda d: d.update(invoice_date="02-03-2026"), "data.invoice_date is not a date: '02-03-2026'"),
    (lambda d: d.update(updated_at="2026-03-02T09:15:00"), "data.updated_at has no time zone"),
    (lambda d: d["grouped_lines"][0]["line_items"][0].pop("total"),
     "data.grouped_lines[0].line_items[0].total is missing"),
    (lambda d: d["invoicee"]["customer"].update(id=7), "data.invoicee.customer.id is not a string: 7"),
    (lambda d: d.update(sent="yes"), "data.sent is not true/false: 'yes'"),
    (lambda d: d.update(grouped_lines={}), "data.grouped_lines is not a list"),
])
def test_malformed_invoices_say_what_and_where(change, message):
    raw = copy.deepcopy(fx.invoice([fx.line("x", "1", "100.00", fx.NL21)]))
    change(raw["data"])
    with pytest.raises(MalformedFocusData, match=re.escape(message)):
        parse_invoice(raw)


def test_malformed_credit_note_answers():
    with pytest.raises(MalformedFocusData, match="holds 2 documents instead of one"):
        parse_credit_note({"data": [{}, {}]})
    with pytest.raises(MalformedFocusData, match="is not an object"):
        parse_credit_note({"data": ["x"]})


def test_content_hash_follows_what_is_booked_only():
    raw = fx.load_json("invoice_mixed_rates.focus.json")
    base = content_hash(parse_invoice(raw))
    same = copy.deepcopy(raw)
    same["data"].update(status="matched", sent=False, paid=True, updated_at="2026-04-01T00:00:00+00:00")
    same["data"]["total"]["tax_inclusive"]["amount"] = Decimal("4014.740")  # same amount, other notation
    assert content_hash(parse_invoice(same)) == base
    for change in (lambda d: d["grouped_lines"][0]["line_items"][0].update(description="Laptop 15"),
                   lambda d: d["grouped_lines"][0]["line_items"][0]["tax"].update(id=fx.NL9),
                   lambda d: d["total"]["tax_inclusive"].update(amount=Decimal("4014.75")),
                   lambda d: d.update(due_on="2026-04-15"),
                   lambda d: d["invoicee"]["customer"].update(id="cust-2")):
        changed = copy.deepcopy(raw)
        change(changed["data"])
        assert content_hash(parse_invoice(changed)) != base


def test_reference_lists():
    departments = parse_departments(fx.DEPARTMENTS)
    assert departments[fx.DEP_BE].name == "Acme Belgie"
    rates = parse_tax_rates(fx.TAX_RATES["data"])  # the bare list works as well as the answer
    assert (rates[fx.BE6].description, rates[fx.BE6].rate, rates[fx.BE6].percentage, rates[fx.BE6].department_id) == (
        "6%", Decimal("0.06"), Decimal("6"), fx.DEP_BE)
    categories = parse_product_categories(fx.PRODUCT_CATEGORIES)
    assert categories[fx.NL_ONLY].ledgers == {fx.DEP_NL: "8010"}
    assert categories[fx.LEGACY].ledgers == {fx.DEP_NL: "8999", fx.DEP_BE: "8999"}
    with pytest.raises(MalformedFocusData, match=r"taxRates.list: data\[0\].rate is missing"):
        parse_tax_rates([{"id": "x", "department": {"id": "d"}}])


COMPANY = {"data": {
    "id": "c1", "name": "L'Atelier d'Élodie SPRL", "vat_number": "BE 0477.472.701",
    "emails": [{"type": "primary", "email": "info@atelier.example"},
               {"type": "invoicing", "email": "factures@atelier.example"}],
    "addresses": [{"type": "primary", "address": {"line_1": "Rue Haute 1", "postal_code": "1000", "city": "Bruxelles",
                                                  "country": "BE"}},
                  {"type": "invoicing", "address": {"line_1": "Dok Noord 3A", "postal_code": "9000", "city": "Gent",
                                                    "country": "BE", "addressee": "Boekhouding"}}],
    "iban": "BE68 5390 0754 7034",
    "payment_term": {"type": "after_invoice_date", "days": 14},
}}


def test_company_prefers_invoicing_email_and_address():
    c = parse_customer("company", COMPANY)
    assert (c.ref, c.name, c.vat_number, c.email) == (CustomerRef("company", "c1"), "L'Atelier d'Élodie SPRL",
                                                      "BE 0477.472.701", "factures@atelier.example")
    assert (c.street, c.postcode, c.city, c.country, c.addressee) == ("Dok Noord 3A", "9000", "Gent", "BE",
                                                                     "Boekhouding")
    assert (c.iban, c.payment_days) == ("BE68 5390 0754 7034", 14)


def test_contact_named_from_first_and_last_name_with_primary_fallbacks():
    c = parse_customer("contact", {"data": {
        "id": "p1", "first_name": "Anna", "last_name": "de Vries",
        "emails": [{"type": "primary", "email": "anna@example.nl"}],
        "addresses": [{"type": "primary", "address": {"line_1": "Kerkstraat 1", "postal_code": "1011 AB",
                                                      "city": "Amsterdam", "country": "NL"}}],
        "payment_term": {"type": "end_of_month", "days": 30}}})
    assert (c.ref, c.name, c.email, c.city, c.payment_days, c.vat_number) == (
        CustomerRef("contact", "p1"), "Anna de Vries", "anna@example.nl", "Amsterdam", None, "")
    with pytest.raises(MalformedFocusData, match="a contact needs a name"):
        parse_customer("contact", {"data": {"id": "p2"}})
    with pytest.raises(MalformedFocusData, match="not company or contact"):
        parse_customer("user", {"data": {"id": "u"}})
