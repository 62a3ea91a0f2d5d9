"""The generated Focus data: every document adds up to the cent, it is deterministic, and it has the awkward
cases an integration must survive."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sandbox import chart
from sandbox.focus.generate import generate

ANCHOR = date(2026, 2, 10)  # the window crosses a new year: numbering restarts
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def data():
    return generate(seed=3, invoices=2000, anchor=ANCHOR)


def lines(document):
    return [item for group in document["grouped_lines"] for item in group["line_items"]]


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def test_every_document_adds_up_to_the_cent(data):
    rates = {t["id"]: t["rate"] for t in data.tax_rates}
    credited = Counter()
    for note in data.credit_notes:
        credited[note["invoice"]["id"]] += note["total"]["tax_inclusive"]["amount"]
    for document in data.invoices + data.credit_notes:
        currency = document["currency"]
        total = document["total"]
        taxable = defaultdict(Decimal)
        for line in lines(document):
            discount = line["discount"]["value"] if line["discount"] else Decimal(0)
            expected = half_up(line["quantity"] * line["unit_price"]["amount"] * (100 - discount) / 100)
            assert line["total"]["tax_exclusive"] == {"amount": expected, "currency": currency}
            taxable[rates[line["tax"]["id"]]] += expected
        assert total["tax_exclusive"]["amount"] == sum(taxable.values())
        assert {t["rate"]: t["taxable"]["amount"] for t in total["taxes"]} == dict(taxable)
        for tax in total["taxes"]:
            assert tax["tax"]["amount"] == half_up(tax["taxable"]["amount"] * tax["rate"])
        inclusive = total["tax_exclusive"]["amount"] + sum(t["tax"]["amount"] for t in total["taxes"])
        assert total["tax_inclusive"]["amount"] == inclusive == total["payable"]["amount"]
        if "due" in total:
            paid = sum(p["payment"]["amount"] for p in document["payments"])
            assert total["due"]["amount"] == inclusive - paid - credited[document["id"]]
        for money in _money_objects(document):
            assert isinstance(money["amount"], Decimal) and money["amount"].as_tuple().exponent == -2
            assert money["currency"] == currency


def _money_objects(node):
    if isinstance(node, dict):
        if set(node) == {"amount", "currency"}:
            yield node
        for value in node.values():
            yield from _money_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _money_objects(value)


def test_deterministic_for_a_seed_and_anchor():
    assert generate(seed=5, invoices=60, anchor=ANCHOR) == generate(seed=5, invoices=60, anchor=ANCHOR)
    other = generate(seed=6, invoices=60, anchor=ANCHOR)
    assert other.invoices != generate(seed=5, invoices=60, anchor=ANCHOR).invoices
    # reference data keeps its ids whatever the seed, so mappings can name them
    assert other.tax_rates == generate(seed=5, invoices=60, anchor=ANCHOR).tax_rates
    assert other.product_categories == generate(seed=5, invoices=60, anchor=ANCHOR).product_categories


def test_dates_lie_in_the_window_and_carry_time_zones(data):
    midnight = datetime.combine(ANCHOR, time(0), timezone.utc)
    for invoice in data.invoices:
        if invoice["invoice_date"] is not None:
            assert ANCHOR - timedelta(days=90) <= date.fromisoformat(invoice["invoice_date"]) < ANCHOR
        stamps = [invoice["created_at"], invoice["updated_at"]]
        paid = [p["paid_at"] for p in invoice["payments"]]
        if invoice["payments"] and invoice["paid"]:
            assert invoice["paid_at"] == paid[-1]
        elif invoice["paid_at"]:
            stamps.append(invoice["paid_at"])  # settled by a credit note
        for stamp in stamps:
            moment = datetime.fromisoformat(stamp)
            assert moment.tzinfo is not None and moment < midnight
        for day in paid:  # the day in the account's time zone, which may be the anchor's first hour
            assert len(day) == 10 and date.fromisoformat(day) <= ANCHOR
        assert invoice["updated_at"] >= invoice["created_at"]


def test_numbering_per_department_and_book_year(data):
    for documents, field, date_field, pattern in (
            (data.invoices, "invoice_number", "invoice_date", r"(\d{4}) / (\d+)"),
            (data.credit_notes, "credit_note_number", "credit_note_date", r"(\d{4})/(\d+)")):
        sequences = defaultdict(list)
        for document in sorted(documents, key=lambda d: (d[date_field] or "", d["created_at"])):
            if document[date_field] is None:
                assert document[field] is None and document["status"] == "draft"
                continue
            year, number = re.fullmatch(pattern, document[field]).groups()
            assert year == document[date_field][:4]
            sequences[(document["department"]["id"], year)].append(int(number))
        assert {year for _, year in sequences} == {"2025", "2026"}
        for (_, year), numbers in sequences.items():
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gaps, in date order
            if year == "2026":
                assert numbers[0] == 1  # a new book year starts again at 1


def test_has_the_awkward_cases(data):
    invoices = data.invoices
    category_ledger = {c["id"]: c["ledgers"][0]["ledger_account_number"] for c in data.product_categories}
    rate_description = {t["id"]: t["description"] for t in data.tax_rates}
    all_lines = [line for i in invoices for line in lines(i)]
    statuses = Counter(i["status"] for i in invoices)
    assert statuses["draft"] and statuses["outstanding"] and statuses["matched"]
    assert any(i["status"] == "outstanding" and i["payments"] for i in invoices)  # partly paid
    assert {"USD", "GBP"} <= {i["currency"] for i in invoices}
    assert all(i["currency_exchange_rate"]["from"] == i["currency"] for i in invoices)
    assert any(line["product_category"] is None for line in all_lines)
    assert any(line["product_category"] and category_ledger[line["product_category"]["id"]] == "8999"
               for line in all_lines)
    assert any(line["discount"] for line in all_lines)
    assert any(len({t["rate"] for t in i["total"]["taxes"]}) > 1 for i in invoices)
    used_rates = {rate_description[line["tax"]["id"]] for line in all_lines}
    assert {"21%", "9%", "6%", "0% intracommunautair", "0% export"} <= used_rates
    assert any(len(i["grouped_lines"]) > 1 for i in invoices)
    assert Counter(i["invoicee"]["customer"]["type"] for i in invoices)["contact"] > 0
    # credit notes: linked to invoices, full and partial
    by_id = {i["id"]: i for i in invoices}
    assert data.credit_notes
    full = [n for n in data.credit_notes
            if n["total"]["payable"] == by_id[n["invoice"]["id"]]["total"]["payable"]]
    assert 0 < len(full) < len(data.credit_notes)
    assert all(by_id[n["invoice"]["id"]]["status"] == "matched" for n in full)


def test_customers_are_awkward_too(data):
    names = Counter(c["name"] for c in data.companies)
    assert any(count > 1 for count in names.values())
    assert any("&" in name for name in names) and any("<" in name for name in names)
    assert any('"' in name for name in names) and any("'" in name for name in names)
    assert any(not name.isascii() for name in names)
    with_vat = [c for c in data.companies if "vat_number" in c]
    assert 0 < len(with_vat) < len(data.companies)
    assert any(" " in c["vat_number"] for c in with_vat)  # typed as people type it: BE 0xxx.xxx.xxx
    assert any(c["vat_number"] for c in data.contacts) and any(c["vat_number"] is None for c in data.contacts)


def test_reference_data_follows_the_chart(data):
    departments = {d["name"]: d["id"] for d in data.departments}
    assert list(departments) == [name for name, _, _ in chart.DEPARTMENTS]
    for name, _, rates in chart.DEPARTMENTS:
        mine = {(t["description"], t["rate"]) for t in data.tax_rates if t["department"]["id"] == departments[name]}
        assert mine == {(description, Decimal(rate)) for description, rate in rates}
    for category, (name, ledger) in zip(data.product_categories, chart.PRODUCT_CATEGORIES):
        assert category["name"] == name
        assert [(entry["department"]["id"], entry["ledger_account_number"]) for entry in category["ledgers"]] == [
            (department_id, ledger) for department_id in departments.values()]
