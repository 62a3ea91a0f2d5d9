"""Serve one TwinfieldSandbox on its own (mounted at /twinfield, 127.0.0.1, a free port) in a background thread.

For tests that need an emulator of their own (token expiry, logons and limits must not disturb other tests);
sandbox/server.py serves both emulators together for everything else. ``StandaloneTwinfield.with_customers(...)``
makes one for the client ``CLIENT_ID`` with customers seeded from Focus-like companies; ``access_token()`` logs
that client on.
"""

from __future__ import annotations

import requests
from fastapi import FastAPI

from sandbox.serving import ThreadedServer
from sandbox.twinfield import TwinfieldSandbox, seed

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "standalone-client", "standalone-secret", "standalone-refresh"


class StandaloneTwinfield:
    def __init__(self, twinfield: TwinfieldSandbox):
        self.twinfield = twinfield
        self.url = ""  # e.g. http://127.0.0.1:PORT/twinfield once started
        self._server: ThreadedServer | None = None

    @classmethod
    def with_customers(cls, companies: list[dict], **limits) -> StandaloneTwinfield:
        """Not started yet: a Twinfield sandbox for ``CLIENT_ID`` whose customers are seeded from these
        companies (``{"id", "name", "vat_number"?}`` as in Focus); ``limits`` as TwinfieldSandbox takes them."""
        twinfield = TwinfieldSandbox(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, **limits)
        seed.seed(twinfield.world, companies)
        return cls(twinfield)

    def access_token(self) -> str:
        """An access token for ``CLIENT_ID``, by the OAuth2 refresh-token grant."""
        response = requests.post(self.url + "/auth/authentication/connect/token", auth=(CLIENT_ID, CLIENT_SECRET),
                                 data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def start(self, host: str = "127.0.0.1") -> StandaloneTwinfield:
        app = FastAPI()
        app.mount("/twinfield", self.twinfield.app())
        self._server = ThreadedServer(app, name="twinfield-sandbox", log_level="critical")
        self.url = f"{self._server.start(host).url}/twinfield"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
