"""What is in Twinfield for each Focus document, with the attempt written before every write.

The write protocol of load_drafts:
1. ``mark_attempts``: status 'pending', the content hash being written, the run and time (committed);
2. the write to Twinfield;
3. ``record_posted`` / ``record_rejected`` with the outcome.
A crash between 1 and 3 leaves 'pending' rows: the next try asks Twinfield what it holds for their invoice
numbers before writing again (``record_found``), and updates a draft it finds by its number. What that lookup
misses, Twinfield itself refuses: a new transaction with an invoice number the daybook holds is refused with
the double-invoice-number warning; load_drafts then looks it up and records it (``record_in_twinfield``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, text

from twinfield.domain.batching import SQL_PARAMETERS, chunked
from twinfield.domain.money import format_amount
from twinfield.domain.twinfield_model import SalesTransaction
from twinfield.state.db import StateStore
from twinfield.state.encoding import iso, now
from twinfield.state.queries import query

DocKey = tuple[str, str]  # (kind, focus_id)

_COLUMNS = (
    "kind, focus_id, focus_number, office, daybook, invoice_number, period, customer_code, currency, total, status,"
    " content_hash, twinfield_number, attempt_hash, attempt_run_id, attempts, posted_run_id, last_error,"
    " match_status, paid_amount, open_amount, match_date"
)


@dataclass(frozen=True)
class Posting:
    kind: str
    focus_id: str
    focus_number: str
    office: str
    daybook: str
    invoice_number: str
    period: str  # "YYYY/PP" as Twinfield booked it; "" until Twinfield said
    customer_code: str | None
    currency: str
    total: Decimal
    status: str  # pending | posted | final | rejected | deleted
    content_hash: str | None
    twinfield_number: str | None
    attempt_hash: str | None
    attempt_run_id: str | None
    attempts: int
    posted_run_id: str | None
    last_error: str | None
    match_status: str | None
    paid_amount: Decimal | None
    open_amount: Decimal | None
    match_date: dt.date | None

    @property
    def key(self) -> DocKey:
        return (self.kind, self.focus_id)

    @property
    def target(self) -> tuple[str, str, str]:
        return (self.office, self.daybook, self.invoice_number)


@dataclass(frozen=True)
class Attempt:
    """One document about to be written to Twinfield."""

    kind: str
    focus_id: str
    focus_number: str
    content_hash: str
    transaction: SalesTransaction
    customer_code: str | None
    total: Decimal  # tax-inclusive, positive

    @property
    def key(self) -> DocKey:
        return (self.kind, self.focus_id)


def _posting(r) -> Posting:
    return Posting(
        kind=r.kind,
        focus_id=r.focus_id,
        focus_number=r.focus_number,
        office=r.office,
        daybook=r.daybook,
        invoice_number=r.invoice_number,
        period=r.period,
        customer_code=r.customer_code,
        currency=r.currency,
        total=Decimal(r.total),
        status=r.status,
        content_hash=r.content_hash,
        twinfield_number=r.twinfield_number,
        attempt_hash=r.attempt_hash,
        attempt_run_id=r.attempt_run_id,
        attempts=r.attempts,
        posted_run_id=r.posted_run_id,
        last_error=r.last_error,
        match_status=r.match_status,
        paid_amount=None if r.paid_amount is None else Decimal(r.paid_amount),
        open_amount=None if r.open_amount is None else Decimal(r.open_amount),
        match_date=dt.date.fromisoformat(r.match_date) if r.match_date else None,
    )


def postings(store: StateStore, keys: Iterable[DocKey] | None = None) -> dict[DocKey, Posting]:
    """The postings of the given documents (all postings when ``keys`` is None)."""
    found: dict[DocKey, Posting] = {}
    with store.begin() as conn:
        if keys is None:
            for r in conn.execute(text(f"SELECT {_COLUMNS} FROM postings")):
                found[(r.kind, r.focus_id)] = _posting(r)
            return found
        by_kind: dict[str, list[str]] = {}
        for kind, focus_id in keys:
            by_kind.setdefault(kind, []).append(focus_id)
        select = text(f"SELECT {_COLUMNS} FROM postings WHERE kind = :kind AND focus_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        for kind, ids in by_kind.items():
            for chunk in chunked(ids, SQL_PARAMETERS):
                for r in conn.execute(select, {"kind": kind, "ids": chunk}):
                    found[(r.kind, r.focus_id)] = _posting(r)
    return found


def mark_attempts(store: StateStore, run_id: str, attempts: list[Attempt]) -> None:
    """Write the evidence of a write about to happen (status 'pending'), before it happens. The period is
    Twinfield's to decide: it is recorded from the reply (``record_posted``)."""
    if not attempts:
        return
    rows = [
        {
            "kind": a.kind,
            "focus_id": a.focus_id,
            "focus_number": a.focus_number,
            "office": a.transaction.office,
            "daybook": a.transaction.daybook,
            "invoice_number": a.transaction.invoice_number,
            "period": a.transaction.period,
            "customer_code": a.customer_code,
            "currency": a.transaction.currency,
            "total": format_amount(a.total),
            "hash": a.content_hash,
            "run_id": run_id,
            "at": now(),
        }
        for a in attempts
    ]
    with store.begin() as conn:
        conn.execute(query("mark_posting_attempts"), rows)


def record_posted(store: StateStore, run_id: str, posted: list[tuple[DocKey, str, str, str]]) -> None:
    """Twinfield accepted these writes: (key, Twinfield number, location "temporary" | "final", period booked in;
    "" when the reply did not say, and the period recorded before stays)."""
    if not posted:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET status = CASE WHEN :location = 'final' THEN 'final' ELSE 'posted' END,"
                " content_hash = attempt_hash, twinfield_number = :number, posted_run_id = :run_id,"
                " period = CASE WHEN :period = '' THEN period ELSE :period END,"
                " posted_at = :at, last_error = NULL WHERE kind = :kind AND focus_id = :focus_id"
            ),
            [
                {"kind": k[0], "focus_id": k[1], "number": number, "location": location, "period": period or "",
                 "run_id": run_id, "at": now()}
                for k, number, location, period in posted
            ],
        )


@dataclass(frozen=True)
class InTwinfield:
    """A document Twinfield turned out to hold already, found by its invoice number."""

    key: DocKey
    number: str
    head_status: str  # temporary | final
    period: str
    same_content: bool  # the customer and total we were writing: what Twinfield holds is this attempt


def record_in_twinfield(store: StateStore, found: list[InTwinfield]) -> None:
    """Twinfield holds these documents already (its answer to an earlier write was lost, the state store was
    restored, another installation booked them): record its number, never create them again. When it holds
    other content, ``content_hash`` stays unknown, so that a later run updates the draft (by its number) or
    reports a final transaction as changed."""
    if not found:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET status = CASE WHEN :head = 'final' THEN 'final' ELSE 'posted' END,"
                " twinfield_number = :number, period = CASE WHEN :period = '' THEN period ELSE :period END,"
                " content_hash = CASE WHEN :same = 1 THEN attempt_hash ELSE NULL END, last_error = NULL"
                " WHERE kind = :kind AND focus_id = :focus_id"
            ),
            [{"kind": f.key[0], "focus_id": f.key[1], "number": f.number, "head": f.head_status,
              "period": f.period, "same": int(f.same_content)} for f in found],
        )


def record_rejected(store: StateStore, rejected: list[tuple[DocKey, str]]) -> None:
    """Twinfield refused these writes: (key, its messages). An earlier draft, if any, still stands."""
    if not rejected:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET status = CASE WHEN content_hash IS NULL THEN 'rejected' ELSE 'posted' END,"
                " last_error = :error WHERE kind = :kind AND focus_id = :focus_id"
            ),
            [{"kind": k[0], "focus_id": k[1], "error": error} for k, error in rejected],
        )


def record_found(store: StateStore, found: list[tuple[DocKey, str, str]]) -> None:
    """An unknown outcome resolved by asking Twinfield: it holds (key, number, head status) already.

    Only a final transaction is recorded as such (it is never written again); a draft is simply written
    again, which updates it in place.
    """
    finals = [(k, number) for k, number, status in found if status == "final"]
    if not finals:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET status = 'final', twinfield_number = :number,"
                " content_hash = COALESCE(content_hash, attempt_hash) WHERE kind = :kind AND focus_id = :focus_id"
            ),
            [{"kind": k[0], "focus_id": k[1], "number": number} for k, number in finals],
        )


def record_deleted(store: StateStore, key: DocKey) -> None:
    """The draft was deleted from Twinfield (the document moves to another office, daybook or number)."""
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET status = 'deleted', content_hash = NULL, twinfield_number = NULL"
                " WHERE kind = :kind AND focus_id = :focus_id"
            ),
            {"kind": key[0], "focus_id": key[1]},
        )


def to_reconcile(store: StateStore) -> list[Posting]:
    """Invoices in Twinfield whose payment may still have to reach Focus."""
    with store.begin() as conn:
        return [_posting(r) for r in conn.execute(query("postings_to_reconcile"))]


@dataclass(frozen=True)
class MatchUpdate:
    key: DocKey
    head_status: str  # temporary | final
    match_status: str
    paid_amount: Decimal  # positive, what the customer paid of the invoice
    open_amount: Decimal
    match_date: dt.date | None
    period: str = ""  # as Twinfield booked it ("": keep the one recorded)


def record_matches(store: StateStore, updates: list[MatchUpdate]) -> None:
    """What Twinfield shows about these invoices' payment, and whether they became final."""
    if not updates:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET match_status = :ms, paid_amount = :paid, open_amount = :open,"
                " match_date = :md, checked_at = :at, period = CASE WHEN :period = '' THEN period ELSE :period END,"
                " status = CASE WHEN :head = 'final' AND status = 'posted' THEN 'final' ELSE status END"
                " WHERE kind = :kind AND focus_id = :focus_id"
            ),
            [
                {"kind": u.key[0], "focus_id": u.key[1], "ms": u.match_status, "paid": str(u.paid_amount),
                 "open": str(u.open_amount), "md": iso(u.match_date), "head": u.head_status, "at": now(),
                 "period": u.period}
                for u in updates
            ],
        )


def posted_in_run(store: StateStore, run_id: str) -> list[Posting]:
    with store.begin() as conn:
        rows = conn.execute(
            text(f"SELECT {_COLUMNS} FROM postings WHERE posted_run_id = :r ORDER BY kind DESC, invoice_number"),
            {"r": run_id},
        )
        return [_posting(r) for r in rows]


def refused_in_run(store: StateStore, run_id: str) -> list[Posting]:
    """Documents whose write in this run Twinfield refused (``last_error`` holds its messages)."""
    with store.begin() as conn:
        rows = conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM postings WHERE attempt_run_id = :r AND last_error IS NOT NULL"
                " ORDER BY kind DESC, invoice_number"
            ),
            {"r": run_id},
        )
        return [_posting(r) for r in rows]
