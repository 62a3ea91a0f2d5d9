"""Links between Focus customers (company or contact) and Twinfield DEB customers, per office, and the
customers being created.

A Focus customer has at most one Twinfield customer per office, and a Twinfield customer belongs to at most
one Focus customer (both enforced by the schema). Twinfield numbers new customers itself, so a creation is
claimed here (``claim_creations``) before it is sent, and replaced by a link once Twinfield's reply gives the
code (``link_created``); an attempt still recorded at the next run is looked for in Twinfield before anything
is sent again. Runs overlap (a backfill runs several at once): a claim is taken under a lock, and one that
another run took within the lease is that run's creation in flight, never taken over while it lasts (a run
whose send fails releases its claims, keeping the attempts; only a killed run's claim runs out its lease). Links with status 'pending' (a reserved code not yet confirmed) come from earlier versions, which
chose codes themselves; none are written now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from twinfield.state.db import StateStore
from twinfield.state.encoding import now


@dataclass(frozen=True)
class CustomerLink:
    focus_type: str
    focus_id: str
    office: str
    twinfield_code: str
    matched_by: str  # "vat_number" | "name" | "created" (one side made from the other: by the sync in
    # Twinfield, or by the twinfield_customers_to_focus import in Focus)
    status: str  # "pending" | "linked"
    run_id: str

    @property
    def focus_key(self) -> tuple[str, str]:
        return (self.focus_type, self.focus_id)


def links(store: StateStore, office: str) -> dict[tuple[str, str], CustomerLink]:
    """Every link of the office, by (Focus type, Focus id)."""
    with store.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT focus_type, focus_id, office, twinfield_code, matched_by, status, run_id"
                " FROM customer_links WHERE office = :o"
            ),
            {"o": office},
        ).all()
    return {(r.focus_type, r.focus_id): CustomerLink(*r) for r in rows}


def link_existing(store: StateStore, run_id: str, matches: list[CustomerLink]) -> list[CustomerLink]:
    """Record matches to Twinfield customers that already exist; returns the ones recorded.

    A match whose Twinfield code is already linked to another Focus customer is not recorded (the caller
    creates a new customer for it instead).
    """
    recorded = []
    for link in matches:
        try:
            with store.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO customer_links (focus_type, focus_id, office, twinfield_code, matched_by,"
                        " status, run_id, linked_at) VALUES (:t, :i, :o, :c, :m, 'linked', :r, :at)"
                    ),
                    {"t": link.focus_type, "i": link.focus_id, "o": link.office, "c": link.twinfield_code,
                     "m": link.matched_by, "r": run_id, "at": now()},
                )
            recorded.append(CustomerLink(link.focus_type, link.focus_id, link.office, link.twinfield_code,
                                         link.matched_by, "linked", run_id))
        except IntegrityError:
            continue
    return recorded


@dataclass(frozen=True)
class CreationAttempt:
    focus_type: str
    focus_id: str
    office: str
    name: str
    vat_number: str
    run_id: str
    attempted_at: dt.datetime  # the first attempt: a check for it in Twinfield looks back this far
    claimed_at: dt.datetime | None  # the latest claim, by run_id; None once that run let go of it (it failed)

    @property
    def focus_key(self) -> tuple[str, str]:
        return (self.focus_type, self.focus_id)

    def in_flight_elsewhere(self, run_id: str, lease: dt.timedelta, at: dt.datetime) -> bool:
        """Claimed by another run within the lease: that run may be sending it right now. (A claim of the same
        run is an earlier try's, which Airflow ended before this one started; a released claim is a run that
        failed while sending: its outcome is unknown, and any run looks for the customer in Twinfield.)"""
        return self.run_id != run_id and self.claimed_at is not None and at - self.claimed_at < lease


def attempts(store: StateStore, office: str) -> dict[tuple[str, str], CreationAttempt]:
    """Creations recorded in ``office`` whose outcome is not known (no link recorded after them)."""
    with store.begin() as conn:
        return _attempts(conn, office)


def _attempts(conn, office: str) -> dict[tuple[str, str], CreationAttempt]:
    rows = conn.execute(
        text("SELECT focus_type, focus_id, office, name, vat_number, run_id, attempted_at, claimed_at"
             " FROM customer_creations WHERE office = :o"),
        {"o": office},
    ).all()
    return {(r.focus_type, r.focus_id): CreationAttempt(
        *r[:6], dt.datetime.fromisoformat(r.attempted_at),
        dt.datetime.fromisoformat(r.claimed_at) if r.claimed_at else None) for r in rows}


def claim_creations(store: StateStore, run_id: str, office: str, customers: list[tuple[str, str, str, str]],
                    lease: dt.timedelta) -> set[tuple[str, str]]:
    """Before sending: claim the creation of (Focus type, Focus id, name, VAT number) for this run. Returns
    the (type, id) claimed; the others are linked already or in flight in another run (claimed within
    ``lease``), and must not be sent. One claimer at a time per office (``StateStore.locked``). A customer tried
    before keeps its first attempt's time, so a later check looks back far enough."""
    if not customers:
        return set()
    with store.locked(f"customer_creations:{office}") as conn:
        linked = {(r.focus_type, r.focus_id) for r in conn.execute(
            text("SELECT focus_type, focus_id FROM customer_links WHERE office = :o"), {"o": office})}
        stamp = now()
        at = dt.datetime.fromisoformat(stamp)
        busy = {key for key, attempt in _attempts(conn, office).items()
                if attempt.in_flight_elsewhere(run_id, lease, at)}
        mine = [(t, i, n, v) for t, i, n, v in customers if (t, i) not in linked and (t, i) not in busy]
        if mine:
            conn.execute(
                text(
                    "INSERT INTO customer_creations (focus_type, focus_id, office, name, vat_number, run_id,"
                    " attempted_at, claimed_at) VALUES (:t, :i, :o, :n, :v, :r, :at, :at)"
                    " ON CONFLICT (focus_type, focus_id, office) DO UPDATE SET name = excluded.name,"
                    " vat_number = excluded.vat_number, run_id = excluded.run_id, claimed_at = excluded.claimed_at"
                ),
                [{"t": t, "i": i, "o": office, "n": n, "v": v, "r": run_id, "at": stamp} for t, i, n, v in mine],
            )
    return {(t, i) for t, i, _, _ in mine}


def link_created(store: StateStore, run_id: str, office: str, created: list[tuple[str, str, str]]) -> None:
    """Twinfield holds these new customers (Focus type, Focus id, code): link them, their attempts done."""
    if not created:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer_links (focus_type, focus_id, office, twinfield_code, matched_by, status, run_id,"
                " linked_at) VALUES (:t, :i, :o, :c, 'created', 'linked', :r, :at)"
                " ON CONFLICT (focus_type, focus_id, office) DO UPDATE SET twinfield_code = excluded.twinfield_code,"
                " matched_by = 'created', status = 'linked', run_id = excluded.run_id, linked_at = excluded.linked_at"
            ),
            [{"t": t, "i": i, "o": office, "c": code, "r": run_id, "at": now()} for t, i, code in created],
        )
        _forget(conn, office, [(t, i) for t, i, _ in created])


def release_claims(store: StateStore, office: str, keys: list[tuple[str, str]]) -> None:
    """Sending these creations failed (its outcome unknown): keep the attempts as evidence, but no longer in
    flight, so that no other run waits for this one before looking for them in Twinfield."""
    if keys:
        with store.begin() as conn:
            conn.execute(text("UPDATE customer_creations SET claimed_at = NULL"
                              " WHERE office = :o AND focus_type = :t AND focus_id = :i"),
                         [{"o": office, "t": t, "i": i} for t, i in keys])


def forget_attempts(store: StateStore, office: str, keys: list[tuple[str, str]]) -> None:
    """Twinfield refused these creations, or a Focus customer was linked another way: nothing is pending."""
    with store.begin() as conn:
        _forget(conn, office, keys)


def _forget(conn, office: str, keys: list[tuple[str, str]]) -> None:
    if keys:
        conn.execute(text("DELETE FROM customer_creations WHERE office = :o AND focus_type = :t AND focus_id = :i"),
                     [{"o": office, "t": t, "i": i} for t, i in keys])


def drop_pending(store: StateStore, office: str, keys: list[tuple[str, str]]) -> None:
    """Forget reserved codes of earlier versions (status 'pending'): their customers are created anew."""
    if keys:
        with store.begin() as conn:
            conn.execute(
                text("DELETE FROM customer_links WHERE office = :o AND focus_type = :t AND focus_id = :i"
                     " AND status = 'pending'"),
                [{"o": office, "t": t, "i": i} for t, i in keys],
            )
