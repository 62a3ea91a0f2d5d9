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
for a wrong user/password/organisation, or the user's own status when it is not Ok (``add_user`` sets it:
Blocked, Untrusted, Deleted, Disabled, OrganisationInactive, ClientInvalid). A user has one session: a second
Logon ends the first.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from sandbox.twinfield.office import ORGANISATION, USER_CODE

CODE_LIFETIME = 300
DEFAULT_USER = "SANDBOX"
DEFAULT_PASSWORD = "sandbox-password"
LOGON_RESULTS = ("Ok", "Blocked", "Untrusted", "Invalid", "Deleted", "Disabled", "OrganisationInactive",
                 "ClientInvalid")


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
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


class Auth:
    def __init__(self, client_id: str, client_secret: str, initial_refresh_token: str,
                 user: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD):
        self._lock = threading.Lock()
        self._clients = {client_id: client_secret}
        self._refresh_tokens = {initial_refresh_token: client_id}
        self._codes: dict[str, tuple[str, str, float]] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._users = {user: User(password)}
        self._sessions: dict[str, str] = {}  # session id -> user
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
    def add_user(self, user: str, password: str, status: str = "Ok") -> None:
        if status not in LOGON_RESULTS:
            raise ValueError(f"unknown LogonResult {status!r}")
        with self._lock:
            self._users[user] = User(password, status)

    def logon(self, user: str, password: str, organisation: str) -> tuple[str, str | None]:
        """(LogonResult, session id when Ok)."""
        with self._lock:
            account = self._users.get(user)
            known = account is not None and secrets.compare_digest(account.password, password)
            if not known or organisation != self.organisation:
                return "Invalid", None
            if account.status != "Ok":
                return account.status, None
            for session_id in [sid for sid, owner in self._sessions.items() if owner == user]:
                del self._sessions[session_id]
            session_id = str(uuid.uuid4())
            self._sessions[session_id] = user
            return "Ok", session_id

    def session_valid(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._sessions
