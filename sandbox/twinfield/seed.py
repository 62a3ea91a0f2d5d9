"""Existing customers, so that resolving Focus companies meets every case the pipeline must handle.

In the default office, from the Focus companies (Teamleader companies.info shape):
- every 4th company that has a VAT number already exists with the same name and VAT number (in ``vatnumber``
  and, where Twinfield keeps it, the invoice address's field4), written compactly (``NL 1234.56.789.B01`` in
  Focus is ``NL123456789B01`` here);
- three other companies exist under their name only (no VAT number on the Twinfield side);
and in every office a couple of unrelated customers and, last, one hidden (archived) customer: it holds the
highest code, so a client numbering customers itself from the highest code Finder shows would land on it.
Codes follow each office's DEB mask and numbering (office.DEB_MASKS). Seeded customers abroad carry collective
account 1310 (the others 1300).
"""

from __future__ import annotations

import re

from sandbox import chart
from sandbox.twinfield.office import Customer, World

UNRELATED = [
    ("Bakkerij De Gouden Korrel", "NL001234567B01", "NL", "Utrecht"),
    ("Van Dijk Installatietechniek B.V.", "", "NL", "Zwolle"),
]

HIDDEN = ("Gesloten Vestiging Archief B.V.", "NL004455667B01", "NL", "Arnhem")


def seed(world: World, companies: list[dict]) -> dict[str, str]:
    """Create the customers; returns {Focus company id: Twinfield code} for the companies seeded."""
    seeded: dict[str, str] = {}
    with world.lock:
        office = world.offices[chart.DEFAULT_OFFICE]
        vat_matched = [c for c in companies if c.get("vat_number")][::4]
        chosen = {id(c) for c in vat_matched}
        name_only = [c for c in companies if id(c) not in chosen][2::7][:3]
        for company, with_vat in [(c, True) for c in vat_matched] + [(c, False) for c in name_only]:
            customer = Customer(office.next_customer_code(), company["name"],
                                vatnumber=_compact(company["vat_number"]) if with_vat else "")
            customer.addresses = _addresses(company, customer.vatnumber)
            if customer.addresses[0]["country"] not in ("", "NL"):  # the bookkeeper keeps them apart
                customer.collective_account = chart.FOREIGN_DEBTORS_ACCOUNT
            office.customers[customer.code] = customer
            seeded[company["id"]] = customer.code
        for target in world.offices.values():
            for name, vatnumber, country, city in UNRELATED:
                customer = Customer(target.next_customer_code(), name, vatnumber=vatnumber)
                customer.addresses = [_address(name, country, city, "", "", "", vatnumber)]
                target.customers[customer.code] = customer
            archived = Customer(target.next_customer_code(), HIDDEN[0], vatnumber=HIDDEN[1], status="hide")
            archived.addresses = [_address(HIDDEN[0], HIDDEN[2], HIDDEN[3], "", "", "", HIDDEN[1])]
            target.customers[archived.code] = archived
    return seeded


def add_customer(world: World, office: str, name: str, vatnumber: str = "", *, street: str = "", postcode: str = "",
                 city: str = "", country: str = "", email: str = "") -> str:
    """One customer with an invoice address, as a bookkeeper enters it; returns its code."""
    with world.lock:
        target = world.offices[office]
        customer = Customer(target.next_customer_code(), name, vatnumber=vatnumber)
        customer.addresses = [_address(name, country, city, postcode, street, email, vatnumber)]
        target.customers[customer.code] = customer
        return customer.code


def _compact(vat_number: str) -> str:
    """A VAT number as a bookkeeper types it into Twinfield: no spaces, dots or dashes, upper case."""
    return re.sub(r"[\s.\-]", "", vat_number).upper()


def _addresses(company: dict, vatnumber: str) -> list[dict]:
    address = next((entry.get("address") or {} for entry in company.get("addresses") or []), {})
    email = next((entry.get("email", "") for entry in company.get("emails") or []), "")
    return [_address(company["name"], address.get("country", ""), address.get("city", ""),
                     address.get("postal_code", ""), address.get("line_1", ""), email, vatnumber)]


def _address(name: str, country: str, city: str, postcode: str, street: str, email: str, vatnumber: str) -> dict:
    """An invoice address; like Twinfield, field2 holds the street and field4 the VAT number."""
    return {"type": "invoice", "default": "true", "name": name, "contact": "", "country": country, "city": city,
            "postcode": postcode, "telephone": "", "telefax": "", "email": email, "field1": "", "field2": street,
            "field3": "", "field4": vatnumber, "field5": "", "field6": ""}
