"""TwinfieldHook with HTTP faked at the transport: a requests adapter that plays Twinfield (token endpoints,
WSDLs, ProcessXml, Finder, Session) over a tiny in-memory ledger, with faults on demand. The hook, zeep and
requests run for real; the clock and sleep are fake, so nothing waits.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections import deque
import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from lxml import etree
from requests.adapters import BaseAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from twinfield.domain.twinfield.common import to_xml
from twinfield.domain.twinfield_model import Customer, DebitCredit, SalesTransaction, TransactionLine
from twinfield.errors import (
    TwinfieldAuthError,
    TwinfieldError,
    TwinfieldOAuth2Required,
    TwinfieldFault,
    TwinfieldRateLimited,
    TwinfieldUnavailable,
)
from twinfield.hooks.limiter import Clock
from twinfield.hooks.twinfield import TwinfieldHook

WSDL = Path(__file__).resolve().parents[1] / "golden" / "twinfield" / "wsdl"
LOGIN, CLUSTER = "https://login.twinfield.test", "https://cluster.twinfield.test"
TW = "http://www.twinfield.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CLIENT_SECRET, REFRESH_TOKEN, PASSWORD = "client-secret-xyz", "refresh-token-xyz", "user-password-xyz"


# -- the fake ---------------------------------------------------------------------------------------------------
@dataclass
class Posted:
    daybook: str
    number: str
    invoice: str
    customer: str
    total: Decimal
    status: str = "temporary"


@dataclass
class FakeTwinfield(BaseAdapter):
    """Twinfield over HTTP. ``faults`` is a queue of (service, kind, after_apply) consumed by matching calls:
    kinds "429", "503", "timeout", "drop", "refused", "token", "session", and "ok" (answered normally)."""

    token_lifetime: int = 3600
    calls: list = field(default_factory=list)  # (service, detail)
    faults: deque = field(default_factory=deque)
    customers: dict = field(default_factory=dict)  # code -> (name, vat)
    posted: dict = field(default_factory=dict)  # (daybook, invoice) -> Posted
    tokens_issued: int = 0
    sessions_issued: int = 0
    vat_codes: dict = field(default_factory=lambda: {"VH": "21", "VL": "9"})
    currencies: dict = field(default_factory=lambda: {"EUR": "Euro", "USD": "Amerikaanse dollar"})
    browse_cap: int | None = None  # answer at most this many rows (total says how many matched)
    in_flight: int = 0
    max_in_flight: int = 0
    hold: threading.Event | None = None
    logon_result: str = "Ok"
    gets: int = 0  # WSDL downloads

    def __post_init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def fail(self, service: str, kind: str, count: int = 1, after_apply: bool = False) -> None:
        for _ in range(count):
            self.faults.append((service, kind, after_apply))

    def requests_to(self, service: str) -> list:
        return [detail for svc, detail in self.calls if svc == service]

    # requests' adapter interface
    def close(self):
        pass

    def send(self, request, **kwargs):
        url = urlparse(request.url)
        if url.query == "wsdl":
            self.gets += 1
            name = url.path.rsplit("/", 1)[-1].removesuffix(".asmx")
            return self._response(request, 200, (WSDL / f"{name}.wsdl").read_bytes())
        if url.path.endswith("/connect/token"):
            return self._token(request)
        if url.path.endswith("/connect/accesstokenvalidation"):
            token = parse_qs(url.query)["token"][0]
            self.calls.append(("validation", token))
            return self._json(request, 200, {"twf.clusterUrl": CLUSTER, "exp": 0})
        service = url.path.rsplit("/", 1)[-1].removesuffix(".asmx")
        envelope = etree.fromstring(request.body)
        header = {etree.QName(e).localname: e.text for e in envelope.iterfind(f"{{{SOAP}}}Header/{{{TW}}}Header/*")}
        body = envelope.find(f"{{{SOAP}}}Body")[0]
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                self.hold.wait(5)
            return self._soap(request, service, header, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _soap(self, request, service, header, body):
        fault = self.faults[0] if self.faults and self.faults[0][0] == service else None
        if service == "processxml":
            self.calls.append(("processxml", {"xml": body.findtext(f"{{{TW}}}xmlRequest"), "header": header,
                                              "fault": fault[1] if fault else None}))
        if fault:
            self.faults.popleft()
            _, kind, after_apply = fault
            if kind == "ok":
                return self._handle(request, service, header, body)
            if kind in ("token", "session"):
                message = ("Access denied. Token invalid." if kind == "token"
                           else "Your logon credentials are not valid anymore. Try to log on again.")
                return self._fault(request, message, "354" if kind == "token" else None)
            if not after_apply:
                return self._failure(request, kind)
            self._handle(request, service, header, body)
            return self._failure(request, kind)
        return self._handle(request, service, header, body)

    def _handle(self, request, service, header, body):
        if service == "session" and etree.QName(body).localname == "SelectCompany":
            company = body.findtext(f"{{{TW}}}company")
            self.calls.append(("select", (header.get("SessionID"), company)))
            result = "Ok" if company in ("NLA001", "NLA002") else "Invalid"
            return self._envelope(request, f"<SelectCompanyResponse xmlns='{TW}'><SelectCompanyResult>{result}"
                                  "</SelectCompanyResult></SelectCompanyResponse>")
        if service == "session":
            self.sessions_issued += 1
            self.calls.append(("session", body.findtext(f"{{{TW}}}user")))
            result = "Blocked" if body.findtext(f"{{{TW}}}password") != PASSWORD else self.logon_result
            return self._envelope(request, f"<LogonResponse xmlns='{TW}'><LogonResult>{result}</LogonResult>"
                                  f"<nextAction>None</nextAction><cluster>{CLUSTER}</cluster></LogonResponse>",
                                  header=f"<Header xmlns='{TW}'><SessionID>session-{self.sessions_issued}</SessionID></Header>")
        if service == "finder":
            options = {a[0].text: a[1].text for a in body.iterfind(f"{{{TW}}}options/{{{TW}}}ArrayOfString")}
            search = dict(type=body.findtext(f"{{{TW}}}type"), pattern=body.findtext(f"{{{TW}}}pattern"),
                          field=int(body.findtext(f"{{{TW}}}field")), first=int(body.findtext(f"{{{TW}}}firstRow")),
                          max=int(body.findtext(f"{{{TW}}}maxRows")), options=options, header=header)
            self.calls.append(("finder", search))
            return self._finder(request, search)
        xml_request = body.findtext(f"{{{TW}}}xmlRequest")
        reply = self._process(etree.fromstring(xml_request))
        return self._envelope(request, f"<ProcessXmlStringResponse xmlns='{TW}'><ProcessXmlStringResult>"
                              f"{_escape(reply)}</ProcessXmlStringResult></ProcessXmlStringResponse>")

    # ProcessXml over the in-memory ledger
    def _process(self, root) -> str:
        if root.tag == "transactions":
            reply = etree.Element("transactions")
            for t in root:
                reply.append(self._post(t))
            reply.set("result", "1" if all(c.get("result") == "1" for c in reply) else "0")
            return to_xml(reply)
        if root.tag == "dimensions":
            reply = etree.Element("dimensions", result="1")
            for d in root:
                code = d.findtext("code") or f"C{2000 + len(self.customers)}"
                self.customers[code] = (d.findtext("name"), d.findtext("addresses/address/field4") or "")
                d.set("result", "1")
                if d.find("code") is None:
                    etree.SubElement(d, "code").text = code
                reply.append(d)
            return to_xml(reply)
        if root.tag == "transaction" and root.get("action") == "delete":
            key = next((k for k, p in self.posted.items() if p.number == root.findtext("number")), None)
            ok = key is not None and self.posted[key].status == "temporary"
            if ok:
                del self.posted[key]
            root.set("result", "1" if ok else "0")
            if not ok:
                root.set("msgtype", "error")
                root.set("msg", "Boeking kan niet worden verwijderd.")
            return to_xml(root)
        if root.tag == "read":
            return self._read(root)
        if root.tag == "list":
            return '<offices result="1"><office name="Acme" shortname="Acme">NLA001</office></offices>'
        if root.tag == "columns":
            return self._browse(root)
        raise AssertionError(f"unexpected request {root.tag}")

    def _post(self, t):
        t = etree.fromstring(etree.tostring(t))
        bad = [d for d in t.iterfind("lines/line/dim1") if d.text == "8999"]
        for d in bad:
            d.set("msgtype", "error")
            d.set("msg", "Grootboekrekening 8999 bestaat niet.")
            d.set("result", "0")
        if bad:
            t.set("result", "0")
            return t
        daybook, invoice = t.findtext("header/code"), t.findtext("header/invoicenumber")
        total = t.find("lines/line[@type='total']")
        value = Decimal(total.findtext("value")) * (1 if total.findtext("debitcredit") == "debit" else -1)
        existing = self.posted.get((daybook, invoice))
        number = existing.number if existing else str(202400001 + len(self.posted))
        self.posted[(daybook, invoice)] = Posted(daybook, number, invoice, total.findtext("dim2"), value)
        t.set("result", "1")
        t.set("location", "temporary")
        etree.SubElement(t.find("header"), "number").text = number
        return t

    def _read(self, root) -> str:
        kind = root.findtext("type")
        if kind == "dimensions":
            code = root.findtext("code")
            if code not in self.customers:
                return '<dimension result="0" msgtype="error" msg="Dimensie bestaat niet."/>'
            name, vat = self.customers[code]
            return (f'<dimension result="1"><office>NLA001</office><type>DEB</type><code>{code}</code>'
                    f"<name>{_escape(name)}</name><vatnumber>{vat}</vatnumber></dimension>")
        if kind == "vat":
            code = root.findtext("code")
            return (f'<vat result="1"><code>{code}</code><name>BTW {code}</name><type>sales</type><percentages>'
                    f"<percentage><date>20120101</date><percentage>{self.vat_codes[code]}</percentage></percentage>"
                    "</percentages></vat>")
        if kind == "transaction":
            found = next((p for p in self.posted.values() if p.number == root.findtext("number")), None)
            if found is None:
                return '<transaction result="0" msgtype="error" msg="Boeking bestaat niet."/>'
            side = "debit" if found.total >= 0 else "credit"
            return (f'<transaction result="1" location="{found.status}"><header><office>NLA001</office>'
                    f"<code>{found.daybook}</code><currency>EUR</currency><date>20240305</date><period>2024/03</period>"
                    f"<invoicenumber>{found.invoice}</invoicenumber><number>{found.number}</number></header><lines>"
                    f'<line type="total" id="1"><dim1>1300</dim1><dim2>{found.customer}</dim2>'
                    f"<debitcredit>{side}</debitcredit><value>{abs(found.total)}</value>"
                    f"<openvalue>{abs(found.total)}</openvalue><matchstatus>available</matchstatus></line>"
                    "</lines></transaction>")
        raise AssertionError(kind)

    def _browse(self, root) -> str:
        asked = {c.findtext("field"): (c.findtext("from"), c.findtext("to")) for c in root
                 if c.findtext("ask") == "true"}
        low, high = asked.get("fin.trs.line.invnumber", ("", "\uffff"))
        rows = [p for p in self.posted.values()
                if p.daybook == asked["fin.trs.head.code"][0] and low <= p.invoice <= high]
        shown = rows[: self.browse_cap] if self.browse_cap is not None else rows
        trs = "".join(
            f'<tr><td field="fin.trs.head.code">{p.daybook}</td><td field="fin.trs.head.number">{p.number}</td>'
            f'<td field="fin.trs.head.status">{p.status}</td><td field="fin.trs.line.invnumber">{p.invoice}</td>'
            f'<td field="fin.trs.line.dim2">{p.customer}</td><td field="fin.trs.line.valuesigned">{p.total}</td>'
            f'<td field="fin.trs.line.openvaluesigned">{p.total}</td>'
            f'<td field="fin.trs.line.matchstatus">available</td><td field="fin.trs.line.matchdate"></td>'
            f"<key><office>NLA001</office><code>{p.daybook}</code><number>{p.number}</number><line>1</line></key></tr>"
            for p in shown
        )
        return f'<browse result="1" first="1" last="{len(shown)}" total="{len(rows)}"><th/>{trs}</browse>'

    def _finder(self, request, search):
        if search["type"] == "DIM" and search["options"]["dimtype"] == "DEB":
            everything = sorted((code, name) for code, (name, _) in self.customers.items())
            if search["field"] == 2:
                everything = [r for r in everything if r[1] == search["pattern"]]
        elif search["type"] == "DIM":
            everything = {"BAS": [("1300", "Debiteuren")], "PNL": [("8000", "Omzet")]}[search["options"]["dimtype"]]
        elif search["type"] == "CUR":
            everything = sorted(self.currencies.items())
        else:
            everything = sorted((code, f"BTW {code}") for code in self.vat_codes)
        page = everything[search["first"] - 1 : search["first"] - 1 + search["max"]]
        items = "".join(f"<ArrayOfString><string>{_escape(c)}</string><string>{_escape(n)}</string></ArrayOfString>"
                        for c, n in page)
        return self._envelope(request, f"<SearchResponse xmlns='{TW}'><SearchResult/><data>"
                              f"<TotalRows>{len(everything)}</TotalRows><Columns><string>Code</string>"
                              f"<string>Naam</string></Columns><Items>{items}</Items></data></SearchResponse>")

    # OAuth2
    def _token(self, request):
        basic = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        form = parse_qs(request.body)
        self.calls.append(("token", {"basic": basic, "form": form}))
        if basic != f"client-id:{CLIENT_SECRET}" or form["refresh_token"] != [REFRESH_TOKEN]:
            return self._json(request, 400, {"error": "invalid_grant"})
        self.tokens_issued += 1
        return self._json(request, 200, {"access_token": f"access-token-{self.tokens_issued}",
                                         "expires_in": self.token_lifetime, "token_type": "Bearer"})

    # wire helpers
    def _failure(self, request, kind):
        if kind == "429":
            return self._response(request, 429, b"Too Many Requests", {"Retry-After": "7"})
        if kind == "503":
            return self._response(request, 503, b"Service Unavailable", {"Content-Type": "text/plain"})
        if kind == "timeout":
            raise requests.ReadTimeout("read timed out")
        if kind == "drop":
            raise requests.ConnectionError("Connection aborted.")
        if kind == "refused":
            raise requests.ConnectionError(MaxRetryError(None, request.url, NewConnectionError(None, "refused")))
        raise AssertionError(kind)

    def _fault(self, request, message, code):
        detail = f"<detail><code>{code}</code></detail>" if code else ""
        return self._response(request, 500, (
            f"<s:Envelope xmlns:s='{SOAP}'><s:Body><s:Fault><faultcode>s:Client</faultcode>"
            f"<faultstring>{message}</faultstring>{detail}</s:Fault></s:Body></s:Envelope>").encode())

    def _envelope(self, request, body, header=""):
        header = f"<s:Header>{header}</s:Header>" if header else ""
        return self._response(request, 200, f"<s:Envelope xmlns:s='{SOAP}'>{header}<s:Body>{body}</s:Body></s:Envelope>".encode())

    def _json(self, request, status, data):
        return self._response(request, status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    @staticmethod
    def _response(request, status, content, headers=None):
        response = requests.Response()
        response.status_code = status
        response._content = content
        response.headers.update({"Content-Type": "text/xml; charset=utf-8", **(headers or {})})
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeClock(Clock):
    def __init__(self):
        self.t = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += seconds


# -- fixtures -----------------------------------------------------------------------------------------------------
def connection(monkeypatch, conn_id="twinfield_test", **extra):
    mode = extra.pop("auth_mode", "oauth2")
    conn = {"conn_type": "twinfield", "host": LOGIN, "login": "client-id", "password": CLIENT_SECRET,
            "extra": {"auth_mode": mode, "refresh_token": REFRESH_TOKEN, "office": "NLA001", **extra}}
    if mode == "session":
        conn.update(login="API-USER", password=PASSWORD)
        conn["extra"].update(organisation="ORG", refresh_token="")
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


@pytest.fixture
def fake():
    return FakeTwinfield()


@pytest.fixture(autouse=True)
def own_user_sessions(monkeypatch):
    """Hooks of one user share a session per process: each test starts with none (its fake is another Twinfield)."""
    from twinfield.hooks.twinfield import auth

    monkeypatch.setattr(auth, "_SESSIONS", {})


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_hook(monkeypatch, fake, clock):
    def make(**extra) -> TwinfieldHook:
        hook = TwinfieldHook(connection(monkeypatch, **extra), clock=clock)
        hook.client.session.mount(LOGIN, fake)
        hook.client.session.mount(CLUSTER, fake)
        return hook

    return make


def invoice(number: str, amount: str = "121.00", account: str = "8000", customer: str = "C1001") -> SalesTransaction:
    value = Decimal(amount)
    return SalesTransaction(
        office="NLA001", daybook="VRK", currency="EUR", date=dt.date(2024, 3, 5), period="2024/03",
        invoice_number=number, due_date=dt.date(2024, 4, 4),
        lines=(TransactionLine("total", "1300", value, DebitCredit.DEBIT, dim2=customer),
               TransactionLine("detail", account, value, DebitCredit.CREDIT, vatcode="VN")),
    )


# -- auth --------------------------------------------------------------------------------------------------------------
def test_oauth2_refresh_grant_then_cluster_and_header(make_hook, fake):
    hook = make_hook()
    assert [o.code for o in hook.reference.offices()] == ["NLA001"]
    token_call = fake.requests_to("token")[0]
    assert token_call == {"basic": f"client-id:{CLIENT_SECRET}",
                          "form": {"grant_type": ["refresh_token"], "refresh_token": [REFRESH_TOKEN]}}
    assert fake.requests_to("validation") == ["access-token-1"]
    [call] = fake.requests_to("processxml")
    assert call["header"] == {"AccessToken": "access-token-1", "CompanyCode": "NLA001", "CompanyId": None}
    assert call["xml"] == "<list><type>offices</type></list>"


def test_access_token_refreshed_before_it_expires(make_hook, fake, clock):
    hook = make_hook()
    hook.reference.offices()
    clock.t += 3600 - 30  # inside the last minute of the token's hour
    hook.reference.offices()
    assert [c["header"]["AccessToken"] for c in fake.requests_to("processxml")] == ["access-token-1", "access-token-2"]
    assert hook.stats["logons"] == 2


def test_token_invalid_fault_renews_once_and_resends(make_hook, fake):
    hook = make_hook()
    hook.reference.offices()
    fake.fail("processxml", "token")
    assert hook.reference.offices()[0].code == "NLA001"
    assert fake.tokens_issued == 2
    fake.fail("processxml", "token", count=2)
    with pytest.raises(TwinfieldFault) as raised:
        hook.reference.offices()
    assert raised.value.code == "354" and "Token invalid" in raised.value.message


def test_refused_refresh_token_is_an_auth_error_without_secrets(monkeypatch, fake, clock, caplog):
    hook = TwinfieldHook(connection(monkeypatch, refresh_token="revoked-token-xyz"), clock=clock)
    hook.client.session.mount(LOGIN, fake)
    with caplog.at_level(logging.DEBUG), pytest.raises(TwinfieldAuthError) as raised:
        hook.reference.offices()
    assert raised.value.result == "invalid_grant"
    ok, message = hook.test_connection()
    assert not ok and "invalid_grant" in message
    for secret in ("revoked-token-xyz", CLIENT_SECRET):
        assert secret not in str(raised.value) and secret not in message and secret not in caplog.text


def test_unreachable_token_validation_does_not_leak_the_token(make_hook, fake, caplog):
    hook = make_hook()

    def refuse(request, **kwargs):
        raise requests.ConnectionError(f"cannot reach {request.url}")  # requests puts the URL in its messages

    original = fake.send
    fake.send = lambda request, **kw: refuse(request) if "accesstokenvalidation" in request.url else original(request, **kw)
    with caplog.at_level(logging.DEBUG), pytest.raises(TwinfieldUnavailable) as raised:
        hook.reference.offices()
    chain, exc = [], raised.value
    while exc is not None:
        chain.append(repr(exc))
        exc = exc.__cause__ or exc.__context__
    assert not any("access-token" in text for text in chain), chain
    assert "access-token" not in caplog.text


def test_session_logon_header_and_relogon_when_invalidated(make_hook, fake):
    hook = make_hook(auth_mode="session")
    hook.reference.offices()
    assert fake.requests_to("session") == ["API-USER"]
    assert fake.requests_to("processxml")[0]["header"] == {"SessionID": "session-1", "CompanyId": None}
    fake.fail("processxml", "session")
    hook.reference.offices()
    assert fake.sessions_issued == 2
    assert fake.requests_to("processxml")[-1]["header"]["SessionID"] == "session-2"


def test_session_logon_refused_carries_the_logon_result_not_the_password(monkeypatch, make_hook, fake):
    hook = make_hook(auth_mode="session")
    hook.connection.password = "wrong-password-xyz"
    with pytest.raises(TwinfieldAuthError) as raised:
        hook.reference.offices()
    assert raised.value.result == "Blocked"
    assert "wrong-password-xyz" not in str(raised.value) and "wrong-password-xyz" not in repr(hook.client._auth._current)


# -- reads ------------------------------------------------------------------------------------------------------------
def test_list_customers_pages_the_finder_then_reads_each(make_hook, fake):
    fake.customers = {f"C{1000 + i}": (f"Customer {i}", f"NL{i:09d}B01") for i in range(230)}
    hook = make_hook()
    short = hook.customers.list(with_details=False)
    assert [s["first"] for s in fake.requests_to("finder")] == list(range(1, 231, 25))  # pages of 25
    assert len(short) == 230 and short[0] == Customer("C1000", "Customer 0", office="NLA001")
    search = fake.requests_to("finder")[0]
    assert search["options"] == {"dimtype": "DEB", "office": "NLA001"}
    assert search["header"] == {"AccessToken": "access-token-1", "CompanyCode": "NLA001"}

    fake.customers = dict(list(fake.customers.items())[:3])
    detailed = hook.customers.list()
    assert [(c.code, c.vat_number) for c in detailed] == [("C1000", "NL000000000B01"), ("C1001", "NL000000001B01"),
                                                          ("C1002", "NL000000002B01")]
    assert hook.stats["requests"]["read"] == 10 + 1 + 3  # 10 pages, then 1 page + 3 reads


def test_ledger_accounts_and_vat_codes(make_hook):
    hook = make_hook()
    assert [(a.code, a.dimtype) for a in hook.reference.ledger_accounts()] == [("1300", "BAS"), ("8000", "PNL")]
    vat = {v.code: v for v in hook.reference.vat_codes()}
    assert (vat["VH"].percentage, vat["VH"].type, vat["VL"].percentage) == (Decimal("21"), "sales", Decimal("9"))


def test_list_currencies_pages_finder_cur_one_credit_per_page(make_hook, fake):
    fake.currencies = {f"C{i:02d}": f"Currency {i}" for i in range(130)} | {"EUR": "Euro"}
    hook = make_hook()
    codes = hook.reference.currencies("NLA002")
    assert len(codes) == 131 and codes[:2] == ["C00", "C01"] and "EUR" in codes
    searches = fake.requests_to("finder")
    assert [(s["type"], s["first"], s["max"], s["options"]) for s in searches] == [
        ("CUR", first, 25, {"office": "NLA002"}) for first in range(1, 132, 25)]
    assert searches[0]["header"]["CompanyCode"] == "NLA002"
    assert (hook.stats["requests"]["read"], hook.stats["credits"]["read"]) == (6, 6)


def test_reads_retry_5xx_timeouts_and_drops_with_backoff(make_hook, fake, clock):
    hook = make_hook()
    hook.reference.offices()
    fake.fail("processxml", "503")
    fake.fail("processxml", "timeout")
    fake.fail("processxml", "drop")
    assert hook.reference.offices()[0].code == "NLA001"
    assert clock.sleeps == [0.5, 1.0, 2.0]  # exponential backoff between the attempts
    assert hook.stats["retries"] == 3
    fake.fail("processxml", "503", count=hook.client.max_attempts)
    with pytest.raises(TwinfieldUnavailable, match="HTTP 503"):
        hook.reference.offices()


def test_429_waits_for_retry_after_and_holds_every_request(make_hook, fake, clock):
    hook = make_hook()
    hook.reference.offices()
    fake.fail("processxml", "429")
    started = clock.t
    hook.reference.offices()
    assert clock.t - started >= 7 and hook.stats["rate_limited"] == 1
    fake.fail("processxml", "429", count=hook.client.max_attempts)
    with pytest.raises(TwinfieldRateLimited):
        hook.reference.offices()


def test_credit_budget_per_minute(make_hook, clock):
    hook = make_hook(credits_per_minute="8")
    started = clock.t
    for _ in range(7):
        hook.reference.offices()  # the logon's token validation (a GET) and 7 reads fill the minute
    assert clock.t == started
    hook.reference.offices()
    assert clock.t - started >= 60
    assert hook.stats["credits"] == {"read": 8, "write": 0, "session": 1}


def test_a_session_logon_costs_3_credits_and_no_wsdl_is_downloaded(make_hook, fake, clock):
    hook = make_hook(auth_mode="session", credits_per_minute="9")
    started = clock.t
    for _ in range(3):
        hook.reference.offices()  # Logon 3 + SelectCompany (the connection's office) 3 + 3 reads
    assert clock.t == started
    hook.reference.offices()
    assert clock.t - started >= 60
    assert hook.stats["credits"] == {"read": 4, "write": 0, "session": 6} and fake.gets == 0


def test_at_most_max_concurrent_requests_from_many_threads(make_hook, fake):
    hook = make_hook(max_concurrent="2")
    hook.reference.offices()
    fake.hold = threading.Event()
    threads = [threading.Thread(target=hook.reference.offices) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert fake.in_flight == 2
    fake.hold.set()
    for t in threads:
        t.join(10)
    assert fake.max_in_flight == 2 and hook.stats["requests"]["read"] == 7


def test_match_statuses_browse_per_100_invoices_and_split_when_truncated(make_hook, fake):
    hook = make_hook()
    hook.transactions.post([invoice(f"2024/{i:04d}") for i in range(1, 31)])
    wanted = [f"2024/{i:04d}" for i in range(1, 151) if i % 5 == 0]  # 30 numbers, 6 of them posted
    statuses = hook.matching.statuses(invoice_numbers=wanted)
    assert sorted(s.invoice_number for s in statuses) == [f"2024/{i:04d}" for i in (5, 10, 15, 20, 25, 30)]
    assert statuses[0].status == "temporary" and statuses[0].value == Decimal("121.00")
    browses = [c for c in fake.requests_to("processxml") if c["xml"].startswith("<columns")]
    assert len(browses) == 1
    fake.browse_cap = 4
    statuses = hook.matching.statuses(invoice_numbers=wanted)
    assert len(statuses) == 6  # the capped browse was split until each part came back whole
    fake.browse_cap = 1
    with pytest.raises(Exception, match="narrow the period range"):
        hook.matching.statuses(from_period="2024/01", to_period="2024/12")


def test_a_browse_row_that_cannot_be_read_is_handed_on_or_named(make_hook, fake):
    hook = make_hook()
    hook.transactions.post([invoice(f"2024/{i:04d}") for i in range(1, 4)])
    key = ("VRK", "2024/0002")
    fake.posted[key] = dataclasses.replace(fake.posted[key], total="1.234,56")  # not an amount Twinfield writes
    unreadable = []
    statuses = hook.matching.statuses(invoice_numbers=["2024/0001", "2024/0002", "2024/0003"],
                                   unreadable=unreadable.append)
    assert [s.invoice_number for s in statuses] == ["2024/0001", "2024/0003"]
    [row] = unreadable
    assert (row.office, row.number, row.invoice_number) == ("NLA001", fake.posted[key].number, "2024/0002")
    assert row.reason == "not an amount: '1.234,56'"
    # Asked for other invoices only, the row is not theirs: nothing is handed on.
    unreadable.clear()
    assert [s.invoice_number for s in hook.matching.statuses(invoice_numbers=["2024/0003"],
                                                           unreadable=unreadable.append)] == ["2024/0003"]
    assert unreadable == []
    # Without a taker, the row is an error that names its invoice.
    with pytest.raises(TwinfieldError, match=r"browse row of invoice '2024/0002' .* cannot be read: not an amount"):
        hook.matching.statuses(invoice_numbers=["2024/0002"])


# -- writes ------------------------------------------------------------------------------------------------------
def test_post_sales_transactions_chunks_of_25_results_in_input_order(make_hook, fake):
    hook = make_hook()
    transactions = [invoice(f"2024/{i:04d}", account="8999" if i == 27 else "8000") for i in range(30)]
    results = hook.transactions.post(transactions)
    writes = [etree.fromstring(c["xml"]) for c in fake.requests_to("processxml")]
    assert [len(w) for w in writes] == [25, 5]
    assert [r.index for r in results] == list(range(30))
    assert [r.key for r in results] == [t.invoice_number for t in transactions]
    failed = results[27]
    assert not failed.ok and failed.messages[0].element == "dim1" and failed.messages[0].line_id == "2"
    assert all(r.ok and r.location == "temporary" and r.number for i, r in enumerate(results) if i != 27)
    assert hook.stats["requests"]["write"] == 2 and hook.stats["credits"]["write"] == 6


def test_write_applied_before_a_503_is_checked_not_resent(make_hook, fake):
    hook = make_hook()
    fake.fail("processxml", "503", after_apply=True)
    results = hook.transactions.post([invoice("2024/0001"), invoice("2024/0002", amount="50.00")])
    assert [(r.ok, r.number) for r in results] == [(True, "202400001"), (True, "202400002")]
    kinds = [c["xml"].split(">")[0] for c in fake.requests_to("processxml")]
    assert kinds == ["<transactions", '<columns code="100"']  # one write, one check, no resend
    assert hook.stats["retries"] == 0


def test_write_dropped_before_applying_is_checked_then_resent(make_hook, fake):
    hook = make_hook()
    hook.transactions.post([invoice("2024/0001", amount="100.00")])  # an older version of the draft
    fake.fail("processxml", "drop")
    results = hook.transactions.post([invoice("2024/0001"), invoice("2024/0002")])
    assert all(r.ok for r in results)
    sent = [etree.fromstring(c["xml"]) for c in fake.requests_to("processxml")][1:]
    assert [s.tag for s in sent] == ["transactions", "columns", "transactions"]
    assert len(sent[2]) == 2  # the draft with the old amount does not count as this write
    assert fake.posted[("VRK", "2024/0001")].total == Decimal("121.00")


def test_timeout_after_partial_apply_resends_only_the_missing(make_hook, fake):
    hook = make_hook()
    fake.fail("processxml", "timeout", after_apply=True)
    original = fake._post

    def apply_first_only(t):  # the timed-out write had reached Twinfield for 2024/0001 only
        if t.findtext("header/invoicenumber") == "2024/0002" and len(fake.requests_to("processxml")) == 1:
            return etree.Element("transaction")
        return original(t)

    fake._post = apply_first_only
    results = hook.transactions.post([invoice("2024/0001"), invoice("2024/0002")])
    assert all(r.ok for r in results)
    resent = etree.fromstring(fake.requests_to("processxml")[-1]["xml"])
    assert [t.findtext("header/invoicenumber") for t in resent] == ["2024/0002"]


def test_write_refused_before_sending_is_sent_again_without_a_check(make_hook, fake):
    hook = make_hook()
    hook.reference.offices()
    fake.fail("processxml", "refused")
    [result] = hook.transactions.post([invoice("2024/0001")])
    assert result.ok
    sent = [(c["xml"][:13], c["fault"]) for c in fake.requests_to("processxml")[1:]]
    assert sent == [("<transactions", "refused"), ("<transactions", None)]  # no check in between


def test_write_that_never_confirms_raises_unavailable(make_hook, fake):
    hook = make_hook()
    hook.reference.offices()
    for _ in range(hook.client.max_write_checks):
        fake.fail("processxml", "503")
        fake.fail("processxml", "ok")  # the check (a browse) is answered
    with pytest.raises(TwinfieldUnavailable, match="did not confirm 1 write"):
        hook.transactions.post([invoice("2024/0001")])


def test_create_customers_lets_twinfield_number_them_and_checks_unknown_outcomes(make_hook, fake):
    hook = make_hook()
    fake.customers["C1001"] = ("Old name", "")
    results = hook.customers.create([Customer(None, "New & Co", vat_number="NL1B01")])
    assert [(r.ok, r.number, r.key) for r in results] == [(True, "C2001", "C2001")]
    writes = [c for c in fake.requests_to("processxml") if c["xml"].startswith("<dimensions")]
    assert "<code>" not in writes[0]["xml"]
    fake.fail("processxml", "timeout", after_apply=True)
    results = hook.customers.create([Customer(None, "Newer BV", vat_number="BE1")])
    assert [(r.ok, r.number) for r in results] == [(True, "C2002")]
    writes = [c for c in fake.requests_to("processxml") if c["xml"].startswith("<dimensions")]
    assert len(writes) == 2 and len(fake.customers) == 3  # nothing created twice
    [search] = fake.requests_to("finder")
    assert (search["pattern"], search["field"], search["options"]["includehidden"]) == ("Newer BV", 2, "1")
    assert len(search["options"]["modifiedsince"]) == 14 and search["options"]["modifiedsince"].isdigit()
    with pytest.raises(TwinfieldError, match="new customers only"):
        hook.customers.create([Customer("C1001", "Acme")])
    assert fake.customers["C1001"] == ("Old name", "")


def test_session_selects_the_company_of_each_request_once(make_hook, fake):
    hook = make_hook(auth_mode="session")
    hook.reference.currencies("NLA002")
    hook.reference.currencies("NLA002")
    hook.reference.currencies("NLA001")
    assert fake.requests_to("select") == [("session-1", "NLA002"), ("session-1", "NLA001")]
    assert hook.stats["company_selections"] == 2 and hook.stats["credits"]["session"] == 3 + 2 * 3
    fake.fail("finder", "session")  # another logon of this user ended the session
    hook.reference.currencies("NLA001")
    assert fake.sessions_issued == 2 and fake.requests_to("select")[-1] == ("session-2", "NLA001")
    with pytest.raises(TwinfieldError, match="office NOPE is not available"):
        hook.reference.currencies("NOPE")


def test_session_login_switched_off_is_a_clear_oauth2_error(make_hook, fake):
    fake.logon_result = "OAuth2AuthenticationRequired"
    hook = make_hook(auth_mode="session")
    with pytest.raises(TwinfieldOAuth2Required, match="set the connection's auth_mode to 'oauth2'") as raised:
        hook.reference.offices()
    assert raised.value.result == "OAuth2AuthenticationRequired" and PASSWORD not in str(raised.value)
    ok, message = hook.test_connection()
    assert not ok and "OAuth2" in message


def test_hooks_of_one_user_share_one_session(make_hook, fake):
    first, second = make_hook(auth_mode="session"), make_hook(auth_mode="session")
    first.reference.currencies("NLA002")
    second.reference.currencies("NLA002")
    assert fake.sessions_issued == 1 and fake.requests_to("select") == [("session-1", "NLA002")]
    assert (first.stats["logons"], second.stats["logons"]) == (1, 0)


def test_connection_test_warns_against_an_administrator_user(make_hook):
    ok, message = make_hook().test_connection()
    assert ok and "not a level-1 (administrator) user" in message


def test_delete_draft_and_its_unknown_outcome(make_hook, fake):
    hook = make_hook()
    [posted] = hook.transactions.post([invoice("2024/0001")])
    fake.fail("processxml", "503", after_apply=True)
    result = hook.transactions.delete_draft("NLA001", "VRK", posted.number, "Focus invoice deleted")
    assert (result.ok, result.key, result.number) == (True, posted.number, posted.number)
    assert hook.transactions.read("NLA001", "VRK", posted.number) is None
    deletes = [c for c in fake.requests_to("processxml") if 'action="delete"' in c["xml"]]
    assert len(deletes) == 1
    final = hook.transactions.post([invoice("2024/0002")])[0]
    fake.posted[("VRK", "2024/0002")].status = "final"
    refused = hook.transactions.delete_draft("NLA001", "VRK", final.number, "no")
    assert not refused.ok and refused.error_messages == ["Boeking kan niet worden verwijderd."]


def test_read_transaction(make_hook):
    hook = make_hook()
    [posted] = hook.transactions.post([invoice("2024/0001")])
    read = hook.transactions.read("NLA001", "VRK", posted.number)
    assert (read.location, read.match_status, read.open_value) == ("temporary", "available", Decimal("121.00"))
    assert read.transaction.invoice_number == "2024/0001"


# -- connection ----------------------------------------------------------------------------------------------------
def test_connection_fields_and_test_connection(make_hook):
    hook = make_hook(office="", credits_per_minute="", max_concurrent="3")
    assert hook.default_office is None and hook.client.limits.credits_per_minute == 500 and hook.client.limits.max_concurrent == 3
    with pytest.raises(Exception, match="no office"):
        hook.customers.list()
    ok, message = hook.test_connection()
    assert ok and "1 office" in message
    assert (TwinfieldHook.conn_type, TwinfieldHook.default_conn_name, TwinfieldHook.hook_name) == (
        "twinfield", "twinfield_default", "Twinfield")


# -- small parts ---------------------------------------------------------------------------------------------------
def test_retry_after_as_seconds_or_http_date():
    from twinfield.hooks.twinfield.soap import DEFAULT_RETRY_AFTER, retry_after_seconds

    now = dt.datetime(2024, 3, 5, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Tue, 05 Mar 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Tue, 05 Mar 2024 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds(None, now) == retry_after_seconds("soon", now) == DEFAULT_RETRY_AFTER


def test_credentials_never_show_their_secrets():
    from twinfield.hooks.twinfield.auth import Credentials

    text = repr(Credentials("https://cluster", access_token="tok-secret", session_id="sid-secret"))
    assert "tok-secret" not in text and "sid-secret" not in text and "https://cluster" in text
