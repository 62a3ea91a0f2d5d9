"""The DAG as Airflow loads it: no import errors, params that validate and serialize for the trigger form,
a schedule with a real (non-empty) data interval, retries for transient faults only."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.serialization.serialized_objects import DagSerialization
from airflow.timetables.base import TimeRestriction

from sandbox.airflow_env import DAGS_FOLDER
from twinfield.domain.config import ConfigError
from twinfield.errors import FocusUnavailable, TwinfieldUnavailable
from twinfield.operators.retries import RETRY_ARGS

DAG_ID = "focus_twinfield_sync"
STAGES = ["extract", "resolve_customers", "validate", "load_drafts", "pull_reconciliations", "update_payments",
          "report"]


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def test_stages_run_in_order(dag):
    assert sorted(dag.task_ids) == sorted(STAGES)
    for upstream, downstream in zip(STAGES, STAGES[1:]):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_only_the_report_runs_after_a_failed_stage(dag):
    assert {t.task_id: t.trigger_rule for t in dag.tasks} == {
        **{stage: "all_success" for stage in STAGES[:-1]}, "report": "all_done"}
    assert {t.task_id for t in dag.leaves} == {"report"}  # so the report's own state decides the run's


def test_schedule_has_a_non_empty_data_interval(dag):
    timetable = coerce_to_core_timetable(dag.timetable)
    # Daily by its cron data interval, or on Focus webhooks' asset events (tests/integration/test_webhooks.py).
    assert type(timetable).__name__ == "AssetOrTimeSchedule"
    assert type(timetable.timetable).__name__ == "CronDataIntervalTimetable"
    manual = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2025, 3, 5, 12, tz="UTC"))
    assert manual.end - manual.start == dt.timedelta(days=1)
    first = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=True),
    )
    assert first.data_interval.start < first.data_interval.end
    assert first.data_interval.end.in_timezone("Europe/Amsterdam").hour == 3
    assert dag.catchup is False and dag.max_active_runs == 1


def test_params_validate_and_render(dag):
    assert dag.params.validate() == {
        "starting_date": None, "invoice_numbers": None, "dry_run": False, "include_credit_notes": True}
    params = dag.params
    assert params.get_param("starting_date").resolve("2025-01-31") == "2025-01-31"
    assert params.get_param("invoice_numbers").resolve(["2025 / 12", "2025 / 13"]) == ["2025 / 12", "2025 / 13"]
    for name, bad in [("starting_date", "31-01-2025"), ("invoice_numbers", "2025 / 12"), ("invoice_numbers", [""]),
                      ("dry_run", "yes")]:
        with pytest.raises(ParamValidationError):
            params.get_param(name).resolve(bad)
    # The trigger form reads the params from the serialized DAG.
    serialized = DagSerialization.serialize_dag(dag)
    rendered = DagSerialization.deserialize_dag(serialized).params
    assert rendered.get_param("starting_date").schema["format"] == "date"
    assert rendered.get_param("starting_date").schema["title"] == "Starting date"
    assert rendered.get_param("include_credit_notes").value is True


def test_only_transient_faults_are_retried(dag):
    if not RETRY_ARGS:
        pytest.skip("Airflow 3.2 has no ExceptionRetryPolicy: every failure is retried")
    from airflow.sdk import RetryAction

    for task in dag.tasks:
        assert task.retries > 0 and task.retry_exponential_backoff
        policy = task.retry_policy
        assert policy.evaluate(TwinfieldUnavailable("down"), 1, 4).action is RetryAction.RETRY
        assert policy.evaluate(FocusUnavailable(503, "down"), 1, 4).action is RetryAction.RETRY
        assert policy.evaluate(ConfigError("departments", "must list"), 1, 4).action is RetryAction.FAIL
        assert policy.evaluate(KeyError("bug"), 1, 4).action is RetryAction.FAIL
