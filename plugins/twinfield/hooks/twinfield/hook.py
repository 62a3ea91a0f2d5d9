"""TwinfieldHook: everything the product asks of Twinfield, over zeep, within Twinfield's fair-use limits.

Costs (Twinfield's credits: a read 1, anything else 3, every HTTP GET 1), per call:
- a logon: Session Logon 3; OAuth2 1 (the access-token validation is a GET); with session login, 3 more for
  each SelectCompany, made when a request is for another office than the session's. The WSDLs ship with the
  package, so no GET downloads them.
- ``list_offices``, ``read_transaction``, ``read_customer``: 1 read.
- ``list_customers``: one Finder page per 25 customers (the page size Twinfield asks clients to use: 1,000
  customers cost 40 credits instead of 10 with pages of 100, a small part of a 500/minute budget), plus one
  ``<read>`` per customer when ``with_details`` (the default): the Finder's DIM rows carry code and name only,
  and the VAT number, address and payment terms live in the dimension itself. 1,000 customers: 40 + 1,000
  credits. The pipeline keeps its customer links, so it needs this list once, not per invoice.
- ``list_ledger_accounts``: one Finder page per 25 accounts per dimension type (BAS, PNL).
- ``list_vat_codes``: one Finder page, plus one ``<read>`` per VAT code (for its type and percentages).
- ``list_currencies``: one Finder page per 25 currencies (in practice one).
- ``create_customers`` / ``post_sales_transactions``: one write per 25 items (a batch Twinfield answers with
  HTTP 400 is sent again in halves, down to the one transaction it refuses).
- ``match_statuses``: one browse per 100 invoice numbers (or one for a period range).
A write whose outcome is unknown costs its check (reads) before anything is sent again.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from contextlib import nullcontext
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
from airflow.sdk import BaseHook
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from twinfield.domain import twinfield_xml as xml
from twinfield.domain.twinfield_model import (
    Customer,
    DebitCredit,
    ItemResult,
    LedgerAccount,
    MatchStatus,
    UnreadableRow,
    Message,
    Office,
    PostedTransaction,
    SalesTransaction,
    VatCode,
)
from twinfield.errors import TwinfieldError, TwinfieldFault, TwinfieldRateLimited, TwinfieldUnavailable
from twinfield.hooks.twinfield.auth import (
    Authenticator,
    CompanySelection,
    Credentials,
    OAuth2Login,
    SessionLogon,
    StoredAccessToken,
    UserSession,
    is_auth_fault,
    select_company,
    user_session,
)
from twinfield.hooks.twinfield.limits import FairUse
from twinfield.state import StateStore
from twinfield.state.tokens import AccessTokens
from twinfield.hooks.twinfield.soap import (
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Service,
    Transport,
    build_service,
    call,
    finder_options,
    finder_page,
)

T = TypeVar("T")
READ, WRITE, SESSION = "read", "write", "session"  # SESSION: Logon, SelectCompany and OAuth2's validation GET
COST = {READ: 1, WRITE: 3}
LOGON_COST = {"session": 3, "oauth2": 1}
SELECT_COMPANY_COST = 3
FINDER_PAGE = 25  # rows per Finder page, as Twinfield asks
RECENT_MARGIN = dt.timedelta(minutes=10)  # clock difference allowed when asking Finder for recent changes
CONNECTION_ADVICE = ("Use a Twinfield user of its own for this integration, not a level-1 (administrator) user: "
                     "it holds a session, and a second logon of the same user ends the first.")
BROWSE_INVOICES = 100  # invoice numbers per browse
ADMINISTRATION_TZ = ZoneInfo("Europe/Amsterdam")


class _Renewed(Exception):
    """Credentials were renewed after an auth fault: send the same request once more."""


class TwinfieldHook(BaseHook):
    """Twinfield through its SOAP services (ProcessXml, Finder; Session for the legacy logon).

    Connection: host = login base URL (https://login.twinfield.com); extra ``auth_mode`` "oauth2" (login =
    client id, password = client secret, extra ``refresh_token``) or "session" (login = user, password,
    extra ``organisation``); extra ``office`` (default office), ``credits_per_minute`` (500),
    ``max_concurrent`` (10), ``timeout`` (seconds, 60).

    Safe to share between the threads of one task. ``stats`` counts what was sent: requests and credits per
    kind (read/write), retries, 429s and logons. ``clock`` and ``sleep`` exist for tests. With a ``state``
    store, an OAuth2 access token is kept there (encrypted) and used by every hook until it expires.
    """

    conn_name_attr = "twinfield_conn_id"
    default_conn_name = "twinfield_default"
    conn_type = "twinfield"
    hook_name = "Twinfield"

    max_attempts = 6  # per request, for what may be sent again
    max_write_checks = 3  # unknown write outcomes checked and re-sent, per batch

    def __init__(
        self,
        twinfield_conn_id: str = default_conn_name,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        state: StateStore | None = None,
    ):
        super().__init__()
        self.twinfield_conn_id = twinfield_conn_id
        self.state = state
        self._clock = clock
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self._made: dict[str, Any] = {}
        self._made_lock = threading.RLock()
        self.stats: dict[str, Any] = {
            "requests": {READ: 0, WRITE: 0, SESSION: 0},
            "credits": {READ: 0, WRITE: 0, SESSION: 0},
            "retries": 0,
            "rate_limited": 0,
            "logons": 0,
            "company_selections": 0,
        }


    # -- connection ---------------------------------------------------------------------------------------
    def _once(self, name: str, make: Callable[[], T]) -> T:
        """Build a shared part once, even when threads ask for it at the same time (cached_property alone
        does not lock on Python 3.12+: two threads could log on twice or keep two limiters)."""
        with self._made_lock:
            if name not in self._made:
                self._made[name] = make()
            return self._made[name]

    @cached_property
    def connection(self):
        return self.get_connection(self.twinfield_conn_id)

    def _get_field(self, name: str, default: Any = None) -> Any:
        """A connection extra (also as ``extra__twinfield__<name>``); an empty string counts as absent."""
        extra = self.connection.extra_dejson
        for key in (name, f"extra__twinfield__{name}"):
            value = extra.get(key)
            if value not in (None, ""):
                return value
        return default

    @cached_property
    def host(self) -> str:
        host = (self.connection.host or "https://login.twinfield.com").rstrip("/")
        return host if "://" in host else f"https://{host}"

    @cached_property
    def default_office(self) -> str | None:
        return self._get_field("office")

    @cached_property
    def timeout(self) -> float:
        return float(self._get_field("timeout", 60))

    @cached_property
    def limits(self) -> FairUse:
        return self._once("limits", lambda: FairUse(
            int(self._get_field("credits_per_minute", 500)), int(self._get_field("max_concurrent", 10)),
            clock=self._clock, sleep=self._sleep))

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session for every call of this hook (connection reuse), sized for max_concurrent."""

        def make() -> requests.Session:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.limits.max_concurrent)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            return session

        return self._once("session", make)

    @cached_property
    def _transport(self) -> Transport:
        def make() -> Transport:
            transport = Transport(session=self.session, timeout=self.timeout, operation_timeout=self.timeout)
            transport.on_get = lambda: self._spend(SESSION, COST[READ])
            return transport

        return self._once("transport", make)

    @cached_property
    def _user_session(self) -> UserSession:
        return self._once("user_session", self._make_user_session)

    @cached_property
    def _auth(self) -> Authenticator:
        return self._user_session.auth

    @cached_property
    def _companies(self) -> CompanySelection:
        return self._user_session.companies

    @cached_property
    def _mode(self) -> str:
        mode = self._get_field("auth_mode", "oauth2")
        if mode not in LOGON_COST:
            raise TwinfieldError(f"unknown auth_mode {mode!r}: use 'oauth2' or 'session'")
        return mode

    @cached_property
    def _session_service(self) -> Service:
        return self._once("session_service", lambda: build_service(self._transport, self.host, "session"))

    def _make_user_session(self) -> UserSession:
        mode, conn = self._mode, self.connection
        if mode == "oauth2":
            refresh_token = self._get_field("refresh_token") or ""
            login = OAuth2Login(self.session, self.host, conn.login or "", conn.password or "", refresh_token,
                                self.timeout, self._clock)
            if self.state is not None:  # one token for every task until it expires, not one per task
                from twinfield.hooks.state import secrets_cipher

                tokens = AccessTokens(self.state, self.twinfield_conn_id, cipher=secrets_cipher())
                login = StoredAccessToken(login, tokens, f"{self.host}\n{conn.login}\n{refresh_token}", self._clock)
            return UserSession(Authenticator(login, self._clock), CompanySelection())
        organisation = self._get_field("organisation") or ""
        return user_session(
            (self.host, conn.login or "", organisation, conn.password or ""),
            lambda: SessionLogon(self._session_service, conn.login or "", conn.password or "", organisation),
            self._clock)

    def _before_logon(self) -> None:
        self._count("logons")
        self._spend(SESSION, LOGON_COST[self._mode])

    def _spend(self, kind: str, credits: int) -> None:
        """Wait for ``credits`` in the budget and count one request of ``kind``."""
        with self.limits.slot(credits):
            self._count("requests", kind)
            self._count("credits", kind, credits)

    def _select_company(self, credentials: Credentials, office: str) -> None:
        self._count("company_selections")
        self._spend(SESSION, SELECT_COMPANY_COST)
        call(lambda: select_company(self._session_service, credentials, office))

    def _service(self, base_url: str, name: str) -> Service:
        return build_service(self._transport, base_url, name)

    @cached_property
    def _processxml(self) -> Service:
        return self._once("processxml", lambda: self._service(self._auth.current(self._before_logon).cluster, "processxml"))

    @cached_property
    def _finder(self) -> Service:
        return self._once("finder", lambda: self._service(self._auth.current(self._before_logon).cluster, "finder"))

    def _office(self, office: str | None) -> str:
        office = office or self.default_office
        if not office:
            raise TwinfieldError("no office: pass one or set the connection extra 'office'")
        return office

    # -- one request, within the limits --------------------------------------------------------------------
    def _count(self, what: str, kind: str | None = None, amount: int = 1) -> None:
        with self._stats_lock:
            if kind is None:
                self.stats[what] += amount
            else:
                self.stats[what][kind] += amount

    def _retrying(self, kind: str) -> Retrying:
        def may_resend(exc: BaseException) -> bool:
            if isinstance(exc, OutcomeUnknown):
                return kind == READ
            return isinstance(exc, (RateLimited, NotSent, _Renewed))

        backoff = wait_exponential(multiplier=0.5, max=30)

        def wait(state) -> float:
            exc = state.outcome.exception()
            if isinstance(exc, (RateLimited, _Renewed)):
                return 0.0  # a 429 pauses the shared limiter instead, so every thread waits
            return backoff(state)

        def before_sleep(state) -> None:
            self._count("retries")

        return Retrying(stop=stop_after_attempt(self.max_attempts), wait=wait, retry=retry_if_exception(may_resend),
                        sleep=self._sleep, before_sleep=before_sleep, reraise=True)

    def _request(self, kind: str, send: Callable[[Credentials], T], office: str | None = None) -> T:
        """Send one request: within the credit budget and concurrency cap, with a session in ``office``
        (SelectCompany); once more after renewing the credentials on an auth fault; again after a 429 and,
        for reads only, after 5xx/timeouts/drops. A write whose outcome is unknown raises OutcomeUnknown: the
        caller checks before resending."""
        renewed = False

        def attempt() -> T:
            nonlocal renewed
            credentials = self._auth.current(self._before_logon)
            try:
                with self._companies.using(credentials, office, lambda o: self._select_company(credentials, o)) \
                        if credentials.session_id and office else nullcontext(), self.limits.slot(COST[kind]):
                    self._count("requests", kind)
                    self._count("credits", kind, COST[kind])
                    return send(credentials)
            except RateLimited as limited:
                self._count("rate_limited")
                self.limits.pause(limited.retry_after)
                raise
            except TwinfieldFault as fault:
                if renewed or not is_auth_fault(fault):
                    raise
            renewed = True
            self._auth.renew(credentials, self._before_logon)
            raise _Renewed()

        try:
            return self._retrying(kind)(attempt)
        except RateLimited as limited:
            raise TwinfieldRateLimited(f"Twinfield still rate-limits after {self.max_attempts} attempts: {limited}") from None
        except NotSent as exc:
            raise TwinfieldUnavailable(f"Twinfield unreachable: {exc}") from None
        except OutcomeUnknown as exc:
            if kind == WRITE:
                raise
            raise TwinfieldUnavailable(f"Twinfield did not answer after {self.max_attempts} attempts: {exc}") from None

    def _process_xml(self, kind: str, request: str, office: str | None) -> str:
        def send(credentials: Credentials) -> str:
            service = self._processxml
            header = credentials.header(service, office)
            reply = call(service.proxy.ProcessXmlString, xmlRequest=request, _soapheaders=[header])
            return reply or ""

        return self._request(kind, send, office)

    def _read(self, request: str, office: str | None) -> str:
        return self._process_xml(READ, request, office)

    def _search(self, finder_type: str, options: dict[str, str], office: str | None,
                pattern: str = "*", field: int = 0) -> list[dict[str, str]]:
        """Every row of a Finder search, page by page (firstRow counts from 1; a page may be shorter than
        asked: the next one starts after what came)."""
        records: list[dict[str, str]] = []
        first = 1
        while True:
            def send(credentials: Credentials, first: int = first):
                return finder_page(call(self._finder.proxy.Search, type=finder_type, pattern=pattern, field=field,
                                        firstRow=first, maxRows=FINDER_PAGE, options=finder_options(options),
                                        _soapheaders=[credentials.plain_header(office)]))

            page = self._request(READ, send, office)
            records += xml.finder_records(page.items)
            if not page.items or len(records) >= page.total:
                return records
            first += len(page.items)

    # -- reads -------------------------------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """One cheap read: the offices this login can see."""
        try:
            offices = self.list_offices()
        except TwinfieldError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the UI wants an answer; other messages may hold a URL
            return False, f"{type(exc).__name__} while connecting to Twinfield"
        return True, f"Connected to Twinfield: {len(offices)} office(s) available. {CONNECTION_ADVICE}"

    def list_offices(self) -> list[Office]:
        return xml.parse_offices(self._read(xml.list_offices_xml(), self.default_office))

    def list_customers(self, office: str | None = None, with_details: bool = True) -> list[Customer]:
        """DEB customers of ``office`` that are not hidden: Finder DIM (code, name), then each one read for its
        VAT number, address, IBAN and payment terms (``with_details=False`` skips those reads; see the module's
        costs)."""
        office = self._office(office)
        rows = self._search("DIM", {"dimtype": "DEB", "office": office}, office)
        if not with_details:
            return [Customer(code=r["code"], name=r["name"], office=office) for r in rows]
        customers = []
        for row in rows:
            customer = self.read_customer(row["code"], office)
            customers.append(customer or Customer(code=row["code"], name=row["name"], office=office))
        return customers

    def read_customer(self, code: str, office: str | None = None) -> Customer | None:
        office = self._office(office)
        return xml.parse_customer(self._read(xml.read_dimension_xml(office, "DEB", code), office))

    def find_customers(self, name: str, office: str | None = None, *,
                       modified_since: dt.datetime | None = None) -> list[Customer]:
        """Customers named exactly ``name``, hidden ones included (Finder on the name field, then a read of
        each); with ``modified_since``, only those Twinfield changed since then (less a margin for clocks)."""
        office = self._office(office)
        options = {"dimtype": "DEB", "office": office, "includehidden": "1"}
        if modified_since is not None:
            # In UTC: Twinfield does not say which clock modifiedsince reads; UTC is never later than
            # Amsterdam's, so nothing recent is missed under either reading.
            since = (modified_since - RECENT_MARGIN).astimezone(dt.timezone.utc)
            options["modifiedsince"] = since.strftime("%Y%m%d%H%M%S")
        pattern = "".join("?" if char in "*?" else char for char in name)  # Finder wildcards stand for themselves
        rows = self._search("DIM", options, office, pattern=pattern, field=2)
        found = [self.read_customer(r["code"], office) for r in rows if r["name"] == name]
        return [c for c in found if c is not None]

    def list_ledger_accounts(self, office: str | None = None) -> list[LedgerAccount]:
        office = self._office(office)
        return [
            LedgerAccount(code=r.get("code", ""), name=r.get("name", ""), dimtype=dimtype)
            for dimtype in ("BAS", "PNL")
            for r in self._search("DIM", {"dimtype": dimtype, "office": office}, office)
        ]

    def list_vat_codes(self, office: str | None = None) -> list[VatCode]:
        """VAT codes with their type and dated percentages (the current one as of today in the Netherlands)."""
        office = self._office(office)
        today = dt.datetime.now(ADMINISTRATION_TZ).date()
        codes = []
        for row in self._search("VAT", {"office": office}, office):
            vat = xml.parse_vat_code(self._read(xml.read_vat_xml(office, row.get("code", "")), office), today)
            if vat is not None:
                codes.append(vat)
        return codes

    def list_currencies(self, office: str | None = None) -> list[str]:
        """Codes of the currencies ``office`` keeps, its base currency included (Finder CUR): Twinfield refuses
        a transaction in any other currency."""
        office = self._office(office)
        return [r.get("code", "") for r in self._search("CUR", {"office": office}, office)]

    def read_transaction(self, office: str, daybook: str, number: str) -> PostedTransaction | None:
        """A transaction as Twinfield holds it, with its location and its total line's match state;
        None when Twinfield has no such transaction."""
        return xml.parse_transaction(self._read(xml.read_transaction_xml(office, daybook, number), office))

    def match_statuses(
        self,
        office: str | None = None,
        daybook: str = "VRK",
        invoice_numbers: Collection[str] | None = None,
        from_period: str | None = None,
        to_period: str | None = None,
        *,
        keep: Callable[[MatchStatus], bool] | None = None,
        unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> list[MatchStatus]:
        """Payment state of total lines (browse 100), drafts included: of the given invoice numbers (one
        browse per 100 of them, by invoice-number range, the rows then filtered to exactly these), or of
        every invoice of the daybook in the period range (only those ``keep`` accepts are held: a period's
        answer is read row by row). A browse that answers fewer rows than it counts is asked again in halves;
        without invoice numbers that is an error (narrow the period range). A row whose amounts or dates
        cannot be read goes to ``unreadable`` (of the given invoice numbers only, when they are given); without
        it, such a row is an error that names its invoice."""
        office = self._office(office)
        periods = (from_period or "0000/00", to_period or "9999/99") if (from_period or to_period) else None
        if invoice_numbers is None:
            return self._browse_matches(office, daybook, None, periods, keep, unreadable)
        wanted = sorted(set(invoice_numbers))
        statuses = []
        for start in range(0, len(wanted), BROWSE_INVOICES):
            group = wanted[start : start + BROWSE_INVOICES]
            statuses += self._match_group(office, daybook, group, periods, unreadable)
        return [s for s in statuses if keep(s)] if keep else statuses

    def _match_group(self, office: str, daybook: str, group: list[str], periods,
                     unreadable: Callable[[UnreadableRow], None] | None) -> list[MatchStatus]:
        wanted = set(group)

        def ours(row: UnreadableRow) -> None:
            if row.invoice_number in wanted and unreadable is not None:
                unreadable(row)

        try:
            return self._browse_matches(office, daybook, (group[0], group[-1]), periods,
                                        lambda status: status.invoice_number in wanted,
                                        ours if unreadable is not None else None)
        except _Truncated:
            if len(group) == 1:
                raise TwinfieldError(f"browse of invoice {group[0]} came back incomplete") from None
            half = len(group) // 2
            return self._match_group(office, daybook, group[:half], periods, unreadable) + self._match_group(
                office, daybook, group[half:], periods, unreadable)

    def _browse_matches(self, office, daybook, invoice_range, periods, keep, unreadable) -> list[MatchStatus]:
        reply = self._read(xml.match_status_browse_xml(office, daybook, invoice_range, periods), office)
        statuses: list[MatchStatus] = []
        cannot_read: list[UnreadableRow] = []  # handed on only once the browse came back whole

        def take(row: xml.BrowseRow) -> bool:
            try:
                status = xml.match_status_from_row(row)
            except (ValueError, ArithmeticError) as exc:
                found = UnreadableRow(office, row.values.get("fin.trs.head.number") or row.key.get("number", ""),
                                      row.values.get("fin.trs.line.invnumber", ""), str(exc))
                if unreadable is None:
                    raise TwinfieldError(f"browse row of invoice {found.invoice_number!r} (transaction "
                                         f"{found.number}) in office {office} cannot be read: {exc}") from None
                cannot_read.append(found)
                return False
            if keep is None or keep(status):
                statuses.append(status)
            return False  # the row itself is not needed any more

        try:
            result = xml.parse_browse(reply, take)
        except xml.BrowseRefused as refused:
            raise TwinfieldFault(None, f"browse refused: {refused}") from None
        if not result.complete:
            if invoice_range is None:
                raise TwinfieldError(f"browse answered {result.received} of {result.total} rows: narrow the period range")
            raise _Truncated()
        for row in cannot_read:
            unreadable(row)
        return statuses

    # -- writes ----------------------------------------------------------------------------------------------------
    def _write_checked(
        self,
        items: Sequence[T],
        build: Callable[[Sequence[T]], str],
        office: str,
        in_effect: Callable[[Sequence[T]], dict[int, ItemResult]],
    ) -> list[ItemResult]:
        """Send ``items`` (at most 25) as one write. When its outcome is unknown, ask ``in_effect`` which
        of them took effect (by position) and send only the others; give up after max_write_checks."""
        results: dict[int, ItemResult] = {}
        pending = list(range(len(items)))
        for _ in range(self.max_write_checks):
            try:
                reply = self._process_xml(WRITE, build([items[i] for i in pending]), office)
            except OutcomeUnknown as unknown:
                self.log.warning("Twinfield write outcome unknown (%s): checking what took effect", unknown)
                applied = in_effect([items[i] for i in pending])
                results.update({pending[pos]: result for pos, result in applied.items()})
                pending = [i for pos, i in enumerate(pending) if pos not in applied]
                if not pending:
                    break
                continue
            for i, result in zip(pending, xml.parse_item_results(reply, len(pending))):
                results[i] = result
            pending = []
            break
        if pending:
            raise TwinfieldUnavailable(
                f"Twinfield did not confirm {len(pending)} write(s) after {self.max_write_checks} checked attempts"
            )
        return [replace(results[i], index=i) for i in range(len(items))]

    def _batched(self, items: Sequence[T], office_of: Callable[[T], str],
                 write: Callable[[Sequence[T], str], list[ItemResult]]) -> list[ItemResult]:
        """Items per office in batches of 25; results in input order, ``index`` = position in ``items``."""
        by_office: dict[str, list[int]] = defaultdict(list)
        for i, item in enumerate(items):
            by_office[office_of(item)].append(i)
        results: list[ItemResult | None] = [None] * len(items)
        for office, indices in by_office.items():
            for batch in xml.chunked(indices):
                written = write([items[i] for i in batch], office)
                for i, result in zip(batch, written):
                    results[i] = replace(result, index=i)
                rejected = sum(not r.ok for r in written)
                self.log.info("Twinfield %s: %d sent, %d accepted, %d rejected", office, len(batch),
                              len(batch) - rejected, rejected)
        return results

    def create_customers(self, customers: Sequence[Customer], office: str | None = None) -> list[ItemResult]:
        """Create DEB customers; Twinfield numbers each (within the office's code mask) and
        ``ItemResult.number`` is the code it gave. Only new customers: sending a code would write over whatever
        customer holds it, a hidden one included, so a customer with a code is refused here. When a write's
        outcome is unknown, a customer with the same name and VAT number that Twinfield changed since just
        before the write counts as created. Rejections are returned per customer, not raised."""
        if any(c.code for c in customers):
            raise TwinfieldError("create_customers creates new customers only: Twinfield numbers them")
        default = self._office(office) if any(not c.office for c in customers) else office

        def write(batch: Sequence[Customer], office: str) -> list[ItemResult]:
            started = dt.datetime.now(dt.timezone.utc)
            return self._write_checked(batch, lambda b: xml.customers_xml(b, office), office,
                                       lambda b: self.customers_in_effect(b, office, started))

        return self._batched(customers, lambda c: c.office or default, write)

    def customers_in_effect(self, customers: Sequence[Customer], office: str, since: dt.datetime,
                            exclude: Collection[str] = ()) -> dict[int, ItemResult]:
        """Which of ``customers`` Twinfield holds, created or changed since ``since``: same name and VAT
        number, and not one of the codes in ``exclude`` (customers already linked). By position."""
        applied: dict[int, ItemResult] = {}
        taken = set(exclude)
        for pos, customer in enumerate(customers):
            for found in self.find_customers(customer.name, office, modified_since=since):
                if found.code and found.code not in taken and found.vat_number == customer.vat_number:
                    applied[pos] = ItemResult(pos, True, key=found.code, number=found.code)
                    taken.add(found.code)
                    break
        return applied

    def post_sales_transactions(self, transactions: Sequence[SalesTransaction]) -> list[ItemResult]:
        """Post drafts (destiny temporary), 25 per request: without ``number`` a new transaction, with the
        ``number`` of a draft an update of that draft. ``ItemResult.number`` is Twinfield's transaction number
        and ``period`` the period it booked it in; rejections are returned, not raised (one whose invoice
        number the daybook already holds has ``double_invoice_number``)."""

        def write(batch: Sequence[SalesTransaction], office: str) -> list[ItemResult]:
            try:
                return self._write_checked(batch, xml.sales_transactions_xml, office,
                                           lambda b: self._transactions_in_effect(b, office))
            except TwinfieldFault as fault:
                if fault.code != "400":
                    raise
            # HTTP 400 refuses the whole request (e.g. a transaction of more than 1000 lines): find the one(s)
            # it refuses, so that they do not hold back the rest. Sending the others again is safe: a new one
            # that did get saved is refused with the double-invoice-number warning.
            if len(batch) == 1:
                message = Message("error", "Twinfield refused it with HTTP 400 (Bad Request), not an XML message; "
                                  "a transaction of more than 1000 lines is answered so", "transaction")
                return [ItemResult(0, False, key=batch[0].invoice_number, messages=(message,))]
            half = len(batch) // 2
            return write(batch[:half], office) + write(batch[half:], office)

        return self._batched(transactions, lambda t: t.office, write)

    def _transactions_in_effect(self, transactions: Sequence[SalesTransaction], office: str) -> dict[int, ItemResult]:
        """Which transactions Twinfield now holds as sent: same daybook, invoice number, customer and total (and,
        for an update, the same transaction number)."""
        applied = {}
        by_daybook: dict[str, list[int]] = defaultdict(list)
        for pos, tx in enumerate(transactions):
            by_daybook[tx.daybook].append(pos)
        for daybook, positions in by_daybook.items():
            numbers = [transactions[p].invoice_number for p in positions]
            found = defaultdict(list)
            for status in self.match_statuses(office, daybook, numbers):
                found[status.invoice_number].append(status)
            for pos in positions:
                tx = transactions[pos]
                total = _signed_total(tx)
                customer = next((ln.dim2 for ln in tx.lines if ln.type == "total"), None)
                for status in found[tx.invoice_number]:
                    if status.value == total and status.customer_code == customer and tx.number in (None,
                                                                                                     status.number):
                        applied[pos] = ItemResult(pos, True, key=tx.invoice_number, number=status.number,
                                                  location=status.status, period=status.period)
                        break
        return applied

    def delete_draft(self, office: str, daybook: str, number: str, reason: str) -> ItemResult:
        """Delete a draft (Twinfield refuses final transactions: returned as a failed ItemResult)."""

        def gone(_: Sequence[str]) -> dict[int, ItemResult]:
            if self.read_transaction(office, daybook, number) is None:
                return {0: ItemResult(0, True, key=str(number), number=str(number))}
            return {}

        [result] = self._write_checked([number], lambda _: xml.delete_transaction_xml(office, daybook, number, reason),
                                       office, gone)
        return replace(result, key=str(number))


class _Truncated(Exception):
    """A browse answered fewer rows than it counted."""


def _signed_total(tx: SalesTransaction) -> Decimal:
    return sum(
        (ln.value if ln.debitcredit is DebitCredit.DEBIT else -ln.value for ln in tx.lines if ln.type == "total"),
        Decimal("0"),
    )

