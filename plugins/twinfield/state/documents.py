"""Staged Focus documents per run, and the validation outcome per document and run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text

from twinfield.domain.batching import SQL_PARAMETERS, chunked
from twinfield.domain.twinfield_model import SalesTransaction
from twinfield.state.db import StateStore
from twinfield.state.encoding import dumps, loads, now, transaction_from_json, transaction_to_json
from twinfield.state.queries import query


@dataclass(frozen=True)
class StagedDocument:
    kind: str  # "invoice" | "credit_note"
    focus_id: str
    focus_number: str
    updated_at: str | None
    raw: dict  # the info answer; amounts as Decimal (or decimal strings)
    content_hash: str


@dataclass(frozen=True)
class ValidationOutcome:
    kind: str
    focus_id: str
    focus_number: str
    focus_link: str
    content_hash: str
    reasons: tuple[str, ...] = ()
    waiting: bool = False  # held back only until Focus books or sends it
    office: str = ""  # the Twinfield office it books into ("" when its department is not routed)
    transaction: SalesTransaction | None = field(default=None)

    @property
    def valid(self) -> bool:
        return self.transaction is not None and not self.reasons


def clear_staged(store: StateStore, run_id: str) -> None:
    """Forget what an earlier try of the same run staged."""
    with store.begin() as conn:
        conn.execute(text("DELETE FROM staged_documents WHERE run_id = :r"), {"r": run_id})


def add_staged(store: StateStore, run_id: str, documents: Iterable[StagedDocument]) -> int:
    """Stage documents for the run (a batch at a time: a large run never holds them all in memory)."""
    rows = [
        {
            "run_id": run_id,
            "kind": d.kind,
            "focus_id": d.focus_id,
            "focus_number": d.focus_number,
            "updated_at": d.updated_at,
            "raw_json": dumps(d.raw),
            "content_hash": d.content_hash,
            "staged_at": now(),
        }
        for d in documents
    ]
    if rows:
        with store.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO staged_documents (run_id, kind, focus_id, focus_number, updated_at, raw_json,"
                    " content_hash, staged_at) VALUES (:run_id, :kind, :focus_id, :focus_number, :updated_at,"
                    " :raw_json, :content_hash, :staged_at)"
                ),
                rows,
            )
    return len(rows)


def staged(store: StateStore, run_id: str, kind: str | None = None) -> Iterator[StagedDocument]:
    """The run's staged documents (of one kind, or all: invoices first), in Focus number order, read from the
    database in batches."""
    sql = (
        "SELECT kind, focus_id, focus_number, updated_at, raw_json, content_hash FROM staged_documents"
        " WHERE run_id = :r"
    )
    if kind is not None:
        sql += " AND kind = :kind"
    with store.begin() as conn:
        rows = conn.execution_options(yield_per=500).execute(
            text(sql + " ORDER BY kind DESC, focus_number, focus_id"), {"r": run_id, "kind": kind}
        )
        for r in rows:
            yield StagedDocument(r.kind, r.focus_id, r.focus_number, r.updated_at, loads(r.raw_json), r.content_hash)


def staged_numbers(store: StateStore, run_id: str) -> dict[tuple[str, str], str]:
    """(kind, Focus id) -> Focus number of the run's staged documents (without their contents)."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT kind, focus_id, focus_number FROM staged_documents WHERE run_id = :r"), {"r": run_id}
        )
        return {(r.kind, r.focus_id): r.focus_number for r in rows}


def unchanged_copies(store: StateStore, kind: str, updated_at: dict[str, str]) -> dict[str, StagedDocument]:
    """Copies staged by earlier runs of documents whose Focus ``updated_at`` is still the same.

    ``updated_at`` maps Focus id -> the list item's updated_at; the answer holds the documents that need no
    new info call.
    """
    ids = [focus_id for focus_id, stamp in updated_at.items() if stamp]
    stamps = text(
        "SELECT focus_id, updated_at, run_id FROM staged_documents WHERE kind = :kind AND focus_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    copies = text(
        "SELECT kind, focus_id, focus_number, updated_at, raw_json, content_hash FROM staged_documents"
        " WHERE run_id = :run AND kind = :kind AND focus_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    by_run: dict[str, list[str]] = {}
    found: dict[str, StagedDocument] = {}
    with store.begin() as conn:
        chosen: set[str] = set()
        for chunk in chunked(ids, SQL_PARAMETERS):
            for r in conn.execute(stamps, {"kind": kind, "ids": chunk}):
                if r.focus_id not in chosen and r.updated_at == updated_at[r.focus_id]:
                    chosen.add(r.focus_id)
                    by_run.setdefault(r.run_id, []).append(r.focus_id)
        for run, run_ids in by_run.items():
            for chunk in chunked(run_ids, SQL_PARAMETERS):
                params = {"run": run, "kind": kind, "ids": chunk}
                for r in conn.execute(copies, params):
                    found[r.focus_id] = StagedDocument(
                        r.kind, r.focus_id, r.focus_number, r.updated_at, loads(r.raw_json), r.content_hash
                    )
    return found


def replace_validation(store: StateStore, run_id: str, outcomes: Iterable[ValidationOutcome]) -> int:
    """Store the run's validation outcomes, replacing an earlier try's."""
    clear_validation(store, run_id)
    return add_validation(store, run_id, outcomes)


def clear_validation(store: StateStore, run_id: str) -> None:
    """Forget what an earlier try of the run's validate recorded."""
    with store.begin() as conn:
        conn.execute(text("DELETE FROM validation_results WHERE run_id = :r"), {"r": run_id})


def add_validation(store: StateStore, run_id: str, outcomes: Iterable[ValidationOutcome]) -> int:
    """Add outcomes of the run's validation (a batch at a time: a large run never holds them all)."""
    rows = [
        {
            "run_id": run_id,
            "kind": o.kind,
            "focus_id": o.focus_id,
            "focus_number": o.focus_number,
            "focus_link": o.focus_link,
            "office": o.office,
            "valid": int(o.valid),
            "reasons": dumps(list(o.reasons)),
            "waiting": int(o.waiting),
            "tx": transaction_to_json(o.transaction) if o.transaction is not None else None,
            "hash": o.content_hash,
        }
        for o in outcomes
    ]
    if rows:
        with store.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO validation_results (run_id, kind, focus_id, focus_number, focus_link, office, valid,"
                    " reasons_json, waiting, transaction_json, content_hash) VALUES (:run_id, :kind,"
                    " :focus_id, :focus_number, :focus_link, :office, :valid, :reasons, :waiting, :tx, :hash)"
                ),
                rows,
            )
    return len(rows)


def focus_links(store: StateStore, run_id: str) -> dict[tuple[str, str], str]:
    """(kind, Focus id) -> the document's Focus link, for the run's validated documents."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT kind, focus_id, focus_link FROM validation_results WHERE run_id = :r"), {"r": run_id}
        )
        return {(r.kind, r.focus_id): r.focus_link for r in rows}


def validation_outcomes(store: StateStore, run_id: str, *, valid: bool | None = None) -> list[ValidationOutcome]:
    sql = (
        "SELECT kind, focus_id, focus_number, focus_link, office, valid, reasons_json, waiting, transaction_json,"
        " content_hash FROM validation_results WHERE run_id = :r"
    )
    if valid is not None:
        sql += " AND valid = :v"
    sql += " ORDER BY kind DESC, focus_number, focus_id"
    with store.begin() as conn:
        rows = conn.execute(text(sql), {"r": run_id, "v": int(bool(valid))}).all()
    return [
        ValidationOutcome(
            kind=r.kind,
            focus_id=r.focus_id,
            focus_number=r.focus_number,
            focus_link=r.focus_link,
            content_hash=r.content_hash,
            reasons=tuple(loads(r.reasons_json)),
            waiting=bool(r.waiting),
            office=r.office,
            transaction=transaction_from_json(r.transaction_json) if r.transaction_json else None,
        )
        for r in rows
    ]


def unbooked(store: StateStore, kind: str) -> list[str]:
    """Focus ids of documents earlier runs saw that Twinfield does not hold (see unbooked_documents.sql)."""
    with store.begin() as conn:
        return [r.focus_id for r in conn.execute(query("unbooked_documents"), {"kind": kind})]
