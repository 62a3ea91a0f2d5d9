"""Who hears about a run, when, and what the message says (pure: no sending here).

Settings come from the ``notifications`` section of the sync configuration (see include/mappings/sync.yaml);
without it nothing is sent. The message is rendered from the run's ``RunReport`` (the same data as the
Markdown report) by one Jinja2 template, ``templates/run_report.j2``, whose blocks are the subject, the
plain-text body and the HTML body.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from twinfield.domain.report import RunReport

FINISHED, FAILED, PAYMENTS, DRY_RUNS = "finished", "failed", "payments", "dry_runs"
EVENTS = {
    FINISHED: "every run that completed: the summary",
    FAILED: "a run with a failed stage: which stage and its error, and what was done so far",
    PAYMENTS: "opt-in: the payments registered in Focus, listed (and a message when there are any)",
    DRY_RUNS: "opt-in: dry runs too",
}
DEFAULT_EVENTS = frozenset({FINISHED, FAILED})
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class NotificationSettings:
    email_to: tuple[str, ...] = ()
    smtp_conn_id: str = "smtp_default"
    slack_conn_id: str | None = None  # a Slack incoming-webhook connection; None: no Slack
    events: frozenset[str] = DEFAULT_EVENTS
    report_url: str | None = None  # e.g. the Airflow report page: "{run_id}" is filled in

    @property
    def channels(self) -> list[str]:
        return [name for name, on in (("email", bool(self.email_to)), ("slack", bool(self.slack_conn_id))) if on]


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def parse(parser: Any, value: Any) -> NotificationSettings | None:
    """The ``notifications`` section, checked with the configuration's own parser (``_Parser`` in config)."""
    if value is None:
        return None
    value = parser.mapping(value, "notifications", {"email", "slack", "events", "report_url"})
    to: tuple[str, ...] = ()
    smtp_conn_id = NotificationSettings.smtp_conn_id
    if value.get("email") is not None:
        email = parser.mapping(value["email"], "notifications.email", {"to", "smtp_conn_id"})
        to = tuple(_addresses(parser, email.get("to")))
        smtp_conn_id = parser.text(email.get("smtp_conn_id"), "notifications.email.smtp_conn_id",
                                   required=False) or smtp_conn_id
    slack_conn_id = None
    if value.get("slack") is not None:
        slack = parser.mapping(value["slack"], "notifications.slack", {"slack_conn_id"})
        slack_conn_id = parser.text(slack.get("slack_conn_id"), "notifications.slack.slack_conn_id")
    events = DEFAULT_EVENTS
    if value.get("events") is not None:
        if not isinstance(value["events"], list) or not value["events"]:
            raise parser.fail("notifications.events", f"must list one or more of {', '.join(EVENTS)}")
        events = frozenset(parser.text(e, f"notifications.events[{i}]") for i, e in enumerate(value["events"]))
        unknown = sorted(events - set(EVENTS))
        if unknown:
            raise parser.fail("notifications.events", f"{unknown[0]!r} is not an event (known: {', '.join(EVENTS)})")
    settings = NotificationSettings(to, smtp_conn_id, slack_conn_id, events,
                                    parser.text(value.get("report_url"), "notifications.report_url", required=False))
    if not settings.channels:
        raise parser.fail("notifications", "names no channel: give email.to and/or slack.slack_conn_id "
                          "(leave the section out to send nothing)")
    return settings


def _addresses(parser: Any, value: Any) -> list[str]:
    key = "notifications.email.to"
    items = value if isinstance(value, list) else [value]
    addresses = [parser.text(item, f"{key}[{i}]") for i, item in enumerate(items)]
    for i, address in enumerate(addresses):
        if address.count("@") != 1 or " " in address or address.startswith("@") or address.endswith("@"):
            raise parser.fail(f"{key}[{i}]", f"{address!r} is not an e-mail address")
    return addresses


def should_notify(settings: NotificationSettings | None, report: RunReport, failed: bool) -> bool:
    """Whether this run's outcome is one of the events the settings ask for."""
    if settings is None or not settings.channels:
        return False
    if report.dry_run and DRY_RUNS not in settings.events:
        return False
    if failed:
        return FAILED in settings.events
    return FINISHED in settings.events or (PAYMENTS in settings.events and bool(report.payments))


def render(report: RunReport, settings: NotificationSettings, failed: bool) -> Message:
    """Subject, plain-text and HTML body of the run's message, from the one template."""
    url = settings.report_url.replace("{run_id}", report.run_id) if settings.report_url else ""
    return render_report(report, failed=failed, show_payments=PAYMENTS in settings.events, report_url=url)


def render_report(report: RunReport, *, failed: bool, show_payments: bool = True, report_url: str = "",
                  page: bool = False) -> Message:
    """The report rendered by the template: the message's parts, and the report page (the HTML part;
    ``page``: as served on the API server, with the script that opens Focus links from Airflow's iframe)."""
    template = _environment().get_template("run_report.j2")
    data = {
        "r": report,
        "s": report.to_summary(),
        "counts": report.count_rows(),
        "failed": failed,
        "show_payments": show_payments,
        "report_url": report_url,
        "page": page,
    }
    context = template.new_context(data)
    part = {name: "".join(template.blocks[name](context)).strip() for name in ("subject", "text", "html")}
    return Message(" ".join(part["subject"].split()), part["text"] + "\n", part["html"] + "\n")


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        # Autoescaping is switched on inside the template's html block only: the text block is not HTML.
        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                  keep_trailing_newline=True)
        _ENV.filters["kind"] = lambda kind: "credit note" if kind == "credit_note" else "invoice"
    return _ENV
