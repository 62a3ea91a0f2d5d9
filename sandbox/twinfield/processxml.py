"""One ProcessXml request document in, one reply document out (the string inside ProcessXmlStringResult).

Request types (the root element): ``transactions``/``transaction``, ``dimensions``/``dimension``, ``read``,
``list`` and ``columns`` (browse data). A collection root answers with the same root carrying
``result="1"`` when every child succeeded and ``result="0"`` when at least one failed, each child carrying its
own result, as Twinfield does.

Rejections of the whole document (decided from the facts in the reference README; Twinfield answers these
with an ordinary reply, not a SOAP fault, and the sandbox follows that):
- not well-formed XML -> ``<error result="0" msgtype="error" msg="Ongeldige XML: ..."/>``;
- an unknown root element -> the root echoed with ``result="0" msgtype="error" msg="Onbekend verzoek..."``;
- more than 25 children under the root -> the root (without its children, none applied) with
  ``result="0"`` and a message naming the limit;
- a transaction of more than 1000 lines -> not a reply at all: HTTP 400 for the whole request, none of it
  applied (``TooManyLines``; the reference says the real service answers so).

Cost for the fair-use budget: transactions and dimensions are writes (3 credits), everything else reads (1).
"""

from __future__ import annotations

from lxml import etree

from sandbox.twinfield import browse, dimensions, reads, transactions
from sandbox.twinfield.office import World
from sandbox.twinfield.xmltools import mark, parse, to_string

MAX_CHILDREN = 25
MAX_LINES = transactions.MAX_LINES
WRITE_ROOTS = {"transactions", "transaction", "dimensions", "dimension"}
COLLECTIONS = {"transactions": "transaction", "dimensions": "dimension"}
WRITE_COST, READ_COST = 3, 1


class TooManyLines(Exception):
    """A transaction of the request has more than 1000 lines: the service answers HTTP 400."""


def parse_request(xml: str | bytes) -> etree._Element | str:
    """The request's root element, or a reply document rejecting XML that is not well-formed."""
    try:
        return parse(xml)
    except etree.XMLSyntaxError as error:
        reply = etree.Element("error", result="0", msgtype="error", msg=f"Ongeldige XML: {error}")
        return to_string(reply)


def cost(request: etree._Element | str) -> int:
    return WRITE_COST if isinstance(request, etree._Element) and request.tag in WRITE_ROOTS else READ_COST


def process(world: World, request: etree._Element, current_office: str) -> str:
    """Apply a parsed request under the world lock; returns the reply document. Raises TooManyLines before
    applying anything when one of its transactions has more than 1000 lines."""
    items = [request] if request.tag == "transaction" else list(request) if request.tag == "transactions" else []
    if any(len(item.findall("lines/line")) > MAX_LINES for item in items if isinstance(item.tag, str)):
        raise TooManyLines()
    with world.lock:
        return to_string(_dispatch(world, request, current_office))


def _dispatch(world: World, root: etree._Element, current_office: str) -> etree._Element:
    if len(root) > MAX_CHILDREN and root.tag in COLLECTIONS:
        reply = etree.Element(root.tag, dict(root.attrib))
        mark(reply, "error", f"Een verzoek mag maximaal {MAX_CHILDREN} elementen bevatten ({len(root)} opgegeven).")
        return reply
    if root.tag in COLLECTIONS:
        reply = etree.Element(root.tag, dict(root.attrib))
        for child in root:
            reply.append(_item(world, child, COLLECTIONS[root.tag]))
        reply.set("result", "1" if all(child.get("result") == "1" for child in reply) else "0")
        return reply
    if root.tag in COLLECTIONS.values():
        return _item(world, root, root.tag)
    if root.tag == "read":
        return reads.read(world, root)
    if root.tag == "list":
        return reads.list_(world, root)
    if root.tag == "columns":
        return browse.data(world, root, current_office)
    reply = etree.Element(root.tag, dict(root.attrib))
    mark(reply, "error", f"Onbekend verzoek '<{root.tag}>'.")
    return reply


def _item(world: World, element: etree._Element, expected: str) -> etree._Element:
    if element.tag == "transaction" == expected:
        return transactions.process(world, element)
    if element.tag == "dimension" == expected:
        return dimensions.process(world, element)
    reply = etree.Element(str(element.tag))
    mark(reply, "error", f"Onverwacht element '<{element.tag}>' in <{expected}s>.")
    return reply
