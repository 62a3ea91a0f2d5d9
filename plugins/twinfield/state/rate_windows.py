"""The requests each rate-limited client sent or may send in its current window (table ``rate_claims``).

One row per holder (a hook instance) and integration: ``sent_at`` is a JSON array of wall-clock moments
(seconds since the epoch) at or before which each counted request left, including slots claimed ahead (at the
end of their lease). A holder writes its row before it sends, so a holder killed at any moment leaves a row
that never undercounts it; a new holder counts every row of its integration.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from twinfield.state.db import StateStore


def load(store: StateStore, name: str, *, newer_than: float) -> list[float]:
    """Every holder's moments under ``name`` later than ``newer_than``, oldest first."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT sent_at FROM rate_claims WHERE name = :n AND last_at > :t"), {"n": name, "t": newer_than}
        ).all()
    return sorted(t for row in rows for t in json.loads(row.sent_at) if t > newer_than)


def record(store: StateStore, name: str, holder: str, sent_at: list[float], *, older_than: float) -> None:
    """Replace ``holder``'s moments under ``name`` with ``sent_at``, and clear the rows (any holder's) whose
    moments are all at or before ``older_than``: they left the window."""
    moments = [round(t, 3) for t in sent_at]
    with store.begin() as conn:
        conn.execute(text("DELETE FROM rate_claims WHERE name = :n AND last_at <= :t"), {"n": name, "t": older_than})
        if moments:
            conn.execute(
                text(
                    "INSERT INTO rate_claims (name, holder, sent_at, last_at) VALUES (:n, :h, :s, :l)"
                    " ON CONFLICT (name, holder) DO UPDATE SET sent_at = excluded.sent_at, last_at = excluded.last_at"
                ),
                {"n": name, "h": holder, "s": json.dumps(moments), "l": max(moments)},
            )
        else:
            conn.execute(text("DELETE FROM rate_claims WHERE name = :n AND holder = :h"), {"n": name, "h": holder})
