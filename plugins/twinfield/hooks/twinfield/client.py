"""TwinfieldClient: one Twinfield login over zeep, within Twinfield's fair-use limits. Nothing entity-specific:
the connectors (``connectors/``) say what to send and how to read the reply.

Costs (Twinfield's credits: a read 1, anything else 3, every HTTP GET 1): a logon costs Session Logon 3 or
OAuth2 1 (the access-token validation is a GET); with session login, 3 more for each SelectCompany, made when a
request is for another office than the session's. The WSDLs ship with the package, so no GET downloads them.
A Finder search costs one read per page of 25 rows (the page size Twinfield asks clients to use). A write whose
outcome is unknown costs its check (reads) before anything is sent again.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from functools import cached_property
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from twinfield.domain.batching import TWINFIELD_MAX_PER_REQUEST, chunked
from twinfield.domain.twinfield.common import finder_records, parse_item_results
from twinfield.domain.twinfield_model import ItemResult
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
from twinfield.hooks.limiter import Clock, RequestStats
from twinfield.hooks.twinfield.limits import FairUse
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
from twinfield.state import StateStore
from twinfield.state.tokens import AccessTokens

T = TypeVar("T")
READ, WRITE, SESSION = "read", "write", "session"  # SESSION: Logon, SelectCompany and OAuth2's validation GET
COST = {READ: 1, WRITE: 3}
LOGON_COST = {"session": 3, "oauth2": 1}
SELECT_COMPANY_COST = 3
FINDER_PAGE = 25  # rows per Finder page, as Twinfield asks


class _Renewed(Exception):
    """Credentials were renewed after an auth fault: send the same request once more."""


class TwinfieldClient:
    """Twinfield's SOAP services (ProcessXml, Finder; Session for the legacy logon) for one connection.

    ``connection`` gives the Airflow connection when first needed and ``field`` reads its extras (see
    :class:`TwinfieldHook`). Safe to share between the threads of one task. ``stats`` counts what was sent:
    requests and credits per kind (read/write), retries, 429s and logons. ``clock`` (time and sleeping) exists for
    tests. With a ``state`` store, an OAuth2 access token is kept there (encrypted) and used by every client
    until it expires.
    """

    max_attempts = 6  # per request, for what may be sent again
    max_write_checks = 3  # unknown write outcomes checked and re-sent, per batch

    def __init__(
        self,
        connection: Callable[[], Any],
        field: Callable[..., Any],
        *,
        conn_id: str,
        clock: Clock | None = None,
        state: StateStore | None = None,
        log: logging.Logger | None = None,
    ):
        self._connection = connection
        self._field = field
        self.conn_id = conn_id
        self.state = state
        self.log = log or logging.getLogger(__name__)
        self.clock = clock or Clock()
        self._clock = self.clock.monotonic
        self._made: dict[str, Any] = {}
        self._made_lock = threading.RLock()
        self._stats = RequestStats(requests=Counter({READ: 0, WRITE: 0, SESSION: 0}),
                                   credits=Counter({READ: 0, WRITE: 0, SESSION: 0}), logons=0, company_selections=0)
        self.stats = self._stats.data

    # -- connection ---------------------------------------------------------------------------------------
    def _once(self, name: str, make: Callable[[], T]) -> T:
        """Build a shared part once, even when threads ask for it at the same time (cached_property alone
        does not lock on Python 3.12+: two threads could log on twice or keep two limiters)."""
        with self._made_lock:
            if name not in self._made:
                self._made[name] = make()
            return self._made[name]

    @cached_property
    def host(self) -> str:
        host = (self._connection().host or "https://login.twinfield.com").rstrip("/")
        return host if "://" in host else f"https://{host}"

    @cached_property
    def default_office(self) -> str | None:
        return self._field("office")

    @cached_property
    def timeout(self) -> float:
        return float(self._field("timeout", 60))

    @cached_property
    def limits(self) -> FairUse:
        return self._once("limits", lambda: FairUse(
            int(self._field("credits_per_minute", 500)), int(self._field("max_concurrent", 10)), clock=self.clock))

    @cached_property
    def session(self) -> requests.Session:
        """One HTTP session for every call of this client (connection reuse), sized for max_concurrent."""

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
        mode = self._field("auth_mode", "oauth2")
        if mode not in LOGON_COST:
            raise TwinfieldError(f"unknown auth_mode {mode!r}: use 'oauth2' or 'session'")
        return mode

    @cached_property
    def _session_service(self) -> Service:
        return self._once("session_service", lambda: build_service(self._transport, self.host, "session"))

    def _make_user_session(self) -> UserSession:
        mode, conn = self._mode, self._connection()
        if mode == "oauth2":
            refresh_token = self._field("refresh_token") or ""
            login = OAuth2Login(self.session, self.host, conn.login or "", conn.password or "", refresh_token,
                                self.timeout, self._clock)
            if self.state is not None:  # one token for every task until it expires, not one per task
                from twinfield.hooks.state import secrets_cipher

                tokens = AccessTokens(self.state, self.conn_id, cipher=secrets_cipher())
                login = StoredAccessToken(login, tokens, f"{self.host}\n{conn.login}\n{refresh_token}", self._clock)
            return UserSession(Authenticator(login, self._clock), CompanySelection())
        organisation = self._field("organisation") or ""
        return user_session(
            (self.host, conn.login or "", organisation, conn.password or ""),
            lambda: SessionLogon(self._session_service, conn.login or "", conn.password or "", organisation),
            self._clock)

    def _before_logon(self) -> None:
        self._count("logons")
        self._spend(SESSION, LOGON_COST[self._mode])

    @contextmanager
    def _spending(self, kind: str, credits: int) -> Iterator[None]:
        """Wait for ``credits`` in the budget and a concurrency slot, count one request of ``kind``, and hold the
        slot while it is sent."""
        with self.limits.slot(credits) as waited:
            self._count("waited_seconds", amount=waited)
            self._count("requests", kind)
            self._count("credits", kind, credits)
            yield

    def _spend(self, kind: str, credits: int) -> None:
        """Count a request the login sends itself (a logon, SelectCompany) against the budget."""
        with self._spending(kind, credits):
            pass

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

    def office(self, office: str | None) -> str:
        """``office``, else the connection's default office."""
        office = office or self.default_office
        if not office:
            raise TwinfieldError("no office: pass one or set the connection extra 'office'")
        return office

    # -- one request, within the limits --------------------------------------------------------------------
    def _count(self, what: str, kind: str | None = None, amount: float = 1) -> None:
        self._stats.add(what, kind, amount)

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
                        sleep=self.clock.sleep, before_sleep=before_sleep, reraise=True)

    def _request(self, kind: str, send: Callable[[Credentials], T], office: str | None = None) -> T:
        """Send one request: within the credit budget and concurrency cap, with a session in ``office``
        (SelectCompany); once more after renewing the credentials on an auth fault; again after a 429 and,
        for reads only, after 5xx/timeouts/drops. A write whose outcome is unknown raises OutcomeUnknown: the
        caller checks before resending."""
        renewed = False

        def attempt() -> T:
            nonlocal renewed
            credentials = self._auth.current(self._before_logon)
            in_office = (self._companies.using(credentials, office, lambda o: self._select_company(credentials, o))
                         if credentials.session_id and office else nullcontext())
            try:
                with in_office, self._spending(kind, COST[kind]):
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

    def read(self, request: str, office: str | None) -> str:
        """One ProcessXml read (sent again when it fails in a way a read may be)."""
        return self._process_xml(READ, request, office)

    def search(self, finder_type: str, options: dict[str, str], office: str | None,
               pattern: str = "*", field: int = 0) -> list[dict[str, str]]:
        """Every row of a Finder search as {"code", "name"}, page by page (firstRow counts from 1; a page may be
        shorter than asked: the next one starts after what came)."""
        records: list[dict[str, str]] = []
        first = 1
        while True:
            def send(credentials: Credentials, first: int = first):
                return finder_page(call(self._finder.proxy.Search, type=finder_type, pattern=pattern, field=field,
                                        firstRow=first, maxRows=FINDER_PAGE, options=finder_options(options),
                                        _soapheaders=[credentials.plain_header(office)]))

            page = self._request(READ, send, office)
            records += finder_records(page.items)
            if not page.items or len(records) >= page.total:
                return records
            first += len(page.items)

    # -- writes ----------------------------------------------------------------------------------------------------
    def write_checked(
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
            for i, result in zip(pending, parse_item_results(reply, len(pending))):
                results[i] = result
            pending = []
            break
        if pending:
            raise TwinfieldUnavailable(
                f"Twinfield did not confirm {len(pending)} write(s) after {self.max_write_checks} checked attempts"
            )
        return [replace(results[i], index=i) for i in range(len(items))]

    def batched(self, items: Sequence[T], office_of: Callable[[T], str],
                write: Callable[[Sequence[T], str], list[ItemResult]]) -> list[ItemResult]:
        """Items per office in batches of 25; results in input order, ``index`` = position in ``items``."""
        by_office: dict[str, list[int]] = defaultdict(list)
        for i, item in enumerate(items):
            by_office[office_of(item)].append(i)
        results: list[ItemResult | None] = [None] * len(items)
        for office, indices in by_office.items():
            for batch in chunked(indices, TWINFIELD_MAX_PER_REQUEST):
                written = write([items[i] for i in batch], office)
                for i, result in zip(batch, written):
                    results[i] = replace(result, index=i)
                rejected = sum(not r.ok for r in written)
                self.log.info("Twinfield %s: %d sent, %d accepted, %d rejected", office, len(batch),
                              len(batch) - rejected, rejected)
        return results
