"""The Airflow plugin (entry point ``airflow.plugins``): the report pages on the API server under
``/focus-twinfield``, a "Sync report" tab on each DAG run, and a "Sync reports" entry in the Browse menu."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from twinfield.web.app import create_app

URL_PREFIX = "/focus-twinfield"


class FocusTwinfieldPlugin(AirflowPlugin):
    name = "focus_twinfield"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Focus -> Twinfield sync reports"}]
    # Relative hrefs: the UI resolves them against its own base URL (also behind a proxy).
    external_views = [
        {"name": "Sync report", "href": f"{URL_PREFIX.lstrip('/')}/runs/{{RUN_ID}}", "destination": "dag_run",
         "url_route": "focus-twinfield-report"},
        {"name": "Focus -> Twinfield reports", "href": f"{URL_PREFIX.lstrip('/')}/runs", "destination": "nav",
         "category": "browse", "url_route": "focus-twinfield-reports"},
    ]
