"""twinfield_customers_to_focus end to end with ``dag.test()`` against the sandbox, then a sync run that books
on the linked customer: a Twinfield customer Focus lacks is created in Focus and linked; one whose VAT number a
Focus company has is linked, not created; a dry run writes nothing; a re-run changes nothing."""

from __future__ import annotations

import os

import pendulum
import pytest
from sqlalchemy import text

from sandbox import airflow_env
from sandbox.server import Sandbox, SandboxConfig
from twinfield.state import StateStore, customers, runs

pytestmark = pytest.mark.integration

OFFICE = "NLA001"
NEW = {"name": "Zeilmakerij Noordenwind B.V.", "vatnumber": "NL812345670B01", "street": "Havenstraat 12",
       "postcode": "1791 AB", "city": "Den Burg", "country": "NL", "email": "boekhouding@noordenwind.example"}
SYNC_DEFAULTS = {"starting_date": "2020-01-01", "invoice_numbers": None, "dry_run": False,
                 "include_credit_notes": True}


def compact(vat: str) -> str:
    return "".join(ch for ch in vat.upper() if ch.isalnum())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("airflow")
    sb = Sandbox(SandboxConfig(invoices=60, seed=5, focus_rate_limit=100_000,
                               twinfield_credits_per_minute=100_000)).start()
    airflow_env.prepare(home, sb.connections())
    yield sb, StateStore(f"sqlite:///{home / 'state.db'}")
    sb.stop()
    os.environ.clear()
    os.environ.update(saved)


def bookable_company_invoice(sb):
    """A booked EUR invoice of a Focus company with a VAT number that Twinfield does not know yet, whose lines
    all have a product category outside the legacy one, no 6% rate, and that was sent."""
    data = sb.focus.data
    categories = {c["id"]: c["name"] for c in data.product_categories}
    rates = {t["id"]: t["description"] for t in data.tax_rates}
    known_vat = {compact(c["vatnumber"]) for c in sb.twinfield.customers(OFFICE) if c.get("vatnumber")}
    companies = {c["id"]: c for c in data.companies}
    for invoice in data.invoices:
        customer = invoice["invoicee"]["customer"]
        company = companies.get(customer["id"]) if customer["type"] == "company" else None
        lines = [ln for g in invoice["grouped_lines"] for ln in g["line_items"]]
        if (company and company.get("vat_number") and compact(company["vat_number"]) not in known_vat
                and invoice["status"] != "draft" and invoice["currency"] == "EUR" and invoice.get("sent", True)
                and all(ln["product_category"] and categories[ln["product_category"]["id"]] != "Legacy services"
                        and rates[ln["tax"]["id"]] != "6%" for ln in lines)):
            return company, invoice
    raise AssertionError("the generated data should hold such an invoice")


def import_run(dag, **conf):
    dagrun = dag.test(run_conf={"office": OFFICE, **conf})
    [ti] = dagrun.get_task_instances()
    assert str(ti.state) == "success"
    return ti.xcom_pull(task_ids="import_customers")


def links_by_code(store):
    return {link.twinfield_code: link for link in customers.links(store, OFFICE).values()}


def test_import_creates_the_missing_links_the_known_and_the_sync_books_on_it(world):
    sb, store = world
    company, invoice = bookable_company_invoice(sb)
    existing_code = sb.twinfield.add_customer(OFFICE, company["name"] + " (Twinfield)", compact(company["vat_number"]),
                                              country="NL", city="Utrecht")
    new_code = sb.twinfield.add_customer(OFFICE, **NEW)
    dag = airflow_env.load_dag("twinfield_customers_to_focus")
    companies_before = len(sb.focus.companies())

    # A dry run: the plan, nothing written.
    plan = import_run(dag, dry_run=True)
    assert plan["dry_run"] is True and plan["create"] >= 1 and plan["matched_vat_number"] >= 1
    assert sb.focus.calls["companies.add"] == 0 and len(sb.focus.companies()) == companies_before
    assert customers.links(store, OFFICE) == {}

    # The real run: the new customer is created in Focus with its details, the known one linked.
    done = import_run(dag, dry_run=False)
    assert {k: done[k] for k in ("create", "matched_vat_number", "matched_name")} == {
        k: plan[k] for k in ("create", "matched_vat_number", "matched_name")}
    # Hidden (archived) customers are left out: the sync cannot book on them either.
    assert done["customers"] == sum(c["status"] != "hide" for c in sb.twinfield.customers(OFFICE))
    assert all(s["reason"] for s in done["skipped"])
    links = links_by_code(store)
    assert links[existing_code].focus_key == ("company", company["id"])
    assert links[existing_code].matched_by == "vat_number" and links[existing_code].status == "linked"
    [created] = [c for c in sb.focus.companies() if c["name"] == NEW["name"]]
    assert links[new_code].focus_key == ("company", created["id"]) and links[new_code].matched_by == "created"
    assert created["vat_number"] == NEW["vatnumber"]
    assert created["emails"] == [{"type": "invoicing", "email": NEW["email"]}]
    address = {"line_1": NEW["street"], "postal_code": NEW["postcode"], "city": NEW["city"], "country": "NL"}
    assert [(a["type"], {k: a["address"][k] for k in address}) for a in created["addresses"]] == [
        ("primary", address), ("invoicing", address)]
    assert [c for c in sb.focus.companies() if compact(c.get("vat_number", "")) == compact(company["vat_number"])] \
        == [c for c in sb.focus.companies() if c["id"] == company["id"]]  # linked, not created again
    assert len(sb.focus.companies()) == companies_before + done["create"]
    assert sb.focus.calls["companies.add"] == done["create"]

    # Again: everything is linked before; nothing new in Focus.
    again = import_run(dag, dry_run=False)
    assert again["create"] == 0 and again["linked_before"] == done["linked_before"] + done["create"] + \
        done["matched_vat_number"] + done["matched_name"]
    assert len(sb.focus.companies()) == companies_before + done["create"]

    # The sync books the company's invoice on the existing Twinfield customer, through the stored link.
    twinfield_customers = len(sb.twinfield.customers(OFFICE))
    sync = airflow_env.load_dag("focus_twinfield_sync")
    dagrun = sync.test(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"),
                       run_conf={**SYNC_DEFAULTS, "invoice_numbers": [invoice["invoice_number"]]})
    assert {str(ti.state) for ti in dagrun.get_task_instances()} == {"success"}
    resolved = next(e.summary for e in runs.stage_log(store, dagrun.run_id) if e.stage == "resolve_customers")
    assert (resolved["customers"], resolved["linked_before"], resolved["created"]) == (1, 1, 0)
    [booked] = [t for t in sb.twinfield.transactions(OFFICE) if t["customer"] == existing_code]
    assert booked["status"] == "temporary"
    assert len(sb.twinfield.customers(OFFICE)) == twinfield_customers  # no new Twinfield customer
    with store.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM customer_links WHERE office = :o AND focus_id = :i"),
                            {"o": OFFICE, "i": company["id"]}).scalar() == 1
