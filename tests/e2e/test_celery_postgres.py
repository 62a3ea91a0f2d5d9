"""The DAG under the CeleryExecutor: PostgreSQL (metadata and state store) and Redis from Debian's packages,
a scheduler, a dag processor, an API server and two Celery workers, each worker with its own AIRFLOW_HOME
(so nothing can pass between tasks on a local disk), all on 127.0.0.1.

In order: a week's backfill (created while the DAG is paused, which holds it), a full run from a starting
date, then payments: the same outcomes as the SQLite ``dag.test()`` run (tests/integration/test_dag_sync.py),
worked out by the same rules from the sandbox's data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet

from sandbox.server import Sandbox, SandboxConfig
from tests.e2e.stack import (
    PYTHON,
    AirflowApi,
    Stack,
    airflow,
    airflow_env,
    free_port,
    start_postgres,
    start_redis,
    wait_for,
)
from tests.integration.world import OFFICE, expected_outcomes, focus_total
from twinfield.state import StateStore, postings, runs

DAG_ID = "focus_twinfield_sync"
AIRFLOW_BIN = str(Path(PYTHON).parent / "airflow")
WORKERS = 2
RUN_TIMEOUT = 300
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the DAG's schedule: daily at 03:00 there


class CeleryAirflow:
    def __init__(self, work: Path):
        self.work = work
        self.stack = Stack(work)
        # The sandbox lives in this (driver) process; the workers reach it over HTTP like any API.
        self.sandbox = Sandbox(
            SandboxConfig(invoices=120, seed=7, focus_rate_limit=100_000, twinfield_credits_per_minute=100_000)
        ).start()
        try:
            self._start(work)
        except BaseException:
            self.close()  # whatever did start
            raise

    def _start(self, work: Path) -> None:
        self.expected = expected_outcomes(self.sandbox)
        dbs = start_postgres(self.stack, ["airflow", "focus_twinfield"])
        broker = start_redis(self.stack)
        api_port = free_port()
        (work / "passwords.json").write_text(json.dumps({"admin": "admin-pw"}))
        self.settings = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": dbs["airflow"],
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + dbs["airflow"],
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(work / "passwords.json"),
            # The state store as a plain PostgreSQL URI connection, as an operator would write it.
            "AIRFLOW_CONN_FOCUS_TWINFIELD_STATE": dbs["focus_twinfield"].replace("+psycopg2", ""),
            "jwt_secret": secrets.token_urlsafe(32),
            # One Fernet key for every component, as a deployment sets it: the state store's tokens are encrypted
            # with it by whichever worker refreshes them and read by every other.
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            **self.sandbox.connections(),
        }
        self.store = StateStore(dbs["focus_twinfield"])
        self.env = self.environment(work / "home")
        airflow("db", "migrate", env=self.env)
        for component in ("api-server", "scheduler", "dag-processor"):
            self.stack.start(component, [AIRFLOW_BIN, component], env=self.env)
        self.worker_homes = [work / f"worker{i}" for i in range(1, WORKERS + 1)]
        for i, home in enumerate(self.worker_homes, start=1):
            env = self.environment(home, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
            self.stack.start(
                f"worker{i}", [AIRFLOW_BIN, "celery", "worker", "--celery-hostname", f"worker{i}@%h"], env=env
            )
        self.api = AirflowApi(f"http://127.0.0.1:{api_port}", "admin", "admin-pw", alive=self.stack.check_alive)
        self.api.wait_for_dag(DAG_ID)

    def environment(self, home: Path, **extra: str) -> dict[str, str]:
        return airflow_env(home, **self.settings, **extra)

    def transactions(self) -> list[dict]:
        return self.sandbox.twinfield.transactions(OFFICE)

    def run(self, conf: dict) -> tuple[dict, dict]:
        """Trigger a manual run (no logical date) through the REST API; wait; its stored report."""
        run = self.api.trigger(DAG_ID, conf)
        run = self.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout=RUN_TIMEOUT)
        return run, runs.get_report(self.store, run["dag_run_id"])[1]

    def close(self) -> None:
        if hasattr(self, "store"):
            self.store.engine.dispose()  # PostgreSQL's shutdown waits for open sessions
        self.stack.close()
        self.sandbox.stop()


@pytest.fixture(scope="module")
def celery(tmp_path_factory):
    world = CeleryAirflow(tmp_path_factory.mktemp("celery"))
    yield world
    world.close()


def _runs(api: AirflowApi) -> list[dict]:
    return api.request("GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"]


def _backfill_runs(api: AirflowApi) -> list[dict]:
    return [r for r in _runs(api) if r["run_type"] == "backfill"]


def _assert_no_customer_created_twice(celery) -> None:
    # Runs of a backfill overlap: two of them resolving the same new customer must not both create it. (Two
    # Focus companies may share a name, one with a VAT number and one without: name and VAT number together.)
    customers = Counter((c["name"], c["vatnumber"]) for c in celery.sandbox.twinfield.customers(OFFICE))
    assert max(customers.values()) == 1, [key for key, n in customers.items() if n > 1]


def _backfills_complete(api: AirflowApi) -> bool:
    return all(b["completed_at"] for b in api.request("GET", "/backfills", params={"dag_id": DAG_ID})["backfills"])


def _when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_a_weeks_backfill_books_each_document_of_the_week_once(celery):
    today = dt.datetime.now(dt.UTC).date()
    first, last = today - dt.timedelta(days=8), today - dt.timedelta(days=2)
    # Both ends are inclusive, as instants: a bare --to-date is midnight UTC, before that day's 03:00 run.
    backfill = ["backfill", "create", "--dag-id", DAG_ID, "--from-date", str(first),
                "--to-date", f"{last}T23:59:59"]
    airflow(*backfill, env=celery.env)

    created = _backfill_runs(celery.api)
    days = sorted(_when(r["logical_date"]).astimezone(AMSTERDAM).date() for r in created)
    assert days == [first + dt.timedelta(days=n) for n in range(7)]
    time.sleep(15)  # the DAG is still paused (as new DAGs are): its backfill runs wait
    assert {r["state"] for r in _backfill_runs(celery.api)} == {"queued"}

    celery.api.unpause(DAG_ID)
    for run in created:
        celery.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout=RUN_TIMEOUT)
    # Unpausing also starts the latest scheduled run (catchup=False), beside the backfill: it counts too.
    finished = [celery.api.wait_for_run(DAG_ID, r["dag_run_id"], timeout=RUN_TIMEOUT) for r in _runs(celery.api)]
    assert {r["run_type"] for r in finished} <= {"backfill", "scheduled"}

    intervals = [(_when(r["data_interval_start"]), _when(r["data_interval_end"])) for r in finished]
    in_window = {
        number
        for number, doc in celery.expected.booked.items()
        if any(start <= _when(doc["updated_at"]) < end for start, end in intervals)
    }
    assert in_window, "the sandbox's data should have documents updated in that week"
    booked = Counter(t["invoicenumber"] for t in celery.transactions())
    assert set(booked) == in_window
    assert max(booked.values()) == 1
    _assert_no_customer_created_twice(celery)
    # Only one backfill per DAG at a time: the next one waits until the scheduler marks this one complete.
    wait_for("the backfill to be marked complete", lambda: _backfills_complete(celery.api), timeout=120)
    # Without --max-active-runs a backfill runs up to 10 runs at once: the DAG's max_active_runs=1 does not
    # bind it. The state store's locks keep that safe (above); docs/backfill.md advises 1 all the same.
    (backfill_row,) = celery.api.request("GET", "/backfills", params={"dag_id": DAG_ID})["backfills"]
    assert backfill_row["max_active_runs"] == 10



def _dry_run_dates(output: str) -> list[str]:
    """The logical dates that `airflow backfill create --dry-run` would run."""
    return re.findall(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d", output.split("Runs to be attempted")[1])


def test_the_same_week_again_runs_only_what_reprocess_behavior_asks_and_books_nothing_twice(celery):
    today = dt.datetime.now(dt.UTC).date()
    first, last = today - dt.timedelta(days=8), today - dt.timedelta(days=2)
    week = ["backfill", "create", "--dag-id", DAG_ID, "--from-date", str(first), "--to-date", f"{last}T23:59:59"]
    before = celery.transactions()
    # Default --reprocess-behavior none: every date already has a run, so there is nothing to run.
    assert _dry_run_dates(airflow(*week, "--dry-run", env=celery.env)) == []
    everything = airflow(*week, "--dry-run", "--reprocess-behavior", "completed", env=celery.env)
    assert len(_dry_run_dates(everything)) == 7

    # Reprocess the last two days for real: their runs are cleared and run again, and book nothing.
    two_days = ["--from-date", str(last - dt.timedelta(days=1)), "--to-date", f"{last}T23:59:59"]
    reprocess = ["backfill", "create", "--dag-id", DAG_ID, *two_days, "--reprocess-behavior", "completed"]
    airflow(*reprocess, env=celery.env)
    rerun = [r for r in _backfill_runs(celery.api) if r["state"] != "success"]
    assert len(rerun) == 2
    for run in rerun:
        celery.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout=RUN_TIMEOUT)
    assert celery.transactions() == before


def test_a_full_run_books_the_rest_and_nothing_twice(celery):
    before = {t["invoicenumber"] for t in celery.transactions()}
    _run, report = celery.run({"starting_date": "2020-01-01"})

    booked = Counter(t["invoicenumber"] for t in celery.transactions())
    assert set(booked) == set(celery.expected.booked)
    assert max(booked.values()) == 1
    assert {b["twinfield_number"] for b in report["booked"]} == set(celery.expected.booked) - before
    assert report["already_booked"] == len(before)
    for t in celery.transactions():  # Twinfield's total equals Focus's tax-inclusive total, to the cent
        assert Decimal(t["value"]).copy_abs() == focus_total(celery.expected.booked[t["invoicenumber"]])

    held = {h["focus_number"]: " ".join(h["reasons"]) for h in report["held_back"]}
    assert set(held) == set(celery.expected.held_back)
    for number, words in celery.expected.held_back.items():
        assert all(word in held[number] for word in words), (number, held[number])
    assert {w["focus_number"] for w in report["waiting"]} == celery.expected.waiting
    _assert_no_customer_created_twice(celery)


def test_payments_matched_in_twinfield_reach_focus_once(celery):
    focus, twinfield = celery.sandbox.focus, celery.sandbox.twinfield
    by_number = {t["invoicenumber"]: t for t in celery.transactions()}
    unpaid = [
        (number, doc)
        for number, doc in sorted(celery.expected.booked.items())
        if "invoice_number" in doc and not doc["payments"] and doc["total"]["due"]["amount"] == focus_total(doc)
    ]
    full, partial = unpaid[:3], unpaid[3:5]
    for number, _ in full + partial:
        twinfield.finalize(OFFICE, "VRK", by_number[number]["number"])
    for number, _ in full:
        twinfield.match(OFFICE, "VRK", by_number[number]["number"], date=dt.date(2030, 1, 2))
    for number, _ in partial:
        twinfield.match(OFFICE, "VRK", by_number[number]["number"], amount="10.00")

    def api_payments(doc):
        return [p["amount"] for p in focus.payments(doc["id"]) if p["via"] == "api"]

    for expected_count in (5, 0):  # the second run must register nothing again
        _run, report = celery.run({"starting_date": "2020-01-01"})
        assert len(report["payments"]) == expected_count
        assert report["booked"] == []
        for _, doc in full:
            assert api_payments(doc) == [focus_total(doc)]
        for _, doc in partial:
            assert api_payments(doc) == [Decimal("10.00")]


def test_tasks_ran_on_both_workers_and_left_no_state_on_their_disks(celery):
    for home in celery.worker_homes:
        task_logs = list((home / "logs").glob(f"dag_id={DAG_ID}/**/*.log"))
        assert task_logs, f"no task ran on the worker with AIRFLOW_HOME {home}"
    # The state store is PostgreSQL: no worker fell back to a SQLite file of its own.
    assert not list(celery.work.rglob("*.db"))
    statuses = Counter(p.status for p in postings.postings(celery.store).values())
    # In PostgreSQL: every booked document (USD/GBP ones too), 5 of them finalised to be matched.
    expected = Counter(posted=len(celery.expected.booked) - 5, final=5)
    assert statuses == +expected
