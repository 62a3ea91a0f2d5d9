"""The Twinfield sandbox through zeep clients built from the WSDLs the sandbox itself serves (``?wsdl``).

No ``create_service``: the served WSDL's soap:address must already point back at the sandbox.
"""

from __future__ import annotations

import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError

from sandbox.twinfield.standalone import StandaloneTwinfield

pytestmark = pytest.mark.integration

TW = "{http://www.twinfield.com/}"
INVOICE = """<transactions><transaction destiny="temporary" autobalancevat="true">
<header><office>NLA001</office><code>VRK</code><currency>EUR</currency><date>20240610</date>
<invoicenumber>{number}</invoicenumber></header><lines>
<line type="total" id="1"><dim2>1000</dim2><debitcredit>debit</debitcredit><value>109.00</value>
<description>Focus {number}</description></line>
<line type="detail" id="2"><dim1>8010</dim1><debitcredit>credit</debitcredit><value>100.00</value><vatcode>VL</vatcode>
<description>Training &amp; coaching</description></line></lines></transaction></transactions>"""


@pytest.fixture(scope="module")
def served():
    companies = [{"id": "a", "name": "Alfa B.V.", "vat_number": "NL111111111B01"}, {"id": "b", "name": "Beta B.V."}]
    server = StandaloneTwinfield.with_customers(companies, credits_per_minute=100_000).start()
    yield server
    server.stop()


def client(served, service: str) -> zeep.Client:
    return zeep.Client(f"{served.url}/webservices/{service}.asmx?wsdl")


def header(zeep_client: zeep.Client, **fields):
    return zeep_client.get_element(f"{TW}Header")(**fields)


def oauth(zeep_client: zeep.Client, token: str) -> list:
    return [header(zeep_client, AccessToken=token, CompanyCode="NLA001")]


def test_process_xml_string_books_an_invoice(served, token):
    processxml = client(served, "processxml")
    reply = processxml.service.ProcessXmlString(xmlRequest=INVOICE.format(number="Z-1"),
                                                _soapheaders=oauth(processxml, token))
    transaction = etree.fromstring(reply).find("transaction")
    assert transaction.get("result") == "1" and transaction.get("location") == "temporary"
    assert transaction.findtext("lines/line[@type='vat']/value") == "9.00"


def test_the_soap_12_binding_works_too(served, token):
    processxml = client(served, "processxml")
    service = processxml.bind("ProcessXml", "ProcessXmlSoap12")
    reply = service.ProcessXmlString(xmlRequest="<list><type>offices</type></list>",
                                     _soapheaders=oauth(processxml, token))
    assert [o.text for o in etree.fromstring(reply).findall("office")] == ["NLA001", "NLA002"]


def test_process_xml_document_takes_and_returns_elements(served, token):
    processxml = client(served, "processxml")
    request = etree.fromstring("<read><type>vat</type><office>NLA001</office><code>VL</code></read>")
    reply = processxml.service.ProcessXmlDocument(xmlRequest={"_value_1": request},
                                                  _soapheaders=oauth(processxml, token))
    vat = reply if reply.tag == "vat" else reply.find("vat")
    assert vat.tag == "vat" and vat.findtext("type") == "sales"


def test_an_invalid_token_is_a_zeep_fault_with_code_354(served):
    processxml = client(served, "processxml")
    with pytest.raises(Fault) as raised:
        processxml.service.ProcessXmlString(xmlRequest="<list><type>offices</type></list>",
                                            _soapheaders=oauth(processxml, "expired"))
    assert raised.value.message == "Access denied. Token invalid."
    assert raised.value.code == "soap:Client"
    assert raised.value.detail.findtext("code") == "354"


def test_logon_then_use_the_session_until_a_second_logon(served):
    session = client(served, "session")
    first = session.service.Logon(user="SANDBOX", password="sandbox-password", organisation="ACME")
    assert first.body.LogonResult == "Ok" and first.body.nextAction == "None"
    assert first.body.cluster == served.url
    processxml = client(served, "processxml")
    call = processxml.service.ProcessXmlString
    reply = call(xmlRequest="<list><type>offices</type></list>",
                 _soapheaders=[header(processxml, SessionID=first.header.Header.SessionID)])
    assert etree.fromstring(reply).get("result") == "1"
    session.service.Logon(user="SANDBOX", password="sandbox-password", organisation="ACME")
    with pytest.raises(Fault, match="not valid anymore"):
        call(xmlRequest="<list><type>offices</type></list>",
             _soapheaders=[header(processxml, SessionID=first.header.Header.SessionID)])
    assert session.service.Logon(user="SANDBOX", password="nope", organisation="ACME").body.LogonResult == "Invalid"


def test_finder_search_pages_with_the_served_header(served, token):
    finder = client(served, "finder")
    options = {"ArrayOfString": [{"string": ["dimtype", "DEB"]}]}
    soap_header = [header(finder, AccessToken=token, CompanyCode="NLA001")]
    first = finder.service.Search(type="DIM", pattern="*", field=0, firstRow=1, maxRows=2, options=options,
                                  _soapheaders=soap_header)
    assert first.SearchResult is None and first.data.TotalRows == 3  # Alfa + the two unrelated customers
    assert first.data.Columns.string == ["Code", "Naam"]  # the sandbox's user is Dutch
    second = finder.service.Search(type="DIM", pattern="*", field=0, firstRow=3, maxRows=2, options=options,
                                   _soapheaders=soap_header)
    codes = [row.string[0] for row in first.data.Items.ArrayOfString + second.data.Items.ArrayOfString]
    assert codes == ["1000", "1001", "1002"]
    bad = finder.service.Search(type="NOPE", pattern="*", field=0, firstRow=1, maxRows=2, _soapheaders=soap_header)
    assert bad.SearchResult.MessageOfErrorCodes[0].Code == "InvalidFinderType" and bad.data is None


def test_an_injected_500_is_a_transport_error_not_a_fault(served, token):
    processxml = client(served, "processxml")
    served.twinfield.faults.inject("500", path_contains="processxml.asmx")
    try:
        with pytest.raises(TransportError) as raised:
            processxml.service.ProcessXmlString(xmlRequest="<list><type>offices</type></list>",
                                                _soapheaders=oauth(processxml, token))
        assert raised.value.status_code == 500
    finally:
        served.twinfield.faults.clear()
