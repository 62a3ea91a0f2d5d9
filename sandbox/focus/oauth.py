"""Focus' OAuth2 server: authorization codes, 1-hour access tokens and single-use refresh tokens.

Every refresh returns a new pair and kills the refresh token used; presenting a dead one is answered with
``400 invalid_grant``, as the real server does. Errors use the OAuth shape
``{"error", "error_description", "hint"?, "message"}``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

ACCESS_TOKEN_SECONDS = 3600
CODE_SECONDS = 600


@dataclass
class OAuthError(Exception):
    status: int
    error: str
    description: str
    hint: str | None = None

    def body(self) -> dict:
        body = {"error": self.error, "error_description": self.description, "message": self.description}
        if self.hint:
            body["hint"] = self.hint
        return body


# The scopes an integration asks for on the Marketplace and the user grants (the blueprint's "Required
# scopes" of the resources the integration reads). A grant carries them; its tokens too.
ALL_SCOPES = frozenset({"invoices", "companies", "contacts", "products", "departments"})


class TokenStore:
    def __init__(self, client_id: str, client_secret: str, initial_refresh_token: str,
                 clock: Callable[[], float] = time.time):
        self.client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._lock = threading.Lock()
        self._refresh_tokens: dict[str, frozenset[str]] = {initial_refresh_token: ALL_SCOPES}  # token -> scopes
        self._access_tokens: dict[str, tuple[float, frozenset[str]]] = {}  # token -> (expiry, scopes)
        self._codes: dict[str, tuple[str | None, float]] = {}  # code -> (redirect_uri, expiry)
        self.grants: Counter[str] = Counter()  # what the token endpoint did: refresh_token, invalid_grant, ...

    def __repr__(self) -> str:
        return f"TokenStore(client_id={self.client_id!r}, live refresh tokens={len(self._refresh_tokens)})"

    # -- the token endpoint -------------------------------------------------------------------------------
    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if client_id != self.client_id or not hmac.compare_digest(
                (client_secret or "").encode(), self._client_secret.encode()):
            self.grants["invalid_client"] += 1
            raise OAuthError(401, "invalid_client", "Client authentication failed")

    def issue_code(self, redirect_uri: str | None) -> str:
        code = "focus-code-" + secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (redirect_uri, self._clock() + CODE_SECONDS)
        return code

    def exchange_code(self, code: str | None, redirect_uri: str | None) -> dict:
        with self._lock:
            issued = self._codes.pop(code, None) if code else None
            if issued is None or issued[1] < self._clock():
                self.grants["invalid_grant"] += 1
                raise OAuthError(400, "invalid_grant", "The provided authorization grant is invalid, expired or "
                                 "revoked", "Authorization code has expired or was used before")
            if issued[0] is not None and redirect_uri != issued[0]:
                self.grants["invalid_grant"] += 1
                raise OAuthError(400, "invalid_grant", "The provided authorization grant is invalid, expired or "
                                 "revoked", "Invalid redirect URI")
            self.grants["authorization_code"] += 1
            return self._new_pair(ALL_SCOPES)

    def refresh(self, refresh_token: str | None) -> dict:
        with self._lock:
            if not refresh_token or refresh_token not in self._refresh_tokens:
                self.grants["invalid_grant"] += 1
                raise OAuthError(400, "invalid_grant", "The refresh token is invalid.", "Token has been revoked")
            scopes = self._refresh_tokens.pop(refresh_token)
            self.grants["refresh_token"] += 1
            return self._new_pair(scopes)

    def _new_pair(self, scopes: frozenset[str]) -> dict:
        access = "focus-at-" + secrets.token_urlsafe(24)
        refresh = "focus-rt-" + secrets.token_urlsafe(24)
        self._access_tokens[access] = (self._clock() + ACCESS_TOKEN_SECONDS, scopes)
        self._refresh_tokens[refresh] = scopes
        return {"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS, "access_token": access,
                "refresh_token": refresh}

    # -- the API's check ------------------------------------------------------------------------------
    def access_valid(self, token: str | None) -> bool:
        with self._lock:
            found = self._access_tokens.get(token) if token else None
            return found is not None and found[0] > self._clock()

    def scopes(self, token: str | None) -> frozenset[str]:
        """The scopes the grant behind an access token carries (none for an unknown token)."""
        with self._lock:
            found = self._access_tokens.get(token) if token else None
            return found[1] if found else frozenset()

    # -- the bookkeeper's side (control) ------------------------------------------------------------
    def grant(self, scopes: frozenset[str] | None = None) -> str:
        """A fresh refresh token, as re-authorising the integration in Focus gives, for ``scopes`` (default:
        all the integration needs)."""
        scopes = ALL_SCOPES if scopes is None else frozenset(scopes)
        with self._lock:
            token = "focus-rt-" + secrets.token_urlsafe(24)
            self._refresh_tokens[token] = scopes
            return token

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()
