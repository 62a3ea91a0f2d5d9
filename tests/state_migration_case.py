"""One migration case for SQLite (tests/unit) and PostgreSQL (tests/e2e): a state database made by the first
release, with data in it, upgraded by today's code."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import create_engine, inspect, text

from twinfield.state import StateStore, customers, schema

FIRST_RELEASE = ("000_locks.sql", "001_tokens.sql", "002_rate_windows.sql", "010_sync.sql")


def make_first_release_database(url: str) -> None:
    """What release 0.1.0's ensure_schema did (every statement, no version table), then a run's worth of rows."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for name in FIRST_RELEASE:
            script = (resources.files("twinfield.sql") / "schema" / name).read_text(encoding="utf-8")
            for statement in schema.statements(script):
                conn.execute(text(statement))
        conn.execute(text(
            "INSERT INTO oauth_tokens (name, access_token, expires_at, refresh_token, seed_fingerprint, updated_at)"
            " VALUES ('focus', 'at', '2026-12-01T10:00:00+00:00', 'rt', 'seed', '2026-12-01T09:00:00+00:00')"))
        conn.execute(text(
            "INSERT INTO customer_links (focus_type, focus_id, office, twinfield_code, matched_by, status, run_id,"
            " linked_at) VALUES ('company', 'c-1', 'NLA001', '1000', 'created', 'linked', 'run-1',"
            " '2026-12-01T09:00:00+00:00')"))
    engine.dispose()


def check_upgrade_keeps_everything(url: str) -> None:
    make_first_release_database(url)
    engine = create_engine(url)
    assert schema.current(engine) is None  # the first release kept no version
    store = StateStore(url)
    store.ensure_schema()
    assert schema.current(engine) == schema.head()
    tables = set(inspect(engine).get_table_names())
    assert {"payment_checks", "customer_creations", "rate_claims", schema.VERSION_TABLE} <= tables
    links = customers.links(store, "NLA001")
    assert [(link.focus_key, link.twinfield_code, link.status) for link in links.values()] == [
        (("company", "c-1"), "1000", "linked")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT refresh_token FROM oauth_tokens WHERE name = 'focus'")).scalar() == "rt"
        assert conn.execute(text(f"SELECT count(*) FROM {schema.VERSION_TABLE}")).scalar() == 1
    StateStore(url).ensure_schema()  # a second process: nothing to do, nothing changes
    assert schema.current(engine) == schema.head()
    engine.dispose()
