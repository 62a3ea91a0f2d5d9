"""twinfield.domain.mapping: Focus documents -> draft sales transactions, against golden files, plus the
cent-exact spreading of Focus's VAT over the lines (property tests)."""

from __future__ import annotations

import json
import os
import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit import domain_fixtures as fx
from twinfield.domain.focus_model import (
    FocusDocument, parse_credit_note, parse_departments, parse_invoice, parse_product_categories,
)
from twinfield.domain.mapping import MappingError, allocate, build_transaction, ledger_lookup
from twinfield.domain.twinfield_model import DebitCredit, SalesTransaction
from twinfield.domain.vat import VatChoice

CATEGORIES = parse_product_categories(fx.PRODUCT_CATEGORIES)
DEPARTMENTS = parse_departments(fx.DEPARTMENTS)
CODES = {fx.NL21: "VH", fx.NL9: "VL", fx.NL0: "VN", fx.NL_ICP: "VICP", fx.NL_EXP: "VEXP", fx.BE21: "VH",
         fx.BE_ICP: "VICP"}


def vat_for_tax_rate(tax_rate_id: str) -> VatChoice | None:
    code = CODES.get(tax_rate_id)
    return VatChoice(code, fx.RATE[tax_rate_id]) if code else None


def build(doc: FocusDocument, **config) -> SalesTransaction:
    cfg = fx.config(**config)
    route = cfg.route_for(doc.department_id, DEPARTMENTS)
    return build_transaction(doc, "1001", cfg, route, ledger_lookup(CATEGORIES), vat_for_tax_rate, CATEGORIES)


def as_json(tx: SalesTransaction) -> str:
    def amount(v):
        return None if v is None else f"{v:.2f}"

    return json.dumps({
        "office": tx.office, "daybook": tx.daybook, "currency": tx.currency, "date": tx.date.isoformat(),
        "invoice_number": tx.invoice_number,
        "due_date": tx.due_date.isoformat() if tx.due_date else None,
        "lines": [{"type": ln.type, "dim1": ln.dim1, "dim2": ln.dim2, "debitcredit": ln.debitcredit.value,
                   "value": amount(ln.value), "vatcode": ln.vatcode, "vat_value": amount(ln.vat_value),
                   "description": ln.description,
                   **({"performance_type": ln.performance_type} if ln.performance_type else {}),
                   **({"performance_date": ln.performance_date.isoformat()} if ln.performance_date else {}),
                   } for ln in tx.lines],
    }, indent=2, ensure_ascii=False) + "\n"


def assert_golden(tx: SalesTransaction, name: str) -> None:
    path = fx.GOLDEN / name
    text = as_json(tx)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def signed(tx: SalesTransaction) -> tuple[Decimal, Decimal]:
    """(total line, detail lines + VAT), both signed debit-positive."""
    def sign(line):
        return 1 if line.debitcredit is DebitCredit.DEBIT else -1

    total = sum(sign(ln) * ln.value for ln in tx.lines if ln.type == "total")
    details = sum(sign(ln) * (ln.value + ln.vat_value) for ln in tx.lines if ln.type == "detail")
    return total, details


@pytest.mark.parametrize("source, group, golden", [
    ("invoice_mixed_rates.focus.json", "per_account", "invoice_mixed_rates.per_account.json"),
    ("invoice_mixed_rates.focus.json", "per_line", "invoice_mixed_rates.per_line.json"),
    ("credit_note_partial.focus.json", "per_account", "credit_note_partial.per_account.json"),
    ("invoice_usd_export_discount.focus.json", "per_line", "invoice_usd_export_discount.per_line.json"),
    ("invoice_trade_in.focus.json", "per_line", "invoice_trade_in.per_line.json"),
    ("invoice_trade_in.focus.json", "per_account", "invoice_trade_in.per_account.json"),
])
def test_builds_the_golden_transaction(source, group, golden):
    raw = fx.load_json(source)
    doc = parse_credit_note(raw) if source.startswith("credit_note") else parse_invoice(raw)
    tx = build(doc, group_lines=group)
    assert_golden(tx, golden)
    total, details = signed(tx)
    assert total == -details  # balanced
    assert abs(total) == doc.total_incl  # to the cent, as Focus


def test_invoice_is_debit_on_the_total_and_credit_on_the_details():
    tx = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")))
    total, *details = tx.lines
    # No debtors account (none configured): Twinfield books the total on the customer's collective account.
    assert (total.type, total.dim1, total.dim2, total.debitcredit, total.value) == (
        "total", "", "1001", DebitCredit.DEBIT, Decimal("4014.74"))
    assert {d.debitcredit for d in details} == {DebitCredit.CREDIT}
    # No period: Twinfield derives it from the date by the office's own period scheme.
    assert (tx.invoice_number, tx.period, str(tx.date), str(tx.due_date)) == ("2026-12", "", "2026-03-02",
                                                                               "2026-04-01")
    assert tx.number is None  # a new transaction: Twinfield numbers it


def test_a_configured_debtors_account_is_put_on_the_total_line():
    tx = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")), debtors_account="1310")
    assert tx.lines[0].dim1 == "1310"


def test_per_account_groups_by_account_and_vat_code_described_by_their_categories():
    tx = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")), group_lines="per_account")
    details = [(d.dim1, d.vatcode, d.value, d.description) for d in tx.lines[1:]]
    assert details == [("8000", "VH", Decimal("2404.85"), "Hardware"), ("8010", "VL", Decimal("750.00"), "Training"),
                       ("8020", "VH", Decimal("237.50"), "Consulting")]


def test_every_line_has_a_description_grouped_or_not():
    nl_courses = fx.line("", "1", "10.00", fx.NL21, fx.NL_ONLY)
    lines = [fx.line("Laptop", "1", "100.00", fx.NL21), fx.line("", "1", "50.00", fx.NL21, fx.NL_ONLY), nl_courses,
             fx.line("", "1", "5.00", fx.NL9, None)]
    grouped = build(parse_invoice(fx.invoice(lines)), default_revenue_account="8010")
    # 8010/VH joins two categories; the line without a category is described by the invoice number.
    assert [(d.dim1, d.vatcode, d.description) for d in grouped.lines[1:]] == [
        ("8000", "VH", "Hardware"), ("8010", "VH", "Dutch courses"), ("8010", "VL", "Focus 2026 / 12")]
    per_line = build(parse_invoice(fx.invoice(lines)), default_revenue_account="8010", group_lines="per_line")
    assert [d.description for d in per_line.lines] == ["Focus 2026 / 12", "Laptop", "Dutch courses", "Dutch courses",
                                                        "Focus 2026 / 12"]
    assert all(d.description for d in grouped.lines + per_line.lines)


def test_a_group_of_several_categories_is_described_by_their_names_within_40_characters():
    lines = [fx.line("a", "1", "10.00", fx.NL21, fx.HARDWARE), fx.line("b", "1", "10.00", fx.NL21, fx.CONSULTING),
             fx.line("c", "1", "10.00", fx.NL21, fx.HARDWARE)]
    same_ledger = dict(CATEGORIES[fx.HARDWARE].ledgers)
    cats = {**CATEGORIES, fx.CONSULTING: replace(CATEGORIES[fx.CONSULTING], ledgers=same_ledger)}
    cfg = fx.config()
    doc = parse_invoice(fx.invoice(lines))
    route = cfg.route_for(doc.department_id, DEPARTMENTS)
    [detail] = build_transaction(doc, "1001", cfg, route, ledger_lookup(cats), vat_for_tax_rate, cats).lines[1:]
    assert detail.description == "Hardware, Consulting"
    cats[fx.HARDWARE] = replace(cats[fx.HARDWARE], name="Hardware and peripherals for the office")
    [detail] = build_transaction(doc, "1001", cfg, route, ledger_lookup(cats), vat_for_tax_rate, cats).lines[1:]
    assert detail.description == "Hardware and peripherals for the office"  # cut at 40, no dangling comma


def test_per_line_keeps_descriptions_cut_to_40_characters_and_skips_lines_that_book_nothing():
    tx = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")), group_lines="per_line")
    descriptions = [d.description for d in tx.lines[1:]]
    assert descriptions == ['Laptop 14" (i7, 32 GB)', "Docking station USB-C", "Training day",
                            "Consultancy & advies <go-live> over meer"]
    assert all(len(d) <= 40 for d in descriptions)


def test_vat_follows_focus_summary_not_the_sum_of_rounded_lines():
    # Focus rounds 21% VAT once over 2642.35 (554.89); rounded per line it would be 420.00 + 85.02 + 49.88 = 554.90.
    tx = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")), group_lines="per_line")
    vh = [d.vat_value for d in tx.lines[1:] if d.vatcode == "VH"]
    assert sum(vh) == Decimal("554.89")
    assert [d.vat_value for d in tx.lines[1:] if d.vatcode == "VL"] == [Decimal("67.50")]


def test_credit_note_flips_every_side_and_books_under_its_own_number():
    invoice = build(parse_invoice(fx.load_json("invoice_mixed_rates.focus.json")))
    note = build(parse_credit_note(fx.load_json("credit_note_partial.focus.json")))
    assert note.invoice_number == "CN2026-3" != invoice.invoice_number
    assert note.lines[0].debitcredit is DebitCredit.CREDIT
    assert {d.debitcredit for d in note.lines[1:]} == {DebitCredit.DEBIT}
    assert note.due_date.isoformat() == "2026-04-09"  # no due date in Focus: date + 30 days


def test_a_credit_note_of_an_invoice_mirrors_it_exactly():
    lines = [fx.line("Hardware", "3", "33.33", fx.NL21), fx.line("Course", "1", "10.01", fx.NL9, fx.TRAINING)]
    invoice = build(parse_invoice(fx.invoice(lines)), group_lines="per_line")
    note = build(parse_credit_note(fx.credit_note(lines)), group_lines="per_line")
    assert [(ln.dim1, ln.value, ln.vat_value, ln.debitcredit.flipped()) for ln in invoice.lines] == \
           [(ln.dim1, ln.value, ln.vat_value, ln.debitcredit) for ln in note.lines]


def test_negative_lines_book_on_the_other_side_with_their_vat():
    tx = build(parse_invoice(fx.load_json("invoice_trade_in.focus.json")), group_lines="per_line")
    trade_in = next(d for d in tx.lines if d.description == "Trade-in old server")
    assert (trade_in.debitcredit, trade_in.value, trade_in.vat_value) == (DebitCredit.DEBIT, Decimal("400.00"),
                                                                          Decimal("84.00"))
    assert tx.invoice_number == "2025-398"


ICP_LINES = [fx.line("Server", "1", "1000.00", fx.NL_ICP, fx.HARDWARE),
             fx.line("Installation", "1", "200.00", fx.NL_ICP, fx.CONSULTING),
             fx.line("Rack", "1", "300.00", fx.NL_ICP, fx.HARDWARE)]


def ict(tax_rate_id: str) -> VatChoice | None:
    """As the resolver answers for an office whose VICP is an intra-community code."""
    choice = vat_for_tax_rate(tax_rate_id)
    return replace(choice, intra_community=choice.code == "VICP") if choice else None


def build_ict(doc: FocusDocument, **config) -> SalesTransaction:
    cfg = fx.config(**config)
    return build_transaction(doc, "1001", cfg, cfg.route_for(doc.department_id, DEPARTMENTS), ledger_lookup(CATEGORIES),
                             ict, CATEGORIES)


def test_intra_community_lines_carry_goods_or_services_per_category_and_services_a_date():
    types = {"Hardware": "goods", "Consulting": "services"}
    tx = build_ict(parse_invoice(fx.invoice(ICP_LINES)), performance_types=types)
    details = [(d.dim1, d.vatcode, d.value, d.performance_type, d.performance_date) for d in tx.lines[1:]]
    assert details == [("8000", "VICP", Decimal("1300.00"), "goods", None),
                       ("8020", "VICP", Decimal("200.00"), "services", dt.date(2026, 3, 2))]
    # per account: goods and services on one account and VAT code stay apart
    everything_goods = build_ict(parse_invoice(fx.invoice(ICP_LINES)), default_performance_type="goods")
    assert [(d.dim1, d.performance_type) for d in everything_goods.lines[1:]] == [("8000", "goods"),
                                                                                 ("8020", "goods")]
    # other VAT codes carry none
    domestic = build_ict(parse_invoice(fx.invoice([fx.line("Laptop", "1", "10.00", fx.NL21)])),
                         performance_types=types)
    assert {d.performance_type for d in domestic.lines} == {None}


def test_an_intra_community_line_whose_type_cannot_be_decided_holds_the_document_back():
    with pytest.raises(MappingError) as caught:
        build_ict(parse_invoice(fx.invoice(ICP_LINES)), performance_types={"Hardware": "goods"})
    assert caught.value.problems == (
        "line 2 'Installation': intra-community VAT code VICP needs goods or services, and product category "
        "'Consulting' is not under performance_types in sync.yaml (nor is there a default_performance_type)",)
    tx = build_ict(parse_invoice(fx.invoice(ICP_LINES)), performance_types={"Hardware": "goods"},
                   default_performance_type="services")
    assert [d.performance_type for d in tx.lines[1:]] == ["goods", "services"]


def test_more_than_1000_twinfield_lines_hold_the_document_back_and_say_whether_grouping_helps():
    lines = [fx.line(f"Item {i}", "1", "1.00", fx.NL21 if i % 2 else fx.NL9) for i in range(999)]
    doc = parse_invoice(fx.invoice(lines))
    with pytest.raises(MappingError) as caught:
        build(doc, group_lines="per_line")
    # 1 total + 999 details + 2 VAT lines (one per VAT code)
    assert caught.value.problems == ("it needs 1002 lines in one Twinfield transaction, and Twinfield takes at most "
                                     "1000 (group_lines: per_account would make it 5)",)
    assert len(build(doc, group_lines="per_account").lines) == 3
    fits = parse_invoice(fx.invoice(lines[:997]))
    assert len(build(fits, group_lines="per_line").lines) == 998  # + 2 VAT lines in Twinfield: exactly 1000


def test_document_discount_is_spread_over_the_lines_in_foreign_currency():
    doc = parse_invoice(fx.load_json("invoice_usd_export_discount.focus.json"))
    tx = build(doc, group_lines="per_line")
    assert tx.currency == "USD"
    assert [d.value for d in tx.lines[1:]] == [Decimal("875.00"), Decimal("437.51")]  # 1312.51 after 12.5% off
    assert tx.due_date.isoformat() == "2026-04-01"  # no due date: 2026-03-02 + 30 days


def test_default_revenue_account_takes_lines_without_a_ledger():
    lines = [fx.line("Travel expenses", "1", "80.00", fx.NL21, None), fx.line("Course", "1", "100.00", fx.NL21)]
    tx = build(parse_invoice(fx.invoice(lines)), default_revenue_account="8200", group_lines="per_line")
    assert [d.dim1 for d in tx.lines[1:]] == ["8200", "8000"]


def test_every_problem_is_listed_instead_of_guessed():
    lines = [fx.line("Travel expenses", "1", "80.00", fx.NL21, None), fx.line("Cursus", "1", "10.00", fx.BE6)]
    doc = parse_invoice(fx.invoice(lines, number=None))
    with pytest.raises(MappingError) as caught:
        build(doc)
    assert caught.value.problems == (
        "draft invoice inv-1 has no number in Focus yet",
        "line 1 'Travel expenses': no revenue account",
        "line 2 'Cursus': no Twinfield VAT code",
    )


def test_a_rate_in_focus_summary_without_lines_is_a_problem():
    raw = fx.invoice([fx.line("Laptop", "1", "100.00", fx.NL21)])
    raw["data"]["total"]["taxes"].append({"rate": Decimal("0.09"), "taxable": fx.money(Decimal("10.00")),
                                          "tax": fx.money(Decimal("0.90"))})
    with pytest.raises(MappingError, match=r"taxed at 9% .* no line carries that rate"):
        build(parse_invoice(raw))


def test_prefix_of_a_department_sharing_the_daybook():
    doc = parse_invoice(fx.invoice([fx.line("Laptop", "1", "100.00", fx.BE21)], department=fx.DEP_BE,
                                   number="2026 / 7"))
    assert build(doc).invoice_number == "BE2026-7"


# --- allocate -----------------------------------------------------------------------------------------

def test_allocate_examples():
    assert allocate(Decimal("554.89"), [Decimal("1999.98"), Decimal("404.87"), Decimal("237.50")]) == [
        Decimal("419.99"), Decimal("85.02"), Decimal("49.88")]
    assert allocate(Decimal("0.02"), [Decimal("1")] * 3) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]
    assert allocate(Decimal("0"), [Decimal("1"), Decimal("-1")]) == [Decimal("0.00"), Decimal("0.00")]
    with pytest.raises(ValueError, match="add up to zero"):
        allocate(Decimal("1.00"), [Decimal("1"), Decimal("-1")])


amounts = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2)


@settings(max_examples=300, deadline=None)
@given(total=amounts, weights=st.lists(amounts, min_size=1, max_size=12).filter(lambda w: sum(w) != 0))
def test_allocate_adds_up_exactly_and_stays_within_a_cent_of_the_exact_share(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights):
        assert abs(part - total * weight / weight_sum) < Decimal("0.01")
    assert allocate(total, weights) == parts  # deterministic


# --- whole documents, priced as Focus prices them ----------------------------------------------------

focus_lines = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "2.5", "3", "0.25", "16", "-1"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("4999.99"), places=2),
        st.sampled_from([fx.NL21, fx.NL9, fx.NL0, fx.NL_ICP, fx.NL_EXP]),
        st.sampled_from([fx.HARDWARE, fx.TRAINING, fx.CONSULTING, fx.EXPORT]),
        st.sampled_from([None, "5", "12.5", "33"]),
    ),
    min_size=1, max_size=10,
)


@settings(max_examples=200, deadline=None)
@given(spec=focus_lines, group=st.sampled_from(["per_account", "per_line"]), discount=st.sampled_from([None, "7.5"]),
       credit=st.booleans())
def test_twinfield_totals_equal_focus_totals_to_the_cent(spec, group, discount, credit):
    lines = [fx.line(f"line {i}", q, str(p), rate, cat, disc) for i, (q, p, rate, cat, disc) in enumerate(spec)]
    if credit:
        doc = parse_credit_note(fx.credit_note(lines))
    else:
        doc = parse_invoice(fx.invoice(lines, discount=discount))
    try:
        tx = build(doc, group_lines=group)
    except MappingError as exc:  # only when a rate's lines cancel out while Focus still taxes them
        assert any("add up to zero" in p for p in exc.problems)
        return
    total, details = signed(tx)
    assert total == -details
    assert total == (-doc.total_incl if credit else doc.total_incl)  # debit for an invoice, even when negative
    by_code: dict[Decimal, Decimal] = {}
    for ln in tx.lines[1:]:
        rate = {"VH": Decimal("0.21"), "VL": Decimal("0.09")}.get(ln.vatcode, Decimal("0"))
        sign = 1 if ln.debitcredit is DebitCredit.CREDIT else -1
        by_code[rate] = by_code.get(rate, Decimal("0")) + sign * ln.vat_value * (-1 if credit else 1)
    for tax in doc.taxes:  # every rate's VAT is exactly Focus's
        assert by_code.get(tax.rate, Decimal("0")) == tax.tax
