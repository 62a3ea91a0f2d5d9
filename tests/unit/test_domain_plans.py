"""The stages' pure plans: what a run would write, which a dry run reports and a real run applies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from tests.unit.test_state_plan import TARGET, posting
from twinfield.domain.customers import plan_office
from twinfield.domain.deletions import Deletion, plan_deletions
from twinfield.domain.focus_model import CustomerRef, FocusCustomer
from twinfield.domain.payment_plan import plan_payments
from twinfield.domain.posting_plan import Action, plan_postings, to_check
from twinfield.domain.report import DRAFT_KEPT, FINAL, NOT_BOOKED, NOTHING_HELD, WOULD_DELETE
from twinfield.domain.twinfield_model import Customer


@dataclass(frozen=True)
class Tx:
    office: str = TARGET[0]
    daybook: str = TARGET[1]
    invoice_number: str = TARGET[2]


@dataclass(frozen=True)
class Valid:
    focus_id: str
    content_hash: str
    kind: str = "invoice"
    transaction: Tx = Tx()


def test_posting_plan_writes_what_twinfield_lacks_and_updates_a_changed_draft_by_its_number():
    new, same, changed = Valid("inv-9", "h1"), Valid("inv-1", "h1"), Valid("inv-1", "h2")
    assert to_check([new, same], {("invoice", "inv-1"): posting("posted")}) == []
    plan = plan_postings([new, same], {("invoice", "inv-1"): posting("posted")}, {})
    assert plan.post == [(new, None)] and plan.counts[Action.SKIP.value] == 1 and plan.counts["checked"] == 0

    known = {("invoice", "inv-1"): posting("posted")}
    assert to_check([changed], known) == [known[("invoice", "inv-1")]]
    plan = plan_postings([changed], known, {("invoice", "inv-1"): ("202500001", "temporary")})
    assert plan.post == [(changed, "202500001")] and plan.updates == {("invoice", "inv-1")}
    assert plan.counts["checked"] == 1

    plan = plan_postings([changed], known, {("invoice", "inv-1"): ("202500001", "final")})
    assert plan.post == [] and plan.finals == [(("invoice", "inv-1"), "202500001", "final")]
    assert plan.counts[Action.KEEP_FINAL.value] == 1


def test_payment_plan_registers_what_twinfield_shows_paid_beyond_what_was_registered_never_above_the_total():
    paid = posting("final")
    paid = type(paid)(**{**vars(paid), "paid_amount": Decimal("200.00"), "match_date": dt.date(2026, 3, 2)})
    [due] = plan_payments([paid], {"inv-1": Decimal("21.00")}, dt.date(2026, 3, 9))
    assert (due.paid_total, due.amount) == (Decimal("121.00"), Decimal("100.00"))
    assert due.as_dict() == {"focus_number": "2025 / 12", "currency": "EUR", "paid_at": "2026-03-02",
                             "amount": "100.00"}
    assert plan_payments([paid], {"inv-1": Decimal("121.00")}, dt.date(2026, 3, 9)) == []


def test_deletion_plan_deletes_only_drafts_and_only_when_configured():
    known = {("invoice", "inv-1"): posting("posted"), ("invoice", "inv-2"): posting("posted"),
             ("invoice", "inv-3"): posting("rejected")}
    known[("invoice", "inv-2")] = type(known[("invoice", "inv-2")])(
        **{**vars(known[("invoice", "inv-2")]), "focus_id": "inv-2"})
    held = {("invoice", "inv-1"): ("202500001", "temporary")}
    gone = ["inv-1", "inv-2", "inv-3", "inv-4"]
    outcomes = [d.outcome for d in plan_deletions("invoice", gone, known, {"inv-4": "2025 / 4"}, held, True)]
    assert outcomes == [WOULD_DELETE, NOTHING_HELD, NOT_BOOKED, NOT_BOOKED]
    kept = plan_deletions("invoice", ["inv-1"], known, {}, held, False)
    assert kept == [Deletion("invoice", "inv-1", "2025 / 12", DRAFT_KEPT, "NLA001", "VRK", "2025-12", "202500001")]
    final = plan_deletions("invoice", ["inv-1"], known, {}, {("invoice", "inv-1"): ("202500001", "final")}, True)
    assert final[0].outcome == FINAL


def test_customer_plan_links_matches_creates_the_rest_and_names_what_a_person_must_settle():
    acme = FocusCustomer(CustomerRef("company", "c1"), "Acme BV", vat_number="NL001234567B01", country="NL")
    new = FocusCustomer(CustomerRef("company", "c2"), "Nieuw BV", country="NL")
    missing = CustomerRef("company", "c3")
    plan = plan_office("NLA001", [acme.ref, new.ref, missing], {acme.ref: acme, new.ref: new},
                       [Customer("1001", "Acme B.V.", vat_number="NL001234567B01")])
    assert [(d.ref, d.code) for d in plan.matches] == [(acme.ref, "1001")]
    assert plan.to_create == [new] and plan.unresolved == 0
    assert plan.problems == [{"customer": str(missing), "office": "NLA001",
                              "reason": "Focus does not know it, or answered with data this sync cannot read"}]
