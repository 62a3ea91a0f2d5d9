"""Customers (DEB dimensions): listed and found through the Finder, read, created.

Costs: ``list`` one Finder page per 25 customers, plus one ``<read>`` per customer when ``with_details`` (the
default): the Finder's DIM rows carry code and name only, and the VAT number, address and payment terms live
in the dimension itself (1,000 customers: 40 + 1,000 credits; the pipeline keeps its customer links, so it
needs this list once, not per invoice). ``read`` 1 read. ``create`` one write per 25 customers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from twinfield.domain.twinfield.customers import customers_xml, parse_customer, read_dimension_xml
from twinfield.domain.twinfield_model import Customer, ItemResult
from twinfield.errors import TwinfieldError
from twinfield.hooks.twinfield.client import TwinfieldClient

RECENT_MARGIN = dt.timedelta(minutes=10)  # clock difference allowed when asking Finder for recent changes


class Customers:
    def __init__(self, client: TwinfieldClient):
        self.client = client

    def list(self, office: str | None = None, with_details: bool = True) -> list[Customer]:
        """DEB customers of ``office`` that are not hidden: Finder DIM (code, name), then each one read for its
        VAT number, address, IBAN and payment terms (``with_details=False`` skips those reads)."""
        office = self.client.office(office)
        rows = self.client.search("DIM", {"dimtype": "DEB", "office": office}, office)
        if not with_details:
            return [Customer(code=r["code"], name=r["name"], office=office) for r in rows]
        customers = []
        for row in rows:
            customer = self.read(row["code"], office)
            customers.append(customer or Customer(code=row["code"], name=row["name"], office=office))
        return customers

    def read(self, code: str, office: str | None = None) -> Customer | None:
        office = self.client.office(office)
        return parse_customer(self.client.read(read_dimension_xml(office, "DEB", code), office))

    def find(self, name: str, office: str | None = None, *,
             modified_since: dt.datetime | None = None) -> list[Customer]:
        """Customers named exactly ``name``, hidden ones included (Finder on the name field, then a read of
        each); with ``modified_since``, only those Twinfield changed since then (less a margin for clocks)."""
        office = self.client.office(office)
        options = {"dimtype": "DEB", "office": office, "includehidden": "1"}
        if modified_since is not None:
            # In UTC: Twinfield does not say which clock modifiedsince reads; UTC is never later than
            # Amsterdam's, so nothing recent is missed under either reading.
            since = (modified_since - RECENT_MARGIN).astimezone(dt.timezone.utc)
            options["modifiedsince"] = since.strftime("%Y%m%d%H%M%S")
        pattern = "".join("?" if char in "*?" else char for char in name)  # Finder wildcards stand for themselves
        rows = self.client.search("DIM", options, office, pattern=pattern, field=2)
        found = [self.read(r["code"], office) for r in rows if r["name"] == name]
        return [c for c in found if c is not None]

    def create(self, customers: Sequence[Customer], office: str | None = None) -> list[ItemResult]:
        """Create DEB customers; Twinfield numbers each (within the office's code mask) and
        ``ItemResult.number`` is the code it gave. Only new customers: sending a code would write over whatever
        customer holds it, a hidden one included, so a customer with a code is refused here. When a write's
        outcome is unknown, a customer with the same name and VAT number that Twinfield changed since just
        before the write counts as created. Rejections are returned per customer, not raised."""
        if any(c.code for c in customers):
            raise TwinfieldError("create_customers creates new customers only: Twinfield numbers them")
        default = self.client.office(office) if any(not c.office for c in customers) else office

        def write(batch: Sequence[Customer], office: str) -> list[ItemResult]:
            started = dt.datetime.now(dt.timezone.utc)
            return self.client.write_checked(batch, lambda b: customers_xml(b, office), office,
                                             lambda b: self.in_effect(b, office, started))

        return self.client.batched(customers, lambda c: c.office or default, write)

    def in_effect(self, customers: Sequence[Customer], office: str, since: dt.datetime,
                  exclude: Collection[str] = ()) -> dict[int, ItemResult]:
        """Which of ``customers`` Twinfield holds, created or changed since ``since``: same name and VAT
        number, and not one of the codes in ``exclude`` (customers already linked). By position."""
        applied: dict[int, ItemResult] = {}
        taken = set(exclude)
        for pos, customer in enumerate(customers):
            for found in self.find(customer.name, office, modified_since=since):
                if found.code and found.code not in taken and found.vat_number == customer.vat_number:
                    applied[pos] = ItemResult(pos, True, key=found.code, number=found.code)
                    taken.add(found.code)
                    break
        return applied
