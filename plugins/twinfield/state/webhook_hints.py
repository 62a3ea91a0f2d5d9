"""Focus webhook events as hints: recorded by the receiver, taken by the next sync run that they triggered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from twinfield.state.db import StateStore
from twinfield.state.encoding import now


@dataclass(frozen=True)
class Hint:
    event_type: str
    subject_type: str  # "invoice" | "creditNote"
    subject_id: str
    received_at: str


def record(store: StateStore, event_type: str, subject_type: str, subject_id: str) -> Hint:
    hint = Hint(event_type, subject_type, subject_id, now())
    with store.begin() as conn:
        conn.execute(
            text("INSERT INTO webhook_hints (event_type, subject_type, subject_id, received_at) VALUES (:e, :t, :i, :at)"
                 " ON CONFLICT (subject_type, subject_id, received_at) DO NOTHING"),
            {"e": event_type, "t": subject_type, "i": subject_id, "at": hint.received_at},
        )
    return hint


def pending(store: StateStore) -> list[Hint]:
    with store.begin() as conn:
        rows = conn.execute(text("SELECT event_type, subject_type, subject_id, received_at FROM webhook_hints"
                                 " WHERE run_id IS NULL ORDER BY received_at")).all()
    return [Hint(*row) for row in rows]


def take(store: StateStore, run_id: str) -> list[Hint]:
    """The pending hints, now the run's, plus those the run took on an earlier try (a re-run takes the same)."""
    with store.begin() as conn:
        conn.execute(text("UPDATE webhook_hints SET run_id = :r WHERE run_id IS NULL"), {"r": run_id})
        rows = conn.execute(text("SELECT event_type, subject_type, subject_id, received_at FROM webhook_hints"
                                 " WHERE run_id = :r ORDER BY received_at"), {"r": run_id}).all()
    return [Hint(*row) for row in rows]
