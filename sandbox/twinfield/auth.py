"""Who may call: OAuth2 clients and tokens (login.twinfield.com's role) and legacy Session logons.

OAuth2, as Twinfield's OpenID Connect server:
- authorization-code grant, auto-approved (no login page): a code is single-use and lives 5 minutes, bound to
  the client and redirect_uri;
- refresh-token grant: Twinfield refresh tokens are long-lived and reusable, so a refresh returns a new access
  token and the same refresh token;
- client authentication with HTTP Basic (client_secret_basic), or client_id/client_secret form fields;
- errors are OAuth JSON: ``invalid_client`` (401), ``invalid_grant``/``invalid_request``/
  ``unsupported_grant_type`` (400);
- access tokens live ``access_token_lifetime`` seconds (3600); ``expire_tokens()`` ends them all at once.

Session: ``Logon(user, password, organisation)`` answers a LogonResult: ``Ok`` with a new session id, ``Invalid``
for a wrong user/password/organisation, ``OAuth2AuthenticationRequired`` for organisation ``ACMEOAUTH`` (session
login switched off there), or the user's own status when it is not Ok (``add_user`` sets it: Blocked,
Untrusted, Deleted, Disabled, OrganisationInactive, ClientInvalid). A user has one session: a second Logon ends
the first. A session works in one company at a time: the user's default office after Logon, then the one
``SelectCompany(company)`` chose (``Ok``, or ``Invalid`` for an office the organisation does not have).
Users have a language (default Dutch, as the sandbox's own user): the Finder's column titles are in it. An
access token acts as the sandbox's default user.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from sandbox import chart
from sandbox.twinfield.office import ORGANISATION, USER_CODE

CODE_LIFETIME = 300
DEFAULT_USER = "SANDBOX"
DEFAULT_PASSWORD = "sandbox-password"
LOGON_RESULTS = ("Ok", "Blocked", "Untrusted", "Invalid", "Deleted", "Disabled", "OrganisationInactive",
                 "ClientInvalid", "OAuth2AuthenticationRequired")
OAUTH2_ONLY_ORGANISATION = "ACMEOAUTH"  # an organisation that switched session login off


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400, description: str = ""):
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self) -> dict:
        return {"error": self.error, **({"error_description": self.description} if self.description else {})}


@dataclass
class AccessToken:
    client_id: str
    expires_at: float
    issued_at: float = field(default_factory=time.time)


@dataclass
class User:
    password: str
    status: str = "Ok"
    language: str = "nl"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Session:
    user: str
    company: str  # the office requests with this session work in


class Auth:
    def __init__(self, client_id: str, client_secret: str, initial_refresh_token: str,
                 user: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD):
        self._lock = threading.Lock()
        self._clients = {client_id: client_secret}
        self._refresh_tokens = {initial_refresh_token: client_id}
        self._codes: dict[str, tuple[str, str, float]] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._users = {user: User(password)}
        self._default_user = user
        self._sessions: dict[str, Session] = {}
        self.organisation = ORGANISATION
        self.organisation_id = str(uuid.uuid4())
        self.access_token_lifetime = 3600

    # -- OAuth2 -----------------------------------------------------------------------------------------
    def authorize(self, client_id: str, redirect_uri: str) -> str:
        if client_id not in self._clients:
            raise OAuthError("invalid_client", 400, "unknown client_id")
        if not redirect_uri:
            raise OAuthError("invalid_request", 400, "redirect_uri is required")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (client_id, redirect_uri, time.time() + CODE_LIFETIME)
        return code

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict:
        client_id, client_secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if self._clients.get(client_id) is None or not secrets.compare_digest(self._clients[client_id], client_secret):
            raise OAuthError("invalid_client", 401)
        grant = form.get("grant_type", "")
        with self._lock:
            if grant == "refresh_token":
                refresh_token = form.get("refresh_token", "")
                if self._refresh_tokens.get(refresh_token) != client_id:
                    raise OAuthError("invalid_grant")
            elif grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if code is None or code[0] != client_id or code[2] < time.time():
                    raise OAuthError("invalid_grant")
                if code[1] != form.get("redirect_uri", ""):
                    raise OAuthError("invalid_grant", 400, "redirect_uri does not match")
                refresh_token = secrets.token_urlsafe(32)
                self._refresh_tokens[refresh_token] = client_id
            else:
                raise OAuthError("unsupported_grant_type")
            access_token = secrets.token_urlsafe(32)
            self._access_tokens[access_token] = AccessToken(client_id, time.time() + self.access_token_lifetime)
        return {
            "access_token": access_token,
            "expires_in": self.access_token_lifetime,
            "token_type": "Bearer",
            "refresh_token": refresh_token,
        }

    def access_token_valid(self, token: str) -> bool:
        with self._lock:
            found = self._access_tokens.get(token)
            return found is not None and found.expires_at > time.time()

    def validation(self, token: str, cluster_url: str) -> dict | None:
        """The accesstokenvalidation claims of a live token, or None."""
        with self._lock:
            found = self._access_tokens.get(token)
        if found is None or found.expires_at <= time.time():
            return None
        issuer = cluster_url + "/auth/authentication"
        return {
            "iss": issuer,
            "aud": issuer + "/resources",
            "exp": int(found.expires_at),
            "nbf": int(found.issued_at),
            "client_id": found.client_id,
            "scope": ["openid", "twf.user", "twf.organisation", "twf.organisationUser", "offline_access"],
            "sub": self.organisation_id,
            "auth_time": int(found.issued_at),
            "idp": "idsrv",
            "amr": ["password"],
            "twf.organisationId": self.organisation_id,
            "twf.organisationCode": self.organisation,
            "twf.organisationUserCode": USER_CODE,
            "twf.clusterUrl": cluster_url,
        }

    def expire_tokens(self) -> None:
        """End every access token now (refresh tokens stay valid), as if an hour had passed."""
        with self._lock:
            for token in self._access_tokens.values():
                token.expires_at = 0.0

    # -- Session ------------------------------------------------------------------------------------------
    def add_user(self, user: str, password: str, status: str = "Ok", language: str = "nl") -> None:
        if status not in LOGON_RESULTS:
            raise ValueError(f"unknown LogonResult {status!r}")
        with self._lock:
            self._users[user] = User(password, status, language)

    def logon(self, user: str, password: str, organisation: str) -> tuple[str, str | None]:
        """(LogonResult, session id when Ok)."""
        with self._lock:
            account = self._users.get(user)
            known = account is not None and secrets.compare_digest(account.password, password)
            if not known or organisation not in (self.organisation, OAUTH2_ONLY_ORGANISATION):
                return "Invalid", None
            if account.status != "Ok":
                return account.status, None
            if organisation == OAUTH2_ONLY_ORGANISATION:
                return "OAuth2AuthenticationRequired", None
            for session_id in [sid for sid, session in self._sessions.items() if session.user == user]:
                del self._sessions[session_id]
            session_id = str(uuid.uuid4())
            self._sessions[session_id] = Session(user, chart.DEFAULT_OFFICE)
            return "Ok", session_id

    def session_valid(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._sessions

    def session_company(self, session_id: str) -> str | None:
        with self._lock:
            session = self._sessions.get(session_id)
            return session.company if session else None

    def select_company(self, session_id: str, company: str) -> None:
        with self._lock:
            self._sessions[session_id].company = company

    def language(self, session_id: str | None) -> str:
        """The language of the session's user, or of the default user (access tokens)."""
        with self._lock:
            session = self._sessions.get(session_id or "")
            return self._users[session.user if session else self._default_user].language
