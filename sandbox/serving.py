"""An ASGI app served by uvicorn in a background thread, on 127.0.0.1 and a free port unless told otherwise:
the sandbox (both emulators) and tests' emulators of their own."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


class ThreadedServer:
    """``start()`` returns once the app accepts connections, at ``url`` (``http://host:port``); ``stop()``
    ends it. ``log_level`` and ``timeout_keep_alive`` are uvicorn's."""

    def __init__(self, app, *, name: str, log_level: str = "warning", timeout_keep_alive: int = 5):
        self.app = app
        self.name = name
        self.log_level = log_level
        self.timeout_keep_alive = timeout_keep_alive
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> ThreadedServer:
        if port == 0:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        config = uvicorn.Config(self.app, host=host, port=port, log_level=self.log_level, access_log=False,
                                timeout_keep_alive=self.timeout_keep_alive)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start on {host}:{port}")
            time.sleep(0.02)
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
