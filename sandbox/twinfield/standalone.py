"""Serve one TwinfieldSandbox on its own (mounted at /twinfield, 127.0.0.1, a free port) in a background thread.

For tests that need an emulator of their own (token expiry, logons and limits must not disturb other tests);
sandbox/server.py serves both emulators together for everything else.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from sandbox.twinfield import TwinfieldSandbox


class StandaloneTwinfield:
    def __init__(self, twinfield: TwinfieldSandbox):
        self.twinfield = twinfield
        self.url = ""  # e.g. http://127.0.0.1:PORT/twinfield once started
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1") -> StandaloneTwinfield:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        app = FastAPI()
        app.mount("/twinfield", self.twinfield.app())
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="critical", access_log=False))
        self._thread = threading.Thread(target=self._server.run, name="twinfield-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"Twinfield sandbox did not start on {host}:{port}")
            time.sleep(0.02)
        self.url = f"http://{host}:{port}/twinfield"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
