"""Getting and keeping Twinfield credentials: OAuth2 (refresh-token grant, then the token's cluster) or the
legacy Session logon. Tokens and session ids are masked in Airflow's logs and kept out of reprs and errors.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import requests
from airflow.sdk.log import mask_secret
from lxml import etree

from twinfield.errors import TwinfieldAuthError, TwinfieldError, TwinfieldFault, TwinfieldOAuth2Required
from twinfield.hooks.twinfield.soap import (
    TNS,
    NotSent,
    Outcome,
    Service,
    check_status,
    lxml_header,
    outcome_of,
)

TOKEN_PATH = "/auth/authentication/connect/token"
VALIDATION_PATH = "/auth/authentication/connect/accesstokenvalidation"
EXPIRY_MARGIN = 60.0  # seconds: refresh an access token this long before it expires
AUTH_FAULT_CODES = {"354"}  # "Access denied. Token invalid."
AUTH_FAULT_TEXTS = ("token invalid", "not valid anymore", "session is invalid", "session has expired")


def is_auth_fault(fault: TwinfieldFault) -> bool:
    """The fault that says: log on again (expired or revoked token, session ended by another logon)."""
    text = (fault.message or "").lower()
    return fault.code in AUTH_FAULT_CODES or any(marker in text for marker in AUTH_FAULT_TEXTS)


@dataclass(frozen=True)
class Credentials:
    """What a SOAP call needs: the cluster to call, and a token or a session id (never shown in a repr)."""

    cluster: str
    access_token: str | None = field(default=None, repr=False)
    session_id: str | None = field(default=None, repr=False)
    expires_at: float = math.inf  # on the hook's clock

    def header(self, service: Service, office: str | None):
        """The Header element of ``service`` 's own WSDL (ProcessXml)."""
        if self.access_token:
            return service.header(AccessToken=self.access_token, CompanyCode=office)
        return service.header(SessionID=self.session_id)

    def plain_header(self, office: str | None):
        """The Header as an lxml element (Finder: its WSDL knows SessionID only)."""
        if self.access_token:
            return lxml_header(AccessToken=self.access_token, CompanyCode=office)
        return lxml_header(SessionID=self.session_id)


class OAuth2Login:
    """Refresh-token grant at ``{host}/auth/authentication/connect/token`` (HTTP Basic client auth, form body),
    then ``accesstokenvalidation`` for the cluster URL. Twinfield refresh tokens are long-lived; a new one
    in the reply (if ever) replaces the one we hold, for this hook's lifetime."""

    def __init__(self, session: requests.Session, host: str, client_id: str, client_secret: str,
                 refresh_token: str, timeout: float, clock: Callable[[], float] = time.monotonic):
        if not (client_id and client_secret and refresh_token):
            raise TwinfieldAuthError("MissingCredentials", "oauth2 needs login, password and extra refresh_token")
        self._session = session
        self._host = host
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._timeout = timeout
        self._clock = clock
        mask_secret(client_secret)
        mask_secret(refresh_token)

    def __call__(self, before: Callable[[], None] = lambda: None) -> Credentials:
        before()
        started = self._clock()
        token = self._json(
            "token",
            lambda: self._session.post(
                self._host + TOKEN_PATH,
                data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                auth=self._client,
                timeout=self._timeout,
            ),
        )
        access_token = token.get("access_token")
        if not access_token:
            raise TwinfieldAuthError("invalid_response", "the token reply has no access_token")
        mask_secret(access_token)
        if token.get("refresh_token"):
            self._refresh_token = token["refresh_token"]
            mask_secret(self._refresh_token)
        validation = self._json(
            "accesstokenvalidation",
            lambda: self._session.get(self._host + VALIDATION_PATH, params={"token": access_token}, timeout=self._timeout),
        )
        cluster = validation.get("twf.clusterUrl")
        if not cluster:
            raise TwinfieldAuthError("invalid_response", "the token validation has no twf.clusterUrl")
        lifetime = float(token.get("expires_in") or 3600)
        return Credentials(cluster.rstrip("/"), access_token=access_token,
                           expires_at=started + max(lifetime - EXPIRY_MARGIN, lifetime / 2))

    @staticmethod
    def _json(step: str, send: Callable[[], requests.Response]) -> dict:
        # Nothing is written here: a failed token exchange may always be tried again. The failure is raised
        # outside the except block, so no exception chain keeps requests' message (its URL holds the token).
        failure = None
        try:
            response = send()
            check_status(response)
        except requests.RequestException as exc:
            failure = f"{step}: {outcome_of(exc)}"
        except Outcome as outcome:
            failure = f"{step}: {outcome}"
        if failure is not None:
            raise NotSent(failure)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            error = str(body.get("error") or f"HTTP {response.status_code}")
            raise TwinfieldAuthError(error, f"{step} refused")
        return body


class SessionLogon:
    """Legacy ``Logon(user, password, organisation)`` on ``{host}/webservices/session.asmx``; the session id
    comes back in the reply's SOAP header, the cluster in its body. A second logon ends the first session."""

    def __init__(self, service: Service, user: str, password: str, organisation: str):
        if not (user and password and organisation):
            raise TwinfieldAuthError("MissingCredentials", "session needs login, password and extra organisation")
        self._service = service
        self._user, self._password, self._organisation = user, password, organisation
        mask_secret(password)

    def __call__(self, before: Callable[[], None] = lambda: None) -> Credentials:
        before()
        service = self._service
        try:
            with service.client.settings(raw_response=True):
                response = service.proxy.Logon(user=self._user, password=self._password, organisation=self._organisation)
        except Outcome as outcome:
            raise NotSent(f"Logon: {outcome}") from None
        try:
            envelope = etree.fromstring(response.content)
        except etree.XMLSyntaxError:
            raise NotSent(f"Logon: unreadable reply (HTTP {response.status_code})") from None
        fault = envelope.find(".//faultstring")
        if fault is not None:
            raise TwinfieldAuthError("Fault", (fault.text or "").strip())
        result = envelope.findtext(f".//{{{TNS}}}LogonResult") or "NoResult"
        if result == "OAuth2AuthenticationRequired":
            raise TwinfieldOAuth2Required(self._organisation)
        if result != "Ok":
            raise TwinfieldAuthError(result)
        session_id = (envelope.findtext(f".//{{{TNS}}}Header/{{{TNS}}}SessionID") or "").strip()
        cluster = (envelope.findtext(f".//{{{TNS}}}cluster") or "").strip()
        if not session_id or not cluster:
            raise TwinfieldAuthError("invalid_response", "Logon answered Ok without a session id or cluster")
        mask_secret(session_id)
        return Credentials(cluster.rstrip("/"), session_id=session_id)


def select_company(service: Service, credentials: Credentials, office: str) -> None:
    """Make ``office`` the company the session works in (Session.SelectCompany)."""
    result = service.proxy.SelectCompany(company=office, _soapheaders=[service.header(SessionID=credentials.session_id)])
    if str(result) != "Ok":
        raise TwinfieldError(f"office {office} is not available to this Twinfield user (SelectCompany: {result})")


class CompanySelection:
    """The office the current session works in. A session has one at a time, so a request for another office
    waits for those in flight to finish, then SelectCompany switches; requests for the same office run together."""

    def __init__(self):
        self._changed = threading.Condition()
        self._session: Credentials | None = None
        self._office: str | None = None  # None: the user's default office, whichever that is
        self._in_flight = 0

    @contextmanager
    def using(self, credentials: Credentials, office: str, select: Callable[[str], None]) -> Iterator[None]:
        with self._changed:
            while not (self._session is credentials and self._office == office):
                if self._in_flight:
                    self._changed.wait()
                    continue
                if self._session is not credentials:  # a new session starts in the user's default office
                    self._session, self._office = credentials, None
                select(office)  # under the lock: nobody sends meanwhile
                self._office = office
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()


Login = Callable[[Callable[[], None]], Credentials]
"""Gets new credentials; calls its argument (the caller's credit accounting) before each request it sends."""


class StoredAccessToken:
    """An OAuth2 access token, with its cluster, kept in the state store (encrypted) so that every task uses it
    until it expires instead of asking for a new one. A new token is asked for when none is stored, the stored
    one expires, the connection's credentials changed, or this process already handed out the stored one (the
    ``Authenticator`` asks again only when its token expired or Twinfield refused it)."""

    def __init__(self, login: Login, tokens: "AccessTokenStore", seed: str,
                 clock: Callable[[], float] = time.monotonic):
        self._login = login
        self._tokens = tokens
        self._seed = seed
        self._clock = clock
        self._handed: set[str] = set()

    def __call__(self, before: Callable[[], None] = lambda: None) -> Credentials:
        stored = self._tokens.load(self._seed)
        if stored is not None and stored.access_token not in self._handed and stored.seconds_left() > 0:
            credentials = Credentials(stored.cluster, access_token=stored.access_token,
                                      expires_at=self._clock() + stored.seconds_left())
        else:
            credentials = self._login(before)
            self._tokens.save(self._seed, credentials.access_token, credentials.cluster,
                              credentials.expires_at - self._clock())
        mask_secret(credentials.access_token)
        self._handed.add(credentials.access_token)
        return credentials


class AccessTokenStore(Protocol):
    """Where ``StoredAccessToken`` keeps its token (``twinfield.state.tokens.AccessTokens``)."""

    def load(self, seed: str): ...
    def save(self, seed: str, access_token: str, cluster: str, seconds_left: float) -> None: ...


class Authenticator:
    """The current credentials, shared by the hook's threads; one logon at a time. ``before_logon`` (the
    caller's credit accounting) runs before each request a logon sends."""

    def __init__(self, login: Login, clock: Callable[[], float] = time.monotonic):
        self._login = login
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Credentials | None = None

    def current(self, before_logon: Callable[[], None] = lambda: None) -> Credentials:
        with self._lock:
            if self._current is None or self._clock() >= self._current.expires_at:
                self._current = self._login(before_logon)
            return self._current

    def renew(self, stale: Credentials, before_logon: Callable[[], None] = lambda: None) -> Credentials:
        """Log on again, unless another thread already replaced ``stale``."""
        with self._lock:
            if self._current is None or self._current is stale:
                self._current = self._login(before_logon)
            return self._current


@dataclass
class UserSession:
    """A Twinfield user's one session and the office it works in."""

    auth: Authenticator
    companies: CompanySelection


# A user has one Twinfield session: a second logon ends the first. So every hook in this process that logs on as
# the same user shares one session (hooks of other tasks on the same worker included) instead of ending each
# other's; other processes are not seen (README, known limits).
_SESSIONS: dict[tuple[str, ...], UserSession] = {}
_SESSIONS_GUARD = threading.Lock()


def user_session(key: tuple[str, ...], make_login: Callable[[], Login],
                 clock: Callable[[], float] = time.monotonic) -> UserSession:
    with _SESSIONS_GUARD:
        if key not in _SESSIONS:
            _SESSIONS[key] = UserSession(Authenticator(make_login(), clock), CompanySelection())
        return _SESSIONS[key]
