"""Links between Focus customers (company or contact) and Twinfield DEB customers, per office.

A Focus customer has at most one Twinfield customer per office, and a Twinfield customer belongs to at most
one Focus customer (both enforced by the schema). A customer to be created gets its code reserved here
('pending') before it is sent to Twinfield; sending a dimension with that code again only updates it, so a
re-run after a crash never creates a second customer.
"""

from __future__ import annotations

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


def reserve_codes(
    store: StateStore, run_id: str, office: str, customers: list[tuple[str, str]], taken: set[str], first_code: int
) -> list[CustomerLink]:
    """Reserve a new Twinfield code for each Focus customer (type, id), written before creating them.

    Codes are numbers counting up from above ``first_code`` and every code in ``taken`` (Twinfield's own
    customers) or already linked in this office. A customer that already has a link keeps it.
    """
    reserved: list[CustomerLink] = []
    with store.begin() as conn:
        linked = {r.twinfield_code for r in conn.execute(
            text("SELECT twinfield_code FROM customer_links WHERE office = :o"), {"o": office})}
    numeric = [int(c) for c in taken | linked if c.isdigit()]
    next_code = max([first_code - 1, *numeric]) + 1
    for focus_type, focus_id in customers:
        while True:
            code = str(next_code)
            next_code += 1
            try:
                with store.begin() as conn:
                    result = conn.execute(
                        text(
                            "INSERT INTO customer_links (focus_type, focus_id, office, twinfield_code,"
                            " matched_by, status, run_id, linked_at) VALUES (:t, :i, :o, :c, 'created',"
                            " 'pending', :r, :at) ON CONFLICT (focus_type, focus_id, office) DO NOTHING"
                        ),
                        {"t": focus_type, "i": focus_id, "o": office, "c": code, "r": run_id, "at": now()},
                    )
                if result.rowcount == 1:
                    reserved.append(CustomerLink(focus_type, focus_id, office, code, "created", "pending", run_id))
                break
            except IntegrityError:  # the code was taken meanwhile (another run): try the next one
                continue
    return reserved


def confirm(store: StateStore, office: str, codes: list[str]) -> None:
    """The customers with these reserved codes now exist in Twinfield."""
    if not codes:
        return
    with store.begin() as conn:
        conn.execute(
            text(
                "UPDATE customer_links SET status = 'linked', linked_at = :at"
                " WHERE office = :o AND twinfield_code = :c"
            ),
            [{"o": office, "c": c, "at": now()} for c in codes],
        )


def forget_pending(store: StateStore, office: str, codes: list[str]) -> None:
    """Twinfield refused to create these customers: drop their reservations (the next run tries again)."""
    if not codes:
        return
    with store.begin() as conn:
        conn.execute(
            text("DELETE FROM customer_links WHERE office = :o AND twinfield_code = :c AND status = 'pending'"),
            [{"o": office, "c": c} for c in codes],
        )
