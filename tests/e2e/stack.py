"""Real services for the end-to-end runs, all on 127.0.0.1: PostgreSQL, Redis, the sandbox, Airflow processes.

Each is a child process in its own session, logging to a file in the run's work folder, and stopped (its
process group, by id) when the stack closes. Nothing here knows the pipeline; the tests do.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready: Callable[[], object], timeout: float, interval: float = 1.0):
    """Poll ``ready`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(requests.RequestException, OSError):
            result = ready()
            if result:
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Stack:
    """Child processes of one end-to-end run; ``close()`` stops them in reverse order."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._procs: list[tuple[str, subprocess.Popen]] = []
        self._folders: list[Path] = []  # removed once the processes have stopped

    def folder(self, prefix: str) -> Path:
        """A scratch folder outside the work folder (which may sit in a private parent, e.g. pytest's)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._folders.append(path)
        return path

    def start(self, name: str, argv: list[str], *, env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self._procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        """Fail fast, with the log's tail, when a service died."""
        for name, proc in self._procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def close(self) -> None:
        """SIGTERM each process group, wait up to 30 s for all of it (leader and children, e.g. what
        `airflow standalone` started), then SIGKILL whatever is left."""
        for _name, proc in reversed(self._procs):
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for _name, proc in reversed(self._procs):
            while (proc.poll() is None or _group_alive(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.2)
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self._procs.clear()
        for path in self._folders:
            shutil.rmtree(path, ignore_errors=True)
        self._folders.clear()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# -- PostgreSQL and Redis from Debian's packages -------------------------------------------------------------


def _as_postgres_user(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root (CI runs as root): use the postgres account the package created.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"PostgreSQL's {tool} not found: apt-get install postgresql")
    return found[-1]


def start_postgres(stack: Stack, databases: list[str]) -> dict[str, str]:
    """A private PostgreSQL cluster on a free port; returns a SQLAlchemy URL (psycopg2) per database."""
    folder = stack.folder("focus-twinfield-pg-")
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run(
        _as_postgres_user([_pg_bin("initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8"]),
        check=True, stdout=subprocess.DEVNULL,
    )
    port = free_port()
    stack.start(
        "postgres",
        _as_postgres_user(
            [_pg_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(folder),
             "-c", "max_connections=200", "-c", "fsync=off"]
        ),
    )
    base = f"postgresql+psycopg2://airflow@127.0.0.1:{port}"

    def accepting() -> bool:
        return subprocess.run(
            [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        ).returncode == 0

    wait_for("PostgreSQL", accepting, timeout=60, interval=0.5)
    for db in databases:
        subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", db], check=True
        )
    return {db: f"{base}/{db}" for db in databases}


def start_redis(stack: Stack) -> str:
    port = free_port()
    stack.start(
        "redis",
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(stack.workdir)],
    )

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_for("Redis", pong, timeout=30, interval=0.3)
    return f"redis://127.0.0.1:{port}/0"


# -- the sandbox as its own process ------------------------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox serve`` on a free port; ``connections`` are the AIRFLOW_CONN_* values it prints."""

    def __init__(self, stack: Stack, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        stack.start("sandbox", [PYTHON, "-u", "-m", "sandbox", "serve", "--port", str(self.port), *args])
        log = stack.workdir / "sandbox.log"

        def exports() -> dict[str, str]:
            stack.check_alive()
            found = {}
            for line in log.read_text().splitlines():
                if line.startswith("export AIRFLOW_CONN_"):
                    name, _, value = line[len("export ") :].partition("=")
                    found[name] = shlex.split(value)[0]
            return found if len(found) >= 2 and self._serving() else {}

        self.connections: dict[str, str] = wait_for("the sandbox", exports, timeout=120)

    def _serving(self) -> bool:
        return requests.get(f"{self.url}/docs", timeout=5).status_code == 200

    def get(self, path: str):
        response = requests.get(f"{self.url}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict | None = None):
        response = requests.post(f"{self.url}{path}", json=body or {}, timeout=60)
        response.raise_for_status()
        return response.json() if response.content else None


# -- Airflow --------------------------------------------------------------------------------------------------


def airflow_env(home: Path, **settings: str) -> dict[str, str]:
    """The process environment for one Airflow component: everything configured by variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        # `airflow standalone` starts its components as `airflow ...` from PATH.
        PATH=f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__API_AUTH__JWT_SECRET=settings.pop("jwt_secret", secrets.token_urlsafe(32)),
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def airflow(*args: str, env: dict, timeout: float = 300) -> str:
    """Run one ``airflow`` CLI command to completion; its output, or an error with it."""
    done = subprocess.run(
        [str(Path(PYTHON).parent / "airflow"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class AirflowApi:
    """The public REST API (v2) of a running api-server, logged in through the simple auth manager."""

    def __init__(self, base_url: str, username: str, password: str, *, alive: Callable[[], None]):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.alive = alive

        def token():
            alive()
            return self._token(username, password)

        token = wait_for("the Airflow API server", token, timeout=180, interval=2)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _token(self, username: str, password: str) -> str | None:
        response = requests.post(
            f"{self.base_url}/auth/token", json={"username": username, "password": password}, timeout=10
        )
        return response.json()["access_token"] if response.status_code == 201 else None

    def request(self, method: str, path: str, **kwargs) -> dict:
        response = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> dict:
        def parsed():
            self.alive()
            response = self.session.get(f"{self.base_url}/api/v2/dags/{dag_id}", timeout=10)
            return response.json() if response.status_code == 200 else None

        return wait_for(f"DAG {dag_id} to be parsed", parsed, timeout=timeout, interval=2)

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict, *, run_id: str | None = None, logical_date=None) -> dict:
        body = {"conf": conf, "logical_date": logical_date}
        if run_id:
            body["dag_run_id"] = run_id
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float):
        def finished():
            self.alive()
            run = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        run = wait_for(f"run {run_id}", finished, timeout=timeout, interval=3)
        if run["state"] != "success":
            tasks = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            states = {t["task_id"]: t["state"] for t in tasks}
            raise AssertionError(f"run {run_id} ended {run['state']}: {json.dumps(states)}")
        return run

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
