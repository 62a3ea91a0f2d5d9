"""A run's window from its params and data interval."""

from __future__ import annotations

import datetime as dt

import pytest

from twinfield.domain.window import window_for

UTC = dt.timezone.utc
START = dt.datetime(2025, 3, 1, 3, tzinfo=UTC)
END = dt.datetime(2025, 3, 2, 3, tzinfo=UTC)


def test_scheduled_run_takes_its_data_interval():
    w = window_for({}, data_interval_start=START, data_interval_end=END, run_after=END)
    assert (w.updated_since, w.updated_before, w.starting_date) == (START, END, None)
    assert w.takes("2025-03-01T12:00:00+00:00")
    assert not w.takes("2025-03-02T03:00:00+00:00")  # the next run's
    assert w.takes(None)


def test_focus_is_asked_from_a_few_minutes_before_the_window():
    """updated_since may be exclusive: a document updated at the window's very start must still be listed."""
    w = window_for({}, data_interval_start=START, data_interval_end=END, run_after=END)
    assert w.query_since == START - dt.timedelta(minutes=5)
    assert w.takes(START.isoformat())
    assert window_for({"starting_date": "2025-01-01"}, data_interval_start=START, data_interval_end=END,
                      run_after=END).query_since is None


def test_starting_date_wins_over_the_interval():
    w = window_for({"starting_date": "2025-01-01"}, data_interval_start=START, data_interval_end=END, run_after=END)
    assert (w.updated_since, w.starting_date) == (None, dt.date(2025, 1, 1))
    assert w.takes("2030-01-01T00:00:00+00:00")


def test_invoice_numbers_select_just_those():
    w = window_for({"invoice_numbers": [" 2025 / 12 ", ""]}, data_interval_start=START, data_interval_end=END,
                   run_after=END)
    assert w.invoice_numbers == ("2025 / 12",) and w.updated_since is None


def test_manual_run_without_logical_date_falls_back_to_run_after():
    w = window_for({"starting_date": None}, data_interval_start=None, data_interval_end=None, run_after=END)
    assert (w.updated_since, w.updated_before) == (END - dt.timedelta(days=1), END)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        window_for({}, data_interval_start=None, data_interval_end=None, run_after=dt.datetime(2025, 3, 2))
