"""twinfield.domain.notifications: the configuration section, which outcomes are sent, and the rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinfield.domain.config import ConfigError, load_config
from twinfield.domain.notifications import NotificationSettings, render, should_notify
from twinfield.domain.report import FAILED, HeldBackEntry, PaymentEntry, RunReport, StageOutcome

SHIPPED = Path(__file__).resolve().parents[2] / "include" / "mappings"


def config_with(tmp_path: Path, section: str):
    text = (SHIPPED / "sync.yaml").read_text(encoding="utf-8") + section
    (tmp_path / "vat_codes.yaml").write_text((SHIPPED / "vat_codes.yaml").read_text(encoding="utf-8"))
    (tmp_path / "sync.yaml").write_text(text, encoding="utf-8")
    return load_config(tmp_path / "sync.yaml")


def test_the_shipped_file_sends_nothing():
    assert load_config(SHIPPED / "sync.yaml").notifications is None


def test_a_section_with_email_and_slack(tmp_path):
    config = config_with(tmp_path, "notifications:\n  email:\n    to: [a@example.com, b@example.com]\n"
                                   "  slack:\n    slack_conn_id: team_slack\n  events: [failed, payments]\n")
    assert config.notifications == NotificationSettings(("a@example.com", "b@example.com"), "smtp_default",
                                                        "team_slack", frozenset({"failed", "payments"}))
    assert config.notifications.channels == ["email", "slack"]


@pytest.mark.parametrize("section, key, words", [
    ("notifications:\n  events: [finished]\n", "notifications", "names no channel"),
    ("notifications:\n  email:\n    to: [finance]\n", "notifications.email.to[0]", "not an e-mail address"),
    ("notifications:\n  email:\n    to: a@example.com\n  events: [finshed]\n", "notifications.events[0]",
     "must be finished, failed, late, payments or dry_runs, got 'finshed'"),
    ("notifications:\n  email:\n    to: a@example.com\n  events: []\n", "notifications.events", "must list"),
    ("notifications:\n  mail:\n    to: a@example.com\n", "notifications.mail", "not a known setting"),
    ("notifications:\n  slack: {}\n", "notifications.slack.slack_conn_id", "is required"),
])
def test_a_wrong_section_names_the_key(tmp_path, section, key, words):
    with pytest.raises(ConfigError) as caught:
        config_with(tmp_path, section)
    assert caught.value.key == key and words in caught.value.problem


def report(**kwargs) -> RunReport:
    return RunReport(run_id="scheduled__2030-01-01", window="2029-12-31 .. 2030-01-01", **kwargs)


def test_which_outcomes_are_sent():
    mail = NotificationSettings(email_to=("a@example.com",))
    assert should_notify(mail, report(), failed=False) and should_notify(mail, report(), failed=True)
    assert not should_notify(None, report(), failed=True)
    assert not should_notify(mail, report(dry_run=True), failed=False)
    assert should_notify(NotificationSettings(("a@example.com",), events=frozenset({"finished", "dry_runs"})),
                         report(dry_run=True), failed=False)
    only_failures = NotificationSettings(("a@example.com",), events=frozenset({"failed"}))
    assert not should_notify(only_failures, report(), failed=False)
    only_payments = NotificationSettings(("a@example.com",), events=frozenset({"payments"}))
    assert not should_notify(only_payments, report(), failed=False)
    paid = report(payments=[PaymentEntry("2030 / 1", "121.00", "EUR", "2030-01-01")])
    assert should_notify(only_payments, paid, failed=False)
    assert not should_notify(only_payments, paid, failed=True)


def test_rendering_escapes_html_and_keeps_text_plain():
    held = HeldBackEntry("invoice", "f-1", "2030 / 7", "https://focus.teamleader.eu/invoice_detail.php?id=f-1",
                         ("ledger <8999> & co", "no VAT code"), "NLA001")
    r = report(held_back=[held], stages=[StageOutcome("extract", FAILED, "FocusUnavailable: <503>")])
    message = render(r, NotificationSettings(("a@example.com",)), failed=True)
    assert message.subject == "Focus -> Twinfield: run scheduled__2030-01-01 FAILED at extract"
    assert "ledger &lt;8999&gt; &amp; co<br>no VAT code" in message.html
    assert "FocusUnavailable: &lt;503&gt;" in message.html
    assert '<a href="https://focus.teamleader.eu/invoice_detail.php?id=f-1">invoice 2030 / 7</a>' in message.html
    assert "      * ledger <8999> & co\n" in message.text and "&lt;" not in message.text
    assert "extract: failed: FocusUnavailable: <503>" in message.text


def test_a_late_run_is_told_by_default_and_can_be_left_out():
    from twinfield.domain.notifications import should_notify_late

    assert should_notify_late(NotificationSettings(email_to=("a@example.com",)))
    assert not should_notify_late(NotificationSettings(("a@example.com",), events=frozenset({"finished"})))
    assert not should_notify_late(None)


def test_the_late_message_says_where_the_run_is_and_escapes_in_html():
    from twinfield.domain.notifications import LateRun, render_late

    run = LateRun(run_id="scheduled__2030-01-01<b>", deadline="2030-01-02 06:00 UTC", state="running",
                  started_at="2030-01-02 02:00 UTC", stages=(("extract", "done"), ("resolve_customers", "running")))
    settings = NotificationSettings(("a@example.com",), report_url="https://airflow.example.com/r/{run_id}")
    message = render_late(run, settings)
    assert message.subject == ("Focus -> Twinfield: run scheduled__2030-01-01<b> is LATE "
                               "(not done by 2030-01-02 06:00 UTC)")
    assert "  extract                done\n  resolve_customers      running\n" in message.text
    assert "It will be at https://airflow.example.com/r/scheduled__2030-01-01<b>" in message.text
    assert "scheduled__2030-01-01&lt;b&gt;" in message.html and "<b>" not in message.html
    assert "<tr><td>resolve_customers</td><td>running</td></tr>" in message.html

    nothing_yet = render_late(LateRun(run_id="r", deadline="07:00", state="queued"), settings)
    assert "No stage has started yet" in nothing_yet.text and "was still queued then" in nothing_yet.text
