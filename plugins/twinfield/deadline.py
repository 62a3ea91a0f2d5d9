"""The nightly run's deadline: a scheduled run not done by a time of day tells the team (``RunLateNotifier``).

The time is Airflow's setting ``[focus_twinfield] deadline`` (environment: ``AIRFLOW__FOCUS_TWINFIELD__DEADLINE``),
``HH:MM`` in the DAG's time zone, default 07:00; ``off`` switches the alert off. It is read when the DAG file is
parsed (configuration only, no I/O), so a change applies from the next parse.

Airflow's deadline alert counts from a run's logical date. A daily run's logical date is the start of its data
interval, a day before the run starts: the interval is that day plus the time from the start to the deadline.
Runs without a logical date (started by Focus webhooks, or by hand without one) get no deadline.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference
from airflow.sdk.configuration import conf

from twinfield.notifiers import RunLateNotifier

SECTION, OPTION = "focus_twinfield", "deadline"
DEFAULT = "07:00"
OFF = "off"


def parse(value: str) -> dt.time | None:
    """``HH:MM`` as a time of day; ``off`` (or nothing) as None."""
    text = value.strip().lower()
    if text in (OFF, ""):
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ValueError(f"[{SECTION}] {OPTION} = {value!r}: give a time of day as HH:MM (e.g. 07:00), "
                         f"or {OFF!r} for no deadline") from None


def interval(starts_at: dt.time, due: dt.time) -> dt.timedelta:
    """From a daily run's logical date (a day before it starts at ``starts_at``) to the next ``due`` after its
    start. Across a daylight-saving change the deadline moves by that hour (the interval is fixed)."""
    after_start = dt.datetime.combine(dt.date.min, due) - dt.datetime.combine(dt.date.min, starts_at)
    if after_start <= dt.timedelta(0):
        after_start += dt.timedelta(days=1)
    return dt.timedelta(days=1) + after_start


def nightly_deadline(starts_at: dt.time, dag_file: str) -> DeadlineAlert | None:
    """The DAG's deadline alert for the configured time, or None when it is off."""
    due = parse(conf.get(SECTION, OPTION, fallback=DEFAULT))
    if due is None:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=interval(starts_at, due),
        # Awaited in the triggerer, as Airflow recommends for notifiers: whatever the executor (SyncCallback
        # needs one that runs callback workloads) and without taking a worker slot.
        callback=AsyncCallback(RunLateNotifier, kwargs={"dag_file": dag_file}),
    )
