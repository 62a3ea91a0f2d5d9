"""Requests sent in a rate limit's current window, kept between tasks (table ``rate_windows``).

``sent_at`` is a JSON array of wall-clock moments (seconds since the epoch); only the last window's are kept.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from twinfield.state.db import StateStore


def load(store: StateStore, name: str, *, newer_than: float) -> list[float]:
    """The moments stored under ``name`` that are later than ``newer_than``, oldest first."""
    with store.begin() as conn:
        row = conn.execute(text("SELECT sent_at FROM rate_windows WHERE name = :n"), {"n": name}).first()
    if row is None:
        return []
    return sorted(t for t in json.loads(row.sent_at) if t > newer_than)


def save(store: StateStore, name: str, sent_at: list[float]) -> None:
    """Replace what is stored under ``name`` with ``sent_at``."""
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rate_windows (name, sent_at, updated_at) VALUES (:n, :s, :u)"
                " ON CONFLICT (name) DO UPDATE SET sent_at = excluded.sent_at, updated_at = excluded.updated_at"
            ),
            {"n": name, "s": json.dumps([round(t, 3) for t in sent_at]), "u": datetime.now(UTC).isoformat()},
        )
