"""Small lxml helpers shared by the ProcessXml handlers: safe parsing, building, and Twinfield's message marks.

Twinfield reports a problem on the element it concerns (the transaction, its header, a line, or a single
field such as ``<dim1>``) with the attributes ``msgtype`` (error|warning|info), ``msg`` (several messages of
one element joined by ``//``) and ``result="0"``; every ancestor up to the item then also gets
``result="0"``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
_SEVERITY = {"info": 0, "warning": 1, "error": 2}


def parse(text: str | bytes) -> etree._Element:
    """Parse a request document; raises etree.XMLSyntaxError on invalid XML."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return etree.fromstring(data, _PARSER)


def to_string(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def sub(parent: etree._Element, tag: str, text: object = None, **attrs: object) -> etree._Element:
    child = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        child.text = str(text)
    return child


def child_text(element: etree._Element | None, path: str) -> str:
    """Stripped text of the child at ``path``, "" when absent or empty."""
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def mark(element: etree._Element, msgtype: str, msg: str, item: etree._Element | None = None) -> None:
    """Attach a message to ``element`` and set result="0" on it and its ancestors up to ``item``."""
    previous = element.get("msg")
    element.set("msg", f"{previous}//{msg}" if previous else msg)
    current_type = element.get("msgtype")
    if current_type is None or _SEVERITY[msgtype] > _SEVERITY.get(current_type, 0):
        element.set("msgtype", msgtype)
    node: etree._Element | None = element
    while node is not None:
        node.set("result", "0")
        if node is item:
            break
        node = node.getparent()


def parse_amount(text: str) -> Decimal | None:
    """An amount as Twinfield accepts it (dot decimal separator); None when it is not a number."""
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def parse_date(text: str) -> dt.date | None:
    """YYYYMMDD, or None."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def ymd(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def timestamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")
