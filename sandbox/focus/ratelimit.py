"""Focus' rate limit: N requests per sliding minute, with its three headers.

``X-RateLimit-Reset`` is the moment the oldest request that still counts leaves the window (when over the
limit: the earliest moment a request will be allowed again), written as Focus writes it:
``2021-06-15T10:51:23.035+0000``. Denied requests do not count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: float  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_reset(self.reset),
        }


def format_reset(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class SlidingWindow:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time):
        self.per_minute = per_minute
        self._clock = clock
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def hit(self) -> Verdict:
        """Count one request if the window has room; the verdict either way."""
        with self._lock:
            now = self._expire()
            if len(self._hits) >= self.per_minute:
                oldest_blocking = self._hits[len(self._hits) - self.per_minute]
                return Verdict(False, self.per_minute, 0, oldest_blocking + WINDOW_SECONDS)
            self._hits.append(now)
            return Verdict(True, self.per_minute, self.per_minute - len(self._hits),
                           self._hits[0] + WINDOW_SECONDS)

    def peek(self) -> Verdict:
        """The current state, without counting a request."""
        with self._lock:
            now = self._expire()
            remaining = max(0, self.per_minute - len(self._hits))
            reset = self._hits[0] + WINDOW_SECONDS if self._hits else now
            return Verdict(remaining > 0, self.per_minute, remaining, reset)

    def configure(self, per_minute: int | None = None, reset: bool = False) -> None:
        with self._lock:
            if per_minute is not None:
                if per_minute < 1:
                    raise ValueError("per_minute must be at least 1")
                self.per_minute = per_minute
            if reset:
                self._hits.clear()

    def used(self) -> int:
        with self._lock:
            self._expire()
            return len(self._hits)

    def _expire(self) -> float:
        now = self._clock()
        while self._hits and self._hits[0] <= now - WINDOW_SECONDS:
            self._hits.popleft()
        return now
