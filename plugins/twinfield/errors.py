"""Typed errors raised by the hooks. None of them ever carries a secret (token, password, client secret)."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException


class FocusApiError(AirflowException):
    """Teamleader Focus answered with an error body (``errors[].title``)."""

    def __init__(self, status: int, title: str, endpoint: str = ""):
        self.status = status
        self.title = title
        self.endpoint = endpoint
        where = f" on {endpoint}" if endpoint else ""
        super().__init__(f"Teamleader Focus error {status}{where}: {title}")


class FocusAuthError(FocusApiError):
    """The OAuth2 token exchange failed (invalid grant, reused refresh token, bad client)."""


class FocusRateLimited(FocusApiError):
    """Still rate-limited (429) after waiting for the reset the server announced."""


class FocusUnavailable(FocusApiError):
    """5xx, timeouts or dropped connections that outlasted the retries."""


class FocusUnstableList(FocusApiError):
    """A list without a sort answered differently on every read: it cannot be read without losing or doubling
    items."""


class TwinfieldError(AirflowException):
    """Base class of everything the Twinfield hook raises."""


class TwinfieldAuthError(TwinfieldError):
    """Logon or OAuth2 failed; ``result`` is the LogonResult or the OAuth error code."""

    def __init__(self, result: str, detail: str = ""):
        self.result = result
        super().__init__(f"Twinfield authentication failed: {result}" + (f" ({detail})" if detail else ""))


class TwinfieldOAuth2Required(TwinfieldAuthError):
    """Session login (user, password, organisation) is switched off for the organisation."""

    def __init__(self, organisation: str):
        super().__init__("OAuth2AuthenticationRequired",
                         f"organisation {organisation} accepts OAuth2 only: register an OAuth2 client with Twinfield "
                         "and set the connection's auth_mode to 'oauth2' with its client id, secret and refresh token")


class TwinfieldFault(TwinfieldError):
    """A SOAP fault; ``code`` is Twinfield's fault code when it gave one (e.g. 354 'token invalid')."""

    def __init__(self, code: str | None, message: str):
        self.code = code
        self.message = message
        super().__init__(f"Twinfield fault{f' {code}' if code else ''}: {message}")


class TwinfieldRateLimited(TwinfieldError):
    """Still 429 after honouring Retry-After within the retry budget."""


class TwinfieldUnavailable(TwinfieldError):
    """5xx, timeouts or dropped connections that outlasted the retries."""
