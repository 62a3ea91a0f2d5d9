"""Twinfield's fair-use limits on the client side: a credit budget per sliding minute, a cap on concurrent
requests, and a shared pause after a 429. One instance per client, shared by every thread using it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WINDOW = 60.0  # seconds: Twinfield counts credits per minute


class FairUse:
    def __init__(
        self,
        credits_per_minute: int,
        max_concurrent: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if credits_per_minute < 1 or max_concurrent < 1:
            raise ValueError("credits_per_minute and max_concurrent must be at least 1")
        self.credits_per_minute = credits_per_minute
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._spent: deque[tuple[float, int]] = deque()  # (when, credits), oldest first
        self._paused_until = 0.0
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @contextmanager
    def slot(self, credits: int) -> Iterator[None]:
        """Wait until ``credits`` fit in the last minute's budget and a concurrency slot is free."""
        self._take(credits)
        with self._slots:
            yield

    def pause(self, seconds: float) -> None:
        """Twinfield said 429 + Retry-After: nobody sends before then."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def _forget_old(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - WINDOW:
            self._spent.popleft()

    def _take(self, credits: int) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._forget_old(now)
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif not self._spent or sum(c for _, c in self._spent) + credits <= self.credits_per_minute:
                    self._spent.append((now, credits))
                    return
                else:
                    wait = self._spent[0][0] + WINDOW - now
            self._sleep(max(wait, 0.001))
