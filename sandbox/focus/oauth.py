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


class TokenStore:
    def __init__(self, client_id: str, client_secret: str, initial_refresh_token: str,
                 clock: Callable[[], float] = time.time):
        self.client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._lock = threading.Lock()
        self._refresh_tokens: set[str] = {initial_refresh_token}
        self._access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
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
            return self._new_pair()

    def refresh(self, refresh_token: str | None) -> dict:
        with self._lock:
            if not refresh_token or refresh_token not in self._refresh_tokens:
                self.grants["invalid_grant"] += 1
                raise OAuthError(400, "invalid_grant", "The refresh token is invalid.", "Token has been revoked")
            self._refresh_tokens.discard(refresh_token)
            self.grants["refresh_token"] += 1
            return self._new_pair()

    def _new_pair(self) -> dict:
        access = "focus-at-" + secrets.token_urlsafe(24)
        refresh = "focus-rt-" + secrets.token_urlsafe(24)
        self._access_tokens[access] = self._clock() + ACCESS_TOKEN_SECONDS
        self._refresh_tokens.add(refresh)
        return {"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS, "access_token": access,
                "refresh_token": refresh}

    # -- the API's check ------------------------------------------------------------------------------
    def access_valid(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._access_tokens.get(token) if token else None
            return expiry is not None and expiry > self._clock()

    # -- the bookkeeper's side (control) ------------------------------------------------------------
    def grant(self) -> str:
        """A fresh refresh token, as re-authorising the integration in Focus gives."""
        with self._lock:
            token = "focus-rt-" + secrets.token_urlsafe(24)
            self._refresh_tokens.add(token)
            return token

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()
