"""Fixtures shared by the DAG tests: the DAG, loaded once per module in a throw-away Airflow, and worlds
(a sandbox and a state store each) made on demand and stopped after the test."""

from __future__ import annotations

import os

import pytest

from sandbox import airflow_env
from tests.integration.world import World


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    saved = dict(os.environ)
    airflow_env.prepare(tmp_path_factory.mktemp("airflow"), {})
    yield airflow_env.load_dag()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def make_world(dag, tmp_path):
    """``make_world(invoices=..., seed=...)``: a fresh world for this test (several are stopped in turn)."""
    made: list[World] = []

    def make(invoices: int, seed: int) -> World:
        home = tmp_path / f"world{len(made)}"
        home.mkdir()
        world = World(dag, home, invoices=invoices, seed=seed)
        made.append(world)
        return world

    yield make
    for world in made:
        world.stop()
