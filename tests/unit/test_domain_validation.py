"""twinfield.domain.validation: every reason a document is held back, all of them at once, in plain words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.unit import domain_fixtures as fx
from twinfield.domain import validation as v
from twinfield.domain.focus_model import CustomerRef, parse_credit_note, parse_invoice
from twinfield.domain.twinfield_model import VatCode

CUSTOMER = CustomerRef("company", "cust-1")
LAPTOP = fx.line("Laptop", "1", "1000.00", fx.NL21)


def run(*docs, config=None, customer_codes=None, **reference):
    kwargs = {**fx.reference(), **reference}
    codes = {("NLA001", CUSTOMER): "1001"} if customer_codes is None else customer_codes
    return v.validate(list(docs), config or fx.config(), customer_codes=codes, **kwargs)


def held(result, doc_id="inv-1"):
    [entry] = [h for h in result.held_back if h.document.id == doc_id]
    return entry


def reasons(result, doc_id="inv-1"):
    return [(p.code, p.message) for p in held(result, doc_id).problems]


def test_a_valid_invoice_gets_its_transaction():
    result = run(parse_invoice(fx.invoice([LAPTOP])))
    [valid] = result.valid
    assert result.held_back == []
    assert (valid.office, valid.customer_code, valid.transaction.invoice_number) == ("NLA001", "1001", "2026-12")
    assert valid.transaction.lines[0].value == Decimal("1210.00")
    assert len(valid.content_hash) == 64


def test_draft_is_waiting_not_wrong():
    result = run(parse_invoice(fx.invoice([LAPTOP], number=None, date=None, due=None, status="draft", sent=False)))
    assert reasons(result) == [(v.DRAFT, "it is still a draft in Focus")]
    assert held(result).waiting and result.waiting == result.held_back and result.to_fix == []
    assert result.causes() == []


def test_not_sent_waits_only_when_only_sent_is_on():
    doc = parse_invoice(fx.invoice([LAPTOP], sent=False))
    assert reasons(run(doc)) == [(v.NOT_SENT, "it has not been sent to the customer yet (only_sent is on)")]
    assert len(run(doc, config=fx.config(only_sent=False)).valid) == 1


def test_department_not_synced():
    doc = parse_invoice(fx.invoice([LAPTOP], department=fx.DEP_DE))
    assert reasons(run(doc)) == [(v.DEPARTMENT_NOT_SYNCED, "its department 'Acme Deutschland' is not set up to "
                                  "sync (no entry under departments in sync.yaml)")]


def test_customer_without_twinfield_customer():
    result = run(parse_invoice(fx.invoice([LAPTOP])), customer_codes={})
    assert reasons(result) == [(v.NO_CUSTOMER, "customer 'Jansen & Zonen B.V.' (company cust-1) has no Twinfield "
                                "customer in office NLA001")]


def test_a_customer_without_a_code_counts_as_new_when_a_code_for_new_customers_is_given():
    result = run(parse_invoice(fx.invoice([LAPTOP])), customer_codes={}, new_customer_code="(new)")
    [valid] = result.valid
    assert valid.customer_code == "(new)" and not result.held_back
    linked = run(parse_invoice(fx.invoice([LAPTOP])), new_customer_code="(new)")
    assert linked.valid[0].customer_code == "1001"


def test_debtors_account_missing_in_twinfield():
    result = run(parse_invoice(fx.invoice([LAPTOP])), config=fx.config(debtors_account="1310"))
    assert reasons(result) == [(v.DEBTORS_ACCOUNT_UNKNOWN, "debtors account 1310 does not exist in Twinfield office "
                                "NLA001")]


def test_a_foreign_currency_is_booked_in_it_where_the_office_keeps_it_and_held_back_where_not():
    usd = parse_invoice(fx.invoice([fx.line("Laptop", "1", "1000.00", fx.NL21, currency="USD")], currency="USD"))
    [valid] = run(usd).valid
    assert (valid.transaction.currency, valid.transaction.lines[0].value) == ("USD", Decimal("1210.00"))

    result = run(usd, currencies={"NLA001": ["EUR", "GBP"]})
    assert result.valid == []
    assert reasons(result) == [(v.CURRENCY_UNKNOWN, "currency USD: Twinfield office NLA001 has no such currency")]
    assert result.causes() == [{"code": v.CURRENCY_UNKNOWN, "subject": "currency USD in NLA001", "documents": 1}]
    assert [p.code for p in held(run(usd, currencies={})).problems] == [v.CURRENCY_UNKNOWN]


def test_number_not_of_focus_form():
    result = run(parse_invoice(fx.invoice([LAPTOP], number="F-12")))
    assert reasons(result) == [(v.NO_NUMBER, "Focus number 'F-12' is not of the form 'YYYY / N'")]


def test_booked_invoice_without_date():
    result = run(parse_invoice(fx.invoice([LAPTOP], date=None)))
    assert reasons(result) == [(v.NO_DATE, "it has no date in Focus")]


def test_line_without_category_and_no_default_account():
    doc = parse_invoice(fx.invoice([LAPTOP, fx.line("Travel expenses", "1", "80.00", fx.NL21, None)]))
    assert reasons(run(doc)) == [(v.NO_REVENUE_ACCOUNT, "line 2 'Travel expenses': it has no product category, and "
                                  "no default revenue account is configured")]
    assert len(run(doc, config=fx.config(default_revenue_account="8200")).valid) == 1


def test_category_without_ledger_for_the_department():
    doc = parse_invoice(fx.invoice([fx.line("Cursus Nederlands", "1", "100.00", fx.BE21, fx.NL_ONLY)],
                                   department=fx.DEP_BE, number="2026 / 4"))
    assert reasons(run(doc)) == [(v.NO_REVENUE_ACCOUNT, "line 1 'Cursus Nederlands': product category 'Dutch "
                                  "courses' has no ledger account for department 'Acme Belgie', and no default revenue "
                                  "account is configured")]


def test_category_ledger_that_twinfield_does_not_have():
    doc = parse_invoice(fx.invoice([LAPTOP, LAPTOP, fx.line("Legacy support", "1", "300.00", fx.NL21, fx.LEGACY)]))
    assert reasons(run(doc)) == [(v.ACCOUNT_UNKNOWN, "line 3 'Legacy support': product category 'Legacy services' "
                                  "has ledger 8999, which Twinfield office NLA001 does not have")]


def test_default_revenue_account_that_twinfield_does_not_have():
    doc = parse_invoice(fx.invoice([fx.line("Travel expenses", "1", "80.00", fx.NL21, None)]))
    assert reasons(run(doc, config=fx.config(default_revenue_account="8300"))) == [
        (v.ACCOUNT_UNKNOWN, "line 1 'Travel expenses': the default revenue account 8300 does not exist in Twinfield "
                            "office NLA001")]


def test_line_without_tax_rate_and_with_an_unknown_one():
    raw = fx.invoice([LAPTOP, fx.line("Mouse", "1", "10.00", fx.NL21)])
    raw["data"]["grouped_lines"][0]["line_items"][0]["tax"] = None
    raw["data"]["grouped_lines"][0]["line_items"][1]["tax"] = {"type": "taxRate", "id": "tr-gone"}
    assert reasons(run(parse_invoice(raw))) == [
        (v.NO_TAX_RATE, "line 1 'Laptop': it has no tax rate"),
        (v.NO_TAX_RATE, "line 2 'Mouse': its tax rate tr-gone is unknown in Focus"),
    ]


def test_unmapped_tax_rate_without_a_proposal():
    doc = parse_invoice(fx.invoice([fx.line("Cursus", "2", "50.00", fx.BE6)], department=fx.DEP_BE,
                                   number="2026 / 4"))
    result = run(doc)
    assert reasons(result) == [(v.NO_VAT_CODE, "line 1 'Cursus': Focus tax rate '6%' of Acme Belgie has no "
                                "Twinfield VAT code in the VAT map (no proposal: Twinfield has no 6% domestic sales "
                                "VAT code)")]
    [proposal] = result.vat_proposals
    assert (proposal.office, proposal.code, proposal.tax_rate_label) == ("NLA001", None, "6% (Acme Belgie)")


def test_unmapped_tax_rate_with_a_proposal_is_held_back_unless_auto_match_is_on():
    without_9 = [m for m in fx.VAT_MAP if m["tax_rate"] != "9%"]
    config = fx.config(vat_codes=without_9)
    doc = parse_invoice(fx.invoice([fx.line("Course", "1", "100.00", fx.NL9, fx.TRAINING)]))
    assert reasons(run(doc, config=config)) == [
        (v.NO_VAT_CODE, "line 1 'Course': Focus tax rate '9%' of Acme Nederland has no Twinfield VAT code in the VAT "
                        "map (proposed: VL (the only 9% domestic sales VAT code); add it to the VAT map or set "
                        "auto_match_vat)")]
    auto = run(doc, config=fx.config(vat_codes=without_9, auto_match_vat=True))
    [valid] = auto.valid
    assert valid.transaction.lines[1].vatcode == "VL"
    assert [p.code for p in auto.vat_proposals] == ["VL"]  # still reported for review


def test_mapped_vat_code_missing_in_twinfield_or_not_for_sales_or_of_another_percentage():
    vat_map = [{"tax_rate": "21%", "vat_code": "VX"}, {"tax_rate": "9%", "vat_code": "IL"},
               {"tax_rate": "0%", "vat_code": "VH"}]
    doc = parse_invoice(fx.invoice([LAPTOP, fx.line("Course", "1", "100.00", fx.NL9, fx.TRAINING),
                                    fx.line("Books", "1", "20.00", fx.NL0, fx.TRAINING)]))
    assert reasons(run(doc, config=fx.config(vat_codes=vat_map))) == [
        (v.VAT_CODE_UNKNOWN, "line 1 'Laptop': VAT code VX (mapped for tax rate '21%' of Acme Nederland) does not "
                             "exist in Twinfield office NLA001"),
        (v.VAT_CODE_NOT_SALES, "line 2 'Course': VAT code IL (mapped for tax rate '9%' of Acme Nederland) is a "
                               "purchase code, not a sales code"),
        (v.VAT_PERCENTAGE_DIFFERS, "line 3 'Books': Focus tax rate '0%' of Acme Nederland is 0%, but VAT code VH "
                                   "(mapped for it) is 21% in Twinfield office NLA001"),
    ]


def test_vat_percentage_is_compared_on_the_document_date():
    dated = VatCode("VL", "BTW laag", "sales", Decimal("9"),
                    percentages=((dt.date(2019, 1, 1), Decimal("9")), (dt.date(2001, 1, 1), Decimal("6"))))
    codes = [c for c in fx.VAT_CODES if c.code != "VL"] + [dated]
    doc = parse_invoice(fx.invoice([fx.line("Course", "1", "100.00", fx.NL9, fx.TRAINING)], date="2018-06-01",
                                   number="2018 / 5"))
    assert [p.code for p in held(run(doc, vat_codes={"NLA001": codes})).problems] == [v.VAT_PERCENTAGE_DIFFERS]


def test_amounts_that_do_not_add_up():
    raw = fx.invoice([LAPTOP, fx.line("Course", "1", "100.00", fx.NL9, fx.TRAINING)])
    total = raw["data"]["total"]
    total["tax_inclusive"]["amount"] += Decimal("0.01")
    total["tax_exclusive"]["amount"] += Decimal("5.00")
    total["taxes"][1]["taxable"]["amount"] = Decimal("105.00")
    assert reasons(run(parse_invoice(raw))) == [
        (v.AMOUNTS_DO_NOT_ADD_UP, "its tax-exclusive total 1105.00 plus VAT 219.00 is not its tax-inclusive total "
                                  "1319.01"),
        (v.AMOUNTS_DO_NOT_ADD_UP, "its lines at 9% add up to 100.00, but Focus's VAT summary taxes 105.00 at that "
                                  "rate"),
    ]


def test_vat_summary_against_totals_and_a_rate_without_lines():
    raw = fx.invoice([LAPTOP])
    raw["data"]["total"]["taxes"].append({"rate": Decimal("0.09"), "taxable": fx.money(Decimal("10.00")),
                                          "tax": fx.money(Decimal("0.90"))})
    assert reasons(run(parse_invoice(raw))) == [
        (v.AMOUNTS_DO_NOT_ADD_UP, "Focus's VAT summary taxes 1010.00 in all, but its tax-exclusive total is 1000.00"),
        (v.AMOUNTS_DO_NOT_ADD_UP, "its tax-exclusive total 1000.00 plus VAT 210.90 is not its tax-inclusive total "
                                  "1210.00"),
        (v.AMOUNTS_DO_NOT_ADD_UP, "Focus's VAT summary taxes 10.00 at 9%, but no line carries that rate"),
    ]


def test_lines_that_cancel_out_while_focus_taxes_the_rate():
    raw = fx.invoice([fx.line("Hardware", "1", "50.00", fx.NL21), fx.line("Refund", "1", "-50.00", fx.NL21)])
    raw["data"]["discounts"] = [{"type": "percentage", "value": Decimal("1"), "description": "odd"}]
    raw["data"]["total"]["taxes"][0]["taxable"]["amount"] = Decimal("0.01")
    raw["data"]["total"]["tax_exclusive"]["amount"] = Decimal("0.01")
    raw["data"]["total"]["tax_inclusive"]["amount"] = Decimal("0.01")
    assert reasons(run(parse_invoice(raw))) == [
        (v.AMOUNTS_DO_NOT_ADD_UP, "its lines at 21% add up to zero, but Focus's VAT summary taxes 0.01 at that rate")]


def test_withheld_tax_and_nothing_to_book():
    raw = fx.invoice([LAPTOP])
    raw["data"]["total"]["withheld_taxes"] = [{"id": "wt", "taxable": fx.money(Decimal("1000.00")),
                                               "withheld": fx.money(Decimal("150.00"))}]
    assert reasons(run(parse_invoice(raw))) == [(v.WITHHELD_TAX, "it withholds 150.00 tax, which this sync does not "
                                                 "book")]
    empty = parse_invoice(fx.invoice([fx.line("Note", "0", "0.00", fx.NL21, None)]))
    assert reasons(run(empty)) == [(v.NOTHING_TO_BOOK, "all its amounts are zero: there is nothing to book")]


def test_every_reason_of_one_document_is_listed():
    lines = [fx.line("Travel expenses", "1", "80.00", fx.NL21, None),
             fx.line("Legacy support", "1", "300.00", fx.BE6, fx.LEGACY),
             fx.line("Legacy support 2", "1", "300.00", fx.BE6, fx.LEGACY)]
    doc = parse_invoice(fx.invoice(lines, department=fx.DEP_BE, sent=False, number="2026 / 4"))
    result = run(doc, customer_codes={})
    assert [p.code for p in held(result).problems] == [
        v.NOT_SENT, v.NO_CUSTOMER, v.NO_REVENUE_ACCOUNT, v.ACCOUNT_UNKNOWN, v.NO_VAT_CODE]
    assert held(result).reasons[3] == ("line 2 'Legacy support', line 3 'Legacy support 2': product category "
                                       "'Legacy services' has ledger 8999, which Twinfield office NLA001 does not have")
    assert not held(result).waiting


def test_credit_notes_are_validated_like_invoices_and_built_flipped():
    note = parse_credit_note(fx.credit_note([LAPTOP]))
    [valid] = run(note).valid
    assert valid.transaction.invoice_number == "CN2026-3"
    assert valid.transaction.lines[0].debitcredit.value == "credit"


def test_causes_count_documents_per_thing_to_fix():
    legacy = fx.line("Legacy support", "1", "300.00", fx.NL21, fx.LEGACY)
    docs = [parse_invoice(fx.invoice([legacy, legacy], id=f"inv-{i}", number=f"2026 / {i}")) for i in range(3)]
    docs.append(parse_invoice(fx.invoice([fx.line("x", "1", "1.00", fx.NL21, None)], id="inv-9", number="2026 / 9")))
    assert run(*docs).causes() == [
        {"code": v.ACCOUNT_UNKNOWN, "subject": "ledger 8999 in NLA001", "documents": 3},
        {"code": v.NO_REVENUE_ACCOUNT, "subject": "lines without category", "documents": 1},
    ]


def test_line_checks_wait_for_the_department_to_be_routed():
    doc = parse_invoice(fx.invoice([fx.line("Legacy support", "1", "300.00", fx.NL21, fx.LEGACY)],
                                   department=fx.DEP_DE))
    assert [p.code for p in held(run(doc)).problems] == [v.DEPARTMENT_NOT_SYNCED]


def test_nothing_to_validate():
    result = run()
    assert (result.valid, result.held_back, result.causes()) == ([], [], [])


# --- realistic data from the Focus sandbox's generator (sandbox/focus/generate.py) ----------------------------

def test_generated_account_books_every_valid_document_to_the_cent_and_explains_the_rest():
    from sandbox import chart
    from sandbox.focus.generate import generate
    from twinfield.domain.config import load_config
    from twinfield.domain.focus_model import parse_departments, parse_product_categories, parse_tax_rates
    from twinfield.domain.twinfield_model import LedgerAccount

    data = generate(seed=3, invoices=400, anchor=dt.date(2026, 3, 15))
    docs = [parse_invoice(i) for i in data.invoices] + [parse_credit_note(c) for c in data.credit_notes]
    config = load_config(fx.GOLDEN.parents[2] / "include" / "mappings" / "sync.yaml")
    result = v.validate(
        docs, config,
        ledger_accounts={"NLA001": [LedgerAccount(c, n, t) for c, n, t in chart.LEDGER_ACCOUNTS]},
        vat_codes={"NLA001": [VatCode(c, n, t, p) for c, n, t, p, _ in chart.VAT_CODES]},
        currencies=chart.OFFICE_CURRENCIES,
        categories=parse_product_categories(data.product_categories), tax_rates=parse_tax_rates(data.tax_rates),
        departments=parse_departments(data.departments),
        customer_codes={("NLA001", d.customer): "1000" for d in docs},
    )
    assert len(result.valid) + len(result.held_back) == len(docs)
    assert len(result.valid) > len(docs) / 2
    for valid in result.valid:
        tx, doc = valid.transaction, valid.document
        debit = sum(ln.value + (ln.vat_value or 0) for ln in tx.lines if ln.debitcredit.value == "debit")
        credit = sum(ln.value + (ln.vat_value or 0) for ln in tx.lines if ln.debitcredit.value == "credit")
        assert debit == credit == tx.lines[0].value == doc.total_incl
    numbers = [v_.transaction.invoice_number for v_ in result.valid]
    assert len(numbers) == len(set(numbers))  # unique in the one daybook both departments share
    codes = {p.code for h in result.held_back for p in h.problems}
    assert {v.NO_VAT_CODE, v.ACCOUNT_UNKNOWN, v.DRAFT} <= codes  # the generator's deliberate faults are caught
    assert v.AMOUNTS_DO_NOT_ADD_UP not in codes and v.NOT_MAPPABLE not in codes
