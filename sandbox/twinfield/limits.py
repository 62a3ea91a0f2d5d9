"""Twinfield's fair-use limits: a credit budget per minute and a cap on concurrent requests.

The sandbox emulates one ClientId + organisation, so there is one budget: ``credits_per_minute`` over a
sliding 60-second window (reads cost 1, writes 3; see processxml.cost). A call that does not fit is refused
with HTTP 429, ``Retry-After`` (whole seconds until enough credits have left the window) and the
``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (seconds until the window is
fully free) headers, which every accepted ProcessXml and Finder call carries too. A refused call costs nothing.
Session Logon and SelectCompany cost 3 credits, a WSDL download (an HTTP GET) 1; the OAuth endpoints
(login.twinfield.com's identity server) are not charged.

At most ``max_concurrent`` SOAP calls are served at once; one more is refused with 429 and ``Retry-After: 1``.
The concurrency guard is ASGI middleware, so a call held up by an injected "slow" fault counts while it waits.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

WINDOW = 60.0


class RateLimited(Exception):
    def __init__(self, retry_after: int, headers: dict[str, str]):
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after
        self.headers = headers


class Limits:
    def __init__(self, credits_per_minute: int = 500, max_concurrent: int = 10):
        self._lock = threading.Lock()
        self.credits_per_minute = credits_per_minute
        self.max_concurrent = max_concurrent
        self._spent: deque[tuple[float, int]] = deque()
        self._in_flight = 0

    def configure(self, credits_per_minute: int | None = None, max_concurrent: int | None = None) -> None:
        with self._lock:
            if credits_per_minute is not None:
                self.credits_per_minute = credits_per_minute
            if max_concurrent is not None:
                self.max_concurrent = max_concurrent

    def reset(self) -> None:
        """Forget the credits spent so far (a fresh minute)."""
        with self._lock:
            self._spent.clear()

    def charge(self, cost: int) -> dict[str, str]:
        """Spend ``cost`` credits; returns the rate-limit headers, or raises RateLimited."""
        with self._lock:
            moment = time.monotonic()
            while self._spent and self._spent[0][0] <= moment - WINDOW:
                self._spent.popleft()
            used = sum(credits for _, credits in self._spent)
            if used + cost > self.credits_per_minute:
                raise RateLimited(self._retry_after(moment, used + cost), self._headers(moment, used))
            self._spent.append((moment, cost))
            return self._headers(moment, used + cost)

    def _retry_after(self, moment: float, needed: int) -> int:
        """Seconds until the window has room for ``needed`` credits in total."""
        freed = 0
        for spent_at, credits in self._spent:
            freed += credits
            if needed - freed <= self.credits_per_minute:
                return max(1, math.ceil(spent_at + WINDOW - moment))
        return math.ceil(WINDOW)  # a single call costing more than the whole budget

    def _headers(self, moment: float, used: int) -> dict[str, str]:
        reset = math.ceil(self._spent[-1][0] + WINDOW - moment) if self._spent else 0
        return {
            "X-RateLimit-Limit": str(self.credits_per_minute),
            "X-RateLimit-Remaining": str(max(0, self.credits_per_minute - used)),
            "X-RateLimit-Reset": str(max(0, reset)),
        }

    # -- concurrency ----------------------------------------------------------------------------------------
    def enter(self) -> bool:
        with self._lock:
            if self._in_flight >= self.max_concurrent:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class ConcurrencyMiddleware:
    """ASGI middleware: refuse SOAP calls (POSTs to /webservices/) beyond ``limits.max_concurrent``."""

    def __init__(self, app, limits: Limits):
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or "/webservices/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if not self.limits.enter():
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"retry-after", b"1"), (b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Too many concurrent requests"})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.limits.leave()
