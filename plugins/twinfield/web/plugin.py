"""The Airflow plugin (entry point ``airflow.plugins``): the report pages on the API server under
``/focus-twinfield``, a "Sync report" tab on each DAG run, and an entry in the Browse menu.
``FOCUS_TWINFIELD_WEBHOOK_SECRET`` adds the Focus webhook receiver under
``/focus-twinfield-webhooks/focus/<secret>`` (``twinfield.web.webhooks``). ``FOCUS_TWINFIELD_WEB=off`` in the
API server's environment switches all of it off (Airflow has no switch for an entry-point plugin)."""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

from twinfield.hooks.state import DEFAULT_CONN_ID as DEFAULT_STATE_CONN
from twinfield.web.app import create_app, store_for
from twinfield.web.webhooks import AssetEvents, create_receiver

URL_PREFIX = "/focus-twinfield"
ENABLED = os.environ.get("FOCUS_TWINFIELD_WEB", "on").strip().lower() not in ("off", "false", "0", "no")
WEBHOOK_PREFIX = "/focus-twinfield-webhooks"  # outside URL_PREFIX: Focus cannot log in to Airflow
# No secret, no receiver: webhooks are off until one is set (FOCUS_TWINFIELD_WEBHOOK_SECRET, 32+ characters).
WEBHOOK_SECRET = os.environ.get("FOCUS_TWINFIELD_WEBHOOK_SECRET", "").strip()


def webhook_apps() -> list[dict]:
    if not (ENABLED and WEBHOOK_SECRET):
        return []
    if len(WEBHOOK_SECRET) < 32:
        raise ValueError("FOCUS_TWINFIELD_WEBHOOK_SECRET must be at least 32 characters (e.g. secrets.token_urlsafe(32))")
    app = create_receiver(WEBHOOK_SECRET, lambda: store_for(DEFAULT_STATE_CONN), AssetEvents())
    return [{"app": app, "url_prefix": WEBHOOK_PREFIX, "name": "Teamleader Focus webhook receiver"}]


class FocusTwinfieldPlugin(AirflowPlugin):
    name = "focus_twinfield"
    fastapi_apps = [] if not ENABLED else [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Focus -> Twinfield sync reports"},
        *webhook_apps()]
    # Relative hrefs: the UI resolves them against its own base URL (also behind a proxy).
    external_views = [] if not ENABLED else [
        {"name": "Sync report", "href": f"{URL_PREFIX.lstrip('/')}/runs/{{RUN_ID}}", "destination": "dag_run",
         "url_route": "focus-twinfield-report"},
        {"name": "Focus -> Twinfield reports", "href": f"{URL_PREFIX.lstrip('/')}/runs", "destination": "nav",
         "category": "browse", "url_route": "focus-twinfield-reports"},
    ]
