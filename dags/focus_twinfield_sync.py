"""Teamleader Focus invoices -> Twinfield draft sales transactions -> payments back in Focus.

Daily at 03:00 (Europe/Amsterdam) it takes the Focus invoices and credit notes changed in the day before,
plus whatever earlier runs could not book, and:

1. **extract**: stages them, with their lines, in the state store;
2. **resolve_customers**: links each customer to a Twinfield customer (VAT number, then name) or creates it;
3. **validate**: checks ledger accounts and VAT codes against Twinfield; holds back what cannot be booked,
   with every reason;
4. **load_drafts**: books the rest as draft sales transactions, each exactly once;
5. **pull_reconciliations**: reads which booked invoices the bookkeeper matched (paid) in Twinfield;
6. **update_payments**: registers those payments in Focus, once;
7. **report**: what happened, in the task log, the state store and ``$AIRFLOW_HOME/reports/<run id>.md``;
   also when a stage failed (trigger rule ``all_done``): then it says which stage and why, lists what was
   booked so far, and fails itself so that the run is marked failed. Then it notifies whoever the
   configuration's ``notifications`` section names (e-mail, Slack).

A scheduled run still not done by 07:00 (Airflow setting ``[focus_twinfield] deadline``, ``HH:MM`` or ``off``)
tells the team, on the same channels, that it is late and how far it got (``twinfield.deadline``).

It also runs within minutes when Focus reports an invoice or credit note booked, changed or deleted (webhooks,
``twinfield.web.webhooks``): such a run syncs just the documents named since the last one, re-read from Focus.

Trigger it by hand with a **Starting date** to sync everything invoiced since then (the first sync), with
**Invoice numbers** for just those documents, or as a **Dry run** that writes nothing to Twinfield or Focus and
reports what it would write. The mapping (departments, offices, VAT codes, accounts) is the reviewed file
``include/mappings/sync.yaml`` (or ``$FOCUS_TWINFIELD_CONFIG``). Any task can be cleared and re-run.

Downstream DAGs can schedule on what this DAG writes: ``load_drafts`` adds an event to the asset
``twinfield_sales_<office>`` for each office it booked drafts in, ``update_payments`` one to
``focus_invoice_payments`` when it registered payments (``twinfield.assets``).

Wiring only: the stages are operators in ``twinfield.operators``.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, AssetOrTimeSchedule, CronDataIntervalTimetable, Param

from twinfield.assets import FOCUS_DOCUMENT_CHANGES, PAYMENTS_ALIAS, TWINFIELD_SALES
from twinfield.deadline import nightly_deadline
from twinfield.notifiers import SyncReportNotifier
from twinfield.operators import (
    ExtractOperator,
    LoadDraftsOperator,
    PullReconciliationsOperator,
    ReportOperator,
    ResolveCustomersOperator,
    UpdatePaymentsOperator,
    ValidateOperator,
)
from twinfield.operators.retries import RETRY_ARGS

TIMEZONE = "Europe/Amsterdam"
STARTS_AT = dt.time(3, 0)

with DAG(
    dag_id="focus_twinfield_sync",
    description="Book Teamleader Focus invoices in Twinfield as drafts and bring payments back",
    # Daily, and within minutes of a Focus webhook (the receiver adds asset events; the run syncs those documents).
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable(f"{STARTS_AT.minute} {STARTS_AT.hour} * * *", timezone=TIMEZONE),
        assets=[FOCUS_DOCUMENT_CHANGES]),
    # A scheduled run not done by [focus_twinfield] deadline (default 07:00; "off": none) tells the team.
    deadline=nightly_deadline(STARTS_AT, __file__),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=30),
        **RETRY_ARGS,
    },
    params={
        "starting_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Starting date",
            description="Sync everything invoiced on or after this date (default: what changed in the run's interval).",
        ),
        "invoice_numbers": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "minLength": 1},
            title="Invoice numbers",
            description='Just these Focus invoice or credit note numbers, e.g. "2025 / 12" (one per line).',
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Do everything but write to Twinfield or Focus; the report says what would be written.",
        ),
        "include_credit_notes": Param(True, type="boolean", title="Include credit notes"),
    },
    tags=["teamleader-focus", "twinfield", "finance"],
    doc_md=__doc__,
) as dag:
    extract = ExtractOperator(task_id="extract")
    resolve_customers = ResolveCustomersOperator(task_id="resolve_customers")
    validate = ValidateOperator(task_id="validate")
    load_drafts = LoadDraftsOperator(task_id="load_drafts", outlets=[TWINFIELD_SALES])
    pull_reconciliations = PullReconciliationsOperator(task_id="pull_reconciliations")
    update_payments = UpdatePaymentsOperator(task_id="update_payments", outlets=[PAYMENTS_ALIAS])
    # Whoever the configuration's `notifications` section names hears how the run went (nobody without it).
    report = ReportOperator(task_id="report", on_success_callback=SyncReportNotifier(),
                            on_failure_callback=SyncReportNotifier())

    extract >> resolve_customers >> validate >> load_drafts >> pull_reconciliations >> update_payments >> report
