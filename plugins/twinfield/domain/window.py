"""Which Focus documents a run looks at, from its params and its data interval (pure, no Airflow).

- ``starting_date`` param: everything invoiced on or after that date (the connector's "Starting date");
- ``invoice_numbers`` param: just these documents (within the starting date, when one is given);
- ``focus_ids`` (a run started by Focus webhooks): just the documents the webhooks named, by Focus id;
- otherwise the run's data interval: documents updated in [start, end). A manual run without a logical date
  has no interval: it takes the day before its ``run_after``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

DEFAULT_LOOKBACK = dt.timedelta(days=1)
# Whether Focus's updated_since is inclusive is not documented: ask from a little before the window's start,
# so a document updated at that very second is not lost. What the margin lists again is unchanged (same
# updated_at: no info call) or already booked with the same content (load skips it).
UPDATED_SINCE_MARGIN = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Window:
    updated_since: dt.datetime | None  # the window's start (Focus is asked from query_since)
    updated_before: dt.datetime | None  # documents updated at or after this belong to a later run
    starting_date: dt.date | None  # invoiced on or after
    invoice_numbers: tuple[str, ...] = ()
    focus_ids: tuple[str, ...] = ()  # invoice and credit note ids named by Focus webhooks

    @property
    def named(self) -> bool:
        """Whether the run syncs named documents only (no window, no retries of earlier ones)."""
        return bool(self.invoice_numbers or self.focus_ids)

    @property
    def query_since(self) -> dt.datetime | None:
        """The updated_since sent to Focus: the window's start less UPDATED_SINCE_MARGIN."""
        return None if self.updated_since is None else self.updated_since - UPDATED_SINCE_MARGIN

    def takes(self, updated_at: str | None) -> bool:
        """Whether a document last updated at ``updated_at`` (ISO text) belongs to this window."""
        if self.updated_before is None or not updated_at:
            return True
        return dt.datetime.fromisoformat(updated_at) < self.updated_before

    def describe(self) -> str:
        parts = []
        if self.starting_date:
            parts.append(f"invoiced since {self.starting_date.isoformat()}")
        if self.updated_since:
            parts.append(f"updated from {self.updated_since.isoformat()} to {self.updated_before.isoformat()}")
        if self.invoice_numbers:
            parts.append("numbers " + ", ".join(self.invoice_numbers))
        if self.focus_ids:
            parts.append(f"{len(self.focus_ids)} document(s) named by Focus webhooks")
        return "; ".join(parts) or "everything"


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} has no time zone: {value.isoformat()}")
    return value


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def window_for(
    params: dict[str, Any],
    *,
    data_interval_start: dt.datetime | None,
    data_interval_end: dt.datetime | None,
    run_after: dt.datetime,
    hinted_ids: tuple[str, ...] = (),
) -> Window:
    """The window of a run (``hinted_ids``: the documents webhooks named, for a run they started); raises
    ValueError on params that make no sense."""
    starting_date = _date(params.get("starting_date"))
    numbers = tuple(n.strip() for n in (params.get("invoice_numbers") or []) if n and n.strip())
    if starting_date or numbers:
        return Window(None, None, starting_date, numbers)
    if hinted_ids:
        return Window(None, None, None, (), tuple(sorted(set(hinted_ids))))
    start = _aware(data_interval_start, "data_interval_start")
    end = _aware(data_interval_end, "data_interval_end")
    run_after = _aware(run_after, "run_after")
    if start is None or end is None or start >= end:
        end = run_after
        start = run_after - DEFAULT_LOOKBACK
    return Window(start, end, None)
