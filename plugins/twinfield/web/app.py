"""The run reports as web pages, read from the state store (never from Airflow's metadata database).

``GET /runs``: the latest reports; ``GET /runs/{run_id}``: one run's report (stage outcomes, counts, held-back
documents with every reason and a Focus link, drafts booked, payments registered, VAT codes to review), the same
template as the notification's HTML body. Only users Airflow lets read the sync DAG's runs see them.
"""

from __future__ import annotations

from functools import lru_cache

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse

from twinfield.domain.notifications import _environment, render_report
from twinfield.domain.report import RunReport
from twinfield.hooks.state import DEFAULT_CONN_ID, state_store
from twinfield.state import StateStore, runs

SYNC_DAG_ID = "focus_twinfield_sync"


# Airflow's own check: the caller (the UI's session token) may read the sync DAG's runs.
authorized = requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=SYNC_DAG_ID)


@lru_cache(maxsize=4)
def store_for(conn_id: str) -> StateStore:
    return state_store(conn_id)


def create_app(state_conn_id: str = DEFAULT_CONN_ID) -> FastAPI:
    app = FastAPI(title="Focus -> Twinfield sync reports", dependencies=[Depends(authorized)])

    @app.get("/runs", response_class=HTMLResponse)
    def index() -> str:
        rows = [{"run_id": run_id, "created_at": created_at, "report": (r := RunReport.from_dict(data)),
                 "summary": r.to_summary()} for run_id, created_at, data in runs.recent_reports(store_for(state_conn_id))]
        return _environment().get_template("report_index.j2").render(rows=rows)

    @app.get("/runs/{run_id:path}", response_class=HTMLResponse)
    def report_page(run_id: str) -> str:
        stored = runs.get_report(store_for(state_conn_id), run_id)
        if stored is None:
            raise HTTPException(404, f"No sync report for run {run_id!r}: its report task has not run yet "
                                     f"(or it is not a run of {SYNC_DAG_ID}).")
        report = RunReport.from_dict(stored[1])
        return render_report(report, failed=report.incomplete, page=True).html

    return app
