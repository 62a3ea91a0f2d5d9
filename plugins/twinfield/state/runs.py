"""Run log: each DAG run's window and parameters, each stage's summary, API calls or error, and the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from twinfield.state.db import StateStore
from twinfield.state.encoding import dumps, iso, loads, now


@dataclass(frozen=True)
class Run:
    run_id: str
    window_start: str | None
    window_end: str | None
    starting_date: str | None
    params: dict
    dry_run: bool


@dataclass(frozen=True)
class StageEntry:
    stage: str
    started_at: str
    finished_at: str | None
    summary: dict
    api_calls: dict
    error: str | None = None  # why the stage failed (its last try), None when it did not


def start_run(
    store: StateStore,
    run_id: str,
    *,
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    starting_date: dt.date | None,
    params: dict,
    dry_run: bool,
) -> None:
    """Record the run (again, when extract is re-run: the window may only be recomputed the same way)."""
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_runs (run_id, window_start, window_end, starting_date, params_json, dry_run,"
                " started_at) VALUES (:run_id, :ws, :we, :sd, :params, :dry, :at)"
                " ON CONFLICT (run_id) DO UPDATE SET window_start = excluded.window_start,"
                " window_end = excluded.window_end, starting_date = excluded.starting_date,"
                " params_json = excluded.params_json, dry_run = excluded.dry_run"
            ),
            {
                "run_id": run_id,
                "ws": iso(window_start),
                "we": iso(window_end),
                "sd": iso(starting_date),
                "params": dumps(params),
                "dry": int(dry_run),
                "at": now(),
            },
        )


def get_run(store: StateStore, run_id: str) -> Run | None:
    with store.begin() as conn:
        row = conn.execute(
            text(
                "SELECT run_id, window_start, window_end, starting_date, params_json, dry_run"
                " FROM sync_runs WHERE run_id = :r"
            ),
            {"r": run_id},
        ).one_or_none()
    if row is None:
        return None
    return Run(
        row.run_id, row.window_start, row.window_end, row.starting_date, loads(row.params_json), bool(row.dry_run)
    )


def finish_run(store: StateStore, run_id: str) -> None:
    with store.begin() as conn:
        conn.execute(text("UPDATE sync_runs SET finished_at = :at WHERE run_id = :r"), {"at": now(), "r": run_id})


def stage_started(store: StateStore, run_id: str, stage: str) -> None:
    """Open (or re-open, on a re-run of the task) the stage's entry in the run log."""
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_stage_log (run_id, stage, started_at) VALUES (:r, :s, :at)"
                " ON CONFLICT (run_id, stage) DO UPDATE SET started_at = excluded.started_at,"
                " finished_at = NULL, summary_json = '{}', api_calls_json = '{}', error = NULL"
            ),
            {"r": run_id, "s": stage, "at": now()},
        )


def stage_finished(store: StateStore, run_id: str, stage: str, summary: dict[str, Any], api_calls: dict) -> None:
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE sync_stage_log SET finished_at = :at, summary_json = :summary, api_calls_json = :calls"
                " WHERE run_id = :r AND stage = :s"
            ),
            {"at": now(), "summary": dumps(summary), "calls": dumps(api_calls), "r": run_id, "s": stage},
        )


def stage_failed(store: StateStore, run_id: str, stage: str, error: str, api_calls: dict) -> None:
    """Close the stage's entry with why it failed (no summary: what it did is in the other tables)."""
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE sync_stage_log SET finished_at = :at, error = :error, api_calls_json = :calls"
                " WHERE run_id = :r AND stage = :s"
            ),
            {"at": now(), "error": error, "calls": dumps(api_calls), "r": run_id, "s": stage},
        )


def stage_log(store: StateStore, run_id: str) -> list[StageEntry]:
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT stage, started_at, finished_at, summary_json, api_calls_json, error FROM sync_stage_log"
                " WHERE run_id = :r ORDER BY started_at, stage"
            ),
            {"r": run_id},
        ).all()
    return [
        StageEntry(r.stage, r.started_at, r.finished_at, loads(r.summary_json), loads(r.api_calls_json), r.error)
        for r in rows
    ]


def save_report(store: StateStore, run_id: str, markdown: str, report: dict) -> None:
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_reports (run_id, markdown, report_json, created_at) VALUES (:r, :md, :js, :at)"
                " ON CONFLICT (run_id) DO UPDATE SET markdown = excluded.markdown,"
                " report_json = excluded.report_json, created_at = excluded.created_at"
            ),
            {"r": run_id, "md": markdown, "js": dumps(report), "at": now()},
        )


def get_report(store: StateStore, run_id: str) -> tuple[str, dict] | None:
    """The run's report as (Markdown, data), or None."""
    with store.begin() as conn:
        row = conn.execute(
            text("SELECT markdown, report_json FROM sync_reports WHERE run_id = :r"), {"r": run_id}
        ).one_or_none()
    return None if row is None else (row.markdown, loads(row.report_json))


def latest_report(store: StateStore) -> tuple[str, str, dict] | None:
    """The most recent report as (run id, Markdown, data), or None."""
    with store.begin() as conn:
        row = conn.execute(
            text("SELECT run_id, markdown, report_json FROM sync_reports ORDER BY created_at DESC, run_id DESC LIMIT 1")
        ).one_or_none()
    return None if row is None else (row.run_id, row.markdown, loads(row.report_json))


def recent_reports(store: StateStore, limit: int = 50) -> list[tuple[str, str, dict]]:
    """The latest reports as (run id, created at, data), newest first."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT run_id, created_at, report_json FROM sync_reports ORDER BY created_at DESC, run_id DESC"
                 " LIMIT :n"), {"n": limit}
        ).all()
    return [(row.run_id, row.created_at, loads(row.report_json)) for row in rows]
