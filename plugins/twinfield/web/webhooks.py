"""The Focus webhook receiver, on the API server: ``POST <prefix>/focus/<secret>``.

Focus signs nothing, so the URL's secret is the only proof of origin; a wrong one answers 404, as if there
were no such page. The payload (``{type, subject: {type, id}}``) is only a hint: the receiver records which
document changed (state store, ``webhook_hints``) and adds an event to the asset ``focus_document_changes``
through Airflow's REST API (``AssetEvents``), which starts a sync run; that run re-reads the named documents
from Focus. Events the sync does not act on are acknowledged and dropped. Bursts fold into one run: the
scheduler starts one run for all events queued since the last, the sync allows one active run, and that run
takes every pending hint.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from functools import cached_property

import requests
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from twinfield.assets import FOCUS_DOCUMENT_CHANGES
from twinfield.state import StateStore, webhook_hints
from twinfield.webhooks import TYPES

log = logging.getLogger(__name__)

HANDLED = TYPES  # what the registration asks for; anything else is acknowledged and dropped
AIRFLOW_API_CONN_ID = "focus_twinfield_airflow_api"


class AssetEvents:
    """Adds events to one asset through Airflow's public REST API (``POST /api/v2/assets/events``), logged
    in as the connection's user (``POST /auth/token``). Connection: host = the API server's base URL,
    login/password = a user allowed to create asset events."""

    def __init__(self, conn_id: str = AIRFLOW_API_CONN_ID, uri: str = FOCUS_DOCUMENT_CHANGES.uri,
                 timeout: float = 10.0):
        self.conn_id = conn_id
        self.uri = uri
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None
        self._asset_id: int | None = None

    @cached_property
    def connection(self):
        from airflow.sdk import BaseHook  # noqa: PLC0415 - only when the first event comes

        return BaseHook.get_connection(self.conn_id)

    @property
    def base(self) -> str:
        host = (self.connection.host or "").rstrip("/")
        return host if "://" in host else f"http://{host}:{self.connection.port or 8080}"

    def _login(self) -> str:
        answer = self.session.post(f"{self.base}/auth/token", timeout=self.timeout,
                                   json={"username": self.connection.login, "password": self.connection.password})
        answer.raise_for_status()
        return answer.json()["access_token"]

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._login()
            answer = self.session.request(method, f"{self.base}{path}", timeout=self.timeout,
                                          headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
            if answer.status_code == 401 and attempt == 1:  # the token expired: log in again, once
                self._token = None
                continue
            answer.raise_for_status()
            return answer
        raise AssertionError("unreachable")

    def asset_id(self) -> int:
        if self._asset_id is None:
            found = self._request("GET", "/api/v2/assets", params={"uri_pattern": self.uri}).json()["assets"]
            exact = [a["id"] for a in found if a["uri"] == self.uri]
            if not exact:
                raise LookupError(f"Airflow knows no asset {self.uri}: is the sync DAG deployed and parsed?")
            self._asset_id = exact[0]
        return self._asset_id

    def add(self, extra: dict) -> None:
        self._request("POST", "/api/v2/assets/events", json={"asset_id": self.asset_id(), "extra": extra})


def create_receiver(secret: str, store: Callable[[], StateStore], events: AssetEvents) -> FastAPI:
    app = FastAPI(title="Teamleader Focus webhooks", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/focus/{given}")
    async def receive(given: str, request: Request) -> JSONResponse:
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise HTTPException(404, "Not Found")
        try:
            payload = await request.json()
            event_type = payload["type"]
            subject_type, subject_id = payload["subject"]["type"], payload["subject"]["id"]
            if not all(isinstance(v, str) and v for v in (event_type, subject_type, subject_id)):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise HTTPException(400, "expected {type, subject: {type, id}}") from None
        if event_type not in HANDLED or subject_type not in ("invoice", "creditNote"):
            return JSONResponse({"status": "ignored", "type": event_type}, status_code=202)
        # Blocking I/O off the event loop: the asset event goes to this same API server, which could not answer
        # while its loop waited here (a deadlock until the request timed out).
        hint = await run_in_threadpool(lambda: webhook_hints.record(store(), event_type, subject_type, subject_id))
        try:
            await run_in_threadpool(events.add, {"type": event_type, "subject": {"type": subject_type, "id": subject_id}})
        except (requests.RequestException, LookupError, KeyError) as exc:
            # The hint is kept: the next event's run (or a manual one) takes it. Focus need not resend.
            log.warning("Focus webhook %s recorded, but no asset event was added: %s", event_type,
                        type(exc).__name__)
            return JSONResponse({"status": "recorded", "asset_event": False, "received_at": hint.received_at},
                                status_code=202)
        return JSONResponse({"status": "recorded", "asset_event": True, "received_at": hint.received_at},
                            status_code=202)

    return app
