"""End-to-end runs against real services: run by ci/celery_run.sh and ci/ui_test.sh, not by `make test`.

They install and start system services (PostgreSQL, Redis, Chromium) and take minutes, so the plain test run
leaves this folder out unless FOCUS_TWINFIELD_E2E=1 (which the ci/ scripts set).
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

E2E = os.environ.get("FOCUS_TWINFIELD_E2E") == "1"


def pytest_ignore_collect(collection_path, config):
    return not E2E and collection_path.suffix == ".py" and collection_path.name.startswith("test_")


def _stop_on_sigterm(signum, frame):
    # A time-boxed CI step ends pytest with SIGTERM: turn it into an exit, so the fixtures stop the services.
    sys.exit(128 + signum)


@pytest.fixture(scope="session", autouse=True)
def _sigterm_runs_teardown():
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    yield
    signal.signal(signal.SIGTERM, previous)
