"""Engine, schema and the cross-process lock of the state store.

The schema is migrated by ``twinfield.state.schema`` (Alembic revisions running plain SQL that works on SQLite
and PostgreSQL alike). Money is stored as TEXT decimal strings.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text

from twinfield.state import schema


class StateStore:
    """Handle on the state database. Cheap to create; ``engine`` is made once per store."""

    def __init__(self, url: str, *, engine: Engine | None = None):
        self.url = url
        self.engine = engine or self._make_engine(url)
        self._schema_ready = False

    @staticmethod
    def _make_engine(url: str) -> Engine:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 120}, pool_pre_ping=True)

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA busy_timeout=120000")
                # Switching to WAL needs the database to itself (it does not wait): only the first connection
                # ever does it, while a second process may be holding the write lock.
                if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    try:
                        cur.execute("PRAGMA journal_mode=WAL")
                    except sqlite3.OperationalError:  # busy now: a later connection switches it
                        pass
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            return engine
        return create_engine(url, pool_pre_ping=True)

    def ensure_schema(self) -> None:
        """Bring the schema to the newest revision (once per store; cheap when it is there already)."""
        if self._schema_ready:
            return
        schema.upgrade(self.url)
        self._schema_ready = True

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction, committed on success and rolled back on error."""
        self.ensure_schema()
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[Connection]:
        """A transaction that holds the named lock across processes until it ends.

        PostgreSQL: a row lock (SELECT ... FOR UPDATE) on ``state_locks``. SQLite: the write lock that the
        first UPDATE in the transaction takes on the whole database. Either way, a second holder waits.
        """
        self.ensure_schema()
        with self.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO state_locks (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"), {"n": name}
            )
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT name FROM state_locks WHERE name = :n FOR UPDATE"), {"n": name})
            conn.execute(
                text("UPDATE state_locks SET held_count = held_count + 1 WHERE name = :n"), {"n": name}
            )
            yield conn
