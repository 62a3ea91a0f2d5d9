"""Which failures a task retries: transient ones only (services unavailable or rate limited, dropped
connections, a busy state database). Anything else (a rejected configuration, a bug) fails at once."""

from __future__ import annotations

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

from twinfield.errors import FocusRateLimited, FocusUnavailable, TwinfieldRateLimited, TwinfieldUnavailable

TRANSIENT_ONLY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=[FocusUnavailable, FocusRateLimited, TwinfieldUnavailable, TwinfieldRateLimited,
                       ConnectionError, TimeoutError, "sqlalchemy.exc.OperationalError"],
            action=RetryAction.RETRY,
            reason="transient: the service or the state database may answer later",
        ),
    ],
    default=RetryAction.FAIL,
)
