"""The Twinfield sandbox against the real contract in ../shared/reference (skipped when that folder is absent).

- zeep clients built from the REAL WSDL files, pointed at the sandbox with ``create_service``, call Logon,
  ProcessXmlString and Search;
- the WSDLs the sandbox serves declare the same operations, messages, bindings, SOAP actions, services and
  types as the real ones (the Finder's Header is the current one, a superset of the reference's older one);
- the sandbox's replies have the element and attribute names of the real samples, and it accepts the real
  sample requests (with the sandbox's office, daybook and an open period).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault

from sandbox.twinfield.standalone import StandaloneTwinfield

pytestmark = pytest.mark.contract

TNS = "http://www.twinfield.com/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP_BINDINGS = ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")
SERVICES = {"session": "SessionSoap", "processxml": "ProcessXmlSoap", "finder": "FinderSoap"}


@pytest.fixture(scope="module")
def served():
    companies = [{"id": "a", "name": "Customer 0", "vat_number": "NL099887766B01"}]
    server = StandaloneTwinfield.with_customers(companies, credits_per_minute=100_000).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def processxml(reference: Path, served):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "processxml.wsdl"))
    return client, client.create_service(f"{{{TNS}}}ProcessXmlSoap", f"{served.url}/webservices/processxml.asmx")


def process(processxml, token: str, request: str) -> etree._Element:
    client, service = processxml
    header = client.get_element(f"{{{TNS}}}Header")(AccessToken=token, CompanyCode="NLA001")
    return etree.fromstring(service.ProcessXmlString(xmlRequest=request, _soapheaders=[header]))


# -- zeep built from the real WSDLs -------------------------------------------------------------------------------
def test_real_session_wsdl_logs_on_to_the_sandbox(reference, served):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "session.wsdl"))
    service = client.create_service(f"{{{TNS}}}SessionSoap", f"{served.url}/webservices/session.asmx")
    result = service.Logon(user="SANDBOX", password="sandbox-password", organisation="ACME")
    assert (result.body.LogonResult, result.body.nextAction, result.body.cluster) == ("Ok", "None", served.url)
    assert result.header.Header.SessionID
    assert service.Logon(user="SANDBOX", password="x", organisation="ACME").body.LogonResult == "Invalid"


def test_real_processxml_wsdl_posts_and_reads_through_the_sandbox(processxml, token):
    posted = process(processxml, token, """<transactions><transaction destiny="temporary" raisewarning="false">
        <header><office>NLA001</office><code>VRK</code><currency>EUR</currency><date>20240502</date>
        <period>2024/05</period><invoicenumber>CONTRACT-1</invoicenumber></header><lines>
        <line type="total" id="1"><dim1>1300</dim1><dim2>1000</dim2><debitcredit>debit</debitcredit>
        <value>121.00</value><description>Outfit</description></line>
        <line type="detail" id="2"><dim1>8020</dim1><debitcredit>credit</debitcredit><value>100.00</value>
        <vatcode>VH</vatcode><description>Outfit</description></line></lines></transaction></transactions>""")
    assert posted.get("result") == "1"
    number = posted.findtext("transaction/header/number")
    read = process(processxml, token, f"<read><type>transaction</type><office>NLA001</office><code>VRK</code>"
                                      f"<number>{number}</number></read>")
    assert read.get("result") == "1" and read.findtext("lines/line[@type='total']/openvalue") == "121.00"


def test_real_processxml_wsdl_soap12_binding_and_token_fault(reference, served):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "processxml.wsdl"))
    service = client.create_service(f"{{{TNS}}}ProcessXmlSoap12", f"{served.url}/webservices/processxml.asmx")
    header = client.get_element(f"{{{TNS}}}Header")(AccessToken="expired", CompanyCode="NLA001")
    with pytest.raises(Fault) as raised:
        service.ProcessXmlString(xmlRequest="<list><type>offices</type></list>", _soapheaders=[header])
    assert raised.value.message == "Access denied. Token invalid."


def test_real_finder_wsdl_searches_with_an_lxml_header(reference, served, token):
    client = zeep.Client(str(reference / "twinfield-wsdl" / "finder.wsdl"))
    service = client.create_service(f"{{{TNS}}}FinderSoap", f"{served.url}/webservices/finder.asmx")
    header = etree.Element(f"{{{TNS}}}Header", nsmap={None: TNS})
    etree.SubElement(header, f"{{{TNS}}}AccessToken").text = token
    etree.SubElement(header, f"{{{TNS}}}CompanyCode").text = "NLA001"
    result = service.Search(type="DIM", pattern="Customer*", field=2, firstRow=1, maxRows=10,
                            options={"ArrayOfString": [{"string": ["dimtype", "DEB"]}]}, _soapheaders=[header])
    assert result.data.TotalRows == 1
    assert result.data.Items.ArrayOfString[0].string == ["1000", "Customer 0"]


# -- the served WSDLs declare what the real ones do ---------------------------------------------------------------
def _resolve(element: etree._Element, value: str | None) -> str | None:
    if value is None:
        return None
    prefix, _, local = value.rpartition(":")
    return f"{{{element.nsmap.get(prefix or None, '')}}}{local}"


def _particles(definition: etree._Element) -> list[tuple]:
    return [
        (e.get("name"), _resolve(e, e.get("type")), e.get("minOccurs", "1"), e.get("maxOccurs", "1"),
         e.get("nillable", "false"))
        for e in definition.iter(f"{{{XSD}}}element")
        if e is not definition
    ]


def describe(wsdl: etree._Element) -> dict:
    """Everything a client relies on, with prefixes resolved (prefix choices and documentation may differ)."""
    port_type_ops = {
        op.get("name"): tuple(
            _resolve(m, m.get("message")) for m in op if etree.QName(m).localname in ("input", "output")
        )
        for op in wsdl.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")
    }
    messages = {
        m.get("name"): [(p.get("name"), _resolve(p, p.get("element"))) for p in m.iterfind(f"{{{WSDL_NS}}}part")]
        for m in wsdl.iterfind(f"{{{WSDL_NS}}}message")
    }
    bindings = {}
    for binding in wsdl.iterfind(f"{{{WSDL_NS}}}binding"):
        operations = {}
        for op in binding.iterfind(f"{{{WSDL_NS}}}operation"):
            action = next(e.get("soapAction") for e in op if etree.QName(e).localname == "operation")
            headers = {
                etree.QName(direction).localname: [_resolve(h, h.get("message")) for h in direction
                                                   if etree.QName(h).localname == "header"]
                for direction in op if etree.QName(direction).localname in ("input", "output")
            }
            operations[op.get("name")] = (action, headers)
        kind = next(etree.QName(e).namespace for e in binding if etree.QName(e).localname == "binding")
        bindings[binding.get("name")] = (_resolve(binding, binding.get("type")), kind, operations)
    services = {
        s.get("name"): {p.get("name"): _resolve(p, p.get("binding")) for p in s.iterfind(f"{{{WSDL_NS}}}port")}
        for s in wsdl.iterfind(f"{{{WSDL_NS}}}service")
    }
    types_ = {}
    for schema in wsdl.iterfind(f"{{{WSDL_NS}}}types/{{{XSD}}}schema"):
        namespace = schema.get("targetNamespace")
        for definition in schema:
            if not isinstance(definition.tag, str) or definition.get("name") is None:
                continue
            kind = etree.QName(definition).localname
            enumerations = [e.get("value") for e in definition.iter(f"{{{XSD}}}enumeration")]
            types_[(kind, f"{{{namespace}}}{definition.get('name')}")] = (
                _resolve(definition, definition.get("type")), _particles(definition), enumerations)
    return {"operations": port_type_ops, "messages": messages, "bindings": bindings, "services": services,
            "types": types_}


@pytest.mark.parametrize("service", SERVICES)
def test_served_wsdl_declares_what_the_real_one_does(reference, served, service):
    real = describe(etree.parse(str(reference / "twinfield-wsdl" / f"{service}.wsdl")).getroot())
    mine = describe(etree.fromstring(requests.get(f"{served.url}/webservices/{service}.asmx?wsdl", timeout=10).content))
    if service == "session":
        _without_select_company(mine)
    assert mine["operations"] == real["operations"]
    assert mine["messages"] == real["messages"]
    assert mine["bindings"] == real["bindings"]
    assert mine["services"] == real["services"]
    header = ("complexType", f"{{{TNS}}}Header")
    if service == "finder":
        # The reference Finder WSDL predates OAuth (SessionID only); the served one has the current Header,
        # the same as ProcessXml's, so AccessToken and CompanyCode can be passed as keyword arguments.
        real_fields, my_fields = real["types"].pop(header)[1], mine["types"].pop(header)[1]
        assert set(real_fields) <= set(my_fields)
        processxml_wsdl = etree.parse(str(reference / "twinfield-wsdl" / "processxml.wsdl")).getroot()
        assert my_fields == describe(processxml_wsdl)["types"][header][1]
        for guid in [key for key in mine["types"] if key[1] == "{http://microsoft.com/wsdl/types/}guid"]:
            mine["types"].pop(guid)
    assert mine["types"] == real["types"]


def _without_select_company(described: dict) -> None:
    """The reference session.wsdl is an older copy: the live session.asmx also has SelectCompany (in Twinfield's
    own .NET samples: ``SelectCompanyResult SelectCompany(Header, string company)``) and the LogonResult
    OAuth2AuthenticationRequired (reference README). Everything else must be the same."""
    described["operations"].pop("SelectCompany")
    for name in ("SelectCompanySoapIn", "SelectCompanySoapOut", "SelectCompanyHeader"):
        described["messages"].pop(name)
    for _, _, operations in described["bindings"].values():
        operations.pop("SelectCompany")
    for name in ("SelectCompany", "SelectCompanyResponse"):
        described["types"].pop(("element", f"{{{TNS}}}{name}"))
    described["types"].pop(("simpleType", f"{{{TNS}}}SelectCompanyResult"))
    described["types"][("simpleType", f"{{{TNS}}}LogonResult")][2].remove("OAuth2AuthenticationRequired")


def test_packaged_wsdls_are_the_served_ones_with_twinfields_addresses(served):
    """The client's own WSDLs (shipped in the package, so no task downloads them) declare what the sandbox's do."""
    from twinfield.hooks.twinfield.soap import WSDL_DIR

    for service in SERVICES:
        served_text = requests.get(f"{served.url}/webservices/{service}.asmx?wsdl", timeout=10).text
        packaged = describe(etree.parse(str(WSDL_DIR / f"{service}.wsdl")).getroot())
        assert packaged == describe(etree.fromstring(served_text.encode()))
        host = "login" if service == "session" else "api"
        assert f'location="https://{host}.twinfield.com/webservices/{service}.asmx"' in (
            WSDL_DIR / f"{service}.wsdl").read_text(encoding="utf-8")


# -- replies shaped like the real samples -------------------------------------------------------------------------
def shape(element: etree._Element, prefix: str = "") -> set[str]:
    """Every element path and element@attribute in a document."""
    path = f"{prefix}/{element.tag}" if prefix else element.tag
    found = {path} | {f"{path}@{name}" for name in element.attrib}
    for child in element:
        if isinstance(child.tag, str):
            found |= shape(child, path)
    return found


def sample(reference: Path, name: str) -> etree._Element:
    return etree.parse(str(reference / "twinfield-samples" / name)).getroot()


# The sample's total line has an empty description, which NLA001's VRK (descriptions required) refuses.
DESCRIBED = {"<description />": "<description>Sample</description>"}


def sample_request(reference: Path, name: str, **replacements: str) -> str:
    text = (reference / "twinfield-samples" / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def test_the_real_sample_requests_are_accepted(reference, processxml, token):
    customer = process(processxml, token, sample_request(reference, "customerSendRequest.xml",
                                                         **{"<office>001</office>": "<office>NLA001</office>"}))
    assert customer.get("result") == "1", etree.tostring(customer)
    transaction = process(processxml, token, sample_request(
        reference, "salesTransactionSendRequest.xml", **DESCRIBED, **{
            "<code>SLS</code>": "<code>VRK</code>", "<office>001</office>": "<office>NLA001</office>",
            "<date>20130502</date>": "<date>20240502</date>", "<period>2013/05</period>": "<period>2024/05</period>"}))
    assert transaction.get("result") == "1", etree.tostring(transaction)


def test_replies_have_the_names_of_the_real_samples(reference, processxml, token):
    created = process(processxml, token, sample_request(reference, "customerSendRequest.xml",
                                                        **{"<office>001</office>": "<office>NLA001</office>"}))
    code = created.findtext("dimension/code")
    number = process(processxml, token, sample_request(
        reference, "salesTransactionSendRequest.xml", **DESCRIBED, **{
            "<code>SLS</code>": "<code>VRK</code>", "<office>001</office>": "<office>NLA001</office>",
            "<date>20130502</date>": "<date>20240601</date>", "<period>2013/05</period>": "<period>2024/06</period>",
            "20130-6000": "SHAPE-1"})).findtext("transaction/header/number")
    replies = {
        "salesTransactionGetResponse.xml": f"<read><type>transaction</type><office>NLA001</office><code>VRK</code>"
                                           f"<number>{number}</number></read>",
        "customerGetResponse.xml": f"<read><type>dimensions</type><office>NLA001</office><dimtype>DEB</dimtype>"
                                   f"<code>{code}</code></read>",
        "vatCodeGetResponse.xml": "<read><type>vat</type><office>NLA001</office><code>VH</code></read>",
        "customerListResponse.xml": "<list><type>dimensions</type><office>NLA001</office><dimtype>DEB</dimtype></list>",
        "browseDefinitionGetResponse.xml": "<read><type>browse</type><office>NLA001</office><code>100</code></read>",
        "browseDataGetResponse.xml": '<columns code="100"><column><field>fin.trs.head.yearperiod</field></column>'
                                     "<column><field>fin.trs.line.valuesigned</field></column></columns>",
    }
    for name, request in replies.items():
        reply = process(processxml, token, request)
        assert reply.get("result") == "1", name
        missing = shape(sample(reference, name)) - shape(reply)
        assert not missing, f"{name}: the sandbox's reply lacks {sorted(missing)}"


def test_a_failed_item_is_marked_like_the_real_samples(reference, processxml, token):
    real = sample(reference, "2-failed-and-1-successful-banktransactions.xml")
    reply = process(processxml, token, sample_request(
        reference, "salesTransactionSendRequest.xml", **DESCRIBED, **{
            "<code>SLS</code>": "<code>VRK</code>", "<office>001</office>": "<office>NLA001</office>",
            "<date>20130502</date>": "<date>20240601</date>", "<period>2013/05</period>": "<period>2024/06</period>",
            "<value>121.00</value>": "<value>121.01</value>"}))
    assert (reply.tag, reply.get("result")) == (real.tag, real.get("result"))
    failed_real, failed_mine = real.find("transaction"), reply.find("transaction")
    assert {"msgtype", "msg", "result"} <= set(failed_real.attrib) & set(failed_mine.attrib)
    assert failed_mine.get("msg").split("//")[0] == "De boeking is niet in balans. Er ontbreekt 0.01 credit."
    warned = sample(reference, "banktransaction-with-warning-message.xml").find("transaction/header/date")
    assert set(warned.attrib) == {"msgtype", "msg", "result"}
