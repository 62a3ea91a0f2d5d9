"""Tells people how a run went: an Airflow notifier for the report task's success and failure callbacks.

What it sends, to whom and on which events is the ``notifications`` section of the sync configuration;
without that section it sends nothing. The message is the run's report from the state store, rendered by
``twinfield.domain.notifications``; e-mail goes through the SMTP provider's hook and an ``smtp`` connection,
Slack (optional extra ``focus-twinfield[slack]``) through the Slack provider's incoming-webhook hook.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from airflow.sdk import BaseNotifier

from twinfield.domain import notifications
from twinfield.domain.config import load_config
from twinfield.domain.report import RunReport
from twinfield.hooks.state import DEFAULT_CONN_ID as STATE_CONN_ID
from twinfield.hooks.state import state_store
from twinfield.operators.base import config_path_for, error_summary
from twinfield.state import runs


class SyncReportNotifier(BaseNotifier):
    """Sends the run's report (summary, held-back documents with reasons and Focus links, booked drafts,
    optionally the payments) to the channels the sync configuration names; on a failed run, which stage failed
    and why. Use it as the report task's ``on_success_callback`` and ``on_failure_callback``.

    :param state_conn_id: connection of the state store that holds the run's report.
    :param config_path: the sync configuration (default: ``config_path_for``).
    """

    template_fields = ("state_conn_id", "config_path")

    def __init__(self, *, state_conn_id: str = STATE_CONN_ID, config_path: str | None = None):
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
        message = notifications.render(report, settings, failed)
        errors = []
        for channel in settings.channels:
            try:
                getattr(self, f"send_{channel}")(settings, message)
            except Exception as exc:  # noqa: BLE001 - try every channel, then say what failed
                errors.append(f"{channel}: {error_summary(exc)}")
        if errors:
            raise RuntimeError(f"run {report.run_id}: notification not sent on " + "; ".join(errors))
        self.log.info("Run %s: notified on %s", report.run_id, ", ".join(settings.channels))

    def report_of(self, context: Any) -> tuple[RunReport, bool]:
        """The run's stored report and whether the run failed; when the report task itself failed before it
        stored one, a report that says so."""
        run_id = context["run_id"]
        exception = context.get("exception")
        stored = runs.get_report(state_store(self.state_conn_id), run_id)
        report = RunReport.from_dict(stored[1]) if stored else RunReport(run_id=run_id)
        if stored is None:
            report.errors.append("the report task failed before it could put the report together: "
                                 + (error_summary(exception) if exception else "no error given"))
        failed = report.incomplete or exception is not None
        return report, failed

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
