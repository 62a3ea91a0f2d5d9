"""The nightly deadline: a scheduled run not done by [focus_twinfield] deadline tells the team through the run
notifier. In a module (and so an Airflow metadata database) of its own: it parses the dags folder as the dag
processor does, and a dag.test() run before it would leave a serialized version of the DAG without the alert."""

from __future__ import annotations

import datetime as dt

import pendulum

from tests.integration.test_notifications import (  # noqa: F401 - inbox and world are fixtures
    RECIPIENTS, SMTP_USER, Tables, bodies, configure, inbox, world)


def parse_dags_with_the_deadline(monkeypatch, setting: str = "07:00") -> None:
    """What the dag processor does: parse the dags folder (with the deadline on: the test environment has it
    off, see sandbox.airflow_env) and write the serialized DAGs, deadline alerts included, to the database."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    monkeypatch.setenv("AIRFLOW__FOCUS_TWINFIELD__DEADLINE", setting)
    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        assert not bag.import_errors, bag.import_errors
        sync_bag_to_db(bag, bundle.name, bundle.version)


def late_alert_for_a_scheduled_run(world, logical_date):
    """What Airflow does with the DAG's deadline: the scheduler creates a scheduled run (and with it the
    deadline, from the serialized DAG), finds the deadline passed and queues its callback for the triggerer
    (``Deadline.handle_miss``); the triggerer runs the queued ``CallbackTrigger``. Returns the run, the deadline
    time and the trigger's events."""
    import asyncio

    from airflow.models.deadline import Deadline
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import select

    from twinfield.state import runs

    day = dt.timedelta(days=1)
    with create_session() as session:
        scheduled = SerializedDagModel.get_dag(world.dag.dag_id, session=session)
        dagrun = scheduled.create_dagrun(
            run_id=f"scheduled__{logical_date.isoformat()}", logical_date=logical_date,
            data_interval=(logical_date, logical_date + day), run_after=logical_date + day,
            run_type=DagRunType.SCHEDULED, triggered_by=DagRunTriggeredByType.TIMETABLE,
            state=DagRunState.RUNNING, start_date=logical_date + day, session=session)
        session.flush()
        # The run got as far as resolve_customers (what the stages themselves record).
        runs.stage_started(world.store, dagrun.run_id, "extract")
        runs.stage_finished(world.store, dagrun.run_id, "extract", {"staged": 3}, {})
        runs.stage_started(world.store, dagrun.run_id, "resolve_customers")
        deadline = session.scalars(select(Deadline).where(Deadline.dagrun_id == dagrun.id)).one()
        deadline.handle_miss(session)
        session.flush()
        trigger = session.get(Trigger, deadline.callback.trigger_id)
        classpath, kwargs, due, run_id = trigger.classpath, trigger.kwargs, deadline.deadline_time, dagrun.run_id

    module, name = classpath.rsplit(".", 1)
    callback_trigger = getattr(__import__(module, fromlist=[name]), name)(**kwargs)

    async def events():
        return [event.payload async for event in callback_trigger.run()]

    return run_id, due, asyncio.run(events())


def test_a_scheduled_run_not_done_by_its_deadline_tells_the_team(world, inbox, tmp_path, monkeypatch):
    parse_dags_with_the_deadline(monkeypatch)
    configure(tmp_path, monkeypatch, "finished, failed")  # "late" is not listed ...
    late_alert_for_a_scheduled_run(world, pendulum.datetime(2030, 2, 1, 3, tz="Europe/Amsterdam"))
    assert inbox.messages == []  # ... so nobody hears of it

    configure(tmp_path, monkeypatch, "finished, failed, late")
    logical_date = pendulum.datetime(2030, 2, 2, 3, tz="Europe/Amsterdam")
    run_id, due, events = late_alert_for_a_scheduled_run(world, logical_date)
    assert [e["state"] for e in events] == ["running", "success"], events
    # 07:00 (the default [focus_twinfield] deadline) on the morning the run started.
    assert due == pendulum.datetime(2030, 2, 3, 7, tz="Europe/Amsterdam")

    [(to, message)] = inbox.messages
    assert to == RECIPIENTS and inbox.logins == [SMTP_USER]
    assert message["Subject"] == f"Focus -> Twinfield: run {run_id} is LATE (not done by 2030-02-03 06:00 UTC)"
    text, html = bodies(message)
    assert "was still running then" in text
    assert [line.split() for line in text.splitlines() if line.startswith("  ")] == [
        ["extract", "done"], ["resolve_customers", "running"]]
    assert Tables(html).tables["stages"] == [["stage", "where"], ["extract", "done"], ["resolve_customers", "running"]]
    assert f"https://airflow.example.com/reports/{run_id}" in Tables(html).links
