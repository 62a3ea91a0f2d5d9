"""Shared fixtures: the sandbox server on 127.0.0.1, the reference folder, and a token for a Twinfield sandbox of
a test module's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

# A configured Airflow has a Fernet key (airflow.cfg or the environment); the state store encrypts its secrets
# with it. Set before anything reads Airflow's configuration.
os.environ.setdefault("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


@pytest.fixture(scope="session")
def reference() -> Path:
    """../shared/reference, or skip when a plain clone has no such folder beside it."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference folder {REFERENCE} is absent")
    return REFERENCE


@pytest.fixture(scope="session")
def sandbox():
    """One running sandbox for the session, with generous rate limits (rate-limit tests make their own)."""
    from sandbox.server import Sandbox, SandboxConfig

    sb = Sandbox(SandboxConfig(invoices=300, focus_rate_limit=100_000, twinfield_credits_per_minute=100_000)).start()
    yield sb
    sb.stop()


@pytest.fixture
def make_sandbox():
    """Start a sandbox with a config of the test's own; stopped at the end of the test."""
    from sandbox.server import Sandbox, SandboxConfig

    started = []

    def _make(**config):
        sb = Sandbox(SandboxConfig(**config)).start()
        started.append(sb)
        return sb

    yield _make
    for sb in started:
        sb.stop()


@pytest.fixture(scope="module")
def token(served) -> str:
    """An access token for a test module's own Twinfield sandbox: its ``served`` fixture (a StandaloneTwinfield)."""
    return served.access_token()
