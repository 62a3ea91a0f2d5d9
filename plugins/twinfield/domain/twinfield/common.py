"""What every Twinfield entity's XML shares: parsing, element helpers, dates, amounts, the per-request cap,
the per-item results of a write and Finder rows.

Builders return the request as a string (what ``ProcessXmlString`` takes); lxml does the escaping. Parsers take
the reply string and never trust its shape more than needed: a missing element gives an empty value, not an
exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from lxml import etree

from twinfield.domain.batching import TWINFIELD_MAX_PER_REQUEST
from twinfield.domain.money import to_decimal
from twinfield.domain.twinfield_model import ItemResult, Message
from twinfield.domain.xml_text import xml_safe

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True)


def to_xml(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def parse(reply: str | bytes) -> etree._Element:
    data = reply.encode("utf-8") if isinstance(reply, str) else reply
    return etree.fromstring(data, _PARSER)


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """Every text and attribute value goes through ``xml_safe``: lxml refuses what XML cannot carry."""
    child = etree.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        child.text = xml_safe(text)
    return child


def text(element: etree._Element | None, path: str = "") -> str:
    """Stripped text of ``element`` (or of its first ``path`` child); "" when absent."""
    if element is None:
        return ""
    found = element.find(path) if path else element
    return (found.text or "").strip() if found is not None else ""


def format_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def parse_date(value: str) -> dt.date | None:
    """Twinfield's YYYYMMDD (reads may append a time: YYYYMMDDhhmmss); None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"not a date (YYYYMMDD): {value!r}") from None


def amount(value: str) -> Decimal | None:
    if not value.strip():
        return None
    result = to_decimal(value)
    if not result.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return result


def check_count(items: Sequence, what: str) -> None:
    """The one place the per-request cap is enforced (the connectors chunk to it first)."""
    if not items:
        raise ValueError(f"no {what} to send")
    if len(items) > TWINFIELD_MAX_PER_REQUEST:
        raise ValueError(f"{len(items)} {what} in one request; Twinfield takes at most {TWINFIELD_MAX_PER_REQUEST}")


# -- replies: per-item results ------------------------------------------------------------------------------
def messages_of(item: etree._Element) -> tuple[Message, ...]:
    """Every message in ``item``, in document order, with the element it sat on and its line."""
    lines = item.findall("lines/line")
    messages: list[Message] = []
    for el in item.iter():
        if not isinstance(el.tag, str) or not el.get("msg"):
            continue
        line = next((a for a in el.iterancestors() if a.tag == "line"), el if el.tag == "line" else None)
        line_id = None
        if line is not None:
            line_id = line.get("id") or (str(lines.index(line) + 1) if line in lines else None)
        for message in el.get("msg").split("//"):
            if message.strip():
                messages.append(Message(el.get("msgtype", "error"), message.strip(), el.tag, line_id))
    return tuple(messages)


def _item_key(item: etree._Element) -> str:
    """What identifies the item: a transaction's invoice number (or number), a dimension's code (or name)."""
    if item.tag == "transaction":
        return text(item, "header/invoicenumber") or text(item, "header/number") or text(item, "number")
    return text(item, "code") or text(item, "name")


def _item_number(item: etree._Element) -> str | None:
    if item.tag == "transaction":
        return text(item, "header/number") or text(item, "number") or None
    return text(item, "code") or None


def item_result(item: etree._Element, index: int) -> ItemResult:
    ok = item.get("result") == "1"
    return ItemResult(
        index=index,
        ok=ok,
        key=_item_key(item),
        number=_item_number(item) if ok else None,
        location=item.get("location"),
        messages=messages_of(item),
        period=text(item, "header/period") if item.tag == "transaction" else "",
    )


def parse_item_results(reply: str | bytes, sent: int, first_index: int = 0) -> list[ItemResult]:
    """Per-child results of a write, in the order sent. A reply with a single item as its root (one
    ``<transaction>``) counts as one child. Children missing from the reply count as failed, with the
    root's own messages (e.g. a request Twinfield refused as a whole)."""
    root = parse(reply)
    items = [root] if root.tag in ("transaction", "dimension") else [c for c in root if isinstance(c.tag, str)]
    results = [item_result(item, first_index + i) for i, item in enumerate(items[:sent])]
    root_messages = tuple(
        Message(root.get("msgtype", "error"), message.strip(), root.tag)
        for message in (root.get("msg") or "").split("//")
        if message.strip()
    ) or (Message("error", "Twinfield returned no result for this item", root.tag),)
    for i in range(len(results), sent):
        results.append(ItemResult(index=first_index + i, ok=False, messages=root_messages))
    return results


# -- Finder rows (the client hands over plain lists of strings) ----------------------------------------------------
def finder_records(items: Iterable[Sequence[str]]) -> list[dict[str, str]]:
    """Finder items as {"code", "name"}, by position: the column titles are in the user's language
    (["Code", "Naam"] for a Dutch user), so they are never read."""
    return [{"code": (item[0] if len(item) > 0 else "") or "", "name": (item[1] if len(item) > 1 else "") or ""}
            for item in items]
