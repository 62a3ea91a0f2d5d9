"""Customers (DEB dimensions) in Twinfield's XML: the create request, the read request and the read reply."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from twinfield.domain.twinfield.common import check_count, parse, sub, text, to_xml
from twinfield.domain.twinfield_model import Address, Customer


def customer_element(customer: Customer, office: str) -> etree._Element:
    """A DEB ``<dimension>``; without a code Twinfield numbers it. The VAT number goes both in
    ``<vatnumber>`` and in the invoice address's field4 (where older administrations keep it); the company
    registration number likewise in ``<cocnumber>`` and field5 (Twinfield's customer read shows both places);
    the street is field2."""
    el = etree.Element("dimension")
    sub(el, "office", customer.office or office)
    sub(el, "type", "DEB")
    if customer.code:
        sub(el, "code", customer.code)
    sub(el, "name", customer.name)
    if customer.vat_number:
        sub(el, "vatnumber", customer.vat_number)
    if customer.coc_number:
        sub(el, "cocnumber", customer.coc_number)
    if customer.due_days is not None:
        financials = sub(el, "financials")
        sub(financials, "duedays", str(customer.due_days))
    address = customer.address or (Address(name=customer.name) if customer.vat_number or customer.coc_number
                                   else None)
    if address is not None:
        addresses = sub(el, "addresses")
        a = sub(addresses, "address", type="invoice", default="true")
        sub(a, "name", address.name or customer.name)
        # Only what is known: an empty element would wipe what the bookkeeper filled in.
        for tag, value in (("country", address.country), ("city", address.city), ("postcode", address.postcode),
                           ("email", address.email), ("field2", address.street), ("field4", customer.vat_number),
                           ("field5", customer.coc_number)):
            if value:
                sub(a, tag, value)
    if customer.iban:
        banks = sub(el, "banks")
        bank = sub(banks, "bank", default="true")
        sub(bank, "iban", customer.iban)
    return el


def customers_xml(customers: Sequence[Customer], office: str) -> str:
    check_count(customers, "customers")
    root = etree.Element("dimensions")
    for customer in customers:
        root.append(customer_element(customer, office))
    return to_xml(root)


def read_dimension_xml(office: str, dimtype: str, code: str) -> str:
    root = etree.Element("read")
    sub(root, "type", "dimensions")
    sub(root, "office", office)
    sub(root, "dimtype", dimtype)
    sub(root, "code", code)
    return to_xml(root)


def customer_from_element(el: etree._Element) -> Customer:
    """A DEB ``<dimension>`` as read. The VAT number is ``<vatnumber>``, else the invoice address's field4; the
    registration number ``<cocnumber>``, else field5."""
    addresses = el.findall("addresses/address")
    address_el = next(
        (a for a in addresses if a.get("type") == "invoice" and a.get("default") == "true"),
        next((a for a in addresses if a.get("type") == "invoice"), addresses[0] if addresses else None),
    )
    address = None
    if address_el is not None:
        address = Address(
            name=text(address_el, "name"),
            street=text(address_el, "field2"),
            postcode=text(address_el, "postcode"),
            city=text(address_el, "city"),
            country=text(address_el, "country"),
            email=text(address_el, "email"),
        )
    banks = el.findall("banks/bank")
    bank = next((b for b in banks if b.get("default") == "true"), banks[0] if banks else None)
    due_days = text(el, "financials/duedays")
    return Customer(
        code=text(el, "code") or None,
        name=text(el, "name"),
        vat_number=text(el, "vatnumber") or text(address_el, "field4"),
        due_days=int(due_days) if due_days else None,
        address=address,
        iban=text(bank, "iban"),
        office=text(el, "office"),
        coc_number=text(el, "cocnumber") or text(address_el, "field5"),
    )


def parse_customer(reply: str | bytes) -> Customer | None:
    """A ``<read>`` of one DEB dimension; None when Twinfield answered result="0" (no such customer)."""
    root = parse(reply)
    if root.tag != "dimension" or root.get("result") != "1":
        return None
    return customer_from_element(root)
