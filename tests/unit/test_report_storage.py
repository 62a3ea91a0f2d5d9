"""Report files go through Airflow's object storage: local by default, any configured URL otherwise."""

from __future__ import annotations

from pathlib import Path

from twinfield.operators.report import REPORTS_ENV, report_folder


def test_reports_default_to_airflow_home_on_local_disk(tmp_path, monkeypatch):
    monkeypatch.delenv(REPORTS_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    folder = report_folder()
    assert folder.protocol == "file" and Path(folder.path) == tmp_path / "reports"


def test_a_configured_location_wins_and_is_written_through_object_storage(tmp_path, monkeypatch):
    monkeypatch.setenv(REPORTS_ENV, (tmp_path / "shared").as_uri())
    folder = report_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.md").write_text("# report", encoding="utf-8")
    assert (tmp_path / "shared" / "run.md").read_text(encoding="utf-8") == "# report"
    # The operator's own setting beats the environment; a bucket URL keeps its scheme and connection.
    assert Path(report_folder(str(tmp_path / "mine")).path) == tmp_path / "mine"
    bucket = report_folder("memory://reports_conn@bucket/reports")
    assert bucket.protocol == "memory" and bucket.conn_id == "reports_conn"
