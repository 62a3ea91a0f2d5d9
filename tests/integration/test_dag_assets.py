"""The assets the sync declares for downstream DAGs: on the DAG as Airflow serializes it, and what the
events carry."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import DAG, Asset
from airflow.serialization.serialized_objects import DagSerialization

from sandbox.airflow_env import DAGS_FOLDER
from twinfield import assets


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags["focus_twinfield_sync"]


def test_load_drafts_and_update_payments_declare_their_aliases(dag):
    outlets = {t.task_id: list(t.outlets) for t in dag.tasks if t.outlets}
    assert outlets == {"load_drafts": [assets.TWINFIELD_SALES], "update_payments": [assets.PAYMENTS_ALIAS]}
    serialized = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    names = {t.task_id: [(type(o).__name__, o.name) for o in t.outlets] for t in serialized.tasks if t.outlets}
    assert names == {"load_drafts": [("SerializedAssetAlias", "twinfield_sales")],
                     "update_payments": [("SerializedAssetAlias", "focus_payments")]}


def test_a_downstream_dag_can_schedule_on_an_office_or_the_payments():
    with DAG("downstream_reporting", schedule=(assets.twinfield_sales_asset("NLA001") | assets.FOCUS_PAYMENTS)) as dag:
        pass
    serialized = DagSerialization.serialize_dag(dag)
    text = str(serialized)
    assert "twinfield://NLA001/sales" in text and "teamleader-focus://invoices/payments" in text


def test_sales_events_one_per_office_with_counts_and_numbers():
    events = assets.sales_events("run-1", [("NLA002", "2026-3", False), ("NLA001", "2026-2", True),
                                           ("NLA001", "2026-1", False)])
    assert events == {
        "NLA001": {"run_id": "run-1", "booked": 1, "updated": 1, "invoice_numbers": ["2026-1", "2026-2"]},
        "NLA002": {"run_id": "run-1", "booked": 1, "updated": 0, "invoice_numbers": ["2026-3"]},
    }
    assert assets.sales_events("run-1", []) == {}
    assert assets.twinfield_sales_asset("NLA001") == Asset(name="twinfield_sales_NLA001", uri="twinfield://NLA001/sales",
                                                           group="focus_twinfield")


def test_events_only_when_something_was_written():
    from airflow.sdk.execution_time.context import OutletEventAccessors

    context = {"outlet_events": OutletEventAccessors()}
    assets.emit_sales(context, {})
    assets.emit_payments(context, "run-1", 0)
    assert list(context["outlet_events"][assets.TWINFIELD_SALES].asset_alias_events) == []
    assets.emit_sales(context, assets.sales_events("run-1", [("NLA001", "2026-1", False)]))
    assets.emit_payments(context, "run-1", 2)
    sales = context["outlet_events"][assets.TWINFIELD_SALES].asset_alias_events
    assert [(e.dest_asset_key.uri, e.extra["booked"]) for e in sales] == [("twinfield://NLA001/sales", 1)]
    paid = context["outlet_events"][assets.PAYMENTS_ALIAS].asset_alias_events
    assert [(e.dest_asset_key.name, e.extra) for e in paid] == [("focus_invoice_payments",
                                                                 {"run_id": "run-1", "registered": 2})]


def test_the_report_task_notifies_on_success_and_on_failure(dag):
    from twinfield.notifiers import SyncReportNotifier

    report = dag.get_task("report")
    for callbacks in (report.on_success_callback, report.on_failure_callback):
        assert [type(c) for c in callbacks] == [SyncReportNotifier]
    assert not any(t.on_success_callback or t.on_failure_callback for t in dag.tasks if t.task_id != "report")
