"""Where the sync configuration is found: the same rule under the official image, a git-synced dags folder and
an Astronomer-style project, with explicit settings first."""

from __future__ import annotations

import pytest

from twinfield.operators.base import CONFIG_ENV, config_path_for


@pytest.mark.parametrize(("dag_file", "expected"), [
    ("/opt/airflow/dags/focus_twinfield_sync.py", "/opt/airflow/include/mappings/sync.yaml"),  # official image
    ("/opt/airflow/dags/repo/dags/focus_twinfield_sync.py", "/opt/airflow/dags/repo/include/mappings/sync.yaml"),
    ("/usr/local/airflow/dags/focus_twinfield_sync.py", "/usr/local/airflow/include/mappings/sync.yaml"),
])
def test_beside_the_folder_of_the_dag_file(monkeypatch, dag_file, expected):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW__FOCUS_TWINFIELD__CONFIG_PATH", raising=False)
    assert config_path_for(None, dag_file) == expected


def test_explicit_settings_come_first(monkeypatch):
    dag_file = "/opt/airflow/dags/focus_twinfield_sync.py"
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW__FOCUS_TWINFIELD__CONFIG_PATH", "/etc/focus-twinfield/from-airflow-config.yaml")
    assert config_path_for(None, dag_file) == "/etc/focus-twinfield/from-airflow-config.yaml"
    monkeypatch.setenv(CONFIG_ENV, "/etc/focus-twinfield/from-env.yaml")
    assert config_path_for(None, dag_file) == "/etc/focus-twinfield/from-env.yaml"
    assert config_path_for("/dag/author/chose.yaml", dag_file) == "/dag/author/chose.yaml"
