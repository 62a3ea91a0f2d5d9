"""Focus webhooks end to end, short of a scheduler: the sandbox registers, lists and removes webhooks and
really POSTs events; the receiver refuses a wrong secret, records the hint for a right one and adds an asset
event through a real Airflow API server (served in-process on the test's metadata database); the sync DAG is
scheduled on that asset; a run started by it takes the hints and names those documents."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from sandbox import airflow_env
from sandbox.serving import ThreadedServer
from tests.integration.world import World, booked_number
from tests.integration.test_focus_hook import connect  # noqa: F401 - fixture
from twinfield import webhooks as command
from twinfield.state import StateStore, webhook_hints
from twinfield.web.webhooks import AssetEvents, create_receiver

pytestmark = pytest.mark.integration

SECRET = secrets.token_urlsafe(32)


class Recorder:
    """A receiving end that keeps what was POSTed to it."""

    def __init__(self):
        self.received: list[dict] = []
        app = FastAPI()

        @app.post("/{path:path}")
        async def hook(path: str, request: Request):
            self.received.append({"name": path.rsplit("/", 1)[-1], "payload": await request.json()})
            return {"ok": True}

        self.server = ThreadedServer(app, name="recorder", log_level="critical").start()
        self.url = self.server.url


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.server.stop()


def test_sandbox_registers_lists_unregisters_and_posts_events(make_sandbox, connect, recorder, monkeypatch):
    sb = make_sandbox(invoices=30, focus_rate_limit=100_000)
    hook = connect(sb)
    monkeypatch.setattr(command, "TeamleaderFocusHook", lambda conn_id: hook)
    monkeypatch.setenv(command.SECRET_ENV, SECRET)
    out = io.StringIO()
    assert command.main(["register", "--base-url", recorder.url], out=out) == 0
    url = recorder.url + command.RECEIVER_PATH + SECRET
    assert hook.list_webhooks() == [{"url": url, "types": sorted(command.TYPES)}]
    out = io.StringIO()
    command.main(["list"], out=out)
    assert SECRET not in out.getvalue() and "***" in out.getvalue()
    hook.register_webhook(recorder.url + "/hook/other", ["invoice.booked"])  # a second receiver, one type

    focus = f"{sb.url}/focus/_sandbox"
    draft = next(i for i in sb.data.invoices if i["status"] == "draft")
    note = sb.data.credit_notes[0]
    assert requests.post(f"{focus}/invoices/{draft['id']}/book", json={}, timeout=10).status_code == 200
    assert requests.post(f"{focus}/invoices/{draft['id']}/send", timeout=10).status_code == 200
    assert requests.post(f"{focus}/invoices/{draft['id']}/edit", json={"note": "x"}, timeout=10).status_code == 200
    assert requests.post(f"{focus}/credit_notes/{note['id']}/edit", json={"note": "y"}, timeout=10).status_code == 200
    assert requests.delete(f"{focus}/credit_notes/{note['id']}", timeout=10).status_code == 204
    sb.focus.webhooks.wait()
    seen = sorted((r["name"], r["payload"]["type"], r["payload"]["subject"]["id"]) for r in recorder.received)
    assert seen == sorted([("other", "invoice.booked", draft["id"]), (SECRET, "invoice.booked", draft["id"]),
                           (SECRET, "invoice.sent", draft["id"]),
                           (SECRET, "invoice.updated", draft["id"]), (SECRET, "creditNote.updated", note["id"]),
                           (SECRET, "creditNote.deleted", note["id"])])
    assert all(r["payload"]["subject"]["type"] in ("invoice", "creditNote") for r in recorder.received)

    assert command.main(["unregister", "--base-url", recorder.url], out=io.StringIO()) == 0
    assert hook.list_webhooks() == [{"url": recorder.url + "/hook/other", "types": ["invoice.booked"]}]


@pytest.mark.parametrize("body, fragment", [
    ({"url": "http://example.com/hook", "types": ["invoice.booked"]}, "HTTPS"),
    ({"url": "https://example.com/hook", "types": []}, "types is required"),
    ({"url": "https://example.com/hook", "types": ["invoice.exploded"]}, "unknown event types"),
    ({"types": ["invoice.booked"]}, "url is required"),
])
def test_sandbox_refuses_bad_registrations(make_sandbox, connect, body, fragment):
    from twinfield.errors import FocusApiError

    hook = connect(make_sandbox(invoices=5, focus_rate_limit=100_000))
    with pytest.raises(FocusApiError) as refused:
        hook._read("webhooks.register", body)
    assert refused.value.status == 400 and fragment in refused.value.title


# -- the receiver, with a real Airflow API server --------------------------------------------------------------
@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory):
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("airflow-api")
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"webhooks": "receiver-pw"}))
    os.environ.update({"AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # as long as SHA512 asks
                       "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "webhooks:admin",
                       "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                       "AIRFLOW__CORE__AUTH_MANAGER":
                           "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"})
    airflow_env.prepare(home, {})
    # The dag processor's job, once: parse the dags folder into the metadata database (assets included).
    subprocess.run([str(Path(sys.executable).with_name("airflow")), "dags", "reserialize"], check=True,
                   env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from airflow.api_fastapi.app import create_app  # noqa: PLC0415 - once the environment is set

    store = StateStore(f"sqlite:///{home / 'state.db'}")
    app = create_app("core")
    # Mounted as the plugin manager mounts it: on the same server (and event loop) as the REST API it calls.
    app.mount("/focus-twinfield-webhooks", create_receiver(SECRET, lambda: store, AssetEvents(timeout=5.0)))
    server = ThreadedServer(app, name="airflow-api", log_level="critical").start()
    os.environ["AIRFLOW_CONN_FOCUS_TWINFIELD_AIRFLOW_API"] = json.dumps(
        {"conn_type": "http", "host": server.url, "login": "webhooks", "password": "receiver-pw"})
    yield server.url, store
    server.stop()
    os.environ.clear()
    os.environ.update(saved)


def asset_events(base: str, events: AssetEvents) -> list[dict]:
    token = requests.post(f"{base}/auth/token", json={"username": "webhooks", "password": "receiver-pw"},
                          timeout=10).json()["access_token"]
    answer = requests.get(f"{base}/api/v2/assets/events", params={"asset_id": events.asset_id()},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()["asset_events"]


def test_receiver_refuses_a_wrong_secret_and_records_a_right_one_as_hint_and_asset_event(airflow_api):
    base, store = airflow_api
    events = AssetEvents()
    client = TestClient(create_receiver(SECRET, lambda: store, events))
    payload = {"type": "invoice.booked", "subject": {"type": "invoice", "id": "inv-1"}}

    assert client.post("/focus/wrong-" + SECRET, json=payload).status_code == 404
    assert webhook_hints.pending(store) == []
    assert client.post("/focus/" + SECRET, json={"type": "invoice.booked"}).status_code == 400

    answer = client.post("/focus/" + SECRET, json=payload)
    assert answer.status_code == 202 and answer.json()["asset_event"] is True
    assert [(h.event_type, h.subject_id) for h in webhook_hints.pending(store)] == [("invoice.booked", "inv-1")]
    [event] = asset_events(base, events)
    assert event["extra"]["subject"] == {"type": "invoice", "id": "inv-1"}

    ignored = client.post("/focus/" + SECRET, json={"type": "deal.won", "subject": {"type": "deal", "id": "d"}})
    assert ignored.status_code == 202 and ignored.json()["status"] == "ignored"
    assert len(webhook_hints.pending(store)) == 1 and len(asset_events(base, events)) == 1


def test_the_receiver_on_the_api_server_adds_the_asset_event_to_that_same_server(airflow_api):
    base, store = airflow_api
    payload = {"type": "invoice.updated", "subject": {"type": "invoice", "id": "inv-2"}}
    answer = requests.post(f"{base}/focus-twinfield-webhooks/focus/{SECRET}", json=payload, timeout=30)
    assert answer.status_code == 202 and answer.json()["asset_event"] is True
    assert any(e["extra"]["subject"]["id"] == "inv-2" for e in asset_events(base, AssetEvents()))


def test_the_sync_is_scheduled_daily_or_on_the_webhook_asset():
    from airflow.serialization.serialized_objects import DagSerialization

    from twinfield.assets import FOCUS_DOCUMENT_CHANGES

    dag = airflow_env.load_dag()
    serialized = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    timetable = serialized.timetable
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert [asset.uri for _, asset in timetable.asset_condition.iter_assets()] == [FOCUS_DOCUMENT_CHANGES.uri]
    assert "0 3 * * *" in timetable.summary


def test_a_webhook_run_takes_the_hints_and_names_those_documents(tmp_path):
    from twinfield.domain.window import window_for

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    for doc in ("b", "a", "b"):
        webhook_hints.record(store, "invoice.updated", "invoice", doc)
    taken = webhook_hints.take(store, "asset_triggered__1")
    assert webhook_hints.pending(store) == [] and webhook_hints.take(store, "asset_triggered__1") == taken
    import datetime as dt

    window = window_for({}, data_interval_start=None, data_interval_end=None,
                        run_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), hinted_ids=tuple(h.subject_id for h in taken))
    assert window.focus_ids == ("a", "b") and window.named and window.updated_since is None


def test_an_invoice_sent_after_it_waited_books_next_run_though_focus_kept_its_updated_at(dag, tmp_path):
    """The sandbox leaves updated_at alone on sending (Focus does not document it): the copy staged while the
    invoice waited unsent must not be taken again, or it would wait for ever."""
    import pendulum

    w = World(dag, tmp_path, invoices=40, seed=7)
    try:
        _, first = w.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
        waiting = next(h for h in first["waiting"] if h["focus_number"] in w.expected.waiting)
        focus = f"{w.sandbox.url}/focus/_sandbox"
        before = requests.get(f"{focus}/invoices/{waiting['focus_id']}", timeout=10).json()["data"]
        sent = requests.post(f"{focus}/invoices/{waiting['focus_id']}/send", timeout=10).json()["data"]
        assert sent["sent"] is True and sent["updated_at"] == before["updated_at"]

        _, second = w.run(logical_date=pendulum.datetime(2030, 1, 2, tz="UTC"))
        departments = {d["id"]: d["name"] for d in w.sandbox.focus.data.departments}
        number = booked_number(sent, departments)
        assert [b["twinfield_number"] for b in second["booked"]] == [number]
        assert number in {t["invoicenumber"] for t in w.transactions()}
        assert waiting["focus_number"] not in {h["focus_number"] for h in second["waiting"]}
    finally:
        w.stop()
