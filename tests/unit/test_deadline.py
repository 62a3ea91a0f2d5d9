"""The nightly run's deadline: the setting, the interval from the logical date, and the DAG declaring it (as it is
serialized for the scheduler), on every supported Airflow."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.airflow_env import DAGS_FOLDER
from twinfield import deadline

THREE = dt.time(3, 0)


def test_the_setting_is_a_time_of_day_or_off():
    assert deadline.parse("07:00") == dt.time(7, 0)
    assert deadline.parse(" 6:30 ") == dt.time(6, 30)
    assert deadline.parse("off") is None and deadline.parse("OFF") is None and deadline.parse("") is None
    for bad in ("7am", "25:00", "07:60", "7", "07:00:00"):
        with pytest.raises(ValueError, match=r"\[focus_twinfield\] deadline = .*HH:MM"):
            deadline.parse(bad)


def test_the_interval_runs_from_the_logical_date_a_day_before_the_start():
    assert deadline.interval(THREE, dt.time(7, 0)) == dt.timedelta(hours=28)
    assert deadline.interval(THREE, dt.time(2, 0)) == dt.timedelta(hours=47)  # 02:00 the next night
    assert deadline.interval(THREE, THREE) == dt.timedelta(hours=48)


def parsed_dag(monkeypatch, setting: str | None):
    from airflow.dag_processing.dagbag import DagBag

    if setting is None:
        monkeypatch.delenv("AIRFLOW__FOCUS_TWINFIELD__DEADLINE", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW__FOCUS_TWINFIELD__DEADLINE", setting)
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    bag = DagBag(dag_folder=str(DAGS_FOLDER / "focus_twinfield_sync.py"))
    return bag, bag.dags.get("focus_twinfield_sync")


def serialized_deadline(dag) -> list[dict] | None:
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.to_dict(dag)["dag"].get("deadline")


def test_the_dag_declares_the_deadline_for_the_scheduler(monkeypatch):
    bag, dag = parsed_dag(monkeypatch, None)  # the default: 07:00
    assert not bag.import_errors
    [alert] = serialized_deadline(dag)
    assert alert["reference"] == {"reference_type": "DagRunLogicalDateDeadline"}
    interval = alert["interval"]  # Airflow 3.2 writes seconds, 3.3 a typed timedelta
    assert (interval["__data__"] if isinstance(interval, dict) else interval) == 28 * 3600
    callback = alert["callback"]
    assert callback["__classname__"] == "airflow.sdk.definitions.callback.AsyncCallback"
    assert callback["__data__"] == {"path": "twinfield.notifiers.RunLateNotifier",
                                    "kwargs": {"dag_file": dag.fileloc}}

    _, dag = parsed_dag(monkeypatch, "06:30")
    [alert] = serialized_deadline(dag)
    assert (alert["interval"]["__data__"] if isinstance(alert["interval"], dict) else alert["interval"]) == 27.5 * 3600


def test_off_declares_none_and_a_bad_value_is_an_import_error_that_says_why(monkeypatch):
    bag, dag = parsed_dag(monkeypatch, "off")
    assert not bag.import_errors and not dag.deadline and not serialized_deadline(dag)

    bag, dag = parsed_dag(monkeypatch, "half past six")
    assert dag is None
    [error] = bag.import_errors.values()
    assert "[focus_twinfield] deadline = 'half past six': give a time of day as HH:MM" in error


def test_the_notifier_is_awaitable_as_the_triggerer_needs():
    from airflow.sdk import AsyncCallback

    from twinfield.notifiers import RunLateNotifier

    AsyncCallback.verify_callable(RunLateNotifier)  # raises when the triggerer could not await it
