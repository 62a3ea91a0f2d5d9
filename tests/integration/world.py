"""A world for DAG tests: one sandbox with seeded data, one state store, runs of the DAG with ``dag.test()``;
and what should happen to each generated document, worked out from the sandbox's raw data with plain rules
(a line without product category, the ledger 8999 Twinfield lacks, the Belgian 6% without a VAT code, a
currency the office does not keep, an invoice not sent yet), independently of the pipeline's code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sandbox import chart
from sandbox.server import Sandbox, SandboxConfig
from twinfield.state import StateStore, runs

OFFICE = "NLA001"
# Every run passes every param: in one process, dag.test() leaves a run's conf in the DAG's Param objects
# (Airflow's process_params sets their values in place), so a dry run would leak into the next run's defaults.
DEFAULTS = {"starting_date": "2020-01-01", "invoice_numbers": None, "dry_run": False, "include_credit_notes": True}
DEPARTMENT_PREFIX = {"Acme Nederland": "", "Acme Belgie": "BE"}


# -- what should happen, from the raw sandbox data -------------------------------------------------------------
@dataclass
class Expected:
    booked: dict[str, dict] = field(default_factory=dict)  # Twinfield invoice number -> Focus document
    held_back: dict[str, list[str]] = field(default_factory=dict)  # Focus number -> words its reasons contain
    waiting: set[str] = field(default_factory=set)  # Focus numbers


def booked_number(doc: dict, departments: dict[str, str]) -> str:
    number = doc.get("invoice_number") or doc["credit_note_number"]
    year, seq = (part.strip() for part in number.split("/"))
    kind = "" if "invoice_number" in doc else "CN"
    return f"{DEPARTMENT_PREFIX[departments[doc['department']['id']]]}{kind}{year}-{seq}"


def expected_outcomes(sb: Sandbox) -> Expected:
    data = sb.focus.data
    departments = {d["id"]: d["name"] for d in data.departments}
    categories = {c["id"]: c["name"] for c in data.product_categories}
    rates = {t["id"]: t["description"] for t in data.tax_rates}
    out = Expected()
    documents = [i for i in data.invoices if i["status"] != "draft"] + list(data.credit_notes)
    for doc in documents:
        number = doc.get("invoice_number") or doc["credit_note_number"]
        words = []
        for group in doc["grouped_lines"]:
            for line in group["line_items"]:
                category = line["product_category"]
                if category is None:
                    words.append("no product category")
                elif categories[category["id"]] == "Legacy services":
                    words.append("8999")
                if rates[line["tax"]["id"]] == "6%":
                    words.append("'6%'")
        if doc["currency"] not in chart.OFFICE_CURRENCIES[OFFICE]:
            words.append(f"currency {doc['currency']}: Twinfield office {OFFICE} has no such currency")
        if words:
            out.held_back[number] = words
        elif not doc.get("sent", True):
            out.waiting.add(number)
        else:
            out.booked[booked_number(doc, departments)] = doc
    return out


# -- a world: one sandbox, one state store, runs of the DAG ------------------------------------------------------
class World:
    def __init__(self, dag, home: Path, invoices: int, seed: int):
        self.dag = dag
        self.sandbox = Sandbox(SandboxConfig(invoices=invoices, seed=seed, focus_rate_limit=100_000,
                                             twinfield_credits_per_minute=100_000)).start()
        os.environ.update(self.sandbox.connections())
        state = home / "state.db"
        os.environ["AIRFLOW_CONN_FOCUS_TWINFIELD_STATE"] = f'{{"conn_type": "sqlite", "host": "{state}"}}'
        self.store = StateStore(f"sqlite:///{state}")
        self.expected = expected_outcomes(self.sandbox)

    def run(self, logical_date=None, **conf):
        """One DAG run (``logical_date`` None: a manual run without one); returns (dag run, report data)."""
        dagrun = self.dag.test(logical_date=logical_date, run_conf={**DEFAULTS, **conf})
        stored = runs.get_report(self.store, dagrun.run_id)
        return dagrun, (stored[1] if stored else None)

    def states(self, dagrun) -> dict[str, str]:
        return {ti.task_id: str(ti.state) for ti in dagrun.get_task_instances()}

    def transactions(self) -> list[dict]:
        return self.sandbox.twinfield.transactions(OFFICE)

    def stop(self):
        self.sandbox.stop()


def focus_total(doc: dict) -> Decimal:
    return doc["total"]["tax_inclusive"]["amount"]
