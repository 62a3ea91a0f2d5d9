"""Existing customers, so that resolving Focus companies meets every case the pipeline must handle.

In the default office, from the Focus companies (Teamleader companies.info shape):
- every 4th company that has a VAT number already exists with the same name and VAT number;
- three other companies exist under their name only (no VAT number on the Twinfield side);
and in every office a couple of unrelated customers. Codes are numbered from 1000 up, as Twinfield does.
"""

from __future__ import annotations

from sandbox import chart
from sandbox.twinfield.office import Customer, World

UNRELATED = [
    ("Bakkerij De Gouden Korrel", "NL001234567B01", "NL", "Utrecht"),
    ("Van Dijk Installatietechniek B.V.", "", "NL", "Zwolle"),
]


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
                                vatnumber=company["vat_number"] if with_vat else "")
            customer.addresses = _addresses(company)
            office.customers[customer.code] = customer
            seeded[company["id"]] = customer.code
        for target in world.offices.values():
            for name, vatnumber, country, city in UNRELATED:
                customer = Customer(target.next_customer_code(), name, vatnumber=vatnumber)
                customer.addresses = [_address(name, country, city, "", "", "")]
                target.customers[customer.code] = customer
    return seeded


def _addresses(company: dict) -> list[dict]:
    for entry in company.get("addresses") or []:
        address = entry.get("address") or {}
        email = next((e.get("email", "") for e in company.get("emails") or []), "")
        return [_address(company["name"], address.get("country", ""), address.get("city", ""),
                         address.get("postal_code", ""), address.get("line_1", ""), email)]
    return []


def _address(name: str, country: str, city: str, postcode: str, street: str, email: str) -> dict:
    return {"type": "invoice", "default": "true", "name": name, "contact": "", "country": country, "city": city,
            "postcode": postcode, "telephone": "", "telefax": "", "email": email, "field1": "", "field2": street,
            "field3": "", "field4": "", "field5": "", "field6": ""}
