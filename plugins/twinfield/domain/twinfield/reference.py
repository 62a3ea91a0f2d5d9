"""Reference data in Twinfield's XML: offices and VAT codes (ledger accounts and currencies come from the
Finder, whose rows ``common.finder_records`` reads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from twinfield.domain.money import to_decimal
from twinfield.domain.twinfield.common import parse, parse_date, sub, text, to_xml
from twinfield.domain.twinfield_model import Office, VatCode


def list_offices_xml() -> str:
    root = etree.Element("list")
    sub(root, "type", "offices")
    return to_xml(root)


def read_vat_xml(office: str, code: str) -> str:
    root = etree.Element("read")
    sub(root, "type", "vat")
    sub(root, "office", office)
    sub(root, "code", code)
    return to_xml(root)


def parse_offices(reply: str | bytes) -> list[Office]:
    root = parse(reply)
    return [
        Office(code=text(el), name=el.get("name", ""), extra={"shortname": el.get("shortname", "")})
        for el in root.findall("office")
    ]


def current_percentage(percentages: Iterable[tuple[dt.date, Decimal]], on: dt.date) -> Decimal | None:
    """The percentage valid on ``on``: the newest one dated on or before it."""
    valid = [(date, pct) for date, pct in percentages if date <= on]
    return max(valid)[1] if valid else None


def parse_vat_code(reply: str | bytes, on: dt.date) -> VatCode | None:
    """A ``<read>`` of one VAT code: its type and dated percentages (newest first)."""
    root = parse(reply)
    if root.tag != "vat" or root.get("result") != "1":
        return None
    dated = []
    for el in root.findall("percentages/percentage"):
        date, pct = parse_date(text(el, "date")), text(el, "percentage")
        if date is not None and pct:
            dated.append((date, to_decimal(pct).normalize()))
    dated.sort(reverse=True)
    return VatCode(
        code=text(root, "code"),
        name=text(root, "name"),
        type=text(root, "type"),
        percentage=current_percentage(dated, on),
        percentages=tuple(dated),
    )
