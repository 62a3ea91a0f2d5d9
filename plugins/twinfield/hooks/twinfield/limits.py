"""Twinfield's fair-use limits on the client side: a credit budget per sliding minute (the shared weighted
limiter, a request weighing its credits), a cap on concurrent requests, and a shared pause after a 429. One
instance per client, shared by every thread using it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from twinfield.hooks.limiter import Clock, SlidingWindowLimiter

WINDOW = 60.0  # seconds: Twinfield counts credits per minute


class FairUse:
    def __init__(self, credits_per_minute: int, max_concurrent: int, clock: Clock | None = None):
        if credits_per_minute < 1 or max_concurrent < 1:
            raise ValueError("credits_per_minute and max_concurrent must be at least 1")
        self.credits_per_minute = credits_per_minute
        self.max_concurrent = max_concurrent
        self.budget = SlidingWindowLimiter(credits_per_minute, window=WINDOW, clock=clock, margin=0.0)
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @contextmanager
    def slot(self, credits: int) -> Iterator[float]:
        """Wait until ``credits`` fit in the last minute's budget and a concurrency slot is free; gives the
        seconds waited for the budget."""
        waited = self.budget.acquire(credits)
        with self._slots:
            yield waited

    def pause(self, seconds: float) -> None:
        """Twinfield said 429 + Retry-After: nobody sends before then."""
        self.budget.pause_for(max(seconds, 0.0))
