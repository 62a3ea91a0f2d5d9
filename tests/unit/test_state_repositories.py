"""The sync state repositories against a real SQLite file (the same SQL runs on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from twinfield.domain.twinfield_model import DebitCredit, SalesTransaction, TransactionLine
from twinfield.state import StateStore, customers, documents, payments, postings, runs
from twinfield.state.customers import CustomerLink
from twinfield.state.documents import StagedDocument, ValidationOutcome
from twinfield.state.encoding import loads, transaction_from_json, transaction_to_json
from twinfield.state.postings import Attempt, MatchUpdate


@pytest.fixture
def store(tmp_path) -> StateStore:
    return StateStore(f"sqlite:///{tmp_path / 'state.db'}")


def _tx(number: str = "F2025-0012", office: str = "NLA001", total: str = "121.00") -> SalesTransaction:
    return SalesTransaction(
        office=office,
        daybook="VRK",
        currency="EUR",
        date=dt.date(2025, 3, 1),
        invoice_number=number,
        due_date=dt.date(2025, 3, 31),
        lines=(
            TransactionLine("total", "1300", Decimal(total), DebitCredit.DEBIT, dim2="1001"),
            TransactionLine("detail", "8000", Decimal("100.00"), DebitCredit.CREDIT, vatcode="VH",
                            vat_value=Decimal("21.00"), description="Laptop \"Pro\" & dock"),
        ),
    )


def _attempt(focus_id="inv-1", content_hash="h1", **tx) -> Attempt:
    return Attempt("invoice", focus_id, "2025 / 12", content_hash, _tx(**tx), "1001", Decimal("121.00"))


def test_transaction_survives_the_round_trip_exactly():
    tx = _tx()
    assert transaction_from_json(transaction_to_json(tx)) == tx
    assert '"value": "121.00"' in transaction_to_json(tx)


def test_run_log_and_report_are_replaced_on_rerun(store):
    runs.start_run(store, "r1", window_start=dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc),
                   window_end=dt.datetime(2025, 3, 2, tzinfo=dt.timezone.utc), starting_date=None,
                   params={"dry_run": False}, dry_run=False)
    runs.stage_started(store, "r1", "extract")
    runs.stage_finished(store, "r1", "extract", {"found": 3}, {"focus": 5})
    runs.stage_started(store, "r1", "extract")  # the task is cleared and re-run
    runs.stage_finished(store, "r1", "extract", {"found": 4}, {"focus": 6})
    [entry] = runs.stage_log(store, "r1")
    assert (entry.stage, entry.summary, entry.api_calls) == ("extract", {"found": 4}, {"focus": 6})
    assert runs.get_run(store, "r1").window_start == "2025-03-01T00:00:00+00:00"
    runs.save_report(store, "r1", "# one", {"a": 1})
    runs.save_report(store, "r1", "# two", {"a": Decimal("2.50")})
    assert runs.get_report(store, "r1") == ("# two", {"a": "2.50"})


def test_a_failed_stage_keeps_its_error_until_it_is_run_again(store):
    runs.stage_started(store, "r1", "load_drafts")
    runs.stage_failed(store, "r1", "load_drafts", "TwinfieldUnavailable: down", {"twinfield": {"requests": 2}})
    [entry] = runs.stage_log(store, "r1")
    assert (entry.error, entry.summary, entry.api_calls) == ("TwinfieldUnavailable: down", {},
                                                             {"twinfield": {"requests": 2}})
    assert entry.finished_at is not None
    runs.stage_started(store, "r1", "load_drafts")  # the retry
    runs.stage_finished(store, "r1", "load_drafts", {"posted": 1}, {})
    [entry] = runs.stage_log(store, "r1")
    assert (entry.error, entry.summary) == (None, {"posted": 1})


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="time zone"):
        runs.start_run(store, "r1", window_start=dt.datetime(2025, 3, 1), window_end=None, starting_date=None,
                       params={}, dry_run=False)


def test_staging_replaces_a_run_and_finds_unchanged_copies(store):
    doc = StagedDocument("invoice", "inv-1", "2025 / 1", "2025-03-01T10:00:00+00:00",
                         {"total": Decimal("121.00")}, "h1")
    documents.add_staged(store, "r1", [doc, StagedDocument("invoice", "inv-2", "2025 / 2", "t2", {}, "h2")])
    documents.clear_staged(store, "r1")  # the task is re-run
    assert documents.add_staged(store, "r1", [doc]) == 1
    assert [d.focus_id for d in documents.staged(store, "r1")] == ["inv-1"]
    assert next(documents.staged(store, "r1")).raw == {"total": "121.00"}

    copies = documents.unchanged_copies(
        store, "invoice", {"inv-1": "2025-03-01T10:00:00+00:00", "inv-2": "t2", "inv-3": "t3"}
    )
    assert list(copies) == ["inv-1"]  # inv-2 was dropped from r1; inv-3 never staged
    assert documents.unchanged_copies(store, "invoice", {"inv-1": "2025-03-02T09:00:00+00:00"}) == {}


def test_validation_outcomes_keep_every_reason_and_the_transaction(store):
    good = ValidationOutcome("invoice", "inv-1", "2025 / 1", "https://focus/1", "h1", transaction=_tx())
    bad = ValidationOutcome("invoice", "inv-2", "2025 / 2", "https://focus/2", "h2",
                            reasons=("line 1: no ledger account", "tax rate 6% has no VAT code"))
    documents.replace_validation(store, "r1", [good, bad])
    assert [o.focus_id for o in documents.validation_outcomes(store, "r1", valid=True)] == ["inv-1"]
    [held] = documents.validation_outcomes(store, "r1", valid=False)
    assert held.reasons == ("line 1: no ledger account", "tax rate 6% has no VAT code") and not held.valid
    assert documents.validation_outcomes(store, "r1", valid=True)[0].transaction == _tx()


def test_a_twinfield_customer_belongs_to_one_focus_customer(store):
    first = CustomerLink("company", "c1", "NLA001", "1001", "vat_number", "linked", "r1")
    second = CustomerLink("company", "c2", "NLA001", "1001", "name", "linked", "r1")
    assert customers.link_existing(store, "r1", [first, second]) == [first]
    assert set(customers.links(store, "NLA001")) == {("company", "c1")}


def test_a_creation_is_claimed_before_sending_and_replaced_by_its_link(store):
    lease = dt.timedelta(minutes=15)
    claimed = customers.claim_creations(store, "r1", "NLA001", [("company", "c2", "Nieuw BV", "NL123456789B01"),
                                                                ("contact", "p1", "Anna de Vries", "")], lease)
    assert claimed == {("company", "c2"), ("contact", "p1")}
    first = customers.attempts(store, "NLA001")
    assert {key: (a.name, a.vat_number, a.run_id) for key, a in first.items()} == {
        ("company", "c2"): ("Nieuw BV", "NL123456789B01", "r1"), ("contact", "p1"): ("Anna de Vries", "", "r1")}
    assert first[("company", "c2")].attempted_at.tzinfo is not None
    # Another run (overlapping) may not send what r1 is sending: r1's claim is within its lease.
    assert customers.claim_creations(store, "r2", "NLA001", [("company", "c2", "Nieuw B.V.", "NL123456789B01")],
                                     lease) == set()
    assert customers.attempts(store, "NLA001")[("company", "c2")].run_id == "r1"
    # A later try of r1 itself may (Airflow ended the earlier try), and so may r2 once the lease is over.
    assert customers.claim_creations(store, "r1", "NLA001", [("contact", "p1", "Anna de Vries", "")],
                                     lease) == {("contact", "p1")}
    assert customers.claim_creations(store, "r2", "NLA001", [("company", "c2", "Nieuw B.V.", "NL123456789B01")],
                                     dt.timedelta(0)) == {("company", "c2")}
    # It keeps the first attempt's time, so a check in Twinfield looks back far enough.
    again = customers.attempts(store, "NLA001")[("company", "c2")]
    assert (again.name, again.run_id, again.attempted_at) == ("Nieuw B.V.", "r2", first[("company", "c2")].attempted_at)
    assert again.claimed_at >= again.attempted_at
    assert customers.attempts(store, "NLA002") == {}
    # r2's send fails (outcome unknown): the attempt stays as evidence, no longer in flight, so r3 need not wait.
    customers.release_claims(store, "NLA001", [("company", "c2")])
    released = customers.attempts(store, "NLA001")[("company", "c2")]
    assert (released.run_id, released.claimed_at) == ("r2", None)
    assert not released.in_flight_elsewhere("r3", lease, again.claimed_at)
    assert customers.claim_creations(store, "r3", "NLA001", [("company", "c2", "Nieuw B.V.", "")],
                                     lease) == {("company", "c2")}

    customers.link_created(store, "r2", "NLA001", [("company", "c2", "1042")])
    customers.forget_attempts(store, "NLA001", [("contact", "p1")])
    assert customers.attempts(store, "NLA001") == {}
    link = customers.links(store, "NLA001")[("company", "c2")]
    assert (link.twinfield_code, link.matched_by, link.status) == ("1042", "created", "linked")
    # A linked customer is never claimed again, whoever asks.
    assert customers.claim_creations(store, "r3", "NLA001", [("company", "c2", "Nieuw B.V.", "")], lease) == set()


def test_posting_protocol_leaves_evidence_and_keeps_the_last_good_draft(store):
    postings.mark_attempts(store, "r1", [_attempt()])
    pending = postings.postings(store, [("invoice", "inv-1")])[("invoice", "inv-1")]
    assert (pending.status, pending.attempt_hash, pending.content_hash, pending.attempts) == ("pending", "h1", None, 1)

    assert pending.period == ""  # Twinfield decides the period, and says which in its reply
    postings.record_posted(store, "r1", [(("invoice", "inv-1"), "202500017", "temporary", "2025/04")])
    posted = postings.postings(store)[("invoice", "inv-1")]
    assert (posted.status, posted.content_hash, posted.twinfield_number, posted.period) == (
        "posted", "h1", "202500017", "2025/04")

    # The document changed; Twinfield refuses the update: the earlier draft still stands, in its period.
    postings.mark_attempts(store, "r2", [_attempt(content_hash="h2")])
    postings.record_rejected(store, [(("invoice", "inv-1"), "Periode is gesloten")])
    after = postings.postings(store)[("invoice", "inv-1")]
    assert (after.status, after.content_hash, after.attempts, after.last_error, after.period) == (
        "posted", "h1", 2, "Periode is gesloten", "2025/04")

    # A first write refused: nothing in Twinfield.
    postings.mark_attempts(store, "r2", [_attempt("inv-2", number="F2025-0013")])
    postings.record_rejected(store, [(("invoice", "inv-2"), "Relatie bestaat niet")])
    assert postings.postings(store)[("invoice", "inv-2")].status == "rejected"
    assert [p.focus_id for p in postings.posted_in_run(store, "r1")] == ["inv-1"]


def test_booked_numbers_are_unique_per_office_and_daybook(store):
    postings.mark_attempts(store, "r1", [_attempt("inv-1")])
    with pytest.raises(Exception, match="(?i)unique"):
        postings.mark_attempts(store, "r1", [_attempt("inv-2")])


def test_a_document_found_in_twinfield_is_recorded_with_what_it_holds(store):
    postings.mark_attempts(store, "r1", [_attempt(), _attempt("inv-2", number="F2025-0013", content_hash="h2")])
    postings.record_in_twinfield(store, [
        postings.InTwinfield(("invoice", "inv-1"), "202500017", "temporary", "2025/04", same_content=True),
        postings.InTwinfield(("invoice", "inv-2"), "202500018", "final", "2025/05", same_content=False)])
    found = postings.postings(store)
    one, two = found[("invoice", "inv-1")], found[("invoice", "inv-2")]
    assert (one.status, one.twinfield_number, one.content_hash, one.period) == ("posted", "202500017", "h1", "2025/04")
    # other content than we were writing: unknown, so a later run updates the draft or reports the final one
    assert (two.status, two.twinfield_number, two.content_hash, two.period) == ("final", "202500018", None, "2025/05")
    assert postings.posted_in_run(store, "r1") == []  # found, not booked by this run


def test_unknown_outcome_resolved_as_final_is_never_written_again(store):
    postings.mark_attempts(store, "r1", [_attempt()])
    postings.record_found(store, [(("invoice", "inv-1"), "202500017", "final")])
    p = postings.postings(store)[("invoice", "inv-1")]
    assert (p.status, p.twinfield_number, p.content_hash) == ("final", "202500017", "h1")


def test_reconciliation_covers_invoices_until_fully_paid(store):
    postings.mark_attempts(store, "r1", [_attempt()])
    postings.record_posted(store, "r1", [(("invoice", "inv-1"), "202500017", "temporary", "")])
    assert [p.focus_id for p in postings.to_reconcile(store)] == ["inv-1"]
    postings.record_matches(store, [MatchUpdate(("invoice", "inv-1"), "final", "available", Decimal("40.00"),
                                                Decimal("81.00"), None)])
    p = postings.to_reconcile(store)[0]
    assert (p.status, p.paid_amount, p.open_amount) == ("final", Decimal("40.00"), Decimal("81.00"))

    assert payments.claim(store, "r1", "inv-1", paid_total=Decimal("121"), amount=Decimal("81"), currency="EUR",
                          paid_at=dt.date(2025, 4, 2)) == "new"
    payments.mark_registered(store, "inv-1", Decimal("121.00"), Decimal("81.00"))
    assert postings.to_reconcile(store) == []


def test_a_payment_is_claimed_once(store):
    kwargs = dict(paid_total=Decimal("40.00"), amount=Decimal("40.00"), currency="EUR", paid_at=dt.date(2025, 4, 1))
    t0 = dt.datetime(2025, 4, 2, 3, 0, tzinfo=dt.timezone.utc)
    assert payments.claim(store, "r1", "inv-1", at=t0, **kwargs) == "new"
    # Another run while r1's attempt may still be in flight: hands off.
    assert payments.claim(store, "r2", "inv-1", at=t0 + dt.timedelta(minutes=1), **kwargs) == "busy"
    # A later try of r1 (the first one crashed) takes it over at once and must check Focus first.
    assert payments.claim(store, "r1", "inv-1", at=t0 + dt.timedelta(minutes=2), **kwargs) == "retry"
    # Once the lease has run out, another run may take it over.
    assert payments.claim(store, "r2", "inv-1", at=t0 + dt.timedelta(minutes=30), **kwargs) == "retry"
    payments.mark_registered(store, "inv-1", Decimal("40"), Decimal("40"))
    assert payments.claim(store, "r3", "inv-1", **kwargs) == "done"
    assert payments.registered_totals(store, ["inv-1", "inv-2"]) == {"inv-1": Decimal("40.00")}
    assert [p.amount for p in payments.registered_in_run(store, "r2")] == [Decimal("40.00")]


def test_a_released_claim_can_be_made_again(store):
    kwargs = dict(paid_total=Decimal("10.00"), amount=Decimal("10.00"), currency="EUR", paid_at=dt.date(2025, 4, 1))
    assert payments.claim(store, "r1", "inv-1", **kwargs) == "new"
    assert len(payments.pending(store)) == 1
    payments.release(store, "inv-1", Decimal("10.00"))
    assert payments.pending(store) == []
    assert payments.claim(store, "r2", "inv-1", **kwargs) == "new"


def test_json_amounts_come_back_as_decimals():
    assert loads('{"a": 1.10}') == {"a": Decimal("1.10")}


def test_unbooked_documents_are_the_ones_twinfield_does_not_hold(store):
    outcomes = [ValidationOutcome("invoice", f"inv-{i}", f"2025 / {i}", "", f"h{i}",
                                  **({"transaction": _tx(number=f"F-{i}")} if i < 4 else {"reasons": ("no VAT code",)}))
                for i in range(1, 6)]
    documents.replace_validation(store, "r1", outcomes)
    postings.mark_attempts(store, "r1", [_attempt(f"inv-{i}", number=f"F-{i}") for i in (1, 2, 3)])
    postings.record_posted(store, "r1", [(("invoice", "inv-1"), "1", "temporary", "2025/03")])
    postings.record_found(store, [(("invoice", "inv-2"), "2", "final")])
    # inv-3 is still pending (a crash); inv-4 and inv-5 were held back.
    assert documents.unbooked(store, "invoice") == ["inv-3", "inv-4", "inv-5"]
    assert documents.unbooked(store, "credit_note") == []


def test_a_deletion_is_recorded_once_and_leaves_the_checks_retries_and_postings(store):
    from twinfield.state import deletions
    from twinfield.domain.deletions import Deletion

    outcomes = [ValidationOutcome("invoice", f"inv-{i}", f"2025 / {i}", "", f"h{i}", transaction=_tx(number=f"F-{i}"))
                for i in (1, 2, 3)]
    documents.replace_validation(store, "r1", outcomes)
    postings.mark_attempts(store, "r1", [_attempt(f"inv-{i}", number=f"F-{i}") for i in (1, 2, 3)])
    postings.record_posted(store, "r1", [(("invoice", f"inv-{i}"), str(i), "temporary", "") for i in (1, 2)])
    assert deletions.to_check(store, "invoice") == ["inv-1", "inv-2", "inv-3"]  # drafts, and one pending
    assert deletions.known_numbers(store, "invoice", ["inv-3", "inv-9"]) == {"inv-3": "2025 / 3"}

    kept = Deletion("invoice", "inv-1", "2025 / 1", "draft_kept", office="NLA001", invoice_number="F-1")
    removed = Deletion("invoice", "inv-3", "2025 / 3", "nothing_held")
    assert deletions.record(store, "r2", [kept, removed]) == 2
    assert deletions.to_check(store, "invoice") == ["inv-2"]
    assert "inv-3" not in documents.unbooked(store, "invoice")
    assert {p.focus_id for p in postings.to_reconcile(store)} == {"inv-2"}
    assert set(postings.postings(store)) == {("invoice", "inv-2")}  # their booked numbers are free again
    # Recorded once: a later record of the same document keeps the first, and belongs to the first run.
    deletions.record(store, "r3", [Deletion("invoice", "inv-1", "2025 / 1", "final")])
    assert [d.outcome for d in deletions.found_in_run(store, "r2")] == ["draft_kept", "nothing_held"]
    assert deletions.found_in_run(store, "r3") == []
