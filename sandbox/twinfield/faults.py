"""Fault injection for tests: infrastructure failures on the next matching requests.

``inject(kind, count=1, path_contains=None, after_apply=False, seconds=2.0)``:
- "500": HTTP 500 with an HTML body (not a SOAP fault: a gateway/web server failure; zeep raises TransportError);
- "503": HTTP 503 Service Unavailable with ``Retry-After: 1``;
- "slow": the answer comes ``seconds`` late (with ``after_apply=False`` the delay is before the call is applied,
  so a client that times out has changed nothing; with ``after_apply=True`` it is applied first);
- "drop": the response starts (status 200 and a Content-Length) and the connection is cut before the body is
  complete.
``after_apply=True``: the request is fully processed first and then the fault replaces (or delays) its answer:
a write whose outcome the client cannot know. Rules are consumed in order; each matches requests whose path
contains ``path_contains`` (all when None) and wears out after ``count`` hits. Control paths (``/_sandbox/``)
are never faulted.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict, dataclass

KINDS = ("500", "503", "slow", "drop")


@dataclass
class Fault:
    kind: str
    count: int = 1
    path_contains: str | None = None
    after_apply: bool = False
    seconds: float = 2.0


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def inject(self, kind: str, count: int = 1, path_contains: str | None = None, after_apply: bool = False,
               seconds: float = 2.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._rules.append(Fault(str(kind), count, path_contains, after_apply, seconds))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def take(self, path: str) -> Fault | None:
        """The first rule matching ``path``, spending one of its hits."""
        with self._lock:
            for rule in self._rules:
                if rule.path_contains is None or rule.path_contains in path:
                    rule.count -= 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule
        return None


class FaultMiddleware:
    """ASGI middleware applying the injector's rules."""

    def __init__(self, app, injector: FaultInjector):
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send):
        fault = None
        if scope["type"] == "http" and "/_sandbox/" not in scope["path"]:
            fault = self.injector.take(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "slow":
            if fault.after_apply:
                held = []

                async def hold(message):
                    held.append(message)

                await self.app(scope, receive, hold)
                await asyncio.sleep(fault.seconds)
                for message in held:
                    await send(message)
            else:
                await asyncio.sleep(fault.seconds)
                await self.app(scope, receive, send)
            return
        if fault.after_apply:
            async def discard(message):
                return None

            await self.app(scope, receive, discard)
        if fault.kind == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/xml; charset=utf-8"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b"<?xml version=\"1.0\"", "more_body": True})
            raise ConnectionAbortedError("sandbox fault: connection dropped")
        status, reason = (500, "Internal Server Error") if fault.kind == "500" else (503, "Service Unavailable")
        # HTML as a web server writes it (not well-formed XML), so SOAP clients see a transport error.
        body = f"<html><head><title>{reason}</title></head><body><h1>{status} {reason}</h1><hr><p>Please try again " \
               f"later.</body></html>".encode()
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        if fault.kind == "503":
            headers.append((b"retry-after", b"1"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
