"""The Twinfield sandbox driven over plain HTTP with hand-built SOAP envelopes (requests + lxml).

Each module gets its own emulator (sandbox.twinfield.standalone) so that token expiry, logons, limits and
faults never disturb other tests; tests that change those make a fresh one.
"""

from __future__ import annotations

import base64
import gzip
import re
import threading
import time
import types
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lxml import etree

from sandbox.twinfield import TwinfieldSandbox
from sandbox.twinfield.standalone import StandaloneTwinfield

pytestmark = pytest.mark.integration

TW = "http://www.twinfield.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "test-client", "test-secret", "test-refresh-token"
TOKEN_PATH = "/auth/authentication/connect/token"
COMPANIES = [
    {"id": f"company-{i}", "name": f"Company {i} B.V.", **({"vat_number": f"NL 0000.000{i:02d}.B01"} if i % 3 else {})}
    for i in range(24)
]


# -- helpers ------------------------------------------------------------------------------------------------------
def new_twinfield(**limits) -> TwinfieldSandbox:
    twinfield = TwinfieldSandbox(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, **limits)
    twinfield.seed_customers_from_focus(types.SimpleNamespace(companies=COMPANIES))
    return twinfield


def fetch_token(base: str) -> str:
    response = requests.post(base + TOKEN_PATH, data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN},
                             auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def envelope(operation: str, args: dict, header: dict | None = None, version: str = SOAP11) -> bytes:
    root = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version})
    if header is not None:
        head = etree.SubElement(etree.SubElement(root, f"{{{version}}}Header"), f"{{{TW}}}Header", nsmap={None: TW})
        for name, value in header.items():
            etree.SubElement(head, f"{{{TW}}}{name}").text = value
    body = etree.SubElement(etree.SubElement(root, f"{{{version}}}Body"), f"{{{TW}}}{operation}", nsmap={None: TW})
    for name, value in args.items():
        element = etree.SubElement(body, f"{{{TW}}}{name}")
        if isinstance(value, etree._Element):
            element.append(value)
        elif isinstance(value, list):
            element.extend(value)
        else:
            element.text = value
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def soap(base: str, service: str, operation: str, args: dict, header: dict | None = None, version: str = SOAP11,
         timeout: float = 10) -> requests.Response:
    if version == SOAP11:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TW}{operation}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{TW}{operation}"'}
    return requests.post(f"{base}/webservices/{service}.asmx", data=envelope(operation, args, header, version),
                         headers=headers, timeout=timeout)


def body_of(response: requests.Response, version: str = SOAP11) -> etree._Element:
    return etree.fromstring(response.content).find(f"{{{version}}}Body")[0]


def fault_of(response: requests.Response, version: str = SOAP11) -> tuple[str, str | None]:
    """(fault text, Twinfield code) of a SOAP fault reply."""
    assert response.status_code == 500
    fault = body_of(response, version)
    assert etree.QName(fault).localname == "Fault"
    reason = "faultstring" if version == SOAP11 else f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text"
    text = fault.findtext(reason)
    detail = fault.find("detail") if version == SOAP11 else fault.find(f"{{{SOAP12}}}Detail")
    return text, detail.findtext("code")


class Api:
    """ProcessXml and Finder calls with an access token, replies as lxml elements."""

    def __init__(self, base: str):
        self.base = base
        self.token = fetch_token(base)

    def header(self, office: str = "NLA001") -> dict:
        return {"AccessToken": self.token, "CompanyCode": office}

    def xml(self, request: str | etree._Element, office: str = "NLA001") -> etree._Element:
        text = request if isinstance(request, str) else etree.tostring(request, encoding="unicode")
        response = soap(self.base, "processxml", "ProcessXmlString", {"xmlRequest": text}, self.header(office))
        assert response.status_code == 200, response.text
        return etree.fromstring(body_of(response).findtext(f"{{{TW}}}ProcessXmlStringResult").encode())

    def search(self, kind: str, pattern: str = "*", field: int = 0, first: int = 1, rows: int = 100,
               options: dict | None = None, office: str = "NLA001") -> etree._Element:
        holder = []
        for name, value in (options or {}).items():
            pair = etree.Element(f"{{{TW}}}ArrayOfString")
            holder.append(pair)
            etree.SubElement(pair, f"{{{TW}}}string").text = name
            etree.SubElement(pair, f"{{{TW}}}string").text = value
        args = {"type": kind, "pattern": pattern, "field": str(field), "firstRow": str(first), "maxRows": str(rows),
                "options": holder}
        response = soap(self.base, "finder", "Search", args, self.header(office))
        assert response.status_code == 200, response.text
        return body_of(response)


def invoice(number: str, customer: str = "1000", lines=(("8020", "100.00", "VH"),), total: str = "121.00",
            side: str = "debit", date: str = "20240502", period: str | None = None, office: str = "NLA001",
            destiny: str = "temporary", twinfield_number: str | None = None, **attrs: str) -> etree._Element:
    """A sales transaction as the hook sends it (no period unless given, no raisewarning unless given);
    ``lines`` are (account, value, VAT code) detail lines."""
    transaction = etree.Element("transaction", destiny=destiny, **attrs)
    header = etree.SubElement(transaction, "header")
    fields = [("office", office), ("code", "VRK"), ("number", twinfield_number), ("currency", "EUR"), ("date", date),
              ("period", period), ("invoicenumber", number)]
    for tag, text in fields:
        if text is not None:
            etree.SubElement(header, tag).text = text
    container = etree.SubElement(transaction, "lines")
    flipped = "credit" if side == "debit" else "debit"
    for position, (kind, dim1, value, side_, vatcode) in enumerate(
        [("total", "1300", total, side, None)] + [("detail", a, v, flipped, c) for a, v, c in lines], start=1
    ):
        line = etree.SubElement(container, "line", type=kind, id=str(position))
        etree.SubElement(line, "dim1").text = dim1
        if kind == "total":
            etree.SubElement(line, "dim2").text = customer
        etree.SubElement(line, "debitcredit").text = side_
        etree.SubElement(line, "value").text = value
        etree.SubElement(line, "description").text = f"Line {position}"
        if vatcode:
            etree.SubElement(line, "vatcode").text = vatcode
    return transaction


def batch(*transactions: etree._Element) -> etree._Element:
    root = etree.Element("transactions")
    root.extend(transactions)
    return root


def set_text(element: etree._Element, path: str, text: str | None) -> etree._Element:
    """Set (or with None remove) the text of ``path``; "lines/line[1]/dim2" style paths."""
    found = element.find(path)
    if text is None:
        found.getparent().remove(found)
    elif found is None:
        parent_path, _, tag = path.rpartition("/")
        etree.SubElement(element.find(parent_path) if parent_path else element, tag).text = text
    else:
        found.text = text
    return element


def read_transaction(api: Api, daybook: str, number: str, office: str = "NLA001") -> etree._Element:
    return api.xml(f"<read><type>transaction</type><office>{office}</office><code>{daybook}</code>"
                   f"<number>{number}</number></read>")


def browse(api: Api, *filters: tuple[str, str, str, str], fields=(
    "fin.trs.head.code", "fin.trs.head.number", "fin.trs.head.status", "fin.trs.line.invnumber", "fin.trs.line.dim2",
    "fin.trs.line.valuesigned", "fin.trs.line.openvaluesigned", "fin.trs.line.matchstatus", "fin.trs.line.matchdate",
)) -> etree._Element:
    """Browse 100 with (field, operator, from, to) filters plus the shown ``fields``."""
    root = etree.Element("columns", code="100")
    for field, operator, low, high in filters:
        column = etree.SubElement(root, "column")
        for tag, text in (("field", field), ("visible", "false"), ("operator", operator), ("from", low), ("to", high)):
            etree.SubElement(column, tag).text = text
    for field in fields:
        column = etree.SubElement(root, "column")
        etree.SubElement(column, "field").text = field
        etree.SubElement(column, "visible").text = "true"
    return api.xml(root)


def rows(reply: etree._Element) -> list[dict[str, str]]:
    return [{td.get("field"): td.text or "" for td in tr.findall("td")} for tr in reply.findall("tr")]


# -- fixtures -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    server = StandaloneTwinfield(new_twinfield(credits_per_minute=100_000, max_concurrent=50)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(served) -> Api:
    return Api(served.url)


@pytest.fixture
def fresh():
    """An emulator of the test's own, for what changes global state (tokens, limits, faults)."""
    started = []

    def make(**limits) -> StandaloneTwinfield:
        server = StandaloneTwinfield(new_twinfield(**limits)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# -- OAuth2 -------------------------------------------------------------------------------------------------------
def test_refresh_grant_gives_a_bearer_token_and_the_same_reusable_refresh_token(served):
    for _ in range(2):  # Twinfield refresh tokens are long-lived and reusable
        response = requests.post(served.url + TOKEN_PATH,
                                 data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN},
                                 auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["refresh_token"] == REFRESH_TOKEN and body["access_token"]


@pytest.mark.parametrize(
    "data, auth, status, error",
    [
        ({"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}, (CLIENT_ID, "wrong"), 401, "invalid_client"),
        ({"grant_type": "refresh_token", "refresh_token": "unknown"}, (CLIENT_ID, CLIENT_SECRET), 400, "invalid_grant"),
        ({"grant_type": "password", "username": "x"}, (CLIENT_ID, CLIENT_SECRET), 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "made-up", "redirect_uri": "http://x"},
         (CLIENT_ID, CLIENT_SECRET), 400, "invalid_grant"),
    ],
)
def test_token_endpoint_errors_are_oauth_json(served, data, auth, status, error):
    response = requests.post(served.url + TOKEN_PATH, data=data, auth=auth, timeout=10)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_authorization_code_grant_is_auto_approved_and_single_use(served):
    redirect = "http://127.0.0.1:9/callback"
    response = requests.get(served.url + "/auth/authentication/connect/authorize", allow_redirects=False, timeout=10,
                            params={"client_id": CLIENT_ID, "redirect_uri": redirect, "response_type": "code",
                                    "scope": "openid twf.user twf.organisation offline_access", "state": "xyz"})
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    form = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect}
    tokens = requests.post(served.url + TOKEN_PATH, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert tokens.status_code == 200
    new_refresh = tokens.json()["refresh_token"]
    again = requests.post(served.url + TOKEN_PATH, data=form, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refreshed = requests.post(served.url + TOKEN_PATH, auth=(CLIENT_ID, CLIENT_SECRET), timeout=10,
                              data={"grant_type": "refresh_token", "refresh_token": new_refresh})
    assert refreshed.status_code == 200


def test_authorize_rejects_an_unknown_client(served):
    response = requests.get(served.url + "/auth/authentication/connect/authorize", allow_redirects=False, timeout=10,
                            params={"client_id": "nobody", "redirect_uri": "http://x/cb", "response_type": "code"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


def test_accesstokenvalidation_gives_the_cluster_url_of_the_sandbox(served, api):
    response = requests.get(served.url + "/auth/authentication/connect/accesstokenvalidation",
                            params={"token": api.token}, timeout=10)
    assert response.status_code == 200
    claims = response.json()
    assert claims["twf.clusterUrl"] == served.url
    assert claims["twf.organisationCode"] == "ACME"
    assert claims["client_id"] == CLIENT_ID and claims["exp"] > 0
    invalid = requests.get(served.url + "/auth/authentication/connect/accesstokenvalidation",
                           params={"token": "not-a-token"}, timeout=10)
    assert invalid.status_code == 400


def test_an_expired_token_gives_the_token_invalid_fault_until_refreshed(fresh):
    server = fresh()
    api = Api(server.url)
    server.twinfield.expire_tokens()
    response = soap(server.url, "processxml", "ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                    api.header())
    assert fault_of(response) == ("Access denied. Token invalid.", "354")
    validation = requests.get(server.url + "/auth/authentication/connect/accesstokenvalidation",
                              params={"token": api.token}, timeout=10)
    assert validation.status_code == 400
    api.token = fetch_token(server.url)  # the refresh token still works
    assert api.xml("<list><type>offices</type></list>").get("result") == "1"


def test_expire_tokens_is_also_a_control_endpoint(fresh):
    server = fresh()
    api = Api(server.url)
    assert requests.post(server.url + "/_sandbox/expire_tokens", timeout=10).status_code == 200
    response = soap(server.url, "finder", "Search", {"type": "OFF", "pattern": "*", "field": "0", "firstRow": "1",
                                                     "maxRows": "10"}, api.header())
    assert fault_of(response)[1] == "354"


@pytest.mark.parametrize("header", [None, {"AccessToken": "made-up", "CompanyCode": "NLA001"},
                                    {"CompanyCode": "NLA001"}])
def test_calls_without_a_valid_token_are_denied(served, header):
    response = soap(served.url, "processxml", "ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                    header)
    assert fault_of(response) == ("Access denied. Token invalid.", "354")


def test_an_unknown_company_code_is_denied(api):
    response = soap(api.base, "processxml", "ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                    api.header("NOPE"))
    assert "No access to company 'NOPE'" in fault_of(response)[0]


# -- Session ------------------------------------------------------------------------------------------------------
def logon(base: str, user: str = "SANDBOX", password: str = "sandbox-password", organisation: str = "ACME"):
    response = soap(base, "session", "Logon", {"user": user, "password": password, "organisation": organisation})
    assert response.status_code == 200
    envelope_ = etree.fromstring(response.content)
    body = envelope_.find(f"{{{SOAP11}}}Body/{{{TW}}}LogonResponse")
    session_id = envelope_.findtext(f"{{{SOAP11}}}Header/{{{TW}}}Header/{{{TW}}}SessionID")
    return body.findtext(f"{{{TW}}}LogonResult"), body.findtext(f"{{{TW}}}cluster"), session_id


def test_logon_returns_ok_the_cluster_and_a_session_id_in_the_soap_header(fresh):
    server = fresh()
    result, cluster, session_id = logon(server.url)
    assert (result, cluster) == ("Ok", server.url) and session_id
    response = soap(server.url, "processxml", "ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                    {"SessionID": session_id})
    offices = etree.fromstring(body_of(response).findtext(f"{{{TW}}}ProcessXmlStringResult"))
    assert [o.text for o in offices.findall("office")] == ["NLA001", "NLA002"]


def test_a_second_logon_invalidates_the_first_session(fresh):
    server = fresh()
    first = logon(server.url)[2]
    second = logon(server.url)[2]
    request = {"xmlRequest": "<list><type>offices</type></list>"}
    text, code = fault_of(soap(server.url, "processxml", "ProcessXmlString", request, {"SessionID": first}))
    assert "Your logon credentials are not valid anymore" in text and code is None
    assert soap(server.url, "processxml", "ProcessXmlString", request, {"SessionID": second}).status_code == 200


@pytest.mark.parametrize(
    "user, password, organisation, expected",
    [("SANDBOX", "wrong", "ACME", "Invalid"), ("nobody", "sandbox-password", "ACME", "Invalid"),
     ("SANDBOX", "sandbox-password", "OTHER", "Invalid"), ("BLOCKED", "pw", "ACME", "Blocked"),
     ("DISABLED", "pw", "ACME", "Disabled")],
)
def test_logon_results_other_than_ok(fresh, user, password, organisation, expected):
    server = fresh()
    server.twinfield.add_user("BLOCKED", "pw", "Blocked")
    requests.post(server.url + "/_sandbox/users", json={"user": "DISABLED", "password": "pw", "status": "Disabled"},
                  timeout=10).raise_for_status()
    assert logon(server.url, user, password, organisation) == (expected, None, None)


def test_session_login_switched_off_for_an_organisation_answers_oauth2_required(fresh):
    server = fresh()
    assert logon(server.url, organisation="ACMEOAUTH") == ("OAuth2AuthenticationRequired", None, None)
    assert logon(server.url, password="wrong", organisation="ACMEOAUTH") == ("Invalid", None, None)


def test_a_session_works_in_the_company_selectcompany_chose(fresh):
    server = fresh()
    session_id = logon(server.url)[2]
    assert server.twinfield.session_company(session_id) == "NLA001"  # the user's default office

    def select(company: str) -> str:
        response = soap(server.url, "session", "SelectCompany", {"company": company}, {"SessionID": session_id})
        assert response.status_code == 200
        return body_of(response).findtext(f"{{{TW}}}SelectCompanyResult")

    def currencies() -> list[str]:  # the Finder's CUR without an office option: the current company's
        args = {"type": "CUR", "pattern": "*", "field": "0", "firstRow": "1", "maxRows": "10"}
        body = body_of(soap(server.url, "finder", "Search", args, {"SessionID": session_id}))
        return [a[0].text for a in body.find(f"{{{TW}}}data/{{{TW}}}Items")]

    assert currencies() == ["EUR", "GBP", "USD"]
    assert select("NLA002") == "Ok" and server.twinfield.session_company(session_id) == "NLA002"
    assert currencies() == ["EUR"]
    assert select("NOPE") == "Invalid" and server.twinfield.session_company(session_id) == "NLA002"
    logon(server.url)  # ends this session
    text, _ = fault_of(soap(server.url, "session", "SelectCompany", {"company": "NLA001"}, {"SessionID": session_id}))
    assert "not valid anymore" in text


def test_logon_and_selectcompany_cost_3_credits_and_a_wsdl_download_1(fresh):
    server = fresh(credits_per_minute=8)
    session_id = logon(server.url)[2]  # 3
    selected = soap(server.url, "session", "SelectCompany", {"company": "NLA002"}, {"SessionID": session_id})  # 6
    assert selected.headers["X-RateLimit-Remaining"] == "2"
    wsdl = requests.get(server.url + "/webservices/finder.asmx?wsdl", timeout=10)  # 7
    assert wsdl.status_code == 200 and wsdl.headers["X-RateLimit-Remaining"] == "1"
    assert server.twinfield.wsdl_downloads == 1
    assert requests.get(server.url + "/webservices/finder.asmx?wsdl", timeout=10).status_code == 200  # 8
    refused = requests.get(server.url + "/webservices/session.asmx?wsdl", timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert soap(server.url, "session", "Logon", {"user": "SANDBOX", "password": "sandbox-password",
                                                 "organisation": "ACME"}).status_code == 429
    assert server.twinfield.wsdl_downloads == 2


# -- SOAP details -------------------------------------------------------------------------------------------------
def test_soap_12_requests_get_soap_12_replies_and_faults(api):
    request = {"xmlRequest": "<list><type>offices</type></list>"}
    response = soap(api.base, "processxml", "ProcessXmlString", request, api.header(), version=SOAP12)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/soap+xml")
    assert "<office" in body_of(response, SOAP12).findtext(f"{{{TW}}}ProcessXmlStringResult")
    denied = soap(api.base, "processxml", "ProcessXmlString", request, {"AccessToken": "x"}, version=SOAP12)
    assert fault_of(denied, SOAP12) == ("Access denied. Token invalid.", "354")


def test_a_soapaction_naming_another_operation_is_a_fault(api):
    response = requests.post(f"{api.base}/webservices/processxml.asmx",
                             data=envelope("ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                                           api.header()),
                             headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"{TW}Search"},
                             timeout=10)
    assert "did not recognize the value of HTTP Header SOAPAction" in fault_of(response)[0]


def test_an_operation_of_another_service_is_a_fault(api):
    response = soap(api.base, "finder", "ProcessXmlString", {"xmlRequest": "<list/>"}, api.header())
    assert response.status_code == 500


@pytest.mark.parametrize("service, binding", [("session", "SessionSoap"), ("processxml", "ProcessXmlSoap"),
                                              ("finder", "FinderSoap")])
def test_each_service_answers_wsdl_with_its_own_address(served, service, binding):
    response = requests.get(f"{served.url}/webservices/{service}.asmx?wsdl", timeout=10)
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/",
          "s12": "http://schemas.xmlsoap.org/wsdl/soap12/"}
    assert wsdl.get("targetNamespace") == TW
    assert wsdl.xpath("//w:port/s:address/@location", namespaces=ns) == [f"{served.url}/webservices/{service}.asmx"]
    assert wsdl.xpath("//w:port/s12:address/@location", namespaces=ns) == [f"{served.url}/webservices/{service}.asmx"]
    assert wsdl.xpath("//w:binding/@name", namespaces=ns) == [binding, binding + "12"]


def test_process_xml_document_and_compressed_variants(api):
    request = etree.fromstring("<list><type>offices</type></list>")
    document = soap(api.base, "processxml", "ProcessXmlDocument", {"xmlRequest": request}, api.header())
    result = body_of(document).find(f"{{{TW}}}ProcessXmlDocumentResult/offices")
    assert result is not None and result.get("result") == "1"
    packed = base64.b64encode(gzip.compress(b"<list><type>offices</type></list>")).decode()
    compressed = soap(api.base, "processxml", "ProcessXmlCompressed", {"xmlRequest": packed}, api.header())
    reply = gzip.decompress(base64.b64decode(body_of(compressed).findtext(f"{{{TW}}}ProcessXmlCompressedResult")))
    assert etree.fromstring(reply).tag == "offices"


# -- ProcessXml: sales transactions -------------------------------------------------------------------------------
def test_a_draft_invoice_is_booked_with_a_number_and_derived_vat(api):
    reply = api.xml(batch(invoice("POST-1", lines=(("8020", "100.00", "VH"), ("8010", "50.00", "VL")),
                                  total="175.50")))
    assert reply.tag == "transactions" and reply.get("result") == "1"
    transaction = reply.find("transaction")
    assert transaction.get("result") == "1" and transaction.get("location") == "temporary"
    number = transaction.findtext("header/number")
    assert len(number) == 9 and number.startswith("2024")
    vat = {line.findtext("vatcode"): (line.findtext("dim1"), line.findtext("value"), line.findtext("debitcredit"))
           for line in transaction.findall("lines/line[@type='vat']")}
    assert vat == {"VH": ("1500", "21.00", "credit"), "VL": ("1510", "4.50", "credit")}

    read = read_transaction(api, "VRK", number)
    assert read.get("result") == "1" and read.get("location") == "temporary"
    total = read.find("lines/line[@type='total']")
    assert (total.findtext("dim2"), total.findtext("value"), total.findtext("openvalue"),
            total.findtext("matchstatus")) == ("1000", "175.50", "175.50", "available")
    assert read.find("lines/line[@type='detail']/dim1").get("name") == "Omzet diensten"


def test_a_credit_note_flips_every_side(api):
    reply = api.xml(batch(invoice("CN-1", total="121.00", side="credit")))
    number = reply.findtext("transaction/header/number")
    row = rows(browse(api, ("fin.trs.line.invnumber", "equal", "CN-1", "")))
    assert row == [{"fin.trs.head.code": "VRK", "fin.trs.head.number": number, "fin.trs.head.status": "temporary",
                    "fin.trs.line.invnumber": "CN-1", "fin.trs.line.dim2": "1000",
                    "fin.trs.line.valuesigned": "-121.00",
                    "fin.trs.line.openvaluesigned": "-121.00", "fin.trs.line.matchstatus": "available",
                    "fin.trs.line.matchdate": ""}]
    vat_line = read_transaction(api, "VRK", number).find("lines/line[@type='vat']")
    assert vat_line.findtext("debitcredit") == "debit"


def test_a_given_vatvalue_is_booked_instead_of_the_computed_vat(api):
    transaction = invoice("VATVALUE-1", lines=(("8020", "10.05", "VH"),), total="12.17")
    etree.SubElement(transaction.find("lines/line[@type='detail']"), "vatvalue").text = "2.12"  # computed: 2.11
    reply = api.xml(batch(transaction))
    assert reply.get("result") == "1"
    assert reply.findtext("transaction/lines/line[@type='vat']/value") == "2.12"


def test_vat_is_rounded_half_up_per_line(api):
    # 0.50 x 21% = 0.105 -> 0.11 (half-up); two lines -> 0.22 VAT
    reply = api.xml(batch(invoice("ROUND-1", lines=(("8020", "0.50", "VH"), ("8020", "0.50", "VH")), total="1.22")))
    assert reply.get("result") == "1", etree.tostring(reply)


def test_autobalancevat_absorbs_a_rounding_cent_only_when_asked(api):
    unbalanced = invoice("AUTOBAL-1", lines=(("8020", "0.50", "VH"), ("8020", "0.50", "VH")), total="1.21")
    assert api.xml(batch(unbalanced)).get("result") == "0"
    balanced = invoice("AUTOBAL-2", lines=(("8020", "0.50", "VH"), ("8020", "0.50", "VH")), total="1.21",
                       autobalancevat="true")
    reply = api.xml(batch(balanced))
    assert reply.get("result") == "1"
    assert reply.findtext("transaction/lines/line[@type='vat']/value") == "0.21"


def test_autobalancevat_rounds_by_at_most_two_cents_per_transaction(api):
    # five lines of 0.50 at 21%: 0.105 -> 0.11 VAT each, 2.50 + 0.55 = 3.05 in balance
    halves = tuple(("8020", "0.50", "VH") for _ in range(5))
    two_off = invoice("AUTOBAL-3", lines=halves, total="3.03", autobalancevat="true")  # VAT 0.53 instead of 0.55
    assert api.xml(batch(two_off)).get("result") == "1"
    three_off = invoice("AUTOBAL-4", lines=halves, total="3.02", autobalancevat="true")  # 3 cents: refused
    reply = api.xml(batch(three_off))
    assert reply.get("result") == "0" and "niet in balans" in reply.find("transaction").get("msg")


def test_explicit_vat_lines_are_kept(api):
    transaction = invoice("VATLINE-1", total="121.00")
    vat = etree.SubElement(transaction.find("lines"), "line", type="vat", id="3")
    for tag, text in (("vatcode", "VH"), ("debitcredit", "credit"), ("value", "21.00")):
        etree.SubElement(vat, tag).text = text
    reply = api.xml(batch(transaction))
    assert reply.get("result") == "1"
    assert [line.findtext("dim1") for line in reply.findall("transaction/lines/line[@type='vat']")] == ["1500"]


# -- ProcessXml: other currencies ---------------------------------------------------------------------------------
def in_currency(transaction: etree._Element, currency: str, **per_line: tuple[str, ...]) -> etree._Element:
    """The transaction in ``currency``; ``per_line`` gives "rate"/"basevalue" texts per line, in order."""
    set_text(transaction, "header/currency", currency)
    for field, texts in per_line.items():
        for position, text in enumerate(texts, start=1):
            if text is not None:
                set_text(transaction, f"lines/line[{position}]/{field}", text)
    return transaction


def amounts(line: etree._Element) -> tuple[str, ...]:
    return tuple(line.findtext(tag) for tag in ("value", "rate", "basevalue"))


def test_the_currencies_an_office_keeps_come_from_finder_cur(api):
    assert items(api.search("CUR", options={"office": "NLA001"})) == [
        ["EUR", "Euro"], ["GBP", "Brits pond"], ["USD", "Amerikaanse dollar"]]
    assert items(api.search("CUR", "U*", field=1)) == [["USD", "Amerikaanse dollar"]]  # the current office's
    assert items(api.search("CUR", options={"office": "NLA002"}, office="NLA002")) == [["EUR", "Euro"]]
    body = api.search("CUR", options={"vattype": "sales"})
    assert body.findtext(f"{{{TW}}}SearchResult/{{{TW}}}MessageOfErrorCodes/{{{TW}}}Code") == "OptionNotAllowed"


def test_a_usd_invoice_is_booked_in_usd_with_its_values_in_euro_at_the_sandbox_rate(api):
    # 2024 rate: 1 EUR = 1.0850 USD. 121.01 / 1.085 = 111.53; 33.33 -> 30.72; 66.68 -> 61.46; VAT 21.00 -> 19.35
    transaction = in_currency(invoice("USD-1", lines=(("8020", "33.33", "VH"), ("8020", "66.68", "VH")),
                                      total="121.01"), "USD")
    reply = api.xml(batch(transaction))
    assert reply.get("result") == "1", etree.tostring(reply)
    number = reply.findtext("transaction/header/number")

    read = read_transaction(api, "VRK", number)
    assert (read.findtext("header/currency"), read.find("header/currency").get("name")) == ("USD", "Amerikaanse dollar")
    assert [amounts(line) for line in read.findall("lines/line")] == [
        ("121.01", "1.0850", "111.53"), ("33.33", "1.0850", "30.72"), ("66.68", "1.0850", "61.46"),
        ("21.00", "1.0850", "19.35")]
    total = read.find("lines/line[@type='total']")
    assert (total.findtext("openvalue"), total.findtext("openbasevalue"), total.findtext("vatbasetotal")) == (
        "121.01", "111.53", "19.35")
    [row] = rows(browse(api, ("fin.trs.line.invnumber", "equal", "USD-1", ""), fields=(
        "fin.trs.head.curcode", "fin.trs.line.valuesigned", "fin.trs.line.basevaluesigned",
        "fin.trs.line.openvaluesigned", "fin.trs.line.openbasevaluesigned")))
    assert row == {"fin.trs.head.curcode": "USD", "fin.trs.line.valuesigned": "121.01",
                   "fin.trs.line.basevaluesigned": "111.53", "fin.trs.line.openvaluesigned": "121.01",
                   "fin.trs.line.openbasevaluesigned": "111.53"}
    [stored] = [t for t in api_transactions(api) if t["invoicenumber"] == "USD-1"]
    assert (stored["currency"], stored["value"], stored["basevalue"]) == ("USD", "121.01", "111.53")


def test_the_lines_rate_and_basevalue_are_used_and_rounding_goes_to_the_largest_converted_line(api):
    # Rate 1.2500 on every line; the total's base value given: 121.00 / 1.25 = 96.80 either way. Details:
    # 100.00 -> 80.00; derived VAT 21.00 -> 16.80; an explicit total base of 96.81 leaves 0.01 for the detail.
    transaction = in_currency(invoice("GBP-1"), "GBP", rate=("1.2500", "1.2500"), basevalue=("96.81", None))
    reply = api.xml(batch(transaction))
    assert reply.get("result") == "1", etree.tostring(reply)
    lines = reply.findall("transaction/lines/line")
    assert [amounts(line) for line in lines] == [
        ("121.00", "1.2500", "96.81"), ("100.00", "1.2500", "80.01"), ("21.00", "1.2500", "16.80")]


def test_base_values_that_do_not_balance_are_refused(api):
    transaction = in_currency(invoice("GBP-2"), "GBP", basevalue=("100.00", "80.00"))
    vat = etree.SubElement(transaction.find("lines"), "line", type="vat", id="3")
    for tag, text in (("vatcode", "VH"), ("debitcredit", "credit"), ("value", "21.00"), ("basevalue", "17.00")):
        etree.SubElement(vat, tag).text = text
    reply = api.xml(batch(transaction))
    assert reply.get("result") == "0"
    assert reply.find("transaction").get("msg") == (
        "De boeking balanceert niet in de basisvaluta. Er ontbreekt 3.00 credit.")
    assert not [t for t in api_transactions(api) if t["invoicenumber"] == "GBP-2"]


def test_a_usd_invoice_matched_in_part_stays_open_in_usd_and_in_euro(served, api):
    number = api.xml(batch(in_currency(invoice("USD-PAY-1"), "USD"))).findtext("transaction/header/number")
    served.twinfield.finalize("NLA001", "VRK", number)
    matched = served.twinfield.match("NLA001", "VRK", number, "21.00")  # USD
    assert (matched["currency"], matched["openvalue"]) == ("USD", "100.00")
    [row] = rows(browse(api, ("fin.trs.line.invnumber", "equal", "USD-PAY-1", ""), fields=(
        "fin.trs.line.openvaluesigned", "fin.trs.line.openbasevaluesigned")))
    assert row == {"fin.trs.line.openvaluesigned": "100.00", "fin.trs.line.openbasevaluesigned": "92.17"}


REJECTIONS = [
    # (what, change the request, element carrying the message, words in the message)
    ("unknown office", lambda t: set_text(t, "header/office", "XX999"), "office", "XX999"),
    ("unknown daybook", lambda t: set_text(t, "header/code", "NOPE"), "code", "Dagboek"),
    ("unknown dim1", lambda t: set_text(t, "lines/line[2]/dim1", "8999"), "dim1", "8999"),
    ("dim2 missing", lambda t: set_text(t, "lines/line[1]/dim2", None), "line", "Debiteur (dim2) is verplicht"),
    ("dim2 unknown", lambda t: set_text(t, "lines/line[1]/dim2", "99999"), "dim2", "99999"),
    ("total not on debtors", lambda t: set_text(t, "lines/line[1]/dim1", "1100"), "dim1", "debiteurenrekening"),
    ("unknown VAT code", lambda t: set_text(t, "lines/line[2]/vatcode", "XX"), "vatcode", "XX"),
    ("purchase VAT code", lambda t: set_text(t, "lines/line[2]/vatcode", "IH"), "vatcode", "inkoopcode"),
    ("unbalanced", lambda t: set_text(t, "lines/line[1]/value", "120.00"), "transaction", "niet in balans"),
    ("invalid period", lambda t: set_text(t, "header/period", "2024/14"), "period", "2024/14"),  # NLA001: 13
    ("period of a year not open", lambda t: set_text(t, "header/period", "2009/05"), "period", "2009/05"),
    ("invalid date", lambda t: set_text(t, "header/date", "20240231"), "date", "20240231"),
    ("description over 40", lambda t: set_text(t, "lines/line[2]/description", "x" * 41), "description", "40"),
    ("description missing (NLA001 VRK requires one)", lambda t: set_text(t, "lines/line[2]/description", None),
     "line", "Omschrijving is verplicht"),
    ("total without dim1 nor dim2", lambda t: set_text(set_text(t, "lines/line[1]/dim1", None), "lines/line[1]/dim2",
                                                        None), "line", "Debiteur (dim2) is verplicht"),
    ("value with 3 decimals", lambda t: set_text(t, "lines/line[2]/value", "100.001"), "value", "2 decimalen"),
    ("value not a number", lambda t: set_text(t, "lines/line[2]/value", "1OO"), "value", "1OO"),
    ("bad debitcredit", lambda t: set_text(t, "lines/line[2]/debitcredit", "both"), "debitcredit", "both"),
    ("currency the office lacks", lambda t: set_text(t, "header/currency", "JPY"), "currency", "JPY"),
    ("currency of another office", lambda t: set_text(set_text(t, "header/office", "NLA002"), "header/currency", "USD"),
     "currency", "NLA002"),
    ("rate not a number", lambda t: set_text(set_text(t, "header/currency", "USD"), "lines/line[2]/rate", "x"),
     "rate", "Koers"),
    ("basevalue with 3 decimals",
     lambda t: set_text(set_text(t, "header/currency", "USD"), "lines/line[2]/basevalue", "1.001"),
     "basevalue", "2 decimalen"),
]


@pytest.mark.parametrize("what, change, element, words", REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections_carry_the_message_on_the_element_concerned(api, what, change, element, words):
    number = "REJ-" + what.replace(" ", "-")
    reply = api.xml(batch(change(invoice(number))))
    assert reply.get("result") == "0"
    transaction = reply.find("transaction")
    assert transaction.get("result") == "0"
    marked = [e for e in transaction.iter() if e.get("msg")]
    assert [e.tag for e in marked] == [element]
    assert marked[0].get("msgtype") == "error" and words in marked[0].get("msg")
    if element not in ("transaction",):
        assert all(a.get("result") == "0" for a in marked[0].iterancestors())
    assert not [t for t in api_transactions(api) if t["invoicenumber"] == number]


def api_transactions(api: Api) -> list[dict]:
    return requests.get(api.base + "/_sandbox/transactions", timeout=10).json()


def test_an_unbalanced_transaction_names_the_missing_amount_as_twinfield_does(api):
    reply = api.xml(batch(invoice("UNBAL-1", total="120.00")))
    messages = reply.find("transaction").get("msg").split("//")
    assert messages[0] == "De boeking is niet in balans. Er ontbreekt 1.00 debet."
    assert len(messages) == 3


def test_a_closed_period_is_rejected(fresh):
    server = fresh()
    api = Api(server.url)
    server.twinfield.close_periods("NLA002", "2023/12")
    reply = api.xml(batch(invoice("CLOSED-1", office="NLA002", date="20231115", period="2023/11")), office="NLA002")
    assert "gesloten" in reply.find("transaction/header/period").get("msg")
    assert api.xml(batch(invoice("OPEN-1", office="NLA002"))).get("result") == "1"


def test_a_date_outside_its_period_is_a_warning_that_fails_unless_raisewarning_is_false(api):
    warned = invoice("WARN-1", date="20240725", period="2024/09")
    date = api.xml(batch(warned)).find("transaction/header/date")
    assert date.get("msgtype") == "warning" and date.get("result") == "0"
    assert "valt buiten de opgegeven periode (2024/09)" in date.get("msg")
    assert not [t for t in api_transactions(api) if t["invoicenumber"] == "WARN-1"]
    assert api.xml(batch(invoice("WARN-2", date="20240725", period="2024/09", raisewarning="false"))
                   ).get("result") == "1"


@pytest.mark.parametrize("office, date, period", [
    ("NLA001", "20240128", "2024/01"), ("NLA001", "20240129", "2024/02"),  # four-week periods: day 29 is period 2
    ("NLA001", "20240725", "2024/08"), ("NLA001", "20241231", "2024/13"),  # the last period takes the rest
    ("NLA002", "20240129", "2024/01"), ("NLA002", "20241231", "2024/12"),  # calendar months
])
def test_without_a_period_twinfield_derives_it_from_the_date_by_the_offices_scheme(served, office, date, period):
    api = Api(served.url)
    number = f"PER-{office}-{date}"
    reply = api.xml(batch(invoice(number, customer="1000", office=office, date=date)), office=office)
    assert reply.get("result") == "1", etree.tostring(reply)
    assert reply.findtext("transaction/header/period") == period
    # a month-style period that the office's scheme puts elsewhere is a date-outside-period warning
    month = f"{date[:4]}/{date[4:6]}"
    if month != period:
        wrong = api.xml(batch(invoice(number + "-M", office=office, date=date, period=month)), office=office)
        assert wrong.find("transaction/header/date").get("msgtype") == "warning"


def test_a_total_line_without_dim1_books_on_the_customers_collective_account(served, api):
    with served.twinfield.world.lock:
        served.twinfield.world.offices["NLA001"].customers["1001"].collective_account = "1310"
    reply = api.xml(batch(set_text(invoice("COLL-1", customer="1001"), "lines/line[1]/dim1", None),
                          set_text(invoice("COLL-2", customer="1000"), "lines/line[1]/dim1", None)))
    assert reply.get("result") == "1", etree.tostring(reply)
    assert [t.findtext("lines/line[@type='total']/dim1") for t in reply.findall("transaction")] == ["1310", "1300"]
    read = api.xml("<read><type>dimensions</type><office>NLA001</office><dimtype>DEB</dimtype><code>1001</code></read>")
    assert read.findtext("financials/substitutewith") == "1310"
    # both are debtors accounts: the customer browse shows (and matches) both invoices
    assert len(rows(browse(api, ("fin.trs.line.invnumber", "between", "COLL-1", "COLL-2")))) == 2


def ict_invoice(number: str, **line_fields: str) -> etree._Element:
    transaction = invoice(number, lines=(("8100", "100.00", "VICP"),), total="100.00")
    for tag, text in line_fields.items():
        etree.SubElement(transaction.find("lines/line[@type='detail']"), tag).text = text
    return transaction


@pytest.mark.parametrize("fields, element, words", [
    ({}, "line", "Prestatietype (performancetype) is verplicht bij ICP-btw-code VICP"),
    ({"performancetype": "both"}, "performancetype", "goods of services"),
    ({"performancetype": "services"}, "line", "Prestatiedatum (performancedate) is verplicht"),
    ({"performancetype": "services", "performancedate": "2024-05-02"}, "performancedate", "Prestatiedatum"),
], ids=["no type", "unknown type", "services without date", "services with a bad date"])
def test_an_intra_community_vat_code_needs_a_performance_type(api, fields, element, words):
    reply = api.xml(batch(ict_invoice(f"ICT-{len(fields)}-{element}", **fields)))
    marked = [e for e in reply.find("transaction").iter() if e.get("msg")]
    assert [(e.tag, e.get("msgtype")) for e in marked] == [(element, "error")] and words in marked[0].get("msg")


def test_intra_community_goods_and_dated_services_are_booked(api):
    goods = ict_invoice("ICT-GOODS", performancetype="goods")
    services = ict_invoice("ICT-SERVICES", performancetype="services", performancedate="20240502")
    reply = api.xml(batch(goods, services))
    assert reply.get("result") == "1", etree.tostring(reply)
    number = reply.findall("transaction")[1].findtext("header/number")
    detail = read_transaction(api, "VRK", number).find("lines/line[@type='detail']")
    assert (detail.findtext("performancetype"), detail.findtext("performancedate")) == ("services", "20240502")
    # other VAT codes need none
    assert api.xml(batch(invoice("ICT-NONE"))).get("result") == "1"


def test_each_transaction_of_a_batch_has_its_own_result(api):
    reply = api.xml(batch(invoice("BATCH-1", total="1.00"), invoice("BATCH-2"), invoice("BATCH-3", customer="77777")))
    assert reply.get("result") == "0"
    assert [t.get("result") for t in reply.findall("transaction")] == ["0", "1", "0"]
    assert reply.findall("transaction")[1].findtext("header/number")


def test_the_same_invoice_number_without_a_number_is_a_double_invoice_number_warning(api):
    first = api.xml(batch(invoice("DBL-1"))).findtext("transaction/header/number")
    reply = api.xml(batch(invoice("DBL-1", lines=(("8000", "200.00", "VH"),), total="242.00")))
    assert reply.get("result") == "0"
    marked = [e for e in reply.find("transaction").iter() if e.get("msg")]
    assert [(e.tag, e.get("msgtype")) for e in marked] == [("invoicenumber", "warning")]
    assert "DBL-1" in marked[0].get("msg") and first in marked[0].get("msg")
    assert [t["value"] for t in api_transactions(api) if t["invoicenumber"] == "DBL-1"] == ["121.00"]  # nothing saved


def test_raisewarning_false_saves_a_second_transaction_with_the_same_invoice_number(api):
    first = api.xml(batch(invoice("DBL-2"))).findtext("transaction/header/number")
    for where in ("transaction", "invoicenumber"):  # on the transaction, or on the invoice number itself
        duplicate = invoice("DBL-2", total="242.00", lines=(("8000", "200.00", "VH"),))
        (duplicate if where == "transaction" else duplicate.find("header/invoicenumber")).set("raisewarning", "false")
        assert api.xml(batch(duplicate)).get("result") == "1"
    found = [t for t in api_transactions(api) if t["invoicenumber"] == "DBL-2"]
    assert len(found) == 3 and found[0]["number"] == first and len({t["number"] for t in found}) == 3


def test_a_header_number_updates_that_draft_in_place(api):
    first = api.xml(batch(invoice("UPD-1"))).findtext("transaction/header/number")
    second = api.xml(batch(invoice("UPD-1", lines=(("8000", "200.00", "VH"),), total="242.00",
                                   twinfield_number=first)))
    assert second.get("result") == "1" and second.findtext("transaction/header/number") == first
    found = [t for t in api_transactions(api) if t["invoicenumber"] == "UPD-1"]
    assert len(found) == 1 and found[0]["value"] == "242.00" and found[0]["lines"][1]["dim1"] == "8000"
    missing = api.xml(batch(invoice("UPD-1", twinfield_number="209900001")))
    assert "bestaat niet" in missing.find("transaction/header/number").get("msg")


def test_a_final_transaction_cannot_be_changed_or_deleted(api):
    number = api.xml(batch(invoice("FINAL-1"))).findtext("transaction/header/number")
    requests.post(api.base + "/_sandbox/finalize", json={"office": "NLA001", "daybook": "VRK", "number": number},
                  timeout=10).raise_for_status()
    changed = api.xml(batch(invoice("FINAL-1", total="242.00", lines=(("8020", "200.00", "VH"),),
                                    twinfield_number=number)))
    assert changed.get("result") == "0" and "definitief" in changed.find("transaction").get("msg")
    again = api.xml(batch(invoice("FINAL-1", total="242.00", lines=(("8020", "200.00", "VH"),))))
    assert again.find("transaction/header/invoicenumber").get("msgtype") == "warning"  # final ones count too
    deleted = api.xml(f'<transaction action="delete" reason="test"><office>NLA001</office><code>VRK</code>'
                      f"<number>{number}</number></transaction>")
    assert deleted.get("result") == "0" and "definitief" in deleted.get("msg")
    read = read_transaction(api, "VRK", number)
    assert read.get("location") == "final" and read.findtext("lines/line[@type='total']/value") == "121.00"


def test_destiny_final_books_a_final_transaction(api):
    reply = api.xml(batch(invoice("DIRECT-FINAL-1", destiny="final")))
    assert reply.find("transaction").get("location") == "final"


def test_a_draft_can_be_deleted_once(api):
    number = api.xml(batch(invoice("DEL-1"))).findtext("transaction/header/number")
    request = (f'<transaction action="delete" reason="Cancelled in Focus"><office>NLA001</office><code>VRK</code>'
               f"<number>{number}</number></transaction>")
    assert api.xml(request).get("result") == "1"
    assert read_transaction(api, "VRK", number).get("result") == "0"
    again = api.xml(request)
    assert again.get("result") == "0" and "bestaat niet" in again.find("number").get("msg")
    # Deleted: the same invoice number now books a new transaction.
    assert api.xml(batch(invoice("DEL-1"))).findtext("transaction/header/number") != number


def test_a_delete_may_carry_its_keys_in_a_header(api):
    number = api.xml(batch(invoice("DEL-2"))).findtext("transaction/header/number")
    reply = api.xml(batch(etree.fromstring(
        f'<transaction action="delete" reason="x"><header><office>NLA001</office><code>VRK</code>'
        f"<number>{number}</number></header></transaction>")))
    assert reply.get("result") == "1" and reply.find("transaction").get("result") == "1"


def test_more_than_25_children_are_rejected_as_a_whole(api):
    too_many = batch(*[invoice(f"CAP-{i}") for i in range(26)])
    reply = api.xml(too_many)
    assert reply.get("result") == "0" and "25" in reply.get("msg") and len(reply) == 0
    assert not [t for t in api_transactions(api) if t["invoicenumber"].startswith("CAP-")]
    assert api.xml(batch(*[invoice(f"CAP-{i}") for i in range(25)])).get("result") == "1"


def test_more_than_1000_lines_in_one_transaction_get_http_400_for_the_whole_request(api):
    lines = tuple(("8020", "1.00", "VN") for _ in range(1000))
    request = etree.tostring(batch(invoice("LINES-0"), invoice("LINES-1", lines=lines, total="1000.00")),
                             encoding="unicode")
    response = soap(api.base, "processxml", "ProcessXmlString", {"xmlRequest": request}, api.header())
    assert response.status_code == 400 and not response.text.lstrip().startswith("<?xml")
    assert b"Fault>" not in response.content
    assert not [t for t in api_transactions(api) if t["invoicenumber"] in ("LINES-0", "LINES-1")]  # none applied
    assert api.xml(batch(invoice("LINES-2", lines=lines[:999], total="999.00"))).get("result") == "1"


def test_invalid_xml_and_unknown_request_types_are_rejected(api):
    broken = api.xml("<transactions><transaction></transactions>")
    assert (broken.tag, broken.get("result"), broken.get("msgtype")) == ("error", "0", "error")
    assert broken.get("msg").startswith("Ongeldige XML")
    unknown = api.xml("<invoices><invoice/></invoices>")
    assert (unknown.tag, unknown.get("result")) == ("invoices", "0") and "Onbekend verzoek" in unknown.get("msg")


# -- ProcessXml: customers ----------------------------------------------------------------------------------------
def dimension(**fields) -> etree._Element:
    element = etree.Element("dimension")
    for tag, text in {"office": "NLA001", "type": "DEB", **fields}.items():
        if text is not None:
            etree.SubElement(element, tag).text = text
    return element


def test_a_customer_without_code_gets_the_next_free_number(api):
    reply = api.xml(_dimensions(dimension(name="Nieuw B.V.")))
    created = reply.find("dimension")
    assert created.get("result") == "1"
    codes = [c["code"] for c in requests.get(api.base + "/_sandbox/customers?office=NLA001", timeout=10).json()]
    assert created.findtext("code") == str(max(int(c) for c in codes if c.isdigit()))
    assert created.findtext("name") == "Nieuw B.V."


def _dimensions(*elements: etree._Element) -> etree._Element:
    root = etree.Element("dimensions")
    root.extend(elements)
    return root


def _read_customer(api, code: str, office: str = "NLA001") -> etree._Element:
    return api.xml(f"<read><type>dimensions</type><office>{office}</office><dimtype>DEB</dimtype>"
                   f"<code>{code}</code></read>")


def test_a_customer_with_a_code_is_created_then_updated_field_by_field(api):
    created = dimension(code="12001", name="Bakkerij <De> Vries")
    address = etree.SubElement(etree.SubElement(created, "addresses"), "address", type="invoice", default="true")
    for tag, text in (("name", "Bakkerij <De> Vries"), ("city", "Utrecht"), ("field4", "NL123456789B01")):
        etree.SubElement(address, tag).text = text
    bank = etree.SubElement(etree.SubElement(created, "banks"), "bank", default="true")
    etree.SubElement(bank, "iban").text = "NL91ABNA0417164300"
    assert api.xml(_dimensions(created)).get("result") == "1"

    update = dimension(code="12001", name="Bakkerij De Vries B.V.")
    etree.SubElement(etree.SubElement(update, "financials"), "duedays").text = "14"
    address = etree.SubElement(etree.SubElement(update, "addresses"), "address", id="1", type="invoice")
    etree.SubElement(address, "postcode").text = "3511 AB"
    bank = etree.SubElement(etree.SubElement(update, "banks"), "bank", id="-1")
    etree.SubElement(bank, "bankname").text = "ABN AMRO"
    assert api.xml(_dimensions(update)).get("result") == "1"

    read = _read_customer(api, "12001")
    assert read.get("result") == "1" and read.findtext("name") == "Bakkerij De Vries B.V."
    assert read.findtext("financials/duedays") == "14"
    [stored] = read.findall("addresses/address")
    assert (stored.get("id"), stored.findtext("city"), stored.findtext("postcode"), stored.findtext("field4")) == (
        "1", "Utrecht", "3511 AB", "NL123456789B01")
    [bank] = read.findall("banks/bank")
    assert (bank.get("id"), bank.findtext("iban"), bank.findtext("bankname")) == ("-1", "NL91ABNA0417164300", "ABN AMRO")


def test_an_address_or_bank_without_its_id_is_added_not_changed(api):
    def with_address_and_bank(**fields):
        element = dimension(**fields)
        address = etree.SubElement(etree.SubElement(element, "addresses"), "address", type="invoice", default="true")
        etree.SubElement(address, "city").text = "Gouda"
        bank = etree.SubElement(etree.SubElement(element, "banks"), "bank", default="true")
        etree.SubElement(bank, "iban").text = "NL91ABNA0417164300"
        return element

    assert api.xml(_dimensions(with_address_and_bank(code="12002", name="Kaashandel Gouda"))).get("result") == "1"
    assert api.xml(_dimensions(with_address_and_bank(code="12002", name="Kaashandel Gouda"))).get("result") == "1"
    read = _read_customer(api, "12002")
    assert [a.get("id") for a in read.findall("addresses/address")] == ["1", "2"]
    assert [b.get("id") for b in read.findall("banks/bank")] == ["-1", "-2"]
    assert [b.get("default") for b in read.findall("banks/bank")] == ["false", "true"]

    unknown = dimension(code="12002", name="Kaashandel Gouda")
    etree.SubElement(etree.SubElement(unknown, "addresses"), "address", id="7", type="invoice")
    reply = api.xml(_dimensions(unknown)).find("dimension")
    assert reply.get("result") == "0" and "Adres met id 7 bestaat niet" in reply.find("addresses/address").get("msg")


def test_codes_must_fit_the_offices_deb_mask(api):
    for code in ("C2001", "0999", "2000", "1234567"):
        reply = api.xml(_dimensions(dimension(code=code, name="Buiten Masker BV"))).find("dimension")
        assert reply.get("result") == "0" and "voldoet niet aan het codemasker" in reply.find("code").get("msg")
    other = api.xml(_dimensions(dimension(office="NLA002", code="12003", name="Buiten Masker BV"))).find("dimension")
    assert other.get("result") == "0" and other.find("code").get("msgtype") == "error"  # NLA002: four digits
    numbered = api.xml(_dimensions(dimension(office="NLA002", name="Export Klant BV"))).find("dimension")
    assert numbered.get("result") == "1" and re.fullmatch(r"\d{4}", numbered.findtext("code"))
    customers = requests.get(api.base + "/_sandbox/customers?office=NLA001", timeout=10).json()
    assert not [c for c in customers if c["name"] == "Buiten Masker BV"]


def test_a_hidden_customer_is_left_out_of_finder_dim_unless_includehidden(api, served):
    [hidden] = [c for c in served.twinfield.customers("NLA001") if c["status"] == "hide"]
    visible = {code for code, _ in items(api.search("DIM", options={"dimtype": "DEB"}))}
    assert hidden["code"] not in visible and visible
    every = {code for code, _ in items(api.search("DIM", options={"dimtype": "DEB", "includehidden": "1"}))}
    assert every == visible | {hidden["code"]}
    assert {code for code, _ in items(api.search("DIM", options={"dimtype": "DEB", "includehidden": "0"}))} == visible
    # It can still be read, and written over by anyone who sends its code: clients must not pick codes blindly.
    assert _read_customer(api, hidden["code"]).get("status") == "hide"


@pytest.mark.parametrize("where", ["vatnumber", "field4"])
@pytest.mark.parametrize("vat", ["NL 123456789 B01", "NL123456789", "123456789B01", "US123456789", "nl123456789b01"])
def test_an_invalid_vat_number_is_refused_on_its_field(api, where, vat):
    element = dimension(name=f"Btw Fout {where} {vat}")
    if where == "vatnumber":
        etree.SubElement(element, "vatnumber").text = vat
    else:
        address = etree.SubElement(etree.SubElement(element, "addresses"), "address", type="invoice")
        etree.SubElement(address, "field4").text = vat
    reply = api.xml(_dimensions(element)).find("dimension")
    marked = [e for e in reply.iter() if e.get("msg")]
    assert reply.get("result") == "0" and [e.tag for e in marked] == [where] and "ongeldig" in marked[0].get("msg")


@pytest.mark.parametrize("vat", ["NL123456789B01", "BE0477472701", "DE123456789", "FR4A123456789", "CHE123456789MWST"])
def test_a_valid_vat_number_is_accepted(api, vat):
    element = dimension(name=f"Btw Goed {vat}", vatnumber=vat)
    assert api.xml(_dimensions(element)).find("dimension").get("result") == "1"


@pytest.mark.parametrize(
    "fields, element, words",
    [({"name": None}, "dimension", "Naam is verplicht"), ({"name": "X", "office": "XX1"}, "office", "XX1"),
     ({"name": "X", "type": "CRD"}, "type", "CRD")],
)
def test_customer_rejections(api, fields, element, words):
    reply = api.xml(_dimensions(dimension(**fields)))
    assert reply.get("result") == "0"
    marked = [e for e in reply.find("dimension").iter() if e.get("msg")]
    assert [e.tag for e in marked] == [element] and words in marked[0].get("msg")


def test_invalid_due_days_are_rejected(api):
    element = dimension(name="Due B.V.")
    etree.SubElement(etree.SubElement(element, "financials"), "duedays").text = "thirty"
    reply = api.xml(_dimensions(element))
    assert reply.find("dimension/financials/duedays").get("msgtype") == "error"


# -- reads and lists ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dimtype, code, name", [("DEB", "1000", "Company 1 B.V."), ("BAS", "1300", "Debiteuren"),
                                                 ("PNL", "8020", "Omzet diensten"), ("BAS", "0110", "Inventaris")])
def test_read_dimensions(api, dimtype, code, name):
    reply = api.xml(f"<read><type>dimensions</type><office>NLA001</office><dimtype>{dimtype}</dimtype>"
                    f"<code>{code}</code></read>")
    assert (reply.tag, reply.get("result"), reply.findtext("code"), reply.findtext("name")) == (
        "dimension", "1", code, name)
    assert reply.findtext("type") == dimtype


@pytest.mark.parametrize("dimtype, code", [("DEB", "424242"), ("BAS", "110"), ("PNL", "1300")])
def test_read_of_a_missing_dimension_is_result_0(api, dimtype, code):
    reply = api.xml(f"<read><type>dimensions</type><office>NLA001</office><dimtype>{dimtype}</dimtype>"
                    f"<code>{code}</code></read>")
    assert reply.tag == "dimension" and reply.get("result") == "0" and reply.find("code").get("msgtype") == "error"


def test_list_dimensions_and_offices(api):
    customers = api.xml("<list><type>dimensions</type><office>NLA001</office><dimtype>DEB</dimtype></list>")
    assert (customers.get("office"), customers.get("type"), customers.get("result")) == ("NLA001", "DEB", "1")
    names = {d.text: d.get("name") for d in customers.findall("dimension")}
    assert names["1000"] == "Company 1 B.V."
    accounts = api.xml("<list><type>dimensions</type><office>NLA001</office><dimtype>PNL</dimtype></list>")
    assert "8020" in [d.text for d in accounts.findall("dimension")]
    assert "1300" not in [d.text for d in accounts.findall("dimension")]
    offices = api.xml("<list><type>offices</type></list>")
    assert [(o.text, o.get("name")) for o in offices.findall("office")] == [
        ("NLA001", "Acme Nederland B.V."), ("NLA002", "Acme Export B.V.")]


def test_read_vat_codes_with_dated_percentages(api):
    high = api.xml("<read><type>vat</type><office>NLA001</office><code>VH</code></read>")
    assert (high.get("result"), high.findtext("type")) == ("1", "sales")
    assert [(p.findtext("date"), p.findtext("percentage")) for p in high.findall("percentages/percentage")] == [
        ("20000101", "19.000000000"), ("20121001", "21.000000000")]
    assert high.findtext("percentages/percentage/accounts/account/dim1") == "1500"
    purchase = api.xml("<read><type>vat</type><office>NLA001</office><code>IH</code></read>")
    assert purchase.findtext("type") == "purchase"
    missing = api.xml("<read><type>vat</type><office>NLA001</office><code>ZZ</code></read>")
    assert missing.get("result") == "0"


def test_unknown_read_type_and_office(api):
    assert api.xml("<read><type>invoices</type><office>NLA001</office></read>").get("result") == "0"
    reply = api.xml("<read><type>vat</type><office>ZZ</office><code>VH</code></read>")
    assert reply.get("result") == "0" and reply.find("office").get("msgtype") == "error"


# -- browse and the bookkeeper ------------------------------------------------------------------------------------
def test_browse_filters_by_invoice_number_period_and_status(api):
    for number, date, period in (("BR-01", "20240115", "2024/01"), ("BR-02", "20240215", "2024/02"),
                                 ("BR-03", "20240315", "2024/03")):
        api.xml(batch(invoice(number, date=date, period=period)))
    reply = browse(api, ("fin.trs.head.office", "equal", "NLA001", ""), ("fin.trs.head.code", "equal", "VRK", ""),
                   ("fin.trs.line.invnumber", "between", "BR-01", "BR-03"),
                   ("fin.trs.head.yearperiod", "between", "2024/02", "2024/12"),
                   ("fin.trs.head.status", "equal", "normal", ""))
    assert (reply.get("result"), reply.get("first"), reply.get("last"), reply.get("total")) == ("1", "1", "2", "2")
    assert [r["fin.trs.line.invnumber"] for r in rows(reply)] == ["BR-02", "BR-03"]
    assert [td.text for td in reply.find("th")][:2] == ["fin.trs.head.code", "fin.trs.head.number"]
    key = reply.find("tr/key")
    assert [k.tag for k in key] == ["office", "code", "number", "line"] and key.findtext("line") == "1"
    final = browse(api, ("fin.trs.line.invnumber", "between", "BR-01", "BR-03"),
                   ("fin.trs.head.status", "equal", "final", ""))
    assert final.get("total") == "0"


def test_bookkeeper_finalize_and_match_show_in_browse_and_read(api):
    number = api.xml(batch(invoice("PAY-1"))).findtext("transaction/header/number")
    early = requests.post(api.base + "/_sandbox/match", json={"office": "NLA001", "daybook": "VRK", "number": number},
                          timeout=10)
    assert early.status_code == 409 and "final" in early.json()["error"]
    requests.post(api.base + "/_sandbox/finalize", json={"office": "NLA001", "daybook": "VRK", "number": number},
                  timeout=10).raise_for_status()

    partly = requests.post(api.base + "/_sandbox/match", timeout=10,
                           json={"office": "NLA001", "daybook": "VRK", "number": number, "amount": "21.00"}).json()
    assert (partly["openvalue"], partly["matchstatus"]) == ("100.00", "available")
    [row] = rows(browse(api, ("fin.trs.line.invnumber", "equal", "PAY-1", "")))
    assert (row["fin.trs.head.status"], row["fin.trs.line.openvaluesigned"], row["fin.trs.line.matchstatus"]) == (
        "final", "100.00", "available")

    api_match = requests.post(api.base + "/_sandbox/match", timeout=10, json={
        "office": "NLA001", "daybook": "VRK", "number": number, "date": "2024-06-03"})
    assert api_match.json()["matchstatus"] == "matched"
    [row] = rows(browse(api, ("fin.trs.line.invnumber", "equal", "PAY-1", ""),
                        ("fin.trs.line.matchstatus", "equal", "matched", "")))
    assert (row["fin.trs.line.openvaluesigned"], row["fin.trs.line.matchdate"]) == ("0.00", "20240603")
    total = read_transaction(api, "VRK", number).find("lines/line[@type='total']")
    assert (total.findtext("openvalue"), total.findtext("matchstatus"), total.findtext("matchdate")) == (
        "0.00", "matched", "20240603")
    over = requests.post(api.base + "/_sandbox/match", timeout=10,
                         json={"office": "NLA001", "daybook": "VRK", "number": number, "amount": "1.00"})
    assert over.status_code == 409


def test_bookkeeper_methods_in_process(served, api):
    number = api.xml(batch(invoice("PAY-2", total="60.50", lines=(("8020", "50.00", "VH"),)))).findtext(
        "transaction/header/number")
    served.twinfield.finalize("NLA001", "VRK", number)
    served.twinfield.match("NLA001", "VRK", number, "60.50")
    [found] = [t for t in served.twinfield.transactions("NLA001") if t["number"] == number]
    assert (found["status"], found["openvalue"], found["matchstatus"]) == ("final", "0.00", "matched")
    missing = requests.post(api.base + "/_sandbox/finalize", json={"office": "NLA001", "daybook": "VRK", "number": "1"},
                            timeout=10)
    assert missing.status_code == 404


def test_browse_rejects_unknown_codes_and_fields(api):
    unknown = api.xml('<columns code="999"><column><field>fin.trs.head.code</field></column></columns>')
    assert unknown.get("result") == "0" and "999" in unknown.get("msg")
    reply = api.xml('<columns code="100"><column><field>fin.trs.line.nonsense</field></column></columns>')
    assert reply.get("result") == "0" and reply.find("column/field").get("msgtype") == "error"


def test_browse_definition(api):
    reply = api.xml("<read><type>browse</type><office>NLA001</office><code>100</code></read>")
    fields = [c.findtext("field") for c in reply.findall("columns/column")]
    assert reply.get("result") == "1"
    assert {"fin.trs.line.openvaluesigned", "fin.trs.line.matchdate", "fin.trs.line.invnumber"} <= set(fields)


# -- Finder -------------------------------------------------------------------------------------------------------
def items(body: etree._Element) -> list[list[str]]:
    return [[s.text for s in row] for row in body.findall(f"{{{TW}}}data/{{{TW}}}Items/{{{TW}}}ArrayOfString")]


def test_finder_pages_through_customers(api):
    first = api.search("DIM", rows=3, options={"dimtype": "DEB"})
    total = int(first.findtext(f"{{{TW}}}data/{{{TW}}}TotalRows"))
    assert total >= 10 and len(items(first)) == 3
    assert [c.text for c in first.find(f"{{{TW}}}data/{{{TW}}}Columns")] == ["Code", "Naam"]  # a Dutch user
    everything = []
    for start in range(1, total + 1, 3):
        everything += items(api.search("DIM", first=start, rows=3, options={"dimtype": "DEB"}))
    assert len(everything) == total == len({code for code, _ in everything})


def test_finder_titles_are_in_the_users_language(fresh):
    server = fresh()
    server.twinfield.add_user("ENGLISH", "pw", language="en")
    args = {"type": "DIM", "pattern": "*", "field": "0", "firstRow": "1", "maxRows": "2",
            "options": [etree.fromstring(f'<ArrayOfString xmlns="{TW}"><string>dimtype</string><string>DEB</string>'
                                         '</ArrayOfString>')]}

    def columns(header: dict) -> list[str]:
        return [c.text for c in body_of(soap(server.url, "finder", "Search", args, header)).find(
            f"{{{TW}}}data/{{{TW}}}Columns")]

    assert columns({"SessionID": logon(server.url, "ENGLISH", "pw")[2]}) == ["Code", "Name"]
    assert columns({"SessionID": logon(server.url)[2]}) == ["Code", "Naam"]
    assert columns(Api(server.url).header()) == ["Code", "Naam"]


def test_finder_accepts_the_real_dim_options(api):
    every = items(api.search("DIM", options={"dimtype": "DEB"}))
    same = items(api.search("DIM", options={"dimtype": "DEB", "office": "NLA001", "section": "financials",
                                            "level": "2", "matchtype": "customersupplier", "includehidden": "0"}))
    assert same == every
    assert items(api.search("DIM", options={"dimtype": "DEB", "level": "1"})) == []
    assert items(api.search("DIM", options={"dimtype": "DEB", "group": "EXPORT"})) == []  # no groups here
    # The collective (debtors) accounts: 1300, and 1310 for customers abroad.
    assert [c for c, _ in items(api.search("DIM", options={"dimtype": "BAS", "matchtype": "customersupplier"}))] == [
        "1300", "1310"]
    assert items(api.search("DIM", options={"dimtype": "DEB", "modifiedsince": "29991231000000"})) == []
    assert len(items(api.search("DIM", options={"dimtype": "DEB", "modifiedsince": "20000101000000"}))) == len(every)
    for name, value in (("includehidden", "yes"), ("matchtype", "everything")):
        message = api.search("DIM", options={"dimtype": "DEB", name: value}).find(
            f"{{{TW}}}SearchResult/{{{TW}}}MessageOfErrorCodes")
        assert message.findtext(f"{{{TW}}}Code") == "InvalidEnumerationOptionValue"


def test_finder_patterns_and_fields(api):
    by_name = items(api.search("DIM", "company 1*", field=2, options={"dimtype": "DEB"}))
    assert by_name and all(name.lower().startswith("company 1") for _, name in by_name)
    assert items(api.search("DIM", "100?", field=1, options={"dimtype": "DEB"}))[0][0] == "1000"
    assert items(api.search("DIM", "company 1*", field=1, options={"dimtype": "DEB"})) == []
    assert [code for code, _ in items(api.search("DIM", "8*", options={"dimtype": "PNL"}))][:2] == ["8000", "8010"]


def test_finder_vat_codes_and_offices(api):
    sales = [code for code, _ in items(api.search("VAT", options={"vattype": "sales"}))]
    assert sales == sorted(["VH", "VL", "VN", "VICP", "VEXP"])
    assert [code for code, _ in items(api.search("OFF"))] == ["NLA001", "NLA002"]


@pytest.mark.parametrize(
    "kind, options, code",
    [("XYZ", {}, "InvalidFinderType"), ("DIM", {}, "OptionMandatory"),
     ("DIM", {"dimtype": "DEB", "office": "ZZ"}, "NoAccessToOffice"), ("OFF", {"dimtype": "DEB"}, "OptionNotAllowed")],
)
def test_finder_errors(api, kind, options, code):
    body = api.search(kind, options=options)
    message = body.find(f"{{{TW}}}SearchResult/{{{TW}}}MessageOfErrorCodes")
    assert (message.findtext(f"{{{TW}}}Type"), message.findtext(f"{{{TW}}}Code")) == ("Error", code)
    assert body.find(f"{{{TW}}}data") is None


# -- fair use -----------------------------------------------------------------------------------------------------
def test_over_the_credit_budget_answers_429_with_retry_after(fresh):
    server = fresh(credits_per_minute=7)
    api = Api(server.url)
    api.xml("<list><type>offices</type></list>")  # 1 credit
    api.xml(batch(invoice("BUDGET-1")))  # 3 credits
    first = soap(server.url, "processxml", "ProcessXmlString", {"xmlRequest": "<list><type>offices</type></list>"},
                 api.header())
    assert first.headers["X-RateLimit-Limit"] == "7" and first.headers["X-RateLimit-Remaining"] == "2"
    refused = soap(server.url, "processxml", "ProcessXmlString",
                   {"xmlRequest": etree.tostring(batch(invoice("BUDGET-2")), encoding="unicode")}, api.header())
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "2"
    assert not [t for t in server.twinfield.transactions() if t["invoicenumber"] == "BUDGET-2"]
    # Reads still fit; a refused call cost nothing.
    assert soap(server.url, "finder", "Search", {"type": "OFF", "pattern": "*", "field": "0", "firstRow": "1",
                                                 "maxRows": "5"}, api.header()).status_code == 200
    requests.post(server.url + "/_sandbox/limits", json={"reset": True}, timeout=10).raise_for_status()
    assert api.xml(batch(invoice("BUDGET-2"))).get("result") == "1"


def test_too_many_concurrent_calls_answer_429(fresh):
    server = fresh(max_concurrent=1)
    api = Api(server.url)
    server.twinfield.faults.inject("slow", seconds=1.5, path_contains="processxml")
    slow = threading.Thread(target=api.xml, args=("<list><type>offices</type></list>",))
    slow.start()
    try:
        while server.twinfield.faults.pending():  # consumed: the slow call holds the only slot
            time.sleep(0.01)
        refused = soap(server.url, "finder", "Search", {"type": "OFF", "pattern": "*", "field": "0",
                                                         "firstRow": "1", "maxRows": "5"}, api.header())
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    finally:
        slow.join()
    requests.post(server.url + "/_sandbox/limits", json={"max_concurrent": 5}, timeout=10).raise_for_status()
    assert server.twinfield.limits.max_concurrent == 5


# -- faults -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, status", [("500", 500), ("503", 503)])
def test_injected_server_errors_hit_count_requests(fresh, kind, status):
    server = fresh()
    api = Api(server.url)
    requests.post(server.url + "/_sandbox/faults", json={"kind": kind, "count": 2, "path_contains": "processxml"},
                  timeout=10).raise_for_status()
    request = {"xmlRequest": "<list><type>offices</type></list>"}
    search = {"type": "OFF", "pattern": "*", "field": "0", "firstRow": "1", "maxRows": "5"}
    assert soap(server.url, "finder", "Search", search, api.header()).status_code == 200  # other path: untouched
    for _ in range(2):
        response = soap(server.url, "processxml", "ProcessXmlString", request, api.header())
        assert response.status_code == status and "html" in response.headers["content-type"]
    if kind == "503":
        assert response.headers["Retry-After"] == "1"
    assert soap(server.url, "processxml", "ProcessXmlString", request, api.header()).status_code == 200


@pytest.mark.parametrize("after_apply", [False, True])
def test_a_dropped_connection_leaves_the_write_applied_only_after_apply(fresh, after_apply):
    server = fresh()
    api = Api(server.url)
    server.twinfield.faults.inject("drop", after_apply=after_apply)
    with pytest.raises(requests.exceptions.RequestException):
        api.xml(batch(invoice("DROP-1")))
    booked = [t for t in server.twinfield.transactions() if t["invoicenumber"] == "DROP-1"]
    assert len(booked) == (1 if after_apply else 0)
    assert api.xml("<list><type>offices</type></list>").get("result") == "1"


@pytest.mark.parametrize("after_apply", [False, True])
def test_a_slow_answer_times_the_client_out_with_or_without_the_write(fresh, after_apply):
    server = fresh()
    api = Api(server.url)
    server.twinfield.faults.inject("slow", seconds=1.0, after_apply=after_apply)
    request = {"xmlRequest": etree.tostring(batch(invoice("SLOW-1")), encoding="unicode")}
    with pytest.raises(requests.exceptions.ReadTimeout):
        soap(server.url, "processxml", "ProcessXmlString", request, api.header(), timeout=0.3)
    booked = [t for t in server.twinfield.transactions() if t["invoicenumber"] == "SLOW-1"]
    assert len(booked) == (1 if after_apply else 0)


def test_faults_can_be_listed_and_cleared(fresh):
    server = fresh()
    server.twinfield.faults.inject("500", count=3)
    assert requests.get(server.url + "/_sandbox/faults", timeout=10).json()["pending"][0]["count"] == 3
    assert requests.delete(server.url + "/_sandbox/faults", timeout=10).json() == {"pending": []}
    bad = requests.post(server.url + "/_sandbox/faults", json={"kind": "explode"}, timeout=10)
    assert bad.status_code == 400


# -- seeding ------------------------------------------------------------------------------------------------------
def test_customers_are_seeded_from_focus_companies(served):
    customers = {c["name"]: c for c in served.twinfield.customers("NLA001")}
    with_vat = [c for c in COMPANIES if c.get("vat_number")]
    for company in with_vat[::4]:
        seeded = customers[company["name"]]
        compact = company["vat_number"].replace(" ", "").replace(".", "")
        assert seeded["vatnumber"] == compact and seeded["addresses"][0]["field4"] == compact
    name_only = [c for c in customers.values() if not c["vatnumber"] and c["name"].startswith("Company")]
    assert len(name_only) == 3
    assert {c["name"] for c in with_vat[1::4]}.isdisjoint(
        name for name, c in customers.items() if c["vatnumber"])
    assert "Bakkerij De Gouden Korrel" in customers
    assert min(int(c["code"]) for c in served.twinfield.customers("NLA001") if c["code"].isdigit()) == 1000
    assert {(c["name"], c["status"]) for c in served.twinfield.customers("NLA002")} >= {
        ("Bakkerij De Gouden Korrel", "active"), ("Van Dijk Installatietechniek B.V.", "active"),
        ("Gesloten Vestiging Archief B.V.", "hide")}  # other tests of the module add customers


def test_the_shared_server_mounts_twinfield_with_customers_from_the_focus_data(sandbox):
    base = f"{sandbox.url}/twinfield"
    wsdl = requests.get(f"{base}/webservices/processxml.asmx?wsdl", timeout=10)
    assert wsdl.status_code == 200 and f'location="{base}/webservices/processxml.asmx"' in wsdl.text
    with_vat = [c for c in sandbox.data.companies if c.get("vat_number")]
    names = {c["name"] for c in sandbox.twinfield.customers(sandbox.twinfield.default_office)}
    assert {c["name"] for c in with_vat[::4]} <= names
