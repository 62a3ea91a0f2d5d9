"""List filters of invoices.list and creditNotes.list, checked here because the API silently ignores unknown keys.

The allowed keys are those of the OpenAPI spec (v1.112.0). A typo would otherwise return every document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

INVOICE_FILTERS = frozenset(
    {
        "ids", "term", "invoice_number", "department_id", "deal_id", "project_id", "subscription_id", "status",
        "updated_since", "purchase_order_number", "payment_reference", "invoice_date_after",
        "invoice_date_before", "customer",
    }
)  # fmt: skip
INVOICE_STATUSES = frozenset({"draft", "outstanding", "matched"})

# credit_note_date_before is exclusive (invoice_date_before is inclusive). No status filter: always "booked".
CREDIT_NOTE_FILTERS = frozenset(
    {
        "ids", "department_id", "updated_since", "invoice_id", "project_id", "customer",
        "credit_note_date_after", "credit_note_date_before",
    }
)  # fmt: skip

CUSTOMER_TYPES = frozenset({"company", "contact"})


def invoice_filter(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The ``filter`` object of invoices.list; raises ValueError naming a key or value the API would not take."""
    body = _checked(filters, INVOICE_FILTERS, "invoices.list")
    if "status" in body:
        statuses = [body["status"]] if isinstance(body["status"], str) else list(body["status"])
        unknown = sorted(set(statuses) - INVOICE_STATUSES)
        if unknown:
            raise ValueError(f"invoices.list status {unknown[0]!r} is not one of {sorted(INVOICE_STATUSES)}")
        body["status"] = statuses
    return body


def credit_note_filter(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The ``filter`` object of creditNotes.list; raises ValueError naming a key the API would not take."""
    return _checked(filters, CREDIT_NOTE_FILTERS, "creditNotes.list")


def _checked(filters: Mapping[str, Any], allowed: frozenset[str], endpoint: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in allowed:
            raise ValueError(f"{endpoint} has no filter {key!r}; allowed: {', '.join(sorted(allowed))}")
        if value is None:
            continue
        if key == "customer":
            _check_customer(value, endpoint)
        body[key] = _wire_value(key, value)
    return body


def _check_customer(value: Any, endpoint: str) -> None:
    if not isinstance(value, Mapping) or set(value) != {"type", "id"} or value["type"] not in CUSTOMER_TYPES:
        raise ValueError(f"{endpoint} filter 'customer' must be {{'type': 'company'|'contact', 'id': ...}}")


def _wire_value(key: str, value: Any) -> Any:
    """Dates as YYYY-MM-DD, datetimes as ISO 8601 with their offset (a naive datetime is refused)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"filter {key!r} needs a time zone: {value.isoformat()}")
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if key == "ids":
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError("filter 'ids' must be a list of ids")
        return list(value)
    return value
