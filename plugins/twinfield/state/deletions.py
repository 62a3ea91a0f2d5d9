"""Focus documents found deleted in Focus (``focus_deletions``), each recorded once by the run that found it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, text

from twinfield.domain.batching import SQL_PARAMETERS, chunked
from twinfield.domain.deletions import Deletion
from twinfield.state.db import StateStore
from twinfield.state.encoding import now


def to_check(store: StateStore, kind: str) -> list[str]:
    """Focus ids of documents of ``kind`` that Twinfield holds as drafts (or may: an unknown outcome), not yet
    known to be deleted in Focus. Final transactions are not checked: nothing is done to them."""
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT p.focus_id FROM postings p WHERE p.kind = :kind AND p.status IN ('pending', 'posted')"
                " AND NOT EXISTS (SELECT 1 FROM focus_deletions d WHERE d.kind = p.kind AND d.focus_id = p.focus_id)"
                " ORDER BY p.focus_id"
            ),
            {"kind": kind},
        )
        return [r.focus_id for r in rows]


def record(store: StateStore, run_id: str, deletions: Iterable[Deletion]) -> int:
    """Record what the run found (once: a document already recorded keeps its first record) and remove their
    postings, in one transaction. The record keeps where each was booked; without its posting, a number Focus
    gives again to a new document is not taken in the state store (Twinfield itself refuses a second
    transaction with the number while a kept draft or final transaction holds it)."""
    rows = [
        {"kind": d.kind, "focus_id": d.focus_id, "focus_number": d.focus_number, "office": d.office,
         "daybook": d.daybook, "invoice_number": d.invoice_number, "twinfield_number": d.twinfield_number,
         "outcome": d.outcome, "detail": d.detail, "run_id": run_id, "at": now()}
        for d in deletions
    ]
    if not rows:
        return 0
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO focus_deletions (kind, focus_id, focus_number, office, daybook, invoice_number,"
                " twinfield_number, outcome, detail, run_id, detected_at) VALUES (:kind, :focus_id, :focus_number,"
                " :office, :daybook, :invoice_number, :twinfield_number, :outcome, :detail, :run_id, :at)"
                " ON CONFLICT (kind, focus_id) DO NOTHING"
            ),
            rows,
        )
        conn.execute(text("DELETE FROM postings WHERE kind = :kind AND focus_id = :focus_id"),
                     [{"kind": r["kind"], "focus_id": r["focus_id"]} for r in rows])
    return len(rows)


def found_in_run(store: StateStore, run_id: str) -> list[Deletion]:
    """What the run recorded, invoices first, by Focus number."""
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, focus_id, focus_number, office, daybook, invoice_number, twinfield_number, outcome,"
                " detail FROM focus_deletions WHERE run_id = :r ORDER BY kind DESC, focus_number, focus_id"
            ),
            {"r": run_id},
        )
        return [Deletion(r.kind, r.focus_id, r.focus_number, r.outcome, r.office, r.daybook, r.invoice_number,
                         r.twinfield_number, r.detail) for r in rows]


def known_numbers(store: StateStore, kind: str, ids: list[str]) -> dict[str, str]:
    """Focus id -> the Focus number an earlier run validated it under."""
    select = text(
        "SELECT focus_id, focus_number FROM validation_results WHERE kind = :kind AND focus_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found: dict[str, str] = {}
    with store.begin() as conn:
        for chunk in chunked(ids, SQL_PARAMETERS):
            for r in conn.execute(select, {"kind": kind, "ids": chunk}):
                found[r.focus_id] = r.focus_number
    return found


def held_for_deleted(store: StateStore, office: str, daybook: str) -> set[str]:
    """Twinfield numbers of transactions in this daybook that belong to documents deleted in Focus (kept as
    drafts, or final): a new document with the same invoice number is not the one they hold."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT twinfield_number FROM focus_deletions WHERE office = :office AND daybook = :daybook"
                 " AND twinfield_number IS NOT NULL AND outcome <> 'draft_deleted'"),
            {"office": office, "daybook": daybook},
        )
        return {r.twinfield_number for r in rows}
