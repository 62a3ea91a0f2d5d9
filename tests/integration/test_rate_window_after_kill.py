"""A sync run killed (SIGKILL, a real child process) in the middle of extract, then started again at once, draws
no 429 from the Focus sandbox at Focus's own limit (200 requests per sliding minute): the killed hook recorded
its requests before sending them, and the new run's hook counts them and waits instead."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from sandbox import airflow_env
from sandbox.server import Sandbox, SandboxConfig
from twinfield.state import StateStore, runs

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]
LIMIT = 200  # Focus's limit per integration and sliding minute, the sandbox's default
KILL_AFTER = 150  # Focus requests the first run has made when it is killed: most of the budget, never saved

# One DAG run in this process, as a worker would run its tasks; prints the run id.
RUN = """
import json, sys
from sandbox import airflow_env
dag = airflow_env.load_dag()
conf = {"starting_date": "2020-01-01", "invoice_numbers": None, "dry_run": False, "include_credit_notes": True}
dagrun = dag.test(run_conf=conf)
print(json.dumps({"run_id": dagrun.run_id, "state": str(dagrun.state)}))
"""


@pytest.fixture
def airflow(tmp_path):
    sb = Sandbox(SandboxConfig(invoices=160, seed=5, focus_rate_limit=LIMIT,
                               twinfield_credits_per_minute=100_000)).start()
    env = {**os.environ, **airflow_env.environment(tmp_path / "airflow", sb.connections()),
           "PYTHONPATH": str(PROJECT)}
    subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True, env=env,
                   stdout=subprocess.DEVNULL, cwd=PROJECT)
    yield sb, env, StateStore(f"sqlite:///{tmp_path / 'airflow' / 'state.db'}")
    sb.stop()


def start_run(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUN], env=env, cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=log.open("w"), text=True)


def test_a_run_killed_in_extract_and_started_again_draws_no_429(airflow, tmp_path):
    sb, env, store = airflow
    first = start_run(env, tmp_path / "first.log")
    deadline = time.monotonic() + 120
    while sb.focus.request_count < KILL_AFTER:
        assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the first run never got going"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = time.monotonic()
    sent_by_first = sb.focus.request_count
    # It died in extract: the stage started and neither finished nor recorded a failure.
    with store.begin() as conn:
        rows = conn.execute(text("SELECT stage, finished_at, error FROM sync_stage_log")).all()
    assert [(r.stage, r.finished_at, r.error) for r in rows] == [("extract", None, None)]
    assert sb.focus.rate_limited == 0

    second = start_run(env, tmp_path / "second.log")
    out, _ = second.communicate(timeout=600)
    took = time.monotonic() - killed_at
    assert second.returncode == 0, (tmp_path / "second.log").read_text()[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["state"] == "success"

    assert sb.focus.rate_limited == 0  # not one 429
    log = runs.stage_log(store, result["run_id"])
    requests = sum(e.api_calls.get("focus", {}).get("requests", 0) for e in log)
    waited = sum(e.api_calls.get("focus", {}).get("rate_limit_wait_seconds", 0) for e in log)
    assert requests == sb.focus.request_count - sent_by_first
    # The first run's requests filled most of the window: the second had to wait for them to leave it.
    assert sent_by_first + requests > LIMIT and waited > 0
    extract = next(e for e in log if e.stage == "extract")
    extract_took = (dt.datetime.fromisoformat(extract.finished_at) - dt.datetime.fromisoformat(extract.started_at))
    print(f"\nfirst run: {sent_by_first} Focus requests before SIGKILL; second run: {requests} Focus requests, "
          f"its requests waited {waited:.1f} s in all (threads summed), extract took "
          f"{extract_took.total_seconds():.1f} s, the run finished {took:.1f} s after the kill; 429s: "
          f"{sb.focus.rate_limited}; per stage: "
          f"{ {e.stage: e.api_calls.get('focus', {}).get('requests', 0) for e in log} }")
