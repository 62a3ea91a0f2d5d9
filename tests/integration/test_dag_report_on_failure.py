"""A run in which a stage fails still gets its report: which stage failed and why, what was booked so far; the
report task then fails, so the run is failed too. Run again, the run books nothing twice. ``dag.test()``
against the sandbox, as in test_dag_sync."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pendulum
import pytest

from tests.integration.world import World
from twinfield.hooks.twinfield.client import TwinfieldClient
from twinfield.operators.pull_reconciliations import PullReconciliationsOperator
from twinfield.operators.report import file_name, report_folder
from twinfield.state import runs

pytestmark = pytest.mark.integration

STAGES = ["extract", "resolve_customers", "validate", "load_drafts", "pull_reconciliations", "update_payments"]


@pytest.fixture
def world(dag, tmp_path):  # noqa: F811 - the fixture imported above
    w = World(dag, tmp_path, invoices=40, seed=5)
    yield w
    w.stop()


@pytest.fixture
def quick_retries(dag, monkeypatch):  # noqa: F811
    """The DAG's retries as they are, without minutes between them; the hook tries a read twice, not six times."""
    for task in dag.tasks:
        monkeypatch.setattr(task, "retry_delay", dt.timedelta(0))
    monkeypatch.setattr(TwinfieldClient, "max_attempts", 2)


def test_twinfield_down_after_booking_gives_a_partial_report_and_a_failed_run(world, quick_retries, monkeypatch):
    assert world.expected.booked, "the data should hold bookable documents"
    real_sync = PullReconciliationsOperator.sync

    def twinfield_down_then_sync(self, run):  # Twinfield stops answering once the drafts are booked
        world.sandbox.twinfield.faults.inject("503", count=1000)
        return real_sync(self, run)

    monkeypatch.setattr(PullReconciliationsOperator, "sync", twinfield_down_then_sync)
    when = pendulum.datetime(2030, 5, 1, tz="UTC")
    dagrun, report = world.run(logical_date=when)

    assert str(dagrun.state) == "failed"
    states = world.states(dagrun)
    assert states == {**dict.fromkeys(STAGES[:4], "success"), "pull_reconciliations": "failed",
                      "update_payments": "upstream_failed", "report": "failed"}
    tries = {ti.task_id: ti.try_number for ti in dagrun.get_task_instances()}
    assert tries["pull_reconciliations"] == 4  # the fault outlasted the DAG's three retries

    [failed] = [s for s in report["stages"] if s["status"] == "failed"]
    assert failed["stage"] == "pull_reconciliations"
    # The error names what the stage was doing, then the error itself.
    assert failed["error"].startswith("while reading payment states of ")
    assert "in Twinfield office NLA001, daybook VRK: TwinfieldUnavailable: " in failed["error"]
    assert [(s["stage"], s["status"]) for s in report["stages"]] == [
        *((stage, "done") for stage in STAGES[:4]), ("pull_reconciliations", "failed"),
        ("update_payments", "did not run")]
    log = {entry.stage: entry for entry in runs.stage_log(world.store, dagrun.run_id)}
    assert log["pull_reconciliations"].error == failed["error"]
    assert "update_payments" not in log
    booked = {b["twinfield_number"] for b in report["booked"]}
    assert booked == set(world.expected.booked) == {t["invoicenumber"] for t in world.transactions()}

    markdown, _ = runs.get_report(world.store, dagrun.run_id)
    assert "**Incomplete run: failed stage(s): pull_reconciliations.**" in markdown
    assert "| update_payments | did not run |" in markdown
    report_file = report_folder() / f"{file_name(dagrun.run_id)}.md"
    assert report_file.read_text(encoding="utf-8") == markdown

    # Twinfield is back; the run again (dag.test clears the logical date's tasks): done, nothing booked twice.
    world.sandbox.twinfield.faults.clear()
    monkeypatch.setattr(PullReconciliationsOperator, "sync", real_sync)
    dagrun, report = world.run(logical_date=when)
    assert str(dagrun.state) == "success" and set(world.states(dagrun).values()) == {"success"}
    assert [s["status"] for s in report["stages"]] == ["done"] * len(STAGES)
    assert "Incomplete" not in runs.get_report(world.store, dagrun.run_id)[0]
    assert report["booked"] == [] and report["already_booked"] == len(world.expected.booked)
    assert max(Counter(t["invoicenumber"] for t in world.transactions()).values()) == 1


def test_a_broken_configuration_fails_extract_at_once_and_the_report_says_why(world, tmp_path, monkeypatch):
    broken = tmp_path / "sync.yaml"
    broken.write_text("departments: [\n", encoding="utf-8")
    monkeypatch.setenv("FOCUS_TWINFIELD_CONFIG", str(broken))
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 6, 1, tz="UTC"))

    assert str(dagrun.state) == "failed"
    states = world.states(dagrun)
    assert (states["extract"], states["report"]) == ("failed", "failed")
    assert {states[stage] for stage in STAGES[1:]} == {"upstream_failed"}
    assert {ti.task_id: ti.try_number for ti in dagrun.get_task_instances()}["extract"] == 1  # not retried
    [failed] = [s for s in report["stages"] if s["status"] == "failed"]
    assert failed["stage"] == "extract"
    assert failed["error"].startswith("AirflowFailException: sync configuration: ") and "YAML" in failed["error"]
    assert report["booked"] == [] and world.transactions() == []
