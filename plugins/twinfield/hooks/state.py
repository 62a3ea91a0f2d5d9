"""The state store's Airflow connection: ``StateStoreHook``, and ``state_store_url`` / ``state_store`` for where
the store lives (the only Airflow lookup for the store)."""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowNotFoundException

from twinfield.hooks.fields import get_field
from twinfield.state import StateStore
from twinfield.state.tokens import Cipher

DEFAULT_CONN_ID = "focus_twinfield_state"
CONN_TYPE = "focus_twinfield_state"
log = logging.getLogger(__name__)

# Executors whose tasks run on this machine: only there may each process fall back to the same local file.
LOCAL_EXECUTORS = {"LocalExecutor", "SequentialExecutor", "DebugExecutor"}


def _remote_executors() -> list[str]:
    """The configured executors that run tasks on other machines (Celery, Kubernetes, Edge, ...)."""
    from airflow.sdk.configuration import conf

    configured = conf.get("core", "executor", fallback="") or ""
    names = [part.split(":")[-1].strip() for part in configured.split(",") if part.strip()]
    return [name.rsplit(".", 1)[-1] for name in names if name.rsplit(".", 1)[-1] not in LOCAL_EXECUTORS]


def state_store_url(conn_id: str = DEFAULT_CONN_ID) -> str:
    """The SQLAlchemy URL of the state store.

    The connection's extra ``sqlalchemy_url`` wins, else the connection's URI (``postgres://`` becomes
    ``postgresql://``; a ``sqlite`` connection names the file path). Without such a connection: a SQLite
    file ``$AIRFLOW_HOME/focus_twinfield_state.db``, but only where every task runs on this machine: under a
    remote executor each worker would keep a state of its own (and book again what another one booked).
    """
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        remote = _remote_executors()
        if remote:
            raise AirflowFailException(
                f"no Airflow connection {conn_id!r} for the sync's state store, and tasks run on other machines "
                f"({', '.join(remote)}): every worker would keep its own state. Create the connection, e.g. "
                f"AIRFLOW_CONN_{conn_id.upper()}='postgresql://user:password@host:5432/focus_twinfield' "
                "(README, Deployment)") from None
        home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
        return f"sqlite:///{home / 'focus_twinfield_state.db'}"
    explicit = get_field(conn, "sqlalchemy_url")
    if explicit:
        return explicit
    if conn.conn_type == CONN_TYPE:  # its form has nothing but this field
        raise AirflowFailException(f"Airflow connection {conn_id!r}: no SQLAlchemy URL of the state store")
    if conn.conn_type == "sqlite":  # the file path: in host (JSON form) or schema (URI form sqlite:////path)
        return f"sqlite:///{conn.host or conn.schema}"
    uri = conn.get_uri()
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://") :]
    return uri


def state_store(conn_id: str = DEFAULT_CONN_ID) -> StateStore:
    """A ready StateStore (schema ensured) for the connection ``conn_id``."""
    store = StateStore(state_store_url(conn_id))
    store.ensure_schema()
    return store


class StateStoreHook(BaseHook):
    """The sync's state store, a SQL database named by an Airflow connection (see ``state_store_url``).

    :param state_conn_id: the connection; without one, a SQLite file in AIRFLOW_HOME where tasks run locally.
    """

    conn_name_attr = "state_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Focus Twinfield state store"

    def __init__(self, state_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any):
        super().__init__(**kwargs)
        self.state_conn_id = state_conn_id

    @cached_property
    def store(self) -> StateStore:
        """The store, its schema brought up to date on first use."""
        return state_store(self.state_conn_id)

    def test_connection(self) -> tuple[bool, str]:
        """One cheap read: the schema revision (nothing is migrated)."""
        from twinfield.state import schema

        url = ""
        try:
            url = state_store_url(self.state_conn_id)
            revision = schema.revision(url)
        except Exception as exc:  # the UI shows the message: without the URL, which may hold a password
            lines = str(exc).strip().splitlines()
            message = lines[0].replace(url, "(the state store's URL)") if lines and url else (lines or [""])[0]
            return False, f"{type(exc).__name__}: {message}"
        if revision is None:
            return True, f"Connected to the state store: no schema yet (the first task creates {schema.head()})"
        return True, f"Connected to the state store: schema revision {revision} (newest: {schema.head()})"


def secrets_cipher() -> Cipher | None:
    """Airflow's own Fernet key ([core] fernet_key, comma-separated for rotation) to encrypt the secrets kept in
    the state store; None when Airflow has none (then, as Airflow does for connections, they are kept plain)."""
    from airflow.sdk.crypto import get_fernet

    try:
        fernet = get_fernet()
    except AirflowException as exc:  # e.g. a component without airflow.cfg: the key is the template's placeholder
        log.warning("No usable Fernet key here (%s): secrets in the state store are kept unencrypted", exc)
        return None
    return fernet if fernet.is_encrypted else None


def main(argv: list[str] | None = None) -> None:
    """``python -m twinfield.hooks.state upgrade|current [--conn-id ID]``: migrate the state store now (e.g. in a
    deployment step) or show its revision. Tasks also upgrade it on first use, under a lock."""
    import argparse

    from twinfield.state import schema

    parser = argparse.ArgumentParser(prog="python -m twinfield.hooks.state")
    parser.add_argument("command", choices=["upgrade", "current"])
    parser.add_argument("--conn-id", default=DEFAULT_CONN_ID)
    args = parser.parse_args(argv)
    url = state_store_url(args.conn_id)
    if args.command == "upgrade":
        print(f"state store at revision {schema.upgrade(url)} (newest: {schema.head()})")
    else:
        print(f"state store at revision {schema.revision(url) or 'none'} (newest: {schema.head()})")


if __name__ == "__main__":
    main()
