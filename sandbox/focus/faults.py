"""Fault injection for the Focus emulator: 500s, 503s, slow answers and dropped connections, on demand.

``faults.inject(kind, count=1, path_contains=None, after_apply=False, seconds=3.0)`` queues a fault for
the next ``count`` requests whose path contains ``path_contains`` (any path when None). With
``after_apply=True`` the request is processed first (a write takes effect) and only its answer is lost or
replaced, so the client cannot know the outcome. Control paths (``/_sandbox/``) are never faulted.
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
    seconds: float = 3.0


class Faults:
    """The queue of pending faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def inject(self, kind: str, count: int = 1, path_contains: str | None = None, after_apply: bool = False,
               seconds: float = 3.0) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(kind, count, path_contains, after_apply, seconds)
        with self._lock:
            self._pending.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._pending]

    def take(self, path: str) -> Fault | None:
        """The fault that hits a request to ``path`` (one use of it), if any."""
        with self._lock:
            for fault in self._pending:
                if fault.path_contains is None or fault.path_contains in path:
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                    return fault
        return None


class ConnectionDropped(Exception):
    """Raised mid-response so that the server cuts the connection."""


_BODIES = {
    "500": (500, b'{"errors":[{"title":"Internal Server Error","status":500}]}'),
    "503": (503, b'{"errors":[{"title":"Service Unavailable","status":503}]}'),
}


class FaultMiddleware:
    """ASGI middleware applying the pending faults to the requests they match."""

    def __init__(self, app, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "/_sandbox/" in scope["path"]:
            await self.app(scope, receive, send)
            return
        fault = self.faults.take(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.after_apply:
            messages: list[dict] = []

            async def keep(message):
                messages.append(message)

            await self.app(scope, receive, keep)
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
                for message in messages:
                    await send(message)
                return
        elif fault.kind == "slow":  # the request arrives whole; the server takes its time to handle it
            received = await _read_request(receive)
            await asyncio.sleep(fault.seconds)
            await self.app(scope, _replay(received), send)
            return
        await _fail(fault.kind, send)


async def _read_request(receive) -> list[dict]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[dict]):
    pending = list(messages)

    async def receive():
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _fail(kind: str, send) -> None:
    if kind == "drop":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
        raise ConnectionDropped("sandbox fault: connection dropped")
    status, body = _BODIES[kind]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
