"""The hook's XML against Twinfield's real payloads and WSDLs in ../shared/reference (skipped without them):
parsers read the real replies; builders produce requests of the same shape as the real requests; the SOAP
headers serialise as the real WSDLs want.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import zeep
from lxml import etree

from twinfield.domain.twinfield.browse import match_status_from_row, parse_browse
from twinfield.domain.twinfield.common import parse_item_results
from twinfield.domain.twinfield.customers import customer_from_element, customers_xml, parse_customer
from twinfield.domain.twinfield.reference import parse_offices, parse_vat_code
from twinfield.domain.twinfield.transactions import parse_transaction, sales_transactions_xml
from twinfield.domain.twinfield_model import Address, Customer, DebitCredit, SalesTransaction, TransactionLine
from twinfield.hooks.twinfield.auth import Credentials
from twinfield.hooks.twinfield.soap import TNS, Service

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def samples(reference):
    return reference / "twinfield-samples"


def read(samples, name: str) -> bytes:
    return (samples / name).read_bytes()


# -- replies ------------------------------------------------------------------------------------------------------
def test_sales_transaction_read(samples):
    posted = parse_transaction(read(samples, "salesTransactionGetResponse.xml"))
    t = posted.transaction
    assert (posted.location, posted.is_draft, posted.match_status, posted.open_value) == (
        "temporary", True, "available", Decimal("121.00"))
    assert (t.office, t.daybook, t.currency, t.number, t.invoice_number, t.period) == (
        "001", "SLS", "EUR", "201300095", "20130-6000", "2013/05")
    assert (t.date, t.due_date) == (dt.date(2013, 5, 2), dt.date(2013, 5, 6))
    total, detail, vat = t.lines
    assert (total.type, total.dim1, total.dim2, total.value, total.debitcredit) == (
        "total", "1300", "1000", Decimal("121.00"), DebitCredit.DEBIT)
    assert (detail.dim1, detail.vatcode, detail.vat_value, detail.description, detail.debitcredit) == (
        "8020", "VH", Decimal("21.00"), "Outfit", DebitCredit.CREDIT)
    assert (vat.type, vat.dim1, vat.value) == ("vat", "1530", Decimal("21.00"))


def test_two_failed_and_one_successful_transaction(samples):
    results = parse_item_results(read(samples, "2-failed-and-1-successful-banktransactions.xml"), sent=3)
    assert [(r.index, r.ok, r.number, r.location) for r in results] == [
        (0, False, None, None), (1, False, None, None), (2, True, "201700334", "temporary")]
    first = results[0]
    assert [(m.type, m.element, m.line_id) for m in first.messages] == [("error", "transaction", None)] * 3
    assert first.error_messages[0] == "De boeking is niet in balans. Er ontbreekt 0.01 debet."
    assert results[2].messages == ()


def test_failed_transaction_without_line_ids(samples):
    [result] = parse_item_results(read(samples, "failed-response-without-line-ids.xml"), sent=1)
    assert not result.ok
    assert [(m.element, m.line_id) for m in result.messages] == [("transaction", None)]
    assert result.error_messages[0].startswith("Configuratiefout in rekening-courant.")


def test_warning_on_a_header_field(samples):
    [result] = parse_item_results(read(samples, "banktransaction-with-warning-message.xml"), sent=1)
    [warning] = result.messages
    assert not result.ok and result.error_messages == [warning.text]  # a warning fails it like an error
    assert not result.double_invoice_number  # it sits on the date, not on the invoice number
    assert (warning.type, warning.element, warning.line_id) == ("warning", "date", None)
    assert warning.text.startswith("Datum 25-07-2019 valt buiten de opgegeven periode")


def test_customer_read(samples):
    customer = parse_customer(read(samples, "customerGetResponse.xml"))
    assert (customer.code, customer.name, customer.office, customer.due_days) == ("1097", "Customer 0", "001", 30)
    assert customer.vat_number == "NL099887766B01"  # empty <vatnumber>, so the invoice address's field4
    assert customer.iban == "NL02ABNA0123456789"
    assert customer.address == Address("Customer 0", "Streetname part 1 - 1", "1000", "Place", "NL", "info@example.com")


def test_customer_write_reply(samples):
    data = read(samples, "customers-response.xml")
    [result] = parse_item_results(data, sent=1)
    assert (result.ok, result.number, result.key) == (True, "D1001", "D1001")
    customer = customer_from_element(etree.fromstring(data)[0])
    assert (customer.name, customer.vat_number, customer.address.country) == (
        "Hr E G H Küppers en/of MW M.J. Küppers-Veeneman", "BE0123456789", "BE")


def test_vat_code_read(samples):
    vat = parse_vat_code(read(samples, "vatCodeGetResponse.xml"), on=dt.date(2024, 1, 1))
    assert (vat.code, vat.name, vat.type, vat.percentage) == ("VH", "BTW Hoog", "sales", Decimal("21"))
    assert vat.percentages == ((dt.date(2012, 10, 1), Decimal("21")), (dt.date(2000, 1, 1), Decimal("19")))


def test_browse_data(samples):
    result = parse_browse(read(samples, "browseDataGetResponse.xml"))
    assert (result.first, result.last, result.total, result.complete) == (1, 6, 6, True)
    assert result.rows[0].key == {"office": "001", "code": "BNK", "number": "201300001", "line": "2"}
    status = match_status_from_row(result.rows[4])
    assert (status.office, status.daybook, status.number, status.value, status.currency) == (
        "001", "SLS", "201300080", Decimal("13077.63"), "EUR")


def test_offices_list(samples):
    envelope = etree.fromstring(read(samples, "officeOauthGetResponse.xml").decode("utf-16").encode())
    offices = parse_offices(etree.tostring(envelope.find(".//offices")))
    assert [(o.code, o.name) for o in offices] == [("001", "MORE&Zo Services BV"), ("010", "More&Zo Holding")]


# -- requests: same shape as the real ones ----------------------------------------------------------------------------
def paths(element: etree._Element, prefix: str = "") -> dict[str, str]:
    """Every element as path -> text (line elements keyed by their type)."""
    found = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        step = f"{child.tag}[{child.get('type')}]" if child.get("type") and child.tag == "line" else child.tag
        path = f"{prefix}/{step}"
        found[path] = (child.text or "").strip()
        found.update(paths(child, path))
    return found


def test_sales_transaction_request_has_the_samples_shape(samples):
    sample = etree.fromstring(read(samples, "salesTransactionSendRequest.xml"))
    ours = etree.fromstring(sales_transactions_xml([SalesTransaction(
        office="001", daybook="SLS", currency="EUR", date=dt.date(2013, 5, 2),
        invoice_number="20130-6000", due_date=None,
        lines=(TransactionLine("total", "1300", Decimal("121"), DebitCredit.DEBIT, dim2="1000"),
               TransactionLine("detail", "8020", Decimal("100"), DebitCredit.CREDIT, vatcode="VH",
                               description="Outfit")),
    )]))
    theirs = paths(sample)
    theirs.pop("/transaction/header/paymentreference")  # Focus has no payment reference to pass on
    assert theirs.pop("/transaction/lines/line[total]/description") == ""  # we leave empty elements out
    theirs.pop("/transaction/header/period")  # Twinfield derives it from the date, by the office's own periods
    assert paths(ours) == theirs
    # No raisewarning="false": Twinfield's default (warnings fail) refuses a second use of an invoice number.
    assert {k: v for k, v in ours[0].attrib.items() if k != "autobalancevat"} == {
        k: v for k, v in sample[0].attrib.items() if k != "raisewarning"}
    assert [line.attrib for line in ours.iter("line")] == [line.attrib for line in sample.iter("line")]


def test_customer_request_uses_elements_of_the_samples(samples):
    """Every element we send is one Twinfield sends in a customer request or answers in a customer read."""
    sample_paths = set(paths(etree.fromstring(read(samples, "customerSendRequest.xml"))))
    sample_paths |= {"/dimension" + p for p in paths(etree.fromstring(read(samples, "customerGetResponse.xml")))}
    customer = Customer(None, "Customer 0", vat_number="NL099887766B01", due_days=30,
                        address=Address("Customer 0", "Streetname part 1 - 1", "1000", "Place", "NL", "info@example.com"),
                        iban="NL02ABNA0123456789")
    ours = paths(etree.fromstring(customers_xml([customer], "001")))
    assert set(ours) <= sample_paths, set(ours) - sample_paths
    assert ours["/dimension/type"] == "DEB" and ours["/dimension/office"] == "001"


# -- SOAP headers against the real WSDLs ---------------------------------------------------------------------------
def serialised_header(client: zeep.Client, operation: str, header, **body) -> etree._Element:
    envelope = client.create_message(client.service, operation, _soapheaders=[header], **body)
    return envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")[0]


def test_processxml_header_with_keyword_arguments(reference):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "processxml.wsdl"))
    service = Service(client, client.service)
    header = serialised_header(client, "ProcessXmlString", Credentials("c", access_token="tok").header(service, "NLA001"),
                               xmlRequest="<list/>")
    children = [(etree.QName(c).localname, c.text, c.get("{http://www.w3.org/2001/XMLSchema-instance}nil"))
                for c in header]
    assert children == [("AccessToken", "tok", None), ("CompanyCode", "NLA001", None), ("CompanyId", None, "true")]
    session = serialised_header(client, "ProcessXmlString", Credentials("c", session_id="sid").header(service, None),
                                xmlRequest="<list/>")
    assert [(etree.QName(c).localname, c.text) for c in session][0] == ("SessionID", "sid")


def test_finder_takes_the_plain_header_its_wsdl_does_not_declare(reference):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "finder.wsdl"))
    header = serialised_header(client, "Search", Credentials("c", access_token="tok").plain_header("NLA001"),
                               type="DIM", pattern="*", field=0, firstRow=1, maxRows=100)
    assert header.tag == f"{{{TNS}}}Header"
    assert [(c.tag, c.text) for c in header] == [(f"{{{TNS}}}AccessToken", "tok"), (f"{{{TNS}}}CompanyCode", "NLA001")]
