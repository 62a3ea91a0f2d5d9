"""Assets the sync updates, for a data team's own DAGs: schedule them on new bookings or new payments.

The stages declare asset *aliases* as outlets and add an event only when they wrote something (a dry run or a
run that booked nothing adds none), so a downstream DAG never runs for nothing:

- ``load_drafts`` -> alias ``twinfield_sales``: one event per Twinfield office it booked drafts in, on the
  asset ``twinfield_sales_<office>`` (``twinfield://<office>/sales``); extra: run id, booked/updated counts and
  the Twinfield invoice numbers.
- ``update_payments`` -> alias ``focus_payments``: an event on ``focus_invoice_payments``
  (``teamleader-focus://invoices/payments``) when it registered payments; extra: run id and count.

And one asset the sync *schedules on*: ``focus_document_changes`` (``teamleader-focus://documents/changes``),
whose events the webhook receiver (``twinfield.web.webhooks``) adds through Airflow's REST API when Focus
reports an invoice or credit note booked, changed or deleted.

A downstream DAG schedules on ``twinfield_sales_asset("NLA001")``, on ``FOCUS_PAYMENTS``, or on an alias.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.sdk import Asset, AssetAlias

TWINFIELD_SALES = AssetAlias("twinfield_sales", group="focus_twinfield")
PAYMENTS_ALIAS = AssetAlias("focus_payments", group="focus_twinfield")
FOCUS_PAYMENTS = Asset(name="focus_invoice_payments", uri="teamleader-focus://invoices/payments",
                       group="focus_twinfield")
FOCUS_DOCUMENT_CHANGES = Asset(name="focus_document_changes", uri="teamleader-focus://documents/changes",
                               group="focus_twinfield")
MAX_NUMBERS = 100  # invoice numbers in one event's extra; the full list is in the run report


def twinfield_sales_asset(office: str) -> Asset:
    """The sales (draft sales transactions) of one Twinfield office."""
    return Asset(name=f"twinfield_sales_{office}", uri=f"twinfield://{office}/sales", group="focus_twinfield")


def sales_events(run_id: str, booked: Iterable[tuple[str, str, bool]]) -> dict[str, dict[str, Any]]:
    """Office -> event extra, from ``(office, Twinfield invoice number, updated)`` of what was booked."""
    events: dict[str, dict[str, Any]] = {}
    for office, number, updated in sorted(booked):
        extra = events.setdefault(office, {"run_id": run_id, "booked": 0, "updated": 0, "invoice_numbers": []})
        extra["updated" if updated else "booked"] += 1
        if len(extra["invoice_numbers"]) < MAX_NUMBERS:
            extra["invoice_numbers"].append(number)
    return events


def emit_sales(context: Mapping[str, Any], events: dict[str, dict[str, Any]]) -> None:
    """Add one ``twinfield_sales`` event per office (none when nothing was booked)."""
    for office, extra in events.items():
        context["outlet_events"][TWINFIELD_SALES].add(twinfield_sales_asset(office), extra=extra)


def emit_payments(context: Mapping[str, Any], run_id: str, registered: int) -> None:
    """Add a ``focus_payments`` event when payments were registered."""
    if registered:
        context["outlet_events"][PAYMENTS_ALIAS].add(FOCUS_PAYMENTS, extra={"run_id": run_id, "registered": registered})
