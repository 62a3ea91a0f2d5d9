"""Provider metadata for Airflow (entry point ``apache_airflow_provider``): the connection types this package adds."""

from __future__ import annotations

from twinfield import __version__


def get_provider_info() -> dict:
    return {
        "package-name": "focus-twinfield",
        "name": "Focus Twinfield",
        "description": "Book Teamleader Focus invoices in Twinfield and bring payments back.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "teamleader_focus",
                "hook-class-name": "twinfield.hooks.focus.TeamleaderFocusHook",
                "hook-name": "Teamleader Focus",
            },
            {
                "connection-type": "twinfield",
                "hook-class-name": "twinfield.hooks.twinfield.TwinfieldHook",
                "hook-name": "Twinfield",
            },
        ],
    }
