"""One server for both emulators: Focus under /focus, Twinfield under /twinfield, on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from sandbox.focus import FocusSandbox
from sandbox.focus.generate import generate
from sandbox.serving import ThreadedServer
from sandbox.twinfield import TwinfieldSandbox

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
# Idle keep-alive connections stay open this long, as behind the real services' load balancers; uvicorn's
# 5 s default would reset pooled connections of a client that waited on its rate limiter.
KEEP_ALIVE_SECONDS = 120


@dataclass
class SandboxConfig:
    seed: int = 42
    invoices: int = 200
    focus_rate_limit: int = 200  # requests per sliding minute (the real default)
    twinfield_credits_per_minute: int = 500  # the real per ClientId+organisation budget
    twinfield_max_concurrent: int = 10
    # Fixed first refresh tokens (docker-compose's sandbox, whose connections are written down beforehand);
    # None: a fresh random one per start, as a real re-authorisation gives.
    focus_refresh_token: str | None = None
    twinfield_refresh_token: str | None = None


class Sandbox:
    """Both emulators with their data, as one ASGI app; ``start()`` serves it in a background thread."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.data = generate(seed=self.config.seed, invoices=self.config.invoices)
        self.focus = FocusSandbox(
            self.data,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            initial_refresh_token=self.config.focus_refresh_token or "focus-rt-" + secrets.token_hex(8),
            rate_limit_per_minute=self.config.focus_rate_limit,
        )
        self.twinfield = TwinfieldSandbox(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            initial_refresh_token=self.config.twinfield_refresh_token or "twinfield-rt-" + secrets.token_hex(8),
            credits_per_minute=self.config.twinfield_credits_per_minute,
            max_concurrent=self.config.twinfield_max_concurrent,
        )
        self.twinfield.seed_customers_from_focus(self.data)
        self.app = FastAPI(title="focus-twinfield sandbox")
        self.app.mount("/focus", self.focus.app())
        self.app.mount("/twinfield", self.twinfield.app())
        self.url: str | None = None
        self._server: ThreadedServer | None = None

    # -- serving -----------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "Sandbox":
        """Serve in a background thread (port 0: a free one); ``url`` is then where."""
        self._server = ThreadedServer(self.app, name="sandbox", timeout_keep_alive=KEEP_ALIVE_SECONDS)
        self.url = self._server.start(host, port).url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def serve_forever(self, host: str = "127.0.0.1", port: int = 8765) -> None:
        self.url = f"http://{host}:{port}"
        uvicorn.run(self.app, host=host, port=port, log_level="warning", access_log=False,
                    timeout_keep_alive=KEEP_ALIVE_SECONDS)

    # -- how Airflow reaches it -------------------------------------------------------------------
    def connections(self, url: str | None = None) -> dict[str, str]:
        """The AIRFLOW_CONN_* values (JSON) that point Airflow at this sandbox."""
        base = url or self.url
        focus = {
            "conn_type": "teamleader_focus",
            "host": f"{base}/focus",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {
                "refresh_token": self.focus.initial_refresh_token,
                "token_url": f"{base}/focus/oauth2/access_token",
                "rate_limit_per_minute": self.config.focus_rate_limit,
            },
        }
        twinfield = {
            "conn_type": "twinfield",
            "host": f"{base}/twinfield",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {
                "auth_mode": "oauth2",
                "refresh_token": self.twinfield.initial_refresh_token,
                "office": self.twinfield.default_office,
                "credits_per_minute": self.config.twinfield_credits_per_minute,
                "max_concurrent": self.config.twinfield_max_concurrent,
            },
        }
        return {
            "AIRFLOW_CONN_TEAMLEADER_FOCUS_DEFAULT": json.dumps(focus),
            "AIRFLOW_CONN_TWINFIELD_DEFAULT": json.dumps(twinfield),
        }
