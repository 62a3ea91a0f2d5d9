"""The three SOAP services: Session (Logon, SelectCompany, OAuthLogon), ProcessXml (String, Document, Compressed),
Finder (Search).

Credentials for ProcessXml and Finder come from the SOAP header ``Header`` (namespace http://www.twinfield.com/):
``AccessToken`` (+ ``CompanyCode``, the current office; default: the organisation's default office) or a
``SessionID`` from Logon (the current office is the session's company: see auth.py, SelectCompany).
Logon and SelectCompany are charged 3 credits, like every call that is not a read. Faults (soap.SoapFault,
HTTP 500):
- no or an expired/unknown access token: "Access denied. Token invalid." with code 354;
- an ended session (e.g. by a later Logon of the same user): "Your logon credentials are not valid anymore.
  Try to log on again.";
- a CompanyCode that is not an office of the organisation: "Access denied. No access to company '<code>'.".
Then the fair-use budget is charged (limits.Limits; 429 when over budget) and the call is served. A ProcessXml
request with a transaction of more than 1000 lines is answered HTTP 400 with an HTML page, nothing applied.

OAuthLogon (OAuth 1.0, retired by Twinfield) always answers ``Invalid``.
"""

from __future__ import annotations

import base64
import gzip

from fastapi import Response
from lxml import etree

from sandbox.twinfield import finder, processxml, soap
from sandbox.twinfield.auth import Auth
from sandbox.twinfield.limits import Limits, RateLimited
from sandbox.twinfield.office import World
from sandbox.twinfield.soap import TWINFIELD, SoapFault, SoapRequest, tw

TOKEN_INVALID = "Access denied. Token invalid."
TOKEN_INVALID_CODE = "354"
SESSION_INVALID = "Your logon credentials are not valid anymore. Try to log on again."
_BAD_REQUEST = "<html><head><title>Bad Request</title></head><body><h1>Bad Request</h1></body></html>"
OPERATIONS = {
    "session": {"Logon", "SelectCompany", "OAuthLogon"},
    "processxml": {"ProcessXmlString", "ProcessXmlDocument", "ProcessXmlCompressed"},
    "finder": {"Search"},
}


class Services:
    def __init__(self, world: World, auth: Auth, limits: Limits, default_office: str):
        self.world = world
        self.auth = auth
        self.limits = limits
        self.default_office = default_office

    def handle(self, service: str, data: bytes, content_type: str, soap_action: str | None,
               cluster_url: str) -> Response:
        version = soap.version_of(content_type)
        try:
            request = soap.parse_request(data, content_type, soap_action)
            version = request.version
            if request.operation not in OPERATIONS[service]:
                raise SoapFault(f"Server did not recognize the value of HTTP Header SOAPAction: "
                                f"{TWINFIELD}{request.operation}.")
            if service == "session":
                body, header, headers = self._session(request, cluster_url)
                return self._reply(version, body, header, headers)
            office = self._authenticate(request)
            if service == "processxml":
                body, headers = self._processxml(request, office)
            else:
                body, headers = self._finder(request, office)
            return self._reply(version, body, headers=headers)
        except SoapFault as fault:
            return Response(soap.fault_envelope(version, fault), 500, media_type=soap.CONTENT_TYPES[version])
        except processxml.TooManyLines:
            return Response(_BAD_REQUEST, 400, media_type="text/html; charset=utf-8")
        except RateLimited as limited:
            return Response(f"Too Many Requests: fair-use limit reached, retry after {limited.retry_after}s",
                            429, headers={"Retry-After": str(limited.retry_after), **limited.headers},
                            media_type="text/plain")

    @staticmethod
    def _reply(version: str, body: etree._Element, header: etree._Element | None = None,
               headers: dict[str, str] | None = None) -> Response:
        return Response(soap.envelope(version, body, header), 200, headers=headers,
                        media_type=soap.CONTENT_TYPES[version])

    # -- Session ---------------------------------------------------------------------------------------------
    def _session(self, request: SoapRequest,
                 cluster_url: str) -> tuple[etree._Element, etree._Element | None, dict[str, str]]:
        if request.operation == "OAuthLogon":
            body = tw("OAuthLogonResponse")
            tw("OAuthLogonResult", "Invalid", body)
            tw("nextAction", "None", body)
            return body, None, {}
        if request.operation == "SelectCompany":
            session_id = request.header.get("SessionID") or ""
            if not self.auth.session_valid(session_id):
                raise SoapFault(SESSION_INVALID)
            headers = self.limits.charge(processxml.WRITE_COST)
            company = request.arg("company")
            known = self.world.office(company) is not None
            if known:
                self.auth.select_company(session_id, company)
            body = tw("SelectCompanyResponse")
            tw("SelectCompanyResult", "Ok" if known else "Invalid", body)
            return body, None, headers
        headers = self.limits.charge(processxml.WRITE_COST)
        result, session_id = self.auth.logon(request.arg("user"), request.arg("password"), request.arg("organisation"))
        body = tw("LogonResponse")
        tw("LogonResult", result, body)
        tw("nextAction", "None", body)
        if session_id is None:
            return body, None, headers
        tw("cluster", cluster_url, body)
        header = tw("Header")
        tw("SessionID", session_id, header)
        return body, header, headers

    def _authenticate(self, request: SoapRequest) -> str:
        """Check the header's credentials; returns the current office code."""
        if request.header.get("AccessToken"):
            if not self.auth.access_token_valid(request.header["AccessToken"]):
                raise SoapFault(TOKEN_INVALID, code=TOKEN_INVALID_CODE)
        elif request.header.get("SessionID"):
            company = self.auth.session_company(request.header["SessionID"])
            if company is None:
                raise SoapFault(SESSION_INVALID)
            return company
        else:
            raise SoapFault(TOKEN_INVALID, code=TOKEN_INVALID_CODE)
        office = request.header.get("CompanyCode") or self.default_office
        if self.world.office(office) is None:
            raise SoapFault(f"Access denied. No access to company '{office}'.")
        return office

    # -- ProcessXml ------------------------------------------------------------------------------------------
    def _processxml(self, request: SoapRequest, office: str) -> tuple[etree._Element, dict[str, str]]:
        if request.operation == "ProcessXmlDocument":
            holder = request.body.find(f"{{{TWINFIELD}}}xmlRequest")
            children = [child for child in holder if isinstance(child.tag, str)] if holder is not None else []
            document = children[0] if children else None
            text = etree.tostring(_without_namespaces(document)) if document is not None else b""
        elif request.operation == "ProcessXmlCompressed":
            try:
                text = gzip.decompress(base64.b64decode(request.arg("xmlRequest")))
            except (ValueError, OSError):
                raise SoapFault("Server was unable to process request. ---> The compressed request is not valid "
                                "G-zipped data.") from None
        else:
            text = request.arg("xmlRequest")
        parsed = processxml.parse_request(text)
        headers = self.limits.charge(processxml.cost(parsed))
        reply = parsed if isinstance(parsed, str) else processxml.process(self.world, parsed, office)

        body = tw(f"{request.operation}Response", prefix="tw" if request.operation == "ProcessXmlDocument" else None)
        result = tw(f"{request.operation}Result", None, body)
        if request.operation == "ProcessXmlDocument":
            result.append(etree.fromstring(reply))
        elif request.operation == "ProcessXmlCompressed":
            result.text = base64.b64encode(gzip.compress(reply.encode("utf-8"))).decode("ascii")
        else:
            result.text = reply
        return body, headers

    # -- Finder ----------------------------------------------------------------------------------------------
    def _finder(self, request: SoapRequest, office: str) -> tuple[etree._Element, dict[str, str]]:
        try:
            field, first_row, max_rows = (int(request.arg(name)) for name in ("field", "firstRow", "maxRows"))
        except ValueError:
            raise SoapFault("Server was unable to read request. ---> Input string was not in a correct format.") \
                from None
        options = {}
        for pair in request.body.iterfind(f"{{{TWINFIELD}}}options/{{{TWINFIELD}}}ArrayOfString"):
            values = [(s.text or "") for s in pair.iterfind(f"{{{TWINFIELD}}}string")]
            if len(values) >= 2:
                options[values[0]] = values[1]
        headers = self.limits.charge(processxml.READ_COST)
        with self.world.lock:
            found = finder.search(self.world, office, request.arg("type"), request.arg("pattern"), field, first_row,
                                  max_rows, options)
        body = tw("SearchResponse")
        messages = tw("SearchResult", None, body)
        for message in found.messages:
            element = tw("MessageOfErrorCodes", None, messages)
            tw("Type", message.type, element)
            tw("Text", message.text, element)
            tw("Code", message.code, element)
            tw("Parameters", None, element)
        if found.items is not None:
            data = tw("data", None, body)
            tw("TotalRows", str(found.total), data)
            columns = tw("Columns", None, data)
            for column in finder.COLUMNS[self.auth.language(request.header.get("SessionID"))]:
                tw("string", column, columns)
            items = tw("Items", None, data)
            for row in found.items:
                array = tw("ArrayOfString", None, items)
                for value in row:
                    tw("string", value, array)
        return body, headers


def _without_namespaces(element: etree._Element) -> etree._Element:
    """The request document of ProcessXmlDocument by local names: it often arrives in the envelope's namespace."""
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(copy)
    return copy
