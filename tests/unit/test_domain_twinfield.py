"""twinfield.domain.twinfield: request builders against golden files, reply parsers on hand-made replies.

The parsers are also run on the real Twinfield samples in tests/contract/test_twinfield_samples.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from twinfield.domain.batching import TWINFIELD_MAX_PER_REQUEST, chunked
from twinfield.domain.twinfield.browse import (
    MATCH_FIELDS,
    BrowseRefused,
    match_status_browse_xml,
    match_status_from_row,
    parse_browse,
)
from twinfield.domain.twinfield.common import finder_records, parse_item_results
from twinfield.domain.twinfield.customers import (
    customer_from_element,
    customers_xml,
    parse_customer,
    read_dimension_xml,
)
from twinfield.domain.twinfield.reference import list_offices_xml, parse_offices, parse_vat_code, read_vat_xml
from twinfield.domain.twinfield.transactions import (
    delete_transaction_xml,
    parse_transaction,
    read_transaction_xml,
    sales_transactions_xml,
)
from twinfield.domain.twinfield_model import (
    Address,
    Customer,
    DebitCredit,
    SalesTransaction,
    TransactionLine,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "twinfield"
D, C = DebitCredit.DEBIT, DebitCredit.CREDIT


def canonical(xml: str | bytes) -> bytes:
    """Whitespace between elements dropped, so golden files may be indented."""
    data = xml.encode() if isinstance(xml, str) else xml
    return etree.tostring(etree.fromstring(data, etree.XMLParser(remove_blank_text=True)), method="c14n")


def assert_golden(xml: str, name: str) -> None:
    assert canonical(xml) == canonical((GOLDEN / name).read_bytes()), xml


def invoice(number: str = "2024/0001", credit_note: bool = False, twinfield_number: str | None = None,
            debtors: str = "") -> SalesTransaction:
    total, detail = (C, D) if credit_note else (D, C)
    return SalesTransaction(
        office="NLA001",
        daybook="VRK",
        currency="EUR",
        date=dt.date(2024, 3, 5),
        invoice_number=number,
        due_date=dt.date(2024, 4, 4),
        header_description="Invoice 2024/0001 Café & Co",
        number=twinfield_number,
        lines=(
            TransactionLine("total", debtors, Decimal("130.00"), total, dim2="C1001"),
            TransactionLine("detail", "8000", Decimal("100"), detail, vatcode="VH", vat_value=Decimal("21"),
                            description="Laptop <15\">"),
            TransactionLine("detail", "8010", Decimal("8.26"), detail, vatcode="VL", vat_value=Decimal("0.74"),
                            description="Training"),
        ),
    )


# -- builders ----------------------------------------------------------------------------------------------
def test_sales_transactions_match_golden_invoice_and_credit_note():
    """A new invoice (no number, no debtors account: the customer's own) and an update of a draft credit note
    (its number; a configured debtors account), with an intra-community service line."""
    service = TransactionLine("detail", "8100", Decimal("10.00"), D, vatcode="VICP", vat_value=Decimal("0"),
                              description="Support", performance_type="services",
                              performance_date=dt.date(2024, 3, 5))
    note = invoice("2024/0002", credit_note=True, twinfield_number="202400017", debtors="1300")
    note = SalesTransaction(**{**note.__dict__, "lines": (*note.lines, service)})
    xml = sales_transactions_xml([invoice(), note])
    assert_golden(xml, "sales_transactions_request.xml")
    root = etree.fromstring(xml)
    assert root.find(".//period") is None  # Twinfield derives it from the date
    first, second = root.findall("transaction")
    assert first.find("header/number") is None and second.findtext("header/number") == "202400017"
    assert first.find("lines/line[@type='total']/dim1") is None


def test_sales_transaction_escapes_and_formats_amounts():
    root = etree.fromstring(sales_transactions_xml([invoice()]))
    detail = root.find("transaction/lines/line[@id='2']")
    assert detail.findtext("description") == 'Laptop <15">'
    assert detail.findtext("value") == "100.00"
    assert detail.findtext("vatvalue") == "21.00"
    # the header description describes the total line when that has none of its own
    assert root.findtext("transaction/lines/line[@type='total']/description") == "Invoice 2024/0001 Café & Co"
    # never raisewarning="false": the double-invoice-number warning must refuse a second transaction
    assert root.find("transaction").attrib == {"destiny": "temporary", "autobalancevat": "true"}


def test_a_foreign_currency_transaction_has_its_currency_and_no_line_rates():
    usd = SalesTransaction(**{**invoice().__dict__, "currency": "USD"})
    root = etree.fromstring(sales_transactions_xml([usd]))
    assert root.findtext("transaction/header/currency") == "USD"
    assert [line.findtext("value") for line in root.iterfind("transaction/lines/line")] == ["130.00", "100.00", "8.26"]
    assert root.find(".//rate") is None and root.find(".//basevalue") is None  # Twinfield converts


def test_builders_refuse_more_than_25_children_and_none():
    with pytest.raises(ValueError, match="at most 25"):
        sales_transactions_xml([invoice(str(i)) for i in range(26)])
    with pytest.raises(ValueError, match="no customers"):
        customers_xml([], "NLA001")
    assert [len(c) for c in chunked(list(range(60)), TWINFIELD_MAX_PER_REQUEST)] == [25, 25, 10]


def test_customers_match_golden_new_and_existing():
    customers = [
        Customer(code=None, name="Bakkerij <De> Vries", vat_number="NL123456789B01", due_days=14,
                 address=Address(street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL",
                                 email="info@devries.example"),
                 iban="NL91ABNA0417164300"),
        Customer(code="C1001", name="Acme BV", vat_number="BE0123456749"),
        Customer(code="C1002", name="No VAT Ltd"),
    ]
    assert_golden(customers_xml(customers, "NLA001"), "customers_request.xml")


def test_delete_read_and_list_requests():
    assert canonical(delete_transaction_xml("NLA001", "VRK", "202400012", "Focus invoice & credit")) == canonical(
        '<transaction action="delete" reason="Focus invoice &amp; credit"><office>NLA001</office>'
        "<code>VRK</code><number>202400012</number></transaction>"
    )
    assert canonical(read_transaction_xml("NLA001", "VRK", "202400012")) == canonical(
        "<read><type>transaction</type><office>NLA001</office><code>VRK</code><number>202400012</number></read>"
    )
    assert canonical(read_dimension_xml("NLA001", "DEB", "0110")) == canonical(
        "<read><type>dimensions</type><office>NLA001</office><dimtype>DEB</dimtype><code>0110</code></read>"
    )
    assert canonical(read_vat_xml("NLA001", "VH")) == canonical(
        "<read><type>vat</type><office>NLA001</office><code>VH</code></read>"
    )
    assert canonical(list_offices_xml()) == canonical("<list><type>offices</type></list>")


def test_match_status_browse_matches_golden():
    xml = match_status_browse_xml("NLA001", "VRK", ("2024/0001", "2024/0100"), ("2024/01", "2024/12"))
    assert_golden(xml, "match_status_browse_request.xml")


def test_match_status_browse_without_ranges_only_asks_office_daybook_status():
    root = etree.fromstring(match_status_browse_xml("NLA001", "VRK"))
    asked = {c.findtext("field"): (c.findtext("operator"), c.findtext("from")) for c in root
             if c.findtext("ask") == "true"}
    assert asked == {"fin.trs.head.office": ("equal", "NLA001"), "fin.trs.head.code": ("equal", "VRK"),
                     "fin.trs.head.status": ("equal", "normal")}
    assert [c.findtext("field") for c in root] == list(MATCH_FIELDS)


# -- per-item results ----------------------------------------------------------------------------------------
BATCH_REPLY = """<transactions result="0">
  <transaction destiny="temporary" result="1" location="temporary">
    <header><office>NLA001</office><code>VRK</code><invoicenumber>A-1</invoicenumber><number>202400007</number></header>
    <lines><line type="total" id="1"><dim1>1300</dim1></line></lines>
  </transaction>
  <transaction destiny="temporary" result="0" msgtype="error" msg="De boeking is niet in balans.//Er ontbreekt 0.01 debet.">
    <header><office>NLA001</office><code>VRK</code><invoicenumber>A-2</invoicenumber>
      <period msgtype="error" msg="Periode 2030/01 is gesloten." result="0">2030/01</period></header>
    <lines>
      <line type="total" id="1"><dim1>1300</dim1><dim2 msgtype="error" msg="Relatie X bestaat niet." result="0">X</dim2></line>
      <line type="detail" id="2" msgtype="warning" msg="Let op."><dim1 msgtype="error" msg="Grootboekrekening 8999 bestaat niet." result="0">8999</dim1></line>
    </lines>
  </transaction>
</transactions>"""


def test_item_results_in_order_with_where_each_message_sat():
    ok, failed = parse_item_results(BATCH_REPLY, sent=2, first_index=25)
    assert (ok.index, ok.ok, ok.key, ok.number, ok.location) == (25, True, "A-1", "202400007", "temporary")
    assert ok.messages == ()
    assert (failed.index, failed.ok, failed.key, failed.number) == (26, False, "A-2", None)
    where = [(m.type, m.element, m.line_id, m.text) for m in failed.messages]
    assert where == [
        ("error", "transaction", None, "De boeking is niet in balans."),
        ("error", "transaction", None, "Er ontbreekt 0.01 debet."),
        ("error", "period", None, "Periode 2030/01 is gesloten."),
        ("error", "dim2", "1", "Relatie X bestaat niet."),
        ("warning", "line", "2", "Let op."),
        ("error", "dim1", "2", "Grootboekrekening 8999 bestaat niet."),
    ]
    assert failed.error_messages[-1] == "Grootboekrekening 8999 bestaat niet."


def test_item_results_fill_missing_children_with_the_roots_message():
    reply = '<transactions result="0" msgtype="error" msg="Maximaal 25 transacties per verzoek."/>'
    results = parse_item_results(reply, sent=2)
    assert [(r.index, r.ok) for r in results] == [(0, False), (1, False)]
    assert results[1].error_messages == ["Maximaal 25 transacties per verzoek."]


def test_item_results_of_dimensions_and_a_single_delete():
    reply = """<dimensions result="0">
      <dimension result="1"><office>NLA001</office><type>DEB</type><code>C1003</code><name>New</name></dimension>
      <dimension result="0"><office>NLA001</office><type>DEB</type><code>C1</code>
        <name msgtype="error" msg="Naam is verplicht." result="0"/></dimension>
    </dimensions>"""
    new, bad = parse_item_results(reply, sent=2)
    assert (new.ok, new.number, new.key) == (True, "C1003", "C1003")
    assert (bad.ok, bad.number, [(m.element, m.text) for m in bad.messages]) == (False, None, [("name", "Naam is verplicht.")])
    deleted = parse_item_results('<transaction action="delete" result="1"><office>NLA001</office>'
                                    "<code>VRK</code><number>202400012</number></transaction>", sent=1)
    assert (deleted[0].ok, deleted[0].number) == (True, "202400012")


def test_messages_in_lines_without_ids_use_the_line_position():
    reply = """<transactions result="0"><transaction result="0"><header/><lines>
      <line type="total"><dim1>1300</dim1></line>
      <line type="detail"><vatcode msgtype="error" msg="BTW-code XX bestaat niet.">XX</vatcode></line>
    </lines></transaction></transactions>"""
    [result] = parse_item_results(reply, sent=1)
    assert [(m.element, m.line_id) for m in result.messages] == [("vatcode", "2")]


# -- reads ------------------------------------------------------------------------------------------------------
def test_parse_transaction_read_with_total_line_match_state():
    reply = """<transaction result="1" location="final">
      <header><office>NLA001</office><code>VRK</code><currency>EUR</currency><date>20240305</date>
        <period>2024/03</period><invoicenumber>2024/0002</invoicenumber><duedate>20240404</duedate>
        <number>202400008</number></header>
      <lines>
        <line type="total" id="1"><dim1>1300</dim1><dim2>C1001</dim2><debitcredit>credit</debitcredit>
          <value>121.00</value><openvalue>21.00</openvalue><matchstatus>available</matchstatus>
          <matchdate>20240320</matchdate></line>
        <line type="detail" id="2"><dim1>8000</dim1><debitcredit>debit</debitcredit><value>100.00</value>
          <vatcode>VH</vatcode><vatvalue>21.00</vatvalue><description>Laptop</description></line>
      </lines></transaction>"""
    posted = parse_transaction(reply)
    assert (posted.location, posted.is_draft, posted.match_status) == ("final", False, "available")
    assert posted.open_value == Decimal("-21.00")  # credit note: the total line is a credit
    assert posted.match_date == dt.date(2024, 3, 20)
    t = posted.transaction
    assert (t.number, t.invoice_number, t.date, t.due_date, t.period) == (
        "202400008", "2024/0002", dt.date(2024, 3, 5), dt.date(2024, 4, 4), "2024/03")
    assert [(ln.type, ln.debitcredit, ln.value, ln.vat_value) for ln in t.lines] == [
        ("total", C, Decimal("121.00"), None), ("detail", D, Decimal("100.00"), Decimal("21.00"))]


def test_parse_reads_return_none_when_twinfield_has_no_such_item():
    assert parse_transaction('<transaction result="0" msgtype="error" msg="Boeking bestaat niet."/>') is None
    assert parse_customer('<dimension result="0" msgtype="error" msg="Bestaat niet."/>') is None
    assert parse_vat_code('<vat result="0"/>', dt.date(2024, 1, 1)) is None


def test_parse_customer_prefers_vatnumber_element_then_address_field4():
    reply = """<dimension result="1"><office>NLA001</office><type>DEB</type><code>C1001</code><name>Acme</name>
      <vatnumber/><financials><duedays>14</duedays></financials>
      <addresses><address type="invoice" default="true"><name>Acme</name><country>NL</country><city>Utrecht</city>
        <postcode>1234 AB</postcode><email>a@acme.example</email><field2>Dorpsstraat 1</field2>
        <field4>NL123456789B01</field4></address></addresses>
      <banks><bank default="true"><iban>NL91ABNA0417164300</iban></bank></banks></dimension>"""
    c = parse_customer(reply)
    assert (c.code, c.name, c.vat_number, c.due_days, c.iban, c.office) == (
        "C1001", "Acme", "NL123456789B01", 14, "NL91ABNA0417164300", "NLA001")
    assert c.address == Address("Acme", "Dorpsstraat 1", "1234 AB", "Utrecht", "NL", "a@acme.example")
    with_element = reply.replace("<vatnumber/>", "<vatnumber>BE0123456749</vatnumber>")
    assert parse_customer(with_element).vat_number == "BE0123456749"


def test_built_customer_reads_back_the_same():
    customer = Customer(code="C9", name="Round & Trip", vat_number="NL1B01", due_days=30,
                        address=Address("Round & Trip", "Main 1", "1000 AA", "Amsterdam", "NL", "x@y.example"),
                        iban="NL02ABNA0123456789", office="NLA001", coc_number="12345678")
    element = etree.fromstring(customers_xml([customer], "NLA001"))[0]
    assert customer_from_element(element) == customer


def test_registration_number_goes_in_cocnumber_and_the_invoice_address_field5():
    element = etree.fromstring(customers_xml([Customer(code=None, name="Kvk BV", coc_number="12345678")],
                                                "NLA001"))[0]
    assert element.findtext("cocnumber") == "12345678"
    assert element.findtext("addresses/address[@type='invoice']/field5") == "12345678"
    without = etree.fromstring(customers_xml([Customer(code=None, name="Geen BV")], "NLA001"))[0]
    assert without.find("cocnumber") is None and without.find("addresses") is None
    # Read back: <cocnumber>, else the address's field5 (customerGetResponse.xml keeps a number there).
    del element[[child.tag for child in element].index("cocnumber")]
    assert customer_from_element(element).coc_number == "12345678"


def test_vat_code_percentage_is_the_one_valid_on_the_day():
    reply = """<vat result="1"><code>VH</code><name>BTW hoog</name><type>sales</type><percentages>
      <percentage><date>20121001</date><percentage>21.000000000</percentage></percentage>
      <percentage><date>20000101</date><percentage>19.000000000</percentage></percentage>
      <percentage><date>20300101</date><percentage>22.5</percentage></percentage>
    </percentages></vat>"""
    vat = parse_vat_code(reply, on=dt.date(2024, 6, 1))
    assert (vat.code, vat.name, vat.type, vat.percentage) == ("VH", "BTW hoog", "sales", Decimal("21"))
    assert [p for _, p in vat.percentages] == [Decimal("22.5"), Decimal("21"), Decimal("19")]
    assert parse_vat_code(reply, on=dt.date(2010, 1, 1)).percentage == Decimal("19")
    assert parse_vat_code(reply, on=dt.date(1999, 1, 1)).percentage is None


def test_parse_offices():
    reply = '<offices result="1"><office name="Acme &amp; Co" shortname="Acme">NLA001</office></offices>'
    [office] = parse_offices(reply)
    assert (office.code, office.name, office.extra) == ("NLA001", "Acme & Co", {"shortname": "Acme"})


# -- browse -------------------------------------------------------------------------------------------------------
def browse_reply(rows: list[dict[str, str]], total: int | None = None) -> str:
    trs = "".join(
        "<tr>" + "".join(f'<td field="{k}">{v}</td>' for k, v in row.items())
        + f"<key><office>NLA001</office><code>VRK</code><number>{row['fin.trs.head.number']}</number>"
        "<line>1</line></key></tr>"
        for row in rows
    )
    total = len(rows) if total is None else total
    return f'<browse result="1" first="1" last="{len(rows)}" total="{total}"><th/>{trs}</browse>'


def test_match_status_from_browse_rows():
    row = {"fin.trs.head.code": "VRK", "fin.trs.head.number": "202400007", "fin.trs.head.status": "final",
           "fin.trs.head.curcode": "EUR", "fin.trs.line.invnumber": "2024/0001", "fin.trs.line.dim2": "C1001",
           "fin.trs.line.valuesigned": "121.00", "fin.trs.line.openvaluesigned": "21.00",
           "fin.trs.line.matchstatus": "available", "fin.trs.line.matchdate": "20240320"}
    result = parse_browse(browse_reply([row]))
    assert result.complete and result.total == 1
    status = match_status_from_row(result.rows[0])
    assert (status.office, status.daybook, status.number, status.invoice_number, status.customer_code) == (
        "NLA001", "VRK", "202400007", "2024/0001", "C1001")
    assert (status.value, status.open_value, status.paid_amount) == (Decimal("121.00"), Decimal("21.00"),
                                                                     Decimal("100.00"))
    assert (status.status, status.match_status, status.match_date) == ("final", "available", dt.date(2024, 3, 20))


def test_browse_reply_with_fewer_rows_than_total_is_incomplete():
    row = {"fin.trs.head.number": "1"}
    assert not parse_browse(browse_reply([row], total=5)).complete


def test_browse_read_row_by_row_keeps_only_what_is_asked_and_still_counts_every_row():
    rows = [{"fin.trs.head.number": str(n), "fin.trs.line.invnumber": f"2024/{n:04d}"} for n in range(1, 6)]
    result = parse_browse(browse_reply(rows), keep=lambda row: row.values["fin.trs.head.number"] in ("2", "4"))
    assert [r.values["fin.trs.head.number"] for r in result.rows] == ["2", "4"]
    assert result.received == 5 and result.complete
    assert not parse_browse(browse_reply(rows, total=6), keep=lambda row: False).complete


def test_refused_browse_raises_with_twinfield_messages():
    reply = '<browse result="0"><column msg="Field fin.trs.line.foo unknown." msgtype="error"/></browse>'
    with pytest.raises(BrowseRefused, match="fin.trs.line.foo unknown"):
        parse_browse(reply)
    with pytest.raises(BrowseRefused, match="<dimensions> reply"):
        parse_browse("<dimensions/>")


def test_finder_records_by_position_whatever_the_titles_say():
    # Titles are in the user's language (["Code", "Naam"] for a Dutch user) and are not even passed in.
    assert finder_records([["C1", "Acme"], ["C2", "Beta", "extra"], ["C3"]]) == [
        {"code": "C1", "name": "Acme"}, {"code": "C2", "name": "Beta"}, {"code": "C3", "name": ""}]


def test_a_double_invoice_number_warning_is_told_apart_from_other_refusals():
    reply = """<transactions result="0">
      <transaction destiny="temporary" result="0"><header result="0"><office>NLA001</office><code>VRK</code>
        <invoicenumber msgtype="warning" msg="Factuurnummer 2024-1 is al gebruikt." result="0">2024-1</invoicenumber>
        <period>2024/03</period></header><lines><line type="total" id="1"><dim2>1000</dim2></line></lines>
      </transaction>
      <transaction destiny="temporary" result="0"><header result="0"><office>NLA001</office><code>VRK</code>
        <invoicenumber>2024-2</invoicenumber>
        <date msgtype="warning" msg="Datum valt buiten de opgegeven periode." result="0">20240725</date></header>
      </transaction>
      <transaction destiny="temporary" result="1" location="temporary"><header><office>NLA001</office>
        <code>VRK</code><period>2024/08</period><invoicenumber>2024-3</invoicenumber><number>202400009</number>
      </header></transaction>
    </transactions>"""
    double, dated, booked = parse_item_results(reply, sent=3)
    assert double.double_invoice_number and double.error_messages == ["Factuurnummer 2024-1 is al gebruikt."]
    assert not dated.double_invoice_number and not dated.ok
    assert (booked.ok, booked.number, booked.period, booked.double_invoice_number) == (True, "202400009", "2024/08",
                                                                                       False)
