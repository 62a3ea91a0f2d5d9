"""Fault injection, the same in both emulators: 500s, 503s, slow answers and dropped connections, on demand.

``faults.inject(kind, count=1, path_contains=None, after_apply=False, seconds=None)`` queues a fault for the
next ``count`` requests whose path contains ``path_contains`` (any path when None); rules are consumed in
order. The kinds:
- "500", "503": that status, with the body the service itself would send (its ``Wire``);
- "slow": the answer comes ``seconds`` late (None: the emulator's default);
- "drop": the response starts (status 200 and a Content-Length) and the connection is cut before the body is
  complete.
With ``after_apply=True`` the request is processed first (a write takes effect) and only its answer is lost,
replaced or delayed, so the client cannot know the outcome. A "slow" fault without it delays the request
before it is handled: Twinfield then handles it only if the client still waits (one that timed out has
changed nothing), Focus handles it anyway (it read the request whole; ``Wire.handle_abandoned``). Control
paths (``/_sandbox/``) are never faulted. ``FaultMiddleware(app, faults, wire)`` applies the rules.
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


class Faults:
    """The queue of pending faults; thread-safe. ``seconds``: how late a "slow" answer comes by default."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def inject(self, kind: str, count: int = 1, path_contains: str | None = None, after_apply: bool = False,
               seconds: float | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(str(kind), count, path_contains, after_apply, self.seconds if seconds is None else seconds)
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


@dataclass(frozen=True)
class Wire:
    """How a service's failures look on the wire."""

    error_type: bytes  # Content-Type of an injected 500 or 503
    error_bodies: dict[int, bytes]  # their bodies, by status
    answer_type: bytes  # Content-Type of an answer: a dropped one starts like one
    answer_start: bytes  # what a dropped answer sends before the cut
    answer_length: int  # the Content-Length a dropped answer promises
    retry_after: bytes | None = None  # a 503's Retry-After header
    handle_abandoned: bool = False  # a "slow" request is handled after the delay even if its client gave up


class ConnectionDropped(Exception):
    """Raised mid-response so that the server cuts the connection."""


class FaultMiddleware:
    """ASGI middleware applying the pending faults to the requests they match."""

    def __init__(self, app, faults: Faults, wire: Wire):
        self.app = app
        self.faults = faults
        self.wire = wire

    async def __call__(self, scope, receive, send):
        fault = None
        if scope["type"] == "http" and "/_sandbox/" not in scope["path"]:
            fault = self.faults.take(scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.after_apply:
            answer: list[dict] = []

            async def keep(message):
                answer.append(message)

            await self.app(scope, receive, keep)
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
                for message in answer:
                    await send(message)
                return
        elif fault.kind == "slow":
            if self.wire.handle_abandoned:
                receive = _replay(await _read_request(receive))
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
            return
        await self._fail(fault.kind, send)

    async def _fail(self, kind: str, send) -> None:
        wire = self.wire
        if kind == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", wire.answer_type),
                                    (b"content-length", str(wire.answer_length).encode())]})
            await send({"type": "http.response.body", "body": wire.answer_start, "more_body": True})
            raise ConnectionDropped("sandbox fault: connection dropped")
        status = int(kind)
        body = wire.error_bodies[status]
        headers = [(b"content-type", wire.error_type), (b"content-length", str(len(body)).encode())]
        if status == 503 and wire.retry_after is not None:
            headers.append((b"retry-after", wire.retry_after))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


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
