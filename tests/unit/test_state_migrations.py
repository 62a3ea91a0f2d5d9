"""The state store's schema goes through Alembic revisions: a database of the first release is upgraded with
nothing lost, a new one is created at the newest revision, and concurrent first users do not race."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import create_engine, inspect

from tests.state_migration_case import check_upgrade_keeps_everything
from twinfield.state import StateStore, schema


def test_a_first_release_database_with_data_is_upgraded_with_nothing_lost(tmp_path):
    check_upgrade_keeps_everything(f"sqlite:///{tmp_path / 'state.db'}")


def test_a_new_database_is_created_at_the_newest_revision(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    StateStore(url).ensure_schema()
    engine = create_engine(url)
    assert schema.current(engine) == schema.head()
    assert {"postings", "payments", "oauth_tokens", "customer_creations"} <= set(inspect(engine).get_table_names())


def test_revisions_form_one_line_from_the_first_release():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema._config())
    chain = [rev.revision for rev in scripts.walk_revisions()]
    assert chain[-1] == "0001" and len(scripts.get_heads()) == 1
    assert chain == sorted(chain, reverse=True)


def _upgrade(url: str) -> str:
    return schema.upgrade(url)


def test_processes_upgrading_at_once_take_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_upgrade, [url] * 4)
    assert results == [schema.head()] * 4
