"""Text XML cannot carry, lines that cancel out, and Focus text in the Markdown report."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from twinfield.domain.customers import to_twinfield_customer
from twinfield.domain.focus_model import CustomerRef, FocusCustomer
from twinfield.domain.report import HeldBackEntry, RunReport
from twinfield.domain.twinfield.customers import customers_xml
from twinfield.domain.twinfield.transactions import delete_transaction_xml
from twinfield.domain.twinfield_model import Customer
from twinfield.domain.xml_text import removed_characters, removed_note, xml_safe

HOSTILE = "a\x07b\x01c\x1bd\x00e\ufffef\uffffg\ud800h\ti\nj\rk é 😀"


def test_xml_safe_removes_exactly_what_xml_1_0_forbids():
    assert xml_safe(HOSTILE) == "abcdefgh\ti\nj\rk é 😀"
    assert removed_characters(HOSTILE) == ["U+0007", "U+0001", "U+001B", "U+0000", "U+FFFE", "U+FFFF", "U+D800"]
    assert removed_note("x", "plain") is None
    assert "U+0007" in removed_note("line 1 description", "a\x07b") and "'ab'" in removed_note("d", "a\x07b")


def test_every_builder_writes_hostile_text_as_parseable_xml():
    customer = Customer(None, "Name\x07 <&>", address=None, vat_number="NL\x00123")
    built = customers_xml([customer], "NLA001")
    root = etree.fromstring(built.encode())  # lxml would have refused to build it otherwise
    assert root.findtext("dimension/name") == "Name <&>" and root.findtext("dimension/vatnumber") == "NL123"
    deleted = etree.fromstring(delete_transaction_xml("NLA001", "VRK", "1", "moved\x1b").encode())
    assert deleted.get("reason") == "moved"


def test_a_new_customer_carries_cleaned_name_and_address_with_a_note():
    fc = FocusCustomer(ref=CustomerRef("company", "c1"), name="Bad\x07 Name\x00", vat_number="", country="nl",
                       street="Straat\x1b 1", city="Utrecht\ufffe")
    customer, note = to_twinfield_customer(fc)
    assert customer.name == "Bad Name" and customer.address.street == "Straat 1"
    assert customer.address.city == "Utrecht"
    assert "name: removed U+0007, U+0000" in note and "street" in note and "city" in note


def test_markdown_report_escapes_focus_text():
    report = RunReport(run_id="r")
    report.held_back.append(HeldBackEntry("invoice", "i1", "2026 / <script>|", "https://x/y (z)",
                                          ("line 1 '<PoE> | *x*': no VAT code",), "NLA001"))
    report.notes.append("invoice 1: removed U+0007 \x07")
    text = report.to_markdown()
    assert "<script>" not in text and "<PoE>" not in text and "&lt;PoE&gt;" in text
    assert "\\|" in text and "\\*x\\*" in text and "\x07" not in text
    row = next(line for line in text.splitlines() if "PoE" in line)
    assert row.count("|") - row.count("\\|") == 4  # the table keeps its three columns


# -- lines that cancel out -------------------------------------------------------------------------------------
from tests.unit import domain_fixtures as fx  # noqa: E402
from tests.unit.test_domain_mapping import build  # noqa: E402
from twinfield.domain.focus_model import parse_invoice  # noqa: E402
from twinfield.domain.mapping import text_notes, zero_total_note  # noqa: E402


def test_lines_cancelling_at_one_rate_keep_their_accounts_and_amounts():
    doc = parse_invoice(fx.invoice([fx.line("Laptop", "1", "100.00", fx.NL21, fx.HARDWARE),
                                    fx.line("Free consulting", "1", "-100.00", fx.NL21, fx.CONSULTING),
                                    fx.line("Training", "2", "50.00", fx.NL9, fx.TRAINING)]))
    tx = build(doc)
    accounts = {ln.dim1: (ln.value, ln.debitcredit.value, ln.vat_value) for ln in tx.lines if ln.type == "detail"}
    assert accounts["8000"] == (Decimal("100.00"), "credit", Decimal("21.00"))
    assert accounts["8020"] == (Decimal("100.00"), "debit", Decimal("21.00"))  # VAT on the line's own side
    assert accounts["8010"] == (Decimal("100.00"), "credit", Decimal("9.00"))
    total = next(ln for ln in tx.lines if ln.type == "total")
    assert total.value == Decimal("109.00") and total.value == doc.total_incl
    assert zero_total_note(doc) is None


def test_a_zero_total_with_lines_is_booked_with_a_note():
    doc = parse_invoice(fx.invoice([fx.line("Laptop", "1", "100.00", fx.NL21, fx.HARDWARE),
                                    fx.line("Trade-in", "1", "-100.00", fx.NL21, fx.CONSULTING)]))
    tx = build(doc)
    details = [ln for ln in tx.lines if ln.type == "detail"]
    assert [(d.dim1, d.value) for d in details] == [("8000", Decimal("100.00")), ("8020", Decimal("100.00"))]
    assert next(ln for ln in tx.lines if ln.type == "total").value == 0
    assert "booked as it is" in zero_total_note(doc)


def test_a_negative_taxable_base_per_rate_is_spread_to_the_cent():
    doc = parse_invoice(fx.invoice([fx.line("Return A", "1", "-33.33", fx.NL21, fx.HARDWARE),
                                    fx.line("Return B", "1", "-66.67", fx.NL21, fx.CONSULTING),
                                    fx.line("Extra", "1", "10.00", fx.NL21, fx.TRAINING)]))
    tx = build(doc)
    vat = sum((ln.vat_value * (1 if ln.debitcredit.value == "credit" else -1) for ln in tx.lines
               if ln.type == "detail"), Decimal(0))
    assert vat == sum((t.tax for t in doc.taxes), Decimal(0)) == Decimal("-18.90")


def test_descriptions_sent_per_line_are_cleaned_cut_to_40_characters_and_noted():
    doc = parse_invoice(fx.invoice([fx.line("Bell\x07 and NUL\x00 " + "x" * 60, "1", "10.00", fx.NL21)],
                                   number="2026 / 7"))
    tx = build(doc, group_lines="per_line")
    detail = next(ln for ln in tx.lines if ln.type == "detail")
    assert detail.description == ("Bell and NUL " + "x" * 60)[:40] and len(detail.description) == 40
    notes = text_notes(doc, fx.config(group_lines="per_line"))
    assert any("line 1 description: removed U+0007, U+0000" in n for n in notes)
    assert text_notes(doc, fx.config()) == []  # per_account sends category names, not descriptions
