"""Notifications end to end: ``dag.test()`` against the sandbox, the report task's notifier sending through a
real SMTP server (aiosmtpd, with login) on 127.0.0.1. The message arrives as text and HTML, its tables hold
the run's figures, its links are the Focus links, no secret is in it; a failed run says which stage and why.
The same runs show the asset events downstream DAGs are scheduled on."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
from html.parser import HTMLParser
from pathlib import Path

import pendulum
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sandbox.server import CLIENT_SECRET
from tests.integration.world import OFFICE, World
from twinfield.operators.pull_reconciliations import PullReconciliationsOperator

pytestmark = pytest.mark.integration

SMTP_USER, SMTP_PASSWORD = "airflow", "smtp-pw-" + "x7Qk2"
RECIPIENTS = ["finance@example.com", "data@example.com"]
CONFIG = Path(__file__).resolve().parents[2] / "include" / "mappings"


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content, policy=email.policy.default)))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
            SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)


@pytest.fixture
def inbox(monkeypatch):
    box = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=box.authenticate,
                            auth_require_tls=False)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_FINANCE", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": SMTP_USER, "password": SMTP_PASSWORD,
        "extra": {"from_email": "airflow@example.com", "disable_tls": True, "disable_ssl": True, "retry_limit": 0}}))
    yield box
    controller.stop()


def configure(tmp_path: Path, monkeypatch, events: str) -> None:
    for name in ("sync.yaml", "vat_codes.yaml"):
        (tmp_path / name).write_text((CONFIG / name).read_text(encoding="utf-8"), encoding="utf-8")
    with (tmp_path / "sync.yaml").open("a", encoding="utf-8") as f:
        f.write(f"notifications:\n  email:\n    to: [{', '.join(RECIPIENTS)}]\n    smtp_conn_id: smtp_finance\n"
                f"  events: [{events}]\n  report_url: \"https://airflow.example.com/reports/{{run_id}}\"\n")
    monkeypatch.setenv("FOCUS_TWINFIELD_CONFIG", str(tmp_path / "sync.yaml"))


@pytest.fixture
def world(dag, tmp_path):  # noqa: F811 - the fixture imported above
    w = World(dag, tmp_path, invoices=40, seed=5)
    yield w
    w.stop()


class Tables(HTMLParser):
    """Rows of the HTML body's tables by id, cells as text; the links."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._table = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ""
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "br" and self._cell is not None:
            self._cell += "\n"

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(self._cell.strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def bodies(message) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def secrets_of(world) -> list[str]:
    return [SMTP_PASSWORD, CLIENT_SECRET, world.sandbox.focus.initial_refresh_token,
            world.sandbox.twinfield.initial_refresh_token]


def test_a_finished_run_mails_its_figures_and_focus_links(world, inbox, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, "finished, failed, payments")
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    assert set(world.states(dagrun).values()) == {"success"}
    assert report["booked"] and report["held_back"], "the data should book some documents and hold some back"

    [(recipients, message)] = inbox.messages
    assert recipients == RECIPIENTS and inbox.logins == [SMTP_USER]
    assert message["To"] == ", ".join(RECIPIENTS) and message["From"] == "airflow@example.com"
    booked = len(report["booked"])
    assert message["Subject"] == (f"Focus -> Twinfield: run {dagrun.run_id}: {booked} booked, 0 updated, "
                                  f"{len(report['held_back'])} held back, 0 payment(s)")
    text, html = bodies(message)
    tables = Tables(html)

    counts = dict(row for row in tables.tables["counts"][1:])
    assert counts["documents found"] == str(sum(report["found"].values()))
    assert counts["booked as new drafts"] == str(booked)
    assert counts["held back (to fix)"] == str(len(report["held_back"]))
    assert counts["customers created"] == str(report["customers_created"])
    assert counts["customers matched"] == str(report["customers_matched"])
    held = {row[0]: row[2].split("\n") for row in tables.tables["held-back"][1:]}
    assert len(held) == len(report["held_back"])
    for h in report["held_back"]:
        label = f"{'credit note' if h['kind'] == 'credit_note' else 'invoice'} {h['focus_number']}"
        assert held[label] == list(h["reasons"])
    focus_links = [h["web_url"] for h in report["held_back"] if h["web_url"]]
    assert focus_links and tables.links == [*focus_links, f"https://airflow.example.com/reports/{dagrun.run_id}"]
    assert all(link.startswith("https://focus.teamleader.eu/") for link in focus_links)
    assert {row[1] for row in tables.tables["booked"][1:]} == {b["twinfield_number"] for b in report["booked"]}
    for link in focus_links:  # the text body says the same
        assert link in text
    assert f"booked as new drafts {' ' * (38 - len('booked as new drafts'))}{booked}" in text
    raw = message.as_string()
    for secret in secrets_of(world):
        assert secret not in raw and secret not in text and secret not in html

    # The same run's asset events, as the scheduler sees them in the metadata database.
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = [(e.asset.uri, e.extra) for e in session.query(AssetEvent)
                  .filter(AssetEvent.source_run_id == dagrun.run_id)]
    assert events == [(f"twinfield://{OFFICE}/sales", {
        "run_id": dagrun.run_id, "booked": booked, "updated": 0,
        "invoice_numbers": sorted(b["twinfield_number"] for b in report["booked"])})]  # no payments: no event


def test_payments_are_opt_in_and_a_payments_only_subscription_hears_only_of_payments(world, inbox, tmp_path,
                                                                                     monkeypatch):
    configure(tmp_path, monkeypatch, "payments")
    world.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    assert inbox.messages == []  # bookings but no payments: nothing for this subscriber
    tw = world.sandbox.twinfield
    [tx] = [t for t in world.transactions() if "CN" not in t["invoicenumber"]][:1]
    tw.finalize(OFFICE, "VRK", tx["number"])
    tw.match(OFFICE, "VRK", tx["number"])
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 2, tz="UTC"))
    [payment] = report["payments"]
    [(_, message)] = inbox.messages
    text, html = bodies(message)
    rows = Tables(html).tables["payments"][1:]
    assert rows == [[payment["focus_number"], f"{payment['amount']} {payment['currency']}", payment["paid_at"]]]
    assert f"invoice {payment['focus_number']}: {payment['amount']} {payment['currency']}" in text

    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = [(e.asset.uri, e.extra) for e in session.query(AssetEvent)
                  .filter(AssetEvent.source_run_id == dagrun.run_id)]
    assert events == [("teamleader-focus://invoices/payments", {"run_id": dagrun.run_id, "registered": 1})]


def test_a_failed_run_mails_the_stage_and_its_error(world, inbox, tmp_path, monkeypatch, dag):  # noqa: F811
    configure(tmp_path, monkeypatch, "failed")

    def broken(self, run):
        raise ValueError("the bookkeeper's browse definition is gone")

    monkeypatch.setattr(PullReconciliationsOperator, "sync", broken)
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 5, 1, tz="UTC"))
    assert str(dagrun.state) == "failed"
    [(_, message)] = inbox.messages
    assert message["Subject"] == f"Focus -> Twinfield: run {dagrun.run_id} FAILED at pull_reconciliations"
    text, html = bodies(message)
    stages = {row[0]: row[1:] for row in Tables(html).tables["stages"][1:]}
    assert stages["pull_reconciliations"] == ["failed", "ValueError: the bookkeeper's browse definition is gone"]
    assert stages["update_payments"] == ["did not run", ""]
    assert stages["load_drafts"] == ["done", ""]
    assert "pull_reconciliations: failed: ValueError: the bookkeeper's browse definition is gone" in text
    counts = dict(row for row in Tables(html).tables["counts"][1:])
    assert counts["booked as new drafts"] == str(len(report["booked"])) != "0"
    assert not re.search(re.escape(SMTP_PASSWORD), message.as_string())
