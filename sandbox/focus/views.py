"""The shapes Focus answers in: ``*.list`` items are a subset of the stored ``*.info`` records."""

from __future__ import annotations

from sandbox.focus.amounts import ZERO, money

INVOICE_LIST_FIELDS = ("id", "department", "invoice_number", "invoice_date", "status", "due_on", "paid",
                       "paid_at", "sent", "purchase_order_number", "payment_reference", "invoicee", "total",
                       "currency_exchange_rate", "created_at", "updated_at", "web_url", "file", "deal",
                       "project", "delivery_date")
INVOICE_LIST_INVOICEE = ("name", "vat_number", "customer", "for_attention_of")
INVOICE_LIST_TOTAL = ("tax_exclusive", "tax_inclusive", "payable", "taxes", "due")
CREDIT_NOTE_LIST_FIELDS = ("id", "department", "credit_note_number", "credit_note_date", "status", "invoice",
                           "paid", "paid_at", "invoicee", "total", "created_at", "updated_at")
CREDIT_NOTE_LIST_INVOICEE = ("name", "vat_number", "customer")
COMPANY_INFO_ONLY = ("addresses", "remarks", "custom_fields")
CONTACT_INFO_ONLY = ("addresses", "vat_number", "companies", "remarks", "custom_fields")


def _pick(record: dict, keys: tuple[str, ...]) -> dict:
    return {k: record[k] for k in keys if k in record}


def _with_late_fees(total: dict, currency: str) -> dict:
    """``includes=late_fees``: this account charges none, so the due amount is all there is."""
    return {**total, "due_incasso_inclusive": total["due"], "fixed_late_fee": money(ZERO, currency),
            "interest": money(ZERO, currency)}


def invoice_item(invoice: dict, late_fees: bool) -> dict:
    item = _pick(invoice, INVOICE_LIST_FIELDS)
    item["invoicee"] = _pick(invoice["invoicee"], INVOICE_LIST_INVOICEE)
    item["total"] = _pick(invoice["total"], INVOICE_LIST_TOTAL)
    if late_fees:
        item["total"] = _with_late_fees(item["total"], invoice["currency"])
    return item


def invoice_info(invoice: dict, late_fees: bool) -> dict:
    """invoices.info: the record without ``web_url`` (which only invoices.list gives)."""
    info = {k: v for k, v in invoice.items() if k != "web_url"}
    if late_fees:
        info["total"] = _with_late_fees(invoice["total"], invoice["currency"])
    return info


def credit_note_item(note: dict) -> dict:
    item = _pick(note, CREDIT_NOTE_LIST_FIELDS)
    item["invoicee"] = _pick(note["invoicee"], CREDIT_NOTE_LIST_INVOICEE)
    return item


def company_item(company: dict, custom_fields: bool) -> dict:
    return _customer_item(company, COMPANY_INFO_ONLY, custom_fields)


def company_info(company: dict, related_contacts: list[dict] | None) -> dict:
    if related_contacts is None:
        return company
    return {**company, "related_companies": [], "related_contacts": related_contacts}


def contact_item(contact: dict, custom_fields: bool) -> dict:
    return _customer_item(contact, CONTACT_INFO_ONLY, custom_fields)


def _customer_item(record: dict, info_only: tuple[str, ...], custom_fields: bool) -> dict:
    """A company or contact as its list shows it: without the fields only its info has, with its primary
    address, and its custom fields when they were asked for."""
    item = {k: v for k, v in record.items() if k not in info_only}
    item["primary_address"] = _primary_address(record)
    if custom_fields:
        item["custom_fields"] = record["custom_fields"]
    return item


def _primary_address(record: dict) -> dict | None:
    for entry in record["addresses"]:
        if entry["type"] == "primary":
            return entry["address"]
    return None
