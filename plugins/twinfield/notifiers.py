"""Tells people how a run went: an Airflow notifier for the report task's success and failure callbacks, and
one for the DAG's deadline alert (a scheduled run not done in time).

What they send, to whom and on which events is the ``notifications`` section of the sync configuration;
without that section they send nothing. The messages are rendered by ``twinfield.domain.notifications``
(the run's report from the state store; for a late run, how far it got); e-mail goes through the SMTP
provider's hook and an ``smtp`` connection, Slack (optional extra ``focus-twinfield[slack]``) through the Slack
provider's incoming-webhook hook.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from airflow.sdk import BaseNotifier

from twinfield.domain import notifications
from twinfield.domain.config import load_config
from twinfield.domain.report import RunReport
from twinfield.hooks.state import StateStoreHook
from twinfield.operators.base import config_path_for, error_summary
from twinfield.state import runs


class _Channels(BaseNotifier):
    """Sending one message on every channel the settings name."""

    def deliver(self, settings: notifications.NotificationSettings, message: notifications.Message,
                run_id: str) -> None:
        errors = []
        for channel in settings.channels:
            try:
                getattr(self, f"send_{channel}")(settings, message)
            except Exception as exc:  # noqa: BLE001 - try every channel, then say what failed
                errors.append(f"{channel}: {error_summary(exc)}")
        if errors:
            raise RuntimeError(f"run {run_id}: notification not sent on " + "; ".join(errors))
        self.log.info("Run %s: notified on %s", run_id, ", ".join(settings.channels))

    def send_email(self, settings: notifications.NotificationSettings, message: notifications.Message) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook  # noqa: PLC0415 - only when e-mail is configured

        with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as smtp:
            sender = smtp.from_email
            if not sender:
                raise ValueError(f"connection {settings.smtp_conn_id!r} has no from_email in its extra")
            mail = EmailMessage()
            mail["Subject"] = message.subject
            mail["From"] = sender
            mail["To"] = ", ".join(settings.email_to)
            mail["Date"] = formatdate(localtime=True)
            mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
            mail.set_content(message.text)
            mail.add_alternative(message.html, subtype="html")
            # The hook's own send_email_smtp sends HTML only; its logged-in client sends the text+HTML message.
            smtp._smtp_client.send_message(mail, from_addr=sender, to_addrs=list(settings.email_to))

    def send_slack(self, settings: notifications.NotificationSettings, message: notifications.Message) -> None:
        try:
            from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook  # noqa: PLC0415
        except ImportError:
            raise RuntimeError("Slack is configured but apache-airflow-providers-slack is not installed "
                               "(pip install 'focus-twinfield[slack]')") from None
        SlackWebhookHook(slack_webhook_conn_id=settings.slack_conn_id).send(
            text=f"*{message.subject}*\n```\n{message.text}```")


class SyncReportNotifier(_Channels):
    """Sends the run's report (summary, held-back documents with reasons and Focus links, booked drafts,
    optionally the payments) to the channels the sync configuration names; on a failed run, which stage failed
    and why. Use it as the report task's ``on_success_callback`` and ``on_failure_callback``.

    :param state_conn_id: connection of the state store that holds the run's report.
    :param config_path: the sync configuration (default: ``config_path_for``).
    """

    template_fields = ("state_conn_id", "config_path")

    def __init__(self, *, state_conn_id: str = StateStoreHook.default_conn_name, config_path: str | None = None):
        super().__init__()
        self.state_conn_id = state_conn_id
        self.config_path = config_path

    def notify(self, context: Any) -> None:
        dag = context.get("dag")
        settings = load_config(config_path_for(self.config_path, getattr(dag, "fileloc", None))).notifications
        if settings is None:
            return
        report, failed = self.report_of(context)
        if not notifications.should_notify(settings, report, failed):
            self.log.info("Run %s: no notification asked for this outcome", report.run_id)
            return
        self.deliver(settings, notifications.render(report, settings, failed), report.run_id)

    def report_of(self, context: Any) -> tuple[RunReport, bool]:
        """The run's stored report and whether the run failed; when the report task itself failed before it
        stored one, a report that says so."""
        run_id = context["run_id"]
        exception = context.get("exception")
        stored = runs.get_report(StateStoreHook(self.state_conn_id).store, run_id)
        report = RunReport.from_dict(stored[1]) if stored else RunReport(run_id=run_id)
        if stored is None:
            report.errors.append("the report task failed before it could put the report together: "
                                 + (error_summary(exception) if exception else "no error given"))
        failed = report.incomplete or exception is not None
        return report, failed


class RunLateNotifier(_Channels):
    """Tells the team that a run was not done by its deadline, and how far it got (the stages the state store
    shows), on the channels of the sync configuration's ``notifications`` (event ``late``, on by default).

    Airflow's deadline alert runs it in the triggerer: ``AsyncCallback(RunLateNotifier, kwargs={...})``, made
    with the context the scheduler gives (``dag_run`` as the REST API shows it, ``deadline``) and awaited; the
    blocking SMTP or Slack call then runs in a thread, off the triggerer's event loop. Called with a context it
    sends at once (``SyncCallback``, or by hand).

    :param dag_file: the DAG file, where the configuration is looked for last (``config_path_for``).
    :param state_conn_id: connection of the state store that holds the run log.
    :param config_path: the sync configuration (default: ``config_path_for``).
    """

    def __init__(self, context: Any = None, *, dag_file: str | None = None,
                 state_conn_id: str = StateStoreHook.default_conn_name, config_path: str | None = None):
        super().__init__(context)
        self.dag_file = dag_file
        self.state_conn_id = state_conn_id
        self.config_path = config_path

    async def async_notify(self, context: Any) -> None:
        await asyncio.to_thread(self.notify, context)

    def notify(self, context: Any) -> None:
        settings = load_config(config_path_for(self.config_path, self.dag_file)).notifications
        dag_run = context["dag_run"]
        run_id = dag_run["dag_run_id"]
        if str(dag_run.get("state")) in ("success", "failed"):  # done after all; a failure was reported as such
            self.log.info("Run %s missed its deadline but is %s: nothing to tell", run_id, dag_run["state"])
            return
        if not notifications.should_notify_late(settings):
            self.log.info("Run %s missed its deadline; no notification asked for it", run_id)
            return
        self.deliver(settings, notifications.render_late(self.late_run(context), settings), run_id)

    def late_run(self, context: Any) -> notifications.LateRun:
        dag_run = context["dag_run"]
        deadline = (context.get("deadline") or {}).get("deadline_time")
        run = notifications.LateRun(run_id=dag_run["dag_run_id"], deadline=_moment(deadline) or "its deadline",
                                    state=str(dag_run.get("state") or "running"),
                                    started_at=_moment(dag_run.get("start_date")))
        try:
            log = runs.stage_log(StateStoreHook(self.state_conn_id).store, run.run_id)
        except Exception as exc:  # noqa: BLE001 - the run is late either way: say so, and why the stages are missing
            return replace(run, note=f"The run log could not be read: {error_summary(exc)}")
        stages = tuple((e.stage, "failed: " + e.error if e.error else "done" if e.finished_at else "running")
                       for e in log)
        return replace(run, stages=stages)


def _moment(value: Any) -> str | None:
    """A timestamp from the callback's context (a datetime, or ISO text after the trip through the database),
    to the minute, in UTC."""
    if not value:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
