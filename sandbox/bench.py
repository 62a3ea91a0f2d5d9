"""``make bench``: the pipeline against the sandbox at 2,000 and 20,000 documents (not part of the tests).

For each size: the sandbox is served by its own process (``python -m sandbox serve``), the DAG runs twice in
this process with ``dag.test()`` (a first run that books everything, then a re-run that finds it booked),
and per stage the benchmark prints the wall time, the API requests per document to each service, the peak
resident memory of this process during the stage, and the throughput achieved against what the configured
rate limits allow (Focus: requests per minute; Twinfield: credits per minute).

The first size runs at the real limits (Focus 200 requests/min, Twinfield 500 credits/min): that is what a
real account gets, and the rate limit is what bounds it. Larger sizes run with raised limits on both the
sandbox and the hooks (their connections carry the same numbers), and the output says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox import airflow_env

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


class MemorySampler:
    """Samples this process's resident memory (from /proc) every few milliseconds, with timestamps."""

    def __init__(self, every: float = 0.02):
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self._rss()))
            time.sleep(self.every)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> tuple[int, int]:
        """(peak resident memory during [start, end], its growth over the memory at start)."""
        before = [rss for t, rss in self.samples if t <= start]
        inside = [rss for t, rss in self.samples if start <= t <= end] or [self._rss()]
        first = before[-1] if before else inside[0]
        return max(inside), max(inside) - first


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


def stage_rows(dag_run, store, sampler: MemorySampler, limits: Limits) -> tuple[int, list[dict]]:
    """Per stage: seconds, requests per document, peak memory, throughput against the limits."""
    from twinfield.state import runs  # noqa: PLC0415

    log = {entry.stage: entry for entry in runs.stage_log(store, dag_run.run_id)}
    documents = log["extract"].summary.get("staged", 0) if "extract" in log else 0
    instances = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    rows = []
    for stage in STAGES:
        ti = instances[stage]
        peak, growth = sampler.peak(ti.start_date.timestamp(), ti.end_date.timestamp())
        seconds = (ti.end_date - ti.start_date).total_seconds()
        calls = log[stage].api_calls if stage in log else {}
        focus = calls.get("focus", {}).get("requests", 0)
        twinfield = calls.get("twinfield", {}).get("requests", 0)
        credits = sum(calls.get("twinfield", {}).get("detail", {}).get("credits", {}).values())
        # What a sliding one-minute window lets through in a stage of this length: a window's worth at
        # once, then the limit per minute (an upper bound: earlier stages may have used part of the window).
        windows = (seconds + 60) / 60
        rows.append({
            "stage": stage,
            "seconds": seconds,
            "focus_per_doc": focus / documents if documents else 0.0,
            "twinfield_per_doc": twinfield / documents if documents else 0.0,
            "peak_mb": peak / 2**20,
            "growth_mb": growth / 2**20,
            "focus_use": focus / (limits.focus_per_minute * windows) if focus else None,
            "twinfield_use": credits / (limits.twinfield_credits_per_minute * windows) if credits else None,
            "focus": focus,
            "twinfield": twinfield,
            "credits": credits,
        })
    return documents, rows


def print_table(title: str, documents: int, rows: list[dict]) -> None:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    total = sum(r["seconds"] for r in rows)
    print(f"\n{title}: {documents} documents staged, {total:.1f} s in all", flush=True)
    print(f"{'stage':<21}{'seconds':>9}{'Focus/doc':>11}{'Twinf./doc':>11}{'credits':>9}{'peak MB':>9}"
          f"{'+MB':>6}{'Focus use':>11}{'Twinf. use':>11}")
    for r in rows:
        print(f"{r['stage']:<21}{r['seconds']:>9.1f}{r['focus_per_doc']:>11.3f}{r['twinfield_per_doc']:>11.3f}"
              f"{r['credits']:>9}{r['peak_mb']:>9.0f}{r['growth_mb']:>6.0f}{pct(r['focus_use']):>11}"
              f"{pct(r['twinfield_use']):>11}")
    print("(peak MB: resident memory of this process, which runs every stage; +MB: its growth during the "
          "stage)")
    print("(use = Focus requests / Twinfield credits spent in the stage, as a share of what the rate limit lets "
          "through in that time: one minute's budget at once, then the limit per minute)", flush=True)


def bench(size: int, limits: Limits, work: Path) -> None:
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
    try:
        airflow_env.prepare(home, connections)
        store = StateStore(f"sqlite:///{home / 'state.db'}")
        dag = airflow_env.load_dag()
        conf = {"starting_date": (dt.date.today() - dt.timedelta(days=400)).isoformat()}
        with MemorySampler() as sampler:
            for n, title in enumerate(("first run (books everything)", "re-run (nothing new)")):
                logical_date = pendulum.datetime(2030, 1, 1 + n, tz="UTC")
                dag_run = dag.test(logical_date=logical_date, run_conf=conf)
                states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
                if set(states.values()) != {"success"}:
                    raise SystemExit(f"the run did not succeed: {states}; logs in {home}")
                documents, rows = stage_rows(dag_run, store, sampler, limits)
                print_table(title, documents, rows)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--raise-limits-from", type=int, default=5000,
                        help="sizes from this one on run with raised rate limits (default 5000)")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # the tables, not the task logs
    work = Path(tempfile.mkdtemp(prefix="focus-twinfield-bench-"))
    print(f"Benchmark work folder (logs, state, reports): {work}")
    for size in args.sizes:
        raised = size >= args.raise_limits_from
        bench(size, Limits(*(RAISED_LIMITS if raised else REAL_LIMITS)), work)


if __name__ == "__main__":
    main()
