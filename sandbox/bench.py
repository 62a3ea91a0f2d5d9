"""``make bench``: the pipeline against the sandbox at 2,000 and 20,000 documents (not part of the tests).

For each size: the sandbox is served by its own process (``python -m sandbox serve``), the DAG runs twice (a
first run that books everything, then a re-run that finds it booked), each task in its own process as Airflow
runs them (``airflow tasks test`` of a run in the metadata database), and per stage the benchmark prints the
task's time, its API requests to each service, the peak resident memory of its process, and the throughput
achieved against what the configured rate limits allow (Focus: requests per minute; Twinfield: credits per
minute). The figures also go to ``out/bench.json``.

The first size runs at the real limits (Focus 200 requests/min, Twinfield 500 credits/min): that is what a
real account gets, and the rate limit is what bounds it. Larger sizes run with raised limits on both the
sandbox and the hooks (their connections carry the same numbers), and the output says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import airflow_env

DAG_ID = "focus_twinfield_sync"
STAGES = ["extract", "resolve_customers", "validate", "load_drafts", "pull_reconciliations", "update_payments",
          "report"]
REAL_LIMITS = (200, 500)  # Focus requests per minute, Twinfield credits per minute
RAISED_LIMITS = (20_000, 60_000)


@dataclass
class Limits:
    focus_per_minute: int
    twinfield_credits_per_minute: int

    @property
    def raised(self) -> bool:
        return (self.focus_per_minute, self.twinfield_credits_per_minute) != REAL_LIMITS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_sandbox(invoices: int, limits: Limits, log: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """``python -m sandbox serve`` in a child process; returns it and the AIRFLOW_CONN_* values it printed."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--invoices", str(invoices),
               "--focus-rate-limit", str(limits.focus_per_minute),
               "--twinfield-credits", str(limits.twinfield_credits_per_minute)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
                               cwd=airflow_env.PROJECT)
    connections: dict[str, str] = {}
    for line in process.stdout:
        found = re.match(r"export (AIRFLOW_CONN_\w+)=(.*)$", line.strip())
        if found:
            connections[found.group(1)] = shlex.split(found.group(2))[0]
        if len(connections) == 2:
            break
    deadline = time.monotonic() + 600  # generating 20,000 invoices takes a while
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the sandbox did not start; see {log}") from None
            time.sleep(0.2)
    return process, connections


def airflow_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("airflow")), *args]


def create_dag_run(logical_date: dt.datetime, conf: dict) -> str:
    """A manual run of the DAG in the metadata database (as the scheduler makes it); returns its run id."""
    from airflow import settings  # noqa: PLC0415
    from airflow.models.dagrun import DagRun, get_or_create_dagrun  # noqa: PLC0415
    from airflow.models.serialized_dag import SerializedDagModel  # noqa: PLC0415
    from airflow.utils.types import DagRunTriggeredByType, DagRunType  # noqa: PLC0415

    with settings.Session() as session:
        dag = SerializedDagModel.get_dag(DAG_ID, session=session)
        run = get_or_create_dagrun(
            dag=dag,
            run_id=DagRun.generate_run_id(run_type=DagRunType.MANUAL, logical_date=logical_date,
                                          run_after=logical_date),
            logical_date=logical_date,
            data_interval=dag.timetable.infer_manual_data_interval(run_after=logical_date),
            run_after=logical_date,
            conf=conf,
            triggered_by=DagRunTriggeredByType.TEST,
            triggering_user_name="bench",
            start_date=logical_date,
            session=session,
        )
        session.commit()
        return run.run_id


def task_instance(run_id: str, task_id: str):
    from airflow import settings  # noqa: PLC0415
    from airflow.models.taskinstance import TaskInstance  # noqa: PLC0415
    from sqlalchemy import select  # noqa: PLC0415

    with settings.Session() as session:
        ti = session.scalar(select(TaskInstance).where(
            TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == run_id, TaskInstance.task_id == task_id))
        session.expunge(ti)
        return ti


def run_task(run_id: str, task_id: str, log: Path) -> dict:
    """``airflow tasks test`` of one task of the run in its own process: its wall time and peak memory (the
    process's maximum resident set, from the kernel when it exits)."""
    started = time.monotonic()
    with log.open("a") as out:
        process = subprocess.Popen(airflow_command("tasks", "test", DAG_ID, task_id, run_id), stdout=out,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    ti = task_instance(run_id, task_id)
    if process.returncode != 0 or str(ti.state) != "success":
        raise SystemExit(f"{task_id} did not succeed (state {ti.state}, exit {process.returncode}); see {log}")
    return {
        "process_seconds": time.monotonic() - started,
        "seconds": (ti.end_date - ti.start_date).total_seconds(),
        "peak_mb": usage.ru_maxrss / 1024,  # Linux reports kilobytes
    }


def stage_rows(store, run_id: str, tasks: dict[str, dict], limits: Limits) -> tuple[int, list[dict]]:
    """Per stage: seconds, requests, peak memory of its process, throughput against the limits."""
    from twinfield.state import runs  # noqa: PLC0415

    log = {entry.stage: entry for entry in runs.stage_log(store, run_id)}
    documents = log["extract"].summary.get("staged", 0) if "extract" in log else 0
    rows = []
    for stage in STAGES:
        seconds = tasks[stage]["seconds"]
        calls = log[stage].api_calls if stage in log else {}
        focus = calls.get("focus", {}).get("requests", 0)
        twinfield = calls.get("twinfield", {}).get("requests", 0)
        credits = sum(calls.get("twinfield", {}).get("detail", {}).get("credits", {}).values())
        # What a sliding one-minute window lets through in a stage of this length: a window's worth at
        # once, then the limit per minute (an upper bound: earlier stages may have used part of the window).
        windows = (seconds + 60) / 60
        rows.append({
            "stage": stage,
            **tasks[stage],
            "focus_requests": focus,
            "twinfield_requests": twinfield,
            "twinfield_credits": credits,
            "focus_per_doc": focus / documents if documents else 0.0,
            "twinfield_per_doc": twinfield / documents if documents else 0.0,
            "focus_use": focus / (limits.focus_per_minute * windows) if focus else None,
            "twinfield_use": credits / (limits.twinfield_credits_per_minute * windows) if credits else None,
        })
    return documents, rows


def print_table(title: str, documents: int, rows: list[dict]) -> None:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    total = sum(r["seconds"] for r in rows)
    focus = sum(r["focus_requests"] for r in rows)
    twinfield = sum(r["twinfield_requests"] for r in rows)
    print(f"\n{title}: {documents} documents staged, {total:.1f} s in tasks, requests: Focus {focus}, "
          f"Twinfield {twinfield}", flush=True)
    print(f"{'stage':<21}{'seconds':>9}{'Focus':>8}{'Twinf.':>8}{'credits':>9}{'Focus/doc':>11}"
          f"{'Twinf./doc':>11}{'peak MB':>9}{'Focus use':>11}{'Twinf. use':>11}")
    for r in rows:
        print(f"{r['stage']:<21}{r['seconds']:>9.1f}{r['focus_requests']:>8}{r['twinfield_requests']:>8}"
              f"{r['twinfield_credits']:>9}{r['focus_per_doc']:>11.3f}{r['twinfield_per_doc']:>11.3f}"
              f"{r['peak_mb']:>9.0f}{pct(r['focus_use']):>11}{pct(r['twinfield_use']):>11}")
    print("(seconds: the task's own time; peak MB: maximum resident memory of the task's process, "
          "`airflow tasks test`, Airflow and the DAG included)")
    print("(use = Focus requests / Twinfield credits spent in the stage, as a share of what the rate limit lets "
          "through in that time: one minute's budget at once, then the limit per minute)", flush=True)


def bench(size: int, limits: Limits, work: Path) -> dict:
    import pendulum  # noqa: PLC0415

    from twinfield.state import StateStore  # noqa: PLC0415

    label = "RAISED limits" if limits.raised else "the real limits"
    print(f"\n=== {size} invoices, {label}: Focus {limits.focus_per_minute} requests/min, Twinfield "
          f"{limits.twinfield_credits_per_minute} credits/min (sandbox and hook connections alike) ===", flush=True)
    home = work / f"size-{size}"
    home.mkdir(parents=True)
    started = time.monotonic()
    process, connections = serve_sandbox(size, limits, home / "sandbox.log")
    print(f"sandbox with its data ready in {time.monotonic() - started:.0f} s", flush=True)
    figures = {"documents": size, "focus_per_minute": limits.focus_per_minute,
               "twinfield_credits_per_minute": limits.twinfield_credits_per_minute, "raised_limits": limits.raised,
               "runs": []}
    try:
        airflow_env.prepare(home, connections)
        subprocess.run(airflow_command("dags", "reserialize"), check=True, env=os.environ.copy(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = StateStore(f"sqlite:///{home / 'state.db'}")
        conf = {"starting_date": (dt.date.today() - dt.timedelta(days=400)).isoformat()}
        for n, title in enumerate(("first run (books everything)", "re-run (nothing new)")):
            run_id = create_dag_run(pendulum.datetime(2030, 1, 1 + n, tz="UTC"), conf)
            tasks = {stage: run_task(run_id, stage, home / f"run-{n + 1}.log") for stage in STAGES}
            documents, rows = stage_rows(store, run_id, tasks, limits)
            print_table(title, documents, rows)
            figures["runs"].append({"title": title, "run_id": run_id, "documents_staged": documents,
                                    "peak_mb": max(r["peak_mb"] for r in rows), "stages": rows})
    finally:
        process.terminate()
        process.wait(timeout=30)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--raise-limits-from", type=int, default=5000,
                        help="sizes from this one on run with raised rate limits (default 5000)")
    parser.add_argument("--json", type=Path, default=airflow_env.PROJECT / "out" / "bench.json",
                        help="where the figures go as JSON (default out/bench.json)")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # the tables, not the task logs
    work = Path(tempfile.mkdtemp(prefix="focus-twinfield-bench-"))
    print(f"Benchmark work folder (logs, state, reports): {work}")
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "sizes": []}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        raised = size >= args.raise_limits_from
        results["sizes"].append(bench(size, Limits(*(RAISED_LIMITS if raised else REAL_LIMITS)), work))
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # each size as it ends
    print(f"\nFigures as JSON: {args.json}")


if __name__ == "__main__":
    main()
