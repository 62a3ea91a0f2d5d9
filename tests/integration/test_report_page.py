"""The report page the plugin serves on Airflow's API server: FastAPI's TestClient against the app, reading a
state store that a real ``dag.test()`` run against the sandbox filled; Airflow's plugin manager finds the
plugin through its entry point."""

from __future__ import annotations

import html
import re

import pendulum
import pytest
from fastapi.testclient import TestClient

from tests.integration.world import World
from tests.integration.test_notifications import Tables
from twinfield.web import app as web

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(dag, tmp_path_factory):  # noqa: F811 - the fixture imported above
    w = World(dag, tmp_path_factory.mktemp("page"), invoices=40, seed=5)
    w.dagrun, w.report = w.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    yield w
    w.stop()


@pytest.fixture
def client(world):
    web.store_for.cache_clear()  # the world's state store, from its connection
    app = web.create_app()
    app.dependency_overrides[web.authorized] = lambda: None  # as a signed-in user allowed to read the runs
    return TestClient(app)


def test_a_runs_report_page_shows_its_stages_held_back_documents_and_bookings(world, client):
    report = world.report
    response = client.get(f"/runs/{world.dagrun.run_id}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = Tables(response.text)
    counts = dict(page.tables["counts"][1:])
    assert counts["booked as new drafts"] == str(len(report["booked"]))
    assert counts["held back (to fix)"] == str(len(report["held_back"]))
    held = {row[0]: row[2].split("\n") for row in page.tables["held-back"][1:]}
    for h in report["held_back"]:
        assert held[f"{'credit note' if h['kind'] == 'credit_note' else 'invoice'} {h['focus_number']}"] == list(
            h["reasons"])
    assert page.links == [h["web_url"] for h in report["held_back"] if h["web_url"]]
    assert [row[1] for row in page.tables["booked"][1:]] == [b["twinfield_number"] for b in report["booked"]]
    assert report["vat_proposals"] and all(html.escape(p) in response.text for p in report["vat_proposals"])


def test_the_index_lists_the_runs_and_links_their_pages(world, client):
    response = client.get("/runs")
    assert response.status_code == 200
    [row] = Tables(response.text).tables["runs"][1:]
    assert row[0] == world.dagrun.run_id and row[2:] == ["complete", str(len(world.report["booked"])),
                                                          str(len(world.report["held_back"])), "0"]
    [href] = re.findall(r'href="([^"]+)"', response.text)
    assert href.startswith("runs/")  # relative to /focus-twinfield/runs, the run id URL-encoded
    assert world.dagrun.run_id in client.get("/" + href).text


def test_an_unknown_run_is_a_404_that_says_why(client):
    response = client.get("/runs/manual__2099-01-01T00:00:00+00:00")
    assert response.status_code == 404 and "has not run yet" in response.json()["detail"]


def test_without_an_airflow_session_nothing_is_shown(world):
    web.store_for.cache_clear()
    response = TestClient(web.create_app()).get(f"/runs/{world.dagrun.run_id}")
    assert response.status_code == 401


def test_airflow_loads_the_plugin_with_its_app_and_views():
    from airflow import plugins_manager

    plugins = {p.name: p for p in plugins_manager._get_plugins()[0]}
    plugin = plugins["focus_twinfield"]
    assert [a["url_prefix"] for a in plugin.fastapi_apps] == ["/focus-twinfield"]
    views = {v["destination"]: v["href"] for v in plugin.external_views}
    assert views == {"dag_run": "focus-twinfield/runs/{RUN_ID}", "nav": "focus-twinfield/runs"}


def test_the_plugin_can_be_switched_off(monkeypatch):
    import importlib

    from twinfield.web import plugin

    monkeypatch.setenv("FOCUS_TWINFIELD_WEB", "off")
    try:
        off = importlib.reload(plugin).FocusTwinfieldPlugin
        assert (off.fastapi_apps, off.external_views) == ([], [])
    finally:
        monkeypatch.delenv("FOCUS_TWINFIELD_WEB")
        importlib.reload(plugin)
