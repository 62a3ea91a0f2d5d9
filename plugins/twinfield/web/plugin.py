"""The Airflow plugin (entry point ``airflow.plugins``): the report pages on the API server under
``/focus-twinfield``, a "Sync report" tab on each DAG run, and an entry in the Browse menu.
``FOCUS_TWINFIELD_WEB=off`` in the API server's environment switches all of it off (Airflow has no switch
for an entry-point plugin)."""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

from twinfield.web.app import create_app

URL_PREFIX = "/focus-twinfield"
ENABLED = os.environ.get("FOCUS_TWINFIELD_WEB", "on").strip().lower() not in ("off", "false", "0", "no")


class FocusTwinfieldPlugin(AirflowPlugin):
    name = "focus_twinfield"
    fastapi_apps = [] if not ENABLED else [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Focus -> Twinfield sync reports"}]
    # Relative hrefs: the UI resolves them against its own base URL (also behind a proxy).
    external_views = [] if not ENABLED else [
        {"name": "Sync report", "href": f"{URL_PREFIX.lstrip('/')}/runs/{{RUN_ID}}", "destination": "dag_run",
         "url_route": "focus-twinfield-report"},
        {"name": "Focus -> Twinfield reports", "href": f"{URL_PREFIX.lstrip('/')}/runs", "destination": "nav",
         "category": "browse", "url_route": "focus-twinfield-reports"},
    ]
