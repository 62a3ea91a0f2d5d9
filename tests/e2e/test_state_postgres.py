"""The state store's migrations on PostgreSQL (a private cluster on 127.0.0.1, as the Celery run uses): a first
release database with data upgraded with nothing lost, and concurrent first users taking turns."""

from __future__ import annotations

import multiprocessing

import pytest

from tests.e2e.stack import Stack, start_postgres
from tests.state_migration_case import check_upgrade_keeps_everything
from twinfield.state import schema


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("pg"))
    try:
        urls = start_postgres(stack, ["upgraded", "raced"])
        yield {name: url.replace("+psycopg2", "") for name, url in urls.items()}  # psycopg 3, as the store uses
    finally:
        stack.close()


def test_a_first_release_database_with_data_is_upgraded_on_postgresql(databases):
    check_upgrade_keeps_everything(databases["upgraded"])


def _upgrade(url: str) -> str:
    return schema.upgrade(url)


def test_processes_upgrading_postgresql_at_once_take_turns(databases):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_upgrade, [databases["raced"]] * 4) == [schema.head()] * 4
