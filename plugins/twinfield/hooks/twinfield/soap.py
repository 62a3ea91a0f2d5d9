"""The zeep side of TwinfieldClient: Twinfield's services over one requests.Session, the SOAP headers,
and what an HTTP exchange came to (answered, refused for now, never sent, or sent without a usable answer).

Nothing here retries; the client decides what may be sent again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from dataclasses import dataclass
from pathlib import Path

import requests
import zeep
from lxml import etree
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError

from twinfield.errors import TwinfieldFault

TNS = "http://www.twinfield.com/"
HEADER = f"{{{TNS}}}Header"
BINDINGS = {"processxml": "ProcessXmlSoap", "finder": "FinderSoap", "session": "SessionSoap"}
DEFAULT_RETRY_AFTER = 5.0
# The service descriptions ship with the package: Twinfield charges a credit for every HTTP GET, a WSDL download
# included, and a task would otherwise download three of them each time it starts.
WSDL_DIR = Path(__file__).parent / "wsdl"

log = logging.getLogger(__name__)


# -- what an exchange came to ---------------------------------------------------------------------------------
class Outcome(Exception):
    """Base of the exchange outcomes below; messages never carry URLs (one holds an access token)."""


class RateLimited(Outcome):
    """429: Twinfield refused the request without processing it; send again after ``retry_after`` s."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(f"rate limited (429), retry after {retry_after:g}s")


class NotSent(Outcome):
    """The request never reached Twinfield (connection refused, connect timeout): safe to send again."""


class OutcomeUnknown(Outcome):
    """Sent, but no usable answer (timeout, dropped connection, 5xx): a write may or may not have applied."""


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float:
    """Retry-After as seconds or as an HTTP date; a default when absent or unreadable."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    now = now or dt.datetime.now(dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def outcome_of(exc: requests.RequestException) -> Outcome:
    """Classify a requests failure; the message is the exception's class only (URLs may hold a token)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    never_sent = isinstance(exc, requests.ConnectTimeout) or isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    kind = NotSent if never_sent else OutcomeUnknown
    return kind(f"{type(exc).__name__} ({type(reason).__name__})" if reason is not None else type(exc).__name__)


def check_status(response: requests.Response) -> None:
    """429 and 5xx without a SOAP fault become outcomes; a fault (HTTP 500) is left for zeep to read."""
    status = response.status_code
    if status == 429:
        raise RateLimited(retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500 and b"Fault>" not in response.content[:4096]:
        raise OutcomeUnknown(f"HTTP {status}")


class Transport(zeep.Transport):
    """zeep transport that logs no message bodies (they carry tokens and passwords) and turns transport
    failures into :class:`Outcome` s. ``on_get`` is told of every HTTP GET (each costs a Twinfield credit)."""

    on_get = None

    def post(self, address, message, headers):
        try:
            response = self.session.post(address, data=message, headers=headers, timeout=self.operation_timeout)
        except requests.RequestException as exc:
            raise outcome_of(exc) from None
        log.debug("POST %s: HTTP %s", address, response.status_code)
        check_status(response)
        if 400 <= response.status_code < 500 and b"Fault>" not in response.content[:4096]:
            # Refused as a whole, not with a SOAP fault (e.g. HTTP 400 for a transaction of over 1000 lines).
            raise TwinfieldFault(str(response.status_code), f"HTTP {response.status_code} without a SOAP reply")
        return response

    def _load_remote_data(self, url):
        # Not reached with the packaged WSDLs (they import nothing); kept so a GET is still classified and counted.
        if self.on_get is not None:
            self.on_get()
        try:
            response = self.session.get(url, timeout=self.load_timeout)
        except requests.RequestException as exc:
            raise outcome_of(exc) from None
        check_status(response)
        if response.status_code != 200:
            raise TwinfieldFault(str(response.status_code), f"cannot load the service description {url}")
        return response.content


# -- clients and calls ------------------------------------------------------------------------------------------
@dataclass
class Service:
    """A zeep client and its service proxy bound to the address we were given (not the WSDL's own)."""

    client: zeep.Client
    proxy: object
    address: str = ""

    def header(self, **fields: str | None):
        """This WSDL's Header element, built with keyword arguments only (positional ones nest wrongly)."""
        return self.client.get_element(HEADER)(**{k: v for k, v in fields.items() if v is not None})


def build_service(transport: Transport, base_url: str, name: str) -> Service:
    """A client from the packaged WSDL, bound to ``base_url`` 's service address: no download."""
    address = f"{base_url}/webservices/{name}.asmx"
    client = zeep.Client(str(WSDL_DIR / f"{name}.wsdl"), transport=transport,
                         settings=zeep.Settings(strict=False, xml_huge_tree=True))
    return Service(client, client.create_service(f"{{{TNS}}}{BINDINGS[name]}", address), address)


def lxml_header(**fields: str | None) -> etree._Element:
    """A Header as a plain element, for services whose WSDL declares an older Header (the Finder's has
    SessionID only, but Twinfield reads AccessToken and CompanyCode from it)."""
    header = etree.Element(HEADER, nsmap={None: TNS})
    for name, value in fields.items():
        if value is not None:
            etree.SubElement(header, f"{{{TNS}}}{name}").text = value
    return header


def call(operation, *args, **kwargs):
    """Run one zeep operation; faults become TwinfieldFault, unreadable replies OutcomeUnknown."""
    try:
        return operation(*args, **kwargs)
    except Fault as fault:
        raise TwinfieldFault(_fault_code(fault), fault.message or "SOAP fault") from None
    except TransportError as exc:
        if exc.status_code and exc.status_code < 500:
            raise TwinfieldFault(str(exc.status_code), f"HTTP {exc.status_code}") from None
        raise OutcomeUnknown(f"HTTP {exc.status_code or '?'} without a readable reply") from None
    except ZeepError as exc:
        raise OutcomeUnknown(f"unreadable reply ({type(exc).__name__})") from None


def _fault_code(fault: Fault) -> str | None:
    """Twinfield's own code when the fault detail carries one, else the SOAP fault code."""
    detail = fault.detail
    if isinstance(detail, etree._Element):  # zeep puts the raw body here when it could not read a fault
        for element in detail.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname.lower() in ("code", "errorcode"):
                if (element.text or "").strip():
                    return element.text.strip()
    return fault.code


@dataclass(frozen=True)
class FinderPage:
    total: int
    columns: list[str]
    items: list[list[str]]


def finder_page(result) -> FinderPage:
    """A Finder SearchResponse as plain lists; error messages in it become a TwinfieldFault."""
    messages = getattr(getattr(result, "SearchResult", None), "MessageOfErrorCodes", None) or []
    errors = [m for m in messages if str(getattr(m, "Type", "")) == "Error"]
    if errors:
        raise TwinfieldFault(str(errors[0].Code), "; ".join(str(m.Text) for m in errors))
    data = getattr(result, "data", None)
    if data is None:
        return FinderPage(0, [], [])
    columns = list(getattr(data.Columns, "string", None) or [])
    rows = getattr(data.Items, "ArrayOfString", None) or []
    items = [[value or "" for value in (getattr(row, "string", None) or [])] for row in rows]
    return FinderPage(int(data.TotalRows or 0), columns, items)


def finder_options(options: dict[str, str]) -> dict:
    return {"ArrayOfString": [{"string": [name, value]} for name, value in options.items()]}
