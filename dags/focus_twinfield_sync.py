"""Teamleader Focus invoices -> Twinfield draft sales transactions -> payments back in Focus.

Wiring only: the stages are operators in ``twinfield.operators``; what they do is described there.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from twinfield.operators import (
    ExtractOperator,
    LoadDraftsOperator,
    PullReconciliationsOperator,
    ReportOperator,
    ResolveCustomersOperator,
    UpdatePaymentsOperator,
    ValidateOperator,
)
from twinfield.operators.retries import TRANSIENT_ONLY

TIMEZONE = "Europe/Amsterdam"

with DAG(
    dag_id="focus_twinfield_sync",
    description="Book Teamleader Focus invoices in Twinfield as drafts and bring payments back",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2025, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": dt.timedelta(minutes=30),
        "retry_policy": TRANSIENT_ONLY,
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
    load_drafts = LoadDraftsOperator(task_id="load_drafts")
    pull_reconciliations = PullReconciliationsOperator(task_id="pull_reconciliations")
    update_payments = UpdatePaymentsOperator(task_id="update_payments")
    report = ReportOperator(task_id="report")

    extract >> resolve_customers >> validate >> load_drafts >> pull_reconciliations >> update_payments >> report
