"""Which failures a task retries: transient ones only (services unavailable or rate limited, dropped
connections, a busy state database). Anything else (a rejected configuration, a bug) fails at once.

Airflow 3.3 added ``ExceptionRetryPolicy``; on Airflow 3.2 ``RETRY_ARGS`` is empty and a task retries every
failure up to ``retries`` (README, supported versions)."""

from __future__ import annotations

from typing import Any

from twinfield.errors import FocusRateLimited, FocusUnavailable, TwinfieldRateLimited, TwinfieldUnavailable

TRANSIENT = [FocusUnavailable, FocusRateLimited, TwinfieldUnavailable, TwinfieldRateLimited,
             ConnectionError, TimeoutError, "sqlalchemy.exc.OperationalError"]

try:
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule
except ImportError:  # Airflow 3.2
    RETRY_ARGS: dict[str, Any] = {}
else:
    RETRY_ARGS = {
        "retry_policy": ExceptionRetryPolicy(
            rules=[RetryRule(exception=TRANSIENT, action=RetryAction.RETRY,
                             reason="transient: the service or the state database may answer later")],
            default=RetryAction.FAIL,
        )
    }
