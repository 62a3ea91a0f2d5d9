"""The state store's schema, brought to the newest revision by Alembic migrations (``twinfield.sql``).

``upgrade`` is cheap when there is nothing to do (one read of the version table); otherwise it migrates under a
lock that one process holds at a time across machines (PostgreSQL: an advisory transaction lock; SQLite: the
database's write lock, taken by ``BEGIN IMMEDIATE``), in one transaction, so concurrent first tasks neither
race nor see half a schema. A database made by the first release (no version table) is taken over by
revision 0001, whose statements all say IF NOT EXISTS. Released schema files are never edited: a change is a
new revision.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text

VERSION_TABLE = "focus_twinfield_schema_version"  # not alembic_version: the database may hold other schemas


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("twinfield.sql") / "migrations"))
    return config


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def statements(script: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def run_script(op, name: str) -> None:
    """Run ``twinfield.sql/schema/<name>`` statement by statement (used by the revisions)."""
    script = (resources.files("twinfield.sql") / "schema" / name).read_text(encoding="utf-8")
    for statement in statements(script):
        op.execute(text(statement))


def revision(url: str) -> str | None:
    """The revision of the database at ``url``, by a plain read (no lock, nothing migrated)."""
    reader = create_engine(url, connect_args={"timeout": 120} if url.startswith("sqlite") else {})
    try:
        return current(reader)
    finally:
        reader.dispose()


def upgrade(url: str, target: str = "head") -> str:
    """Bring the database at ``url`` to ``target``; returns the revision it is at afterwards."""
    if target == "head" and revision(url) == head():  # the usual case, answered by a plain read (no lock)
        return head()
    engine = _migration_engine(url)
    try:
        config = _config()
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('focus_twinfield.schema'))"))
            config.attributes["connection"] = conn
            command.upgrade(config, target)
        return current(engine)
    finally:
        engine.dispose()


def _migration_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"timeout": 120})

    @event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_conn, _record):  # pragma: no cover - driver plumbing
        dbapi_conn.isolation_level = None  # let BEGIN below decide how the transaction starts

    @event.listens_for(engine, "begin")
    def _write_lock_first(conn):  # pragma: no cover - driver plumbing
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
