"""The one rate limiter of both hooks, weighted: Focus requests weigh 1, Twinfield requests their credits."""

from __future__ import annotations

import datetime as dt

import pytest

from twinfield.hooks.limiter import Clock, RequestStats, SlidingWindowLimiter
from twinfield.hooks.twinfield.limits import FairUse


class FakeClock(Clock):
    def __init__(self):
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.t, dt.UTC)

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_weights_count_against_the_budget_and_leave_it_a_window_later():
    clock = FakeClock()
    credits = SlidingWindowLimiter(10, window=60, clock=clock, margin=0)
    assert credits.acquire(3) == 0 and credits.acquire(6) == 0  # 9 of 10
    clock.sleep(20)
    assert credits.acquire(1) == 0  # 10 of 10
    assert credits.acquire(3) == pytest.approx(40)  # the 9 credits of t=0 leave at t=60
    assert credits.acquire(5) == 0  # 1 (t=20) + 3 + 5 = 9 of 10
    assert credits.acquire(2) == pytest.approx(20)  # one more than fits: waits for the credit of t=20 to leave


def test_a_request_heavier_than_the_budget_goes_once_the_window_is_empty():
    clock = FakeClock()
    credits = SlidingWindowLimiter(5, window=60, clock=clock, margin=0)
    assert credits.acquire(2) == 0
    assert credits.acquire(8) == pytest.approx(60)  # waits for the 2 to leave, then takes all 8
    assert credits.acquire(1) == pytest.approx(60)  # and the next waits for those 8 to leave
    with pytest.raises(ValueError):
        credits.acquire(0)


def test_twinfields_fair_use_is_the_weighted_limiter_with_a_pause_and_concurrency_slots():
    clock = FakeClock()
    fair = FairUse(credits_per_minute=6, max_concurrent=2, clock=clock)
    with fair.slot(3) as waited:
        assert waited == 0
    fair.pause(10)  # a 429 with Retry-After: 10
    with fair.slot(3) as waited:
        assert waited == pytest.approx(10)
    with fair.slot(1) as waited:  # 6 credits within the minute: the next waits until the first 3 leave
        assert waited == pytest.approx(50)


def test_stats_have_one_shape():
    stats = RequestStats(credits={"read": 0})
    stats.add("requests", "departments.list")
    stats.add("requests", "departments.list")
    stats.add("credits", "read", 3)
    stats.add("waited_seconds", amount=1.5)
    assert stats.data == {"requests": {"departments.list": 2}, "retries": 0, "rate_limited": 0,
                          "waited_seconds": 1.5, "credits": {"read": 3}}
