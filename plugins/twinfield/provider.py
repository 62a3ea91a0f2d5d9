"""Provider metadata for Airflow (entry point ``apache_airflow_provider``).

Airflow reads this static dict without importing the hooks: the connection types, and for each the form the
UI shows (Airflow 3.2+ declarative ``conn-fields``, stored in the connection's extra under the field's name,
and ``ui-field-behaviour`` for the standard fields: hidden, relabelled, placeholders; the UI shows
placeholders for standard fields only, so conn-fields carry defaults and descriptions instead).
"""

from __future__ import annotations

from twinfield import __version__

FOCUS_HOOK = "twinfield.hooks.focus.TeamleaderFocusHook"
TWINFIELD_HOOK = "twinfield.hooks.twinfield.TwinfieldHook"
STATE_HOOK = "twinfield.hooks.state.StateStoreHook"


def _field(label: str, type_: str, description: str, **schema) -> dict:
    """One conn-field: optional (null allowed), with a label, help text and JSON-Schema keywords."""
    return {"label": label, "description": description, "schema": {"type": [type_, "null"], **schema}}


def _secret(label: str, description: str) -> dict:
    # format "password" renders a masked input; Airflow also marks the field sensitive.
    return _field(label, "string", description, format="password")


FOCUS_CONNECTION = {
    "connection-type": "teamleader_focus",
    "hook-class-name": FOCUS_HOOK,
    "hook-name": "Teamleader Focus",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "API base URL", "login": "Client ID", "password": "Client secret"},
        "placeholders": {
            "host": "https://api.focus.teamleader.eu",
            "login": "client id of your Focus integration",
            "password": "client secret of your Focus integration",
        },
    },
    "conn-fields": {
        "refresh_token": _secret(
            "Refresh token (first use only)",
            "From the integration's first authorisation. Used once: Focus refresh tokens are single-use, so "
            "every new pair is kept in the state store and this value only seeds the first refresh.",
        ),
        # No default here: the UI masks the value of any field whose name holds "token", and would save "***".
        "token_url": _field(
            "Token URL",
            "string",
            "OAuth2 token endpoint; empty means https://focus.teamleader.eu/oauth2/access_token.",
            format="url",
        ),
        "rate_limit_per_minute": _field(
            "Rate limit (requests per minute)",
            "integer",
            "Requests per sliding minute this integration may make (Focus allows 200).",
            default=200,
            minimum=1,
        ),
        "timeout": _field("Timeout (seconds)", "number", "Per HTTP request.", minimum=1),
    },
}

TWINFIELD_CONNECTION = {
    "connection-type": "twinfield",
    "hook-class-name": TWINFIELD_HOOK,
    "hook-name": "Twinfield",
    "ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "Login base URL",
            "login": "Client ID (OAuth2) or user name (session login)",
            "password": "Client secret (OAuth2) or password (session login)",
        },
        "placeholders": {"host": "https://login.twinfield.com"},
    },
    "conn-fields": {
        "auth_mode": _field(
            "Authentication",
            "string",
            "oauth2 (preferred: client id/secret and a refresh token) or session (the legacy login with "
            "user, password and organisation).",
            enum=["oauth2", "session"],
            default="oauth2",
        ),
        "refresh_token": _secret(
            "Refresh token (OAuth2)",
            "Long-lived Twinfield refresh token from the app's authorisation. OAuth2 only.",
        ),
        "organisation": _field(
            "Organisation (session login)", "string", "Organisation (environment) code. Session login only."
        ),
        "office": _field(
            "Default office (company code)",
            "string",
            "Twinfield office code the sync books into unless a department is mapped to another.",
        ),
        "credits_per_minute": _field(
            "Credits per minute",
            "integer",
            "Fair-use budget per ClientId and organisation (reads cost 1, writes 3; certified apps 500).",
            default=500,
            minimum=1,
        ),
        "max_concurrent": _field(
            "Concurrent requests",
            "integer",
            "At most this many requests in flight at once (Twinfield allows 10).",
            default=10,
            minimum=1,
            maximum=10,
        ),
        "timeout": _field("Timeout (seconds)", "number", "Per SOAP or token request.", minimum=1),
    },
}

# The state store can also be any connection whose URI SQLAlchemy reads (postgres, sqlite); this type offers
# the URL as one field, with a "Test" button.
STATE_CONNECTION = {
    "connection-type": "focus_twinfield_state",
    "hook-class-name": STATE_HOOK,
    "hook-name": "Focus Twinfield state store",
    "ui-field-behaviour": {"hidden-fields": ["host", "schema", "login", "password", "port"]},
    "conn-fields": {
        "sqlalchemy_url": _secret(
            "SQLAlchemy URL",
            "The sync's state database, e.g. postgresql://user:password@host:5432/focus_twinfield.",
        ),
    },
}


def get_provider_info() -> dict:
    return {
        "package-name": "focus-twinfield",
        "name": "Focus Twinfield",
        "description": "Book Teamleader Focus invoices in Twinfield and bring payments back.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Teamleader Focus",
                "external-doc-url": "https://developer.focus.teamleader.eu/",
                "tags": ["service"],
            },
            {
                "integration-name": "Twinfield",
                "external-doc-url": "https://developers.twinfield.com/",
                "tags": ["service"],
            },
            {"integration-name": "Focus Twinfield state store", "tags": ["software"]},
        ],
        "hooks": [
            {"integration-name": "Teamleader Focus", "python-modules": ["twinfield.hooks.focus"]},
            {"integration-name": "Twinfield", "python-modules": ["twinfield.hooks.twinfield"]},
            {"integration-name": "Focus Twinfield state store", "python-modules": ["twinfield.hooks.state"]},
        ],
        "connection-types": [FOCUS_CONNECTION, TWINFIELD_CONNECTION, STATE_CONNECTION],
    }
