"""Who hears about a run, when, and what the message says (pure: no sending here).

Settings come from the ``notifications`` section of the sync configuration (include/mappings/sync.yaml, checked
by ``config_schema.Notifications``); without it nothing is sent. The message is rendered from the run's ``RunReport`` (the same data as the
Markdown report) by one Jinja2 template, ``templates/run_report.j2``, whose blocks are the subject, the
plain-text body and the HTML body; a scheduled run not done by its deadline gets ``templates/run_late.j2``
(the same blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from twinfield.domain.report import RunReport

FINISHED, FAILED, LATE, PAYMENTS, DRY_RUNS = "finished", "failed", "late", "payments", "dry_runs"
EVENTS = {
    FINISHED: "every run that completed: the summary",
    FAILED: "a run with a failed stage: which stage and its error, and what was done so far",
    LATE: "a scheduled run not done by its deadline ([focus_twinfield] deadline): where it is",
    PAYMENTS: "opt-in: the payments registered in Focus, listed (and a message when there are any)",
    DRY_RUNS: "opt-in: dry runs too",
}
DEFAULT_EVENTS = frozenset({FINISHED, FAILED, LATE})
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
class LateRun:
    """A run that missed its deadline, as far as it got: ``stages`` are (stage, where) in the order started."""

    run_id: str
    deadline: str
    state: str
    started_at: str | None = None
    stages: tuple[tuple[str, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def should_notify(settings: NotificationSettings | None, report: RunReport, failed: bool) -> bool:
    """Whether this run's outcome is one of the events the settings ask for."""
    if settings is None or not settings.channels:
        return False
    if report.dry_run and DRY_RUNS not in settings.events:
        return False
    if failed:
        return FAILED in settings.events
    return FINISHED in settings.events or (PAYMENTS in settings.events and bool(report.payments))


def should_notify_late(settings: NotificationSettings | None) -> bool:
    return settings is not None and bool(settings.channels) and LATE in settings.events


def render_late(run: LateRun, settings: NotificationSettings) -> Message:
    """Subject, plain-text and HTML body of the message that a run missed its deadline."""
    url = settings.report_url.replace("{run_id}", run.run_id) if settings.report_url else ""
    return _render("run_late.j2", {"run": run, "report_url": url})


def render(report: RunReport, settings: NotificationSettings, failed: bool) -> Message:
    """Subject, plain-text and HTML body of the run's message, from the one template."""
    url = settings.report_url.replace("{run_id}", report.run_id) if settings.report_url else ""
    return render_report(report, failed=failed, show_payments=PAYMENTS in settings.events, report_url=url)


def render_report(report: RunReport, *, failed: bool, show_payments: bool = True, report_url: str = "",
                  page: bool = False) -> Message:
    """The report rendered by the template: the message's parts, and the report page (the HTML part;
    ``page``: as served on the API server, with the script that opens Focus links from Airflow's iframe)."""
    data = {
        "r": report,
        "s": report.to_summary(),
        "counts": report.count_rows(),
        "failed": failed,
        "show_payments": show_payments,
        "report_url": report_url,
        "page": page,
    }
    return _render("run_report.j2", data)


def _render(name: str, data: dict[str, Any]) -> Message:
    template = _environment().get_template(name)
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
