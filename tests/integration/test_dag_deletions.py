"""Invoices and credit notes deleted in Focus, through the DAG against the sandbox: the run that finds them names
each in its report (once), with what Twinfield holds; a draft is deleted in Twinfield only when the configuration
says so, a final transaction never."""

from __future__ import annotations


import pendulum
import pytest

from sandbox import airflow_env
from tests.integration.world import OFFICE, booked_number
from twinfield.state import deletions, postings, runs

pytestmark = pytest.mark.integration


@pytest.fixture
def world(make_world):
    return make_world(invoices=90, seed=11)


def last_booked(focus, kind: str) -> dict[str, dict]:
    """Department id -> its last booked invoice (or credit note) as Focus holds it now."""
    number_field = "invoice_number" if kind == "invoice" else "credit_note_number"
    records = focus._invoices if kind == "invoice" else focus._credit_notes
    last: dict[str, dict] = {}
    for record in records.values():
        if record[number_field]:
            department = record["department"]["id"]
            key = tuple(int(p) for p in record[number_field].replace(" ", "").split("/"))
            if department not in last or key > last[department][0]:
                last[department] = (key, record)
    return {department: record for department, (_, record) in last.items()}


def delete_last(world, kind: str, departments: dict[str, str], where: str | None = None) -> list[tuple[dict, dict]]:
    """Delete in Focus the last booked document of each department whose Twinfield transaction has status
    ``where`` (any when None), as Focus allows; returns (document, its Twinfield transaction) pairs."""
    focus = world.sandbox.focus
    held = {t["invoicenumber"]: t for t in world.transactions()}
    done = []
    for doc in last_booked(focus, kind).values():
        tx = held.get(booked_number(doc, departments))
        if tx is None or (where and tx["status"] != where):
            continue
        try:
            (focus.delete_invoice if kind == "invoice" else focus.delete_credit_note)(doc["id"])
        except ValueError:  # credited: Focus keeps it
            continue
        done.append((doc, tx))
    return done


def deleted_in_report(report: dict) -> dict[str, dict]:
    return {d["focus_id"]: d for d in report["deleted_in_focus"]}


def test_a_deleted_document_is_reported_once_and_its_draft_deleted_only_when_configured(world, tmp_path, monkeypatch):
    sandbox = world.sandbox
    departments = {d["id"]: d["name"] for d in sandbox.focus.data.departments}
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    assert set(world.states(dagrun).values()) == {"success"} and report["deleted_in_focus"] == []

    gone = delete_last(world, "invoice", departments) + delete_last(world, "credit_note", departments)
    assert {doc.get("invoice_number") is None for doc, _ in gone} == {True, False}  # both kinds
    with pytest.raises(Exception, match="not found"):  # as Focus answers for an id it does not know
        sandbox.focus.invoices_info({"id": next(doc["id"] for doc, _ in gone if doc.get("invoice_number"))})
    transactions_before = world.transactions()

    # A daily run (its window holds none of them) finds them; by default it deletes nothing in Twinfield.
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 2, tz="UTC"), starting_date=None)
    assert set(world.states(dagrun).values()) == {"success"}
    named = deleted_in_report(report)
    assert set(named) == {doc["id"] for doc, _ in gone}
    for doc, tx in gone:
        entry = named[doc["id"]]
        assert entry["twinfield_invoice_number"] == tx["invoicenumber"] and entry["office"] == OFFICE
        assert entry["outcome"] == ("draft_kept" if tx["status"] == "temporary" else "final")
    assert world.transactions() == transactions_before
    markdown = runs.get_report(world.store, dagrun.run_id)[0]
    assert "## Deleted in Focus" in markdown
    assert all(tx["invoicenumber"] in markdown for _, tx in gone)
    assert "delete it there" in markdown

    # Reported once: the next run names none of them again, and leaves them out of reconciliation.
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 3, tz="UTC"), starting_date=None)
    assert set(world.states(dagrun).values()) == {"success"} and report["deleted_in_focus"] == []
    assert not {doc["id"] for doc, _ in gone} & {p.focus_id for p in postings.to_reconcile(world.store)}

    # Configured to delete drafts: the next deleted documents' drafts go, a final transaction stays.
    for name in ("sync.yaml", "vat_codes.yaml"):
        text = (airflow_env.CONFIG.parent / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("delete_drafts_of_deleted_documents: false",
                                                  "delete_drafts_of_deleted_documents: true"), encoding="utf-8")
    monkeypatch.setenv("FOCUS_TWINFIELD_CONFIG", str(tmp_path / "sync.yaml"))
    drafts = delete_last(world, "invoice", departments, where="temporary")
    finals = delete_last(world, "invoice", departments, where="temporary")  # the ones before them ...
    for _, tx in finals:  # ... which the bookkeeper makes final in Twinfield before the next run
        sandbox.twinfield.finalize(tx["office"], tx["daybook"], tx["number"])
    finals = [(doc, {**tx, "status": "final"}) for doc, tx in finals]
    assert drafts and finals, "the data should have departments whose last invoices are drafts in Twinfield"
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 4, tz="UTC"), starting_date=None)
    assert set(world.states(dagrun).values()) == {"success"}
    named = deleted_in_report(report)
    assert {focus_id: d["outcome"] for focus_id, d in named.items()} == {
        **{doc["id"]: "draft_deleted" for doc, _ in drafts}, **{doc["id"]: "final" for doc, _ in finals}}
    left = {t["invoicenumber"]: t for t in world.transactions()}
    assert not {tx["invoicenumber"] for _, tx in drafts} & set(left)
    assert all(left[tx["invoicenumber"]] == tx for _, tx in finals)
    # Its posting is gone (the booked number is free again); the deletion record keeps what it was.
    assert not {("invoice", doc["id"]) for doc, _ in drafts} & set(postings.postings(world.store))
    recorded = {d.focus_id: d for d in deletions.found_in_run(world.store, dagrun.run_id)}
    assert all(recorded[doc["id"]].twinfield_number == tx["number"] for doc, tx in drafts)


def test_a_dry_run_names_deleted_documents_without_deleting_or_recording_them(world, tmp_path, monkeypatch):
    departments = {d["id"]: d["name"] for d in world.sandbox.focus.data.departments}
    dagrun, _ = world.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    for name in ("sync.yaml", "vat_codes.yaml"):
        text = (airflow_env.CONFIG.parent / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("delete_drafts_of_deleted_documents: false",
                                                  "delete_drafts_of_deleted_documents: true"), encoding="utf-8")
    monkeypatch.setenv("FOCUS_TWINFIELD_CONFIG", str(tmp_path / "sync.yaml"))
    drafts = delete_last(world, "invoice", departments, where="temporary")
    assert drafts
    before = world.transactions()

    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 2, tz="UTC"), starting_date=None,
                               dry_run=True)
    assert set(world.states(dagrun).values()) == {"success"}
    assert {focus_id: d["outcome"] for focus_id, d in deleted_in_report(report).items()} == {
        doc["id"]: "would_delete" for doc, _ in drafts}
    assert world.transactions() == before
    assert deletions.found_in_run(world.store, dagrun.run_id) == []

    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 3, tz="UTC"), starting_date=None)
    assert {focus_id: d["outcome"] for focus_id, d in deleted_in_report(report).items()} == {
        doc["id"]: "draft_deleted" for doc, _ in drafts}


def test_a_number_focus_gives_again_after_a_deletion_is_not_taken_for_the_old_draft(world):
    sandbox = world.sandbox
    focus = sandbox.focus
    departments = {d["id"]: d["name"] for d in focus.data.departments}
    world.run(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"))
    drafts_by_department = {}
    for record in focus._invoices.values():
        if record["status"] == "draft":
            drafts_by_department.setdefault(record["department"]["id"], record)
    candidates = [(doc, tx) for doc, tx in delete_last(world, "invoice", departments, where="temporary")
                  if doc["department"]["id"] in drafts_by_department]
    assert candidates, "the data should have a department with a deleted last invoice and a draft"
    old, old_tx = candidates[0]
    world.run(logical_date=pendulum.datetime(2030, 1, 2, tz="UTC"), starting_date=None)  # reports the deletion

    # Focus gives the deleted number to the next invoice it books in that department and year.
    new = focus.book_invoice(drafts_by_department[old["department"]["id"]]["id"],
                             on=pendulum.parse(old["invoice_date"]).date())
    assert new["invoice_number"] == old["invoice_number"]
    focus._invoices[new["id"]]["sent"] = True  # and sends it to the customer
    dagrun, report = world.run(logical_date=pendulum.datetime(2030, 1, 3, tz="UTC"))  # since the starting date
    assert set(world.states(dagrun).values()) == {"success"}
    held = {h["focus_id"]: " ".join(h["reasons"]) for h in report["held_back"]}
    assert "still taken in Twinfield" in held[new["id"]] and old_tx["number"] in held[new["id"]]
    same_number = [t for t in world.transactions() if t["invoicenumber"] == old_tx["invoicenumber"]]
    assert same_number == [old_tx]  # the old draft untouched, nothing recorded for the new invoice as "already there"
    assert ("invoice", new["id"]) not in {k for k, p in postings.postings(world.store).items() if p.status == "posted"}
