"""Time and request budgets, the same for both hooks: one clock and one sliding-window limiter, weighted (Focus
counts requests, Twinfield credits), that also takes the server's word (a reset moment, a pause)."""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any


class Clock:
    """Time as the hook sees it. Tests pass a fake one, so that nothing really sleeps."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class SlidingWindowLimiter:
    """At most ``limit`` units (Focus: requests; Twinfield: credits, a request weighing what it costs) in any
    ``window`` seconds, shared by all threads of one hook.

    A request counts from the moment it leaves; the server counts it from its arrival, a little later. So a
    slot is reused only ``margin`` seconds after its request left the window, lest the server still counts it.
    ``pause_until`` holds every request back until a moment the server named (X-RateLimit-Reset when
    X-RateLimit-Remaining reached 0, or on a 429). Waiting happens outside the lock.

    It counts three kinds of requests: its own (``sent_at`` hands them on), those other hooks sent or claimed
    (``seed``), and those the server counts but nobody here knows of (``observe``).
    """

    # The server's reset comes from its clock; never wait longer than a window (plus a little) on its word.
    MAX_PAUSE_SLACK = 5.0

    def __init__(self, limit: int, window: float = 60.0, clock: Clock | None = None, margin: float = 1.0):
        if limit < 1:
            raise ValueError("rate limit must be at least 1 request per window")
        self.limit = limit
        self.window = window
        self.margin = margin
        self.clock = clock or Clock()
        # Monotonic moments, sorted: seeded claims may lie ahead of the requests sent after them.
        self._counted: list[float] = []
        self._mine: list[float] = []
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        horizon = now - self.window - self.margin
        del self._counted[: bisect.bisect_right(self._counted, horizon)]
        del self._mine[: bisect.bisect_right(self._mine, horizon)]

    def acquire(self, weight: int = 1) -> float:
        """Wait until ``weight`` more units fit, record them, and return the seconds waited. A request heavier
        than the whole budget goes once the window is empty."""
        if weight < 1:
            raise ValueError(f"weight must be at least 1, got {weight}")
        fits = min(weight, self.limit)
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.monotonic()
                self._expire(now)
                wait = self._paused_until - now
                over = len(self._counted) + fits - self.limit
                if wait <= 0 and over > 0:
                    wait = self._counted[over - 1] + self.window + self.margin - now
                if wait <= 0:
                    for _ in range(weight):
                        bisect.insort(self._counted, now)
                    self._mine.extend([now] * weight)
                    return waited
            self.clock.sleep(wait)
            waited += wait

    def _offset(self) -> float:
        return self.clock.now().timestamp() - self.clock.monotonic()

    def sent_at(self) -> list[float]:
        """Wall-clock moments (epoch seconds) of this limiter's own requests still in the window."""
        with self._lock:
            self._expire(self.clock.monotonic())
            offset = self._offset()
            return [t + offset for t in self._mine]

    def seed(self, sent_at: list[float]) -> None:
        """Count requests other hooks sent or claimed (wall-clock epoch seconds) as if this one had sent them."""
        with self._lock:
            offset = self._offset()
            self._counted = sorted([*self._counted, *(t - offset for t in sent_at)])

    def observe(self, remaining: int, reset: datetime | None) -> int:
        """Take the server's word when it counts more requests in the window than this limiter does (another
        client of the integration, or a hook that kept no record): X-RateLimit-Remaining below what is left here.
        The server does not say when those requests left; the oldest leaves at ``reset``, the others are counted
        as sent just now, the latest they can have been. Returns how many were added."""
        with self._lock:
            now = self.clock.monotonic()
            self._expire(now)
            unknown = self.limit - len(self._counted) - max(remaining, 0)
            if unknown <= 0:
                return 0
            added = [now] * unknown
            if reset is not None:
                oldest = now + (reset - self.clock.now()).total_seconds() - self.window
                added[0] = min(max(oldest, now - self.window), now)
            self._counted = sorted([*self._counted, *added])
            return unknown

    def pause_until(self, moment: datetime) -> float:
        """Send nothing before ``moment`` (a wall-clock time from the server); returns the pause in seconds."""
        seconds = (moment - self.clock.now()).total_seconds() + self.margin
        seconds = min(max(seconds, 0.0), self.window + self.MAX_PAUSE_SLACK)
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)
        return seconds

    def pause_for(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a 429 without a usable reset header)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)


class RequestStats:
    """What a hook sent, in one shape for both hooks (``data``): ``requests`` per kind (Focus: its endpoints;
    Twinfield: read, write, session), ``retries``, ``rate_limited`` (429s met), ``waited_seconds`` (for the
    rate limit, summed over threads), and whatever else a hook counts (``more``). Thread-safe."""

    def __init__(self, **more: Any):
        self._lock = threading.Lock()
        self.data: dict[str, Any] = {"requests": Counter(), "retries": 0, "rate_limited": 0, "waited_seconds": 0.0,
                                     **more}

    def add(self, what: str, kind: str | None = None, amount: float = 1) -> None:
        with self._lock:
            if kind is None:
                self.data[what] += amount
            else:
                self.data[what][kind] += amount
