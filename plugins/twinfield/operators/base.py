"""What every stage operator shares: connections, the state store, the configuration, the run log.

A stage is a subclass with a ``stage`` name and a ``sync(run)`` method; ``execute`` makes the hooks (lazily,
through ``StageRun``), records the stage in the run log with the API calls it made (or, when it fails, with
its error, for the report), and returns the stage's small summary as XCom.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from twinfield.domain.config import ConfigError, SyncConfig, load_config
from twinfield.hooks.focus import TeamleaderFocusHook
from twinfield.hooks.state import StateStoreHook
from twinfield.hooks.twinfield import TwinfieldHook
from twinfield.state import StateStore, runs

CONFIG_ENV = "FOCUS_TWINFIELD_CONFIG"


def config_path_for(configured: str | None, dag_file: str | None) -> str:
    """Where the sync configuration is, the first of: the task's own ``config_path``; $FOCUS_TWINFIELD_CONFIG;
    Airflow's setting ``[focus_twinfield] config_path``; ``include/mappings/sync.yaml`` beside the folder that
    holds the DAG file (the official image's /opt/airflow/{dags,include}, a git-synced repository's
    <repo>/{dags,include}, an Astronomer project's dags/ and include/ alike)."""
    from airflow.sdk.configuration import conf

    explicit = configured or os.environ.get(CONFIG_ENV) or conf.get("focus_twinfield", "config_path", fallback="")
    if explicit:
        return explicit
    if not dag_file:
        raise AirflowFailException(f"sync configuration: no path given; set ${CONFIG_ENV}")
    return str(Path(dag_file).resolve().parent.parent / "include" / "mappings" / "sync.yaml")


class StageRun:
    """One execution of a stage: the run's id, params, state store, and hooks made on first use."""

    def __init__(self, operator: "SyncStageOperator", context: Any, store: StateStore):
        self.operator = operator
        self.context = context
        self.store = store
        self.run_id: str = context["run_id"]
        self.params: dict = dict(context.get("params") or {})
        self.dry_run: bool = bool(self.params.get("dry_run", False))
        self.details: dict[str, Any] = {}  # kept in the run log for the report, not returned as XCom
        self.log = operator.log
        self.activity = ""  # what the stage is doing: a failure of the whole stage names it

    def doing(self, activity: str) -> None:
        """Say what the stage does next ("posting 25 drafts to Twinfield office NLA001"); a failure of the
        whole stage (a service down past its retries, a broken configuration) is reported as happening
        while doing it."""
        self.activity = activity

    @cached_property
    def config(self) -> SyncConfig:
        try:
            dag = getattr(self.operator, "dag", None)
            return load_config(config_path_for(self.operator.config_path, getattr(dag, "fileloc", None)))
        except ConfigError as exc:  # not transient: fail without retrying
            raise AirflowFailException(f"sync configuration: {exc}") from None

    @cached_property
    def focus(self) -> TeamleaderFocusHook:
        return TeamleaderFocusHook(self.operator.focus_conn_id, state=self.store)

    @cached_property
    def twinfield(self) -> TwinfieldHook:
        return TwinfieldHook(self.operator.twinfield_conn_id, state=self.store)

    def api_calls(self) -> dict[str, dict]:
        """Requests made by this stage per service: ``requests`` in all, the seconds waited for the rate
        limit, and the hook's own breakdown (its ``stats``)."""
        calls: dict[str, dict] = {}
        for service in ("focus", "twinfield"):
            hook = self.__dict__.get(service)  # only hooks this stage made
            if hook is not None:
                stats = json_safe(hook.stats)
                calls[service] = {"requests": sum(stats["requests"].values()), "detail": stats}
                if stats["waited_seconds"]:
                    calls[service]["rate_limit_wait_seconds"] = round(stats["waited_seconds"], 1)
        return calls


def json_safe(stats: Any) -> Any:
    return {key: json_safe(value) for key, value in stats.items()} if isinstance(stats, dict) else stats


class SyncStageOperator(BaseOperator):
    """Base of the sync stages. Keyword-only arguments, all templated.

    :param focus_conn_id: Teamleader Focus connection.
    :param twinfield_conn_id: Twinfield connection.
    :param state_conn_id: connection of the state store (default: a SQLite file in AIRFLOW_HOME).
    :param config_path: the bookkeeper's sync configuration (YAML); default: ``config_path_for()`` on the
        worker when the task runs.
    :param max_workers: parallel Focus reads (the hooks are thread-safe and keep to the rate limits).
    """

    stage: ClassVar[str]
    template_fields = ("focus_conn_id", "twinfield_conn_id", "state_conn_id", "config_path")
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        focus_conn_id: str = TeamleaderFocusHook.default_conn_name,
        twinfield_conn_id: str = TwinfieldHook.default_conn_name,
        state_conn_id: str = StateStoreHook.default_conn_name,
        config_path: str | None = None,
        max_workers: int = 4,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.focus_conn_id = focus_conn_id
        self.twinfield_conn_id = twinfield_conn_id
        self.state_conn_id = state_conn_id
        self.config_path = config_path
        self.max_workers = max_workers

    def execute(self, context: Any) -> dict:
        store = StateStoreHook(self.state_conn_id).store
        run = StageRun(self, context, store)
        runs.stage_started(store, run.run_id, self.stage)
        try:
            summary = self.sync(run)
        except BaseException as exc:  # also a timeout or a termination: the report says why the stage stopped
            if run.activity:
                exc.add_note(f"{self.stage} failed while {run.activity}")
            self._record_failure(run, exc)
            raise
        finally:
            self._hand_over_rate_window(run)
        calls = run.api_calls()
        runs.stage_finished(store, run.run_id, self.stage, {**summary, **run.details}, calls)
        totals = {service: per_service["requests"] for service, per_service in calls.items()}
        self.log.info("%s: %s; API requests %s", self.stage, summary, totals or "none")
        return summary

    def sync(self, run: StageRun) -> dict:
        raise NotImplementedError

    def _hand_over_rate_window(self, run: StageRun) -> None:
        """Give back the Focus rate-limit slots this stage claimed ahead and did not use (the next task's hook
        counts every request this one recorded before sending; a killed stage leaves its claims, which lapse)."""
        focus = run.__dict__.get("focus")  # only if this stage made the hook
        if focus is None:
            return
        try:
            focus.save_rate_window()
        except Exception as exc:  # the stage's own outcome matters more; the claims then lapse by themselves
            self.log.warning("Could not give back the Focus rate-limit claims: %s", type(exc).__name__)

    def _record_failure(self, run: StageRun, exc: BaseException) -> None:
        """Keep the error in the run log; if even that fails (the state database is down), the task's own
        error still stands."""
        try:
            error = error_summary(exc)
            if run.activity:
                error = f"while {run.activity}: {error}"
            runs.stage_failed(run.store, run.run_id, self.stage, error, run.api_calls())
        except Exception as record_error:  # noqa: BLE001 - never hide the stage's error behind this one
            self.log.warning("%s: could not record the failure in the run log: %s", self.stage, record_error)


def error_summary(exc: BaseException, limit: int = 500) -> str:
    """``"TwinfieldUnavailable: Twinfield did not answer ..."``: type and first line, at most ``limit`` long
    (the hooks' errors never carry a secret)."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
