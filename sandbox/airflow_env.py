"""A throw-away Airflow for running the DAG against the sandbox: demo, benchmark and end-to-end tests.

``prepare(home, sandbox)`` points this process (and any ``airflow`` command it starts) at a fresh
AIRFLOW_HOME with a migrated SQLite metadata database, the project's dags folder, the state store in the
same folder, and the AIRFLOW_CONN_* values of the sandbox. Works whether or not Airflow was imported before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT / "dags"
CONFIG = PROJECT / "include" / "mappings" / "sync.yaml"


def fernet_key(home: Path) -> str:
    """The home's Fernet key (made once, as ``airflow standalone`` does), unless the environment sets one."""
    if os.environ.get("AIRFLOW__CORE__FERNET_KEY"):
        return os.environ["AIRFLOW__CORE__FERNET_KEY"]
    from cryptography.fernet import Fernet  # noqa: PLC0415

    path = home / "fernet.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode(), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def environment(home: Path, connections: dict[str, str], config: Path = CONFIG) -> dict[str, str]:
    """The environment variables of such an Airflow."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__FERNET_KEY": fernet_key(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW_CONN_FOCUS_TWINFIELD_STATE": f'{{"conn_type": "sqlite", "host": "{home / "state.db"}"}}',
        "FOCUS_TWINFIELD_CONFIG": str(config),
        # dag.test() (demo, benchmark, tests) fails at the end of a successful run of a DAG with a deadline on
        # Airflow 3.2.2 and 3.3.2 (its in-memory DAG keeps the alerts where update_state expects their ids).
        "AIRFLOW__FOCUS_TWINFIELD__DEADLINE": "off",
        **connections,
    }


def prepare(home: Path, connections: dict[str, str], *, config: Path = CONFIG, quiet: bool = True) -> dict[str, str]:
    """Set the environment, migrate the metadata database (``airflow db migrate``), point this process at it."""
    home.mkdir(parents=True, exist_ok=True)
    env = environment(home, connections, config)
    os.environ.update(env)
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL if quiet else None,
    )
    from airflow import settings  # noqa: PLC0415 - only once the environment is set

    settings.configure_vars()
    settings.reconfigure_orm()
    return env


def load_dag(dag_id: str = "focus_twinfield_sync"):
    """The DAG as the dag processor would load it from the dags folder (import errors raise)."""
    from airflow.dag_processing.dagbag import DagBag  # noqa: PLC0415

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[dag_id]
