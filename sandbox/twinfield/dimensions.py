"""``<dimension>`` requests (customers, type DEB) and how dimensions are rendered for replies and reads.

Upsert rules: ``office`` and ``type`` are required and must exist / be DEB (other types are not writable in
the sandbox: error on ``type``); ``code`` given -> it must fit the office's DEB mask (else an error on ``code``)
and that customer is created or updated (hidden ones too: Twinfield does not protect them); ``code`` omitted ->
the office numbers it (office.next_customer_code) and the reply carries the code. ``name`` is required on create
and cannot be emptied; ``financials/duedays`` must be a whole number of days (0-999); ``vatnumber`` and an
address's ``field4`` must be a valid VAT number (vatnumbers.py), else an error on that field. Elements that are
absent keep their stored value. An ``address``/``bank`` with an ``id`` changes the stored one with that id (as a
read shows it: addresses 1, 2, ...; banks -1, -2, ...), field by field, what the request leaves out keeping its
value; an unknown id is an error. One without ``id`` is added, as in Twinfield: re-sending a customer with its
address and bank but without their ids piles them up. The VAT number of a relation sits where Twinfield keeps
it, in the invoice address's ``field4``; ``vatnumber`` is stored as given. The reply is the stored dimension (as
a read returns it) with ``result="1"``, or the request echoed with messages (see xmltools.mark).
"""

from __future__ import annotations

import copy

from lxml import etree

from sandbox.twinfield import vatnumbers
from sandbox.twinfield.office import Account, Customer, Office, World, now
from sandbox.twinfield.xmltools import child_text, mark, sub

ADDRESS_FIELDS = ("name", "contact", "country", "city", "postcode", "telephone", "telefax", "email",
                  "field1", "field2", "field3", "field4", "field5", "field6")
BANK_FIELDS = ("ascription", "accountnumber", "bankname", "biccode", "city", "country", "iban", "natbiccode",
               "postcode", "state")
COUNTRY_NAMES = {"NL": "Nederland", "BE": "België", "DE": "Duitsland", "FR": "Frankrijk", "GB": "Verenigd Koninkrijk",
                 "US": "Verenigde Staten"}
TYPE_NAMES = {"DEB": "Debiteuren", "BAS": "Balans", "PNL": "Winst & verlies"}


def process(world: World, request: etree._Element) -> etree._Element:
    reply = copy.deepcopy(request)
    office = world.office(child_text(request, "office"))
    if office is None:
        target = reply.find("office")
        mark(target if target is not None else reply, "error",
             f"Administratie '{child_text(request, 'office')}' bestaat niet of u heeft er geen toegang toe.", reply)
        return reply
    dimtype = child_text(request, "type")
    if dimtype != "DEB":
        target = reply.find("type")
        mark(target if target is not None else reply, "error",
             f"Dimensietype '{dimtype}' kan niet via deze koppeling worden aangemaakt of gewijzigd (alleen DEB).",
             reply)
        return reply
    code = child_text(request, "code")
    if code and not office.fits_mask(code):
        mark(reply.find("code"), "error", f"Code '{code}' voldoet niet aan het codemasker '{office.deb_mask}' van "
             "dimensietype DEB.", reply)
    existing = office.customers.get(code) if code else None
    name = child_text(request, "name")
    if not name and (existing is None or request.find("name") is not None):
        target = reply.find("name")
        mark(target if target is not None else reply, "error", "Naam is verplicht.", reply)
    duedays_text = child_text(request, "financials/duedays")
    if duedays_text and not (duedays_text.isdigit() and int(duedays_text) <= 999):
        mark(reply.find("financials/duedays"), "error", f"Betalingstermijn '{duedays_text}' is ongeldig.", reply)
    vatnumber = child_text(request, "vatnumber")
    if vatnumber and not vatnumbers.valid(vatnumber):
        mark(reply.find("vatnumber"), "error", f"Btw-nummer '{vatnumber}' is ongeldig.", reply)
    for position, element in enumerate(request.findall("addresses/address")):
        field4 = child_text(element, "field4")
        if field4 and not vatnumbers.valid(field4):
            mark(reply.findall("addresses/address")[position].find("field4"), "error",
                 f"Btw-nummer '{field4}' is ongeldig.", reply)
    _check_ids(existing, request, reply)
    if reply.get("result") == "0":
        return reply

    customer = existing or Customer(code or office.next_customer_code(), name)
    _apply(customer, request)
    customer.touched += 1
    customer.modified = now()
    office.customers[customer.code] = customer
    return render_customer(office, customer)


def _apply(customer: Customer, request: etree._Element) -> None:
    for field in ("name", "shortname", "vatnumber", "website", "cocnumber"):
        if request.find(field) is not None:
            setattr(customer, field, child_text(request, field))
    if child_text(request, "financials/duedays"):
        customer.duedays = int(child_text(request, "financials/duedays"))
    if request.find("financials/vatcode") is not None:
        customer.vatcode = child_text(request, "financials/vatcode")
    for element in request.findall("addresses/address"):
        stored = _stored_entry(customer.addresses, element)
        _merge(stored, element, ADDRESS_FIELDS, type=element.get("type") or stored.get("type") or "invoice")
    for element in request.findall("banks/bank"):
        _merge(_stored_entry(customer.banks, element), element, BANK_FIELDS)
    for entries in (customer.addresses, customer.banks):
        chosen = [entry for entry in entries if entry.get("default") == "true"]
        for entry in chosen[:-1]:  # one default per kind: the last one marked
            entry["default"] = "false"


def _position(element: etree._Element) -> int | None:
    """The stored entry an ``id`` names (address id "2" and bank id "-2" are both the second), None without id."""
    value = element.get("id", "").strip()
    if not value:
        return None
    digits = value.lstrip("-")
    return int(digits) if digits.isdigit() else 0


def _check_ids(existing: Customer | None, request: etree._Element, reply: etree._Element) -> None:
    for path, label, entries in (("addresses/address", "Adres", existing.addresses if existing else []),
                                 ("banks/bank", "Bankrekening", existing.banks if existing else [])):
        for element, echoed in zip(request.findall(path), reply.findall(path)):
            position = _position(element)
            if position is not None and not 1 <= position <= len(entries):
                mark(echoed, "error", f"{label} met id {element.get('id')} bestaat niet.", reply)


def _stored_entry(entries: list[dict], element: etree._Element) -> dict:
    """The stored address/bank that ``element`` changes (by ``id``), or a new one, appended, without an id."""
    position = _position(element)
    if position is not None:
        return entries[position - 1]
    entries.append({"default": "false"})
    return entries[-1]


def _merge(stored: dict, element: etree._Element, fields: tuple[str, ...], **attrs: str) -> None:
    """Set the fields the request gives; absent ones keep their value (Twinfield does not wipe them)."""
    stored.update(attrs)
    if element.get("default") is not None:
        stored["default"] = element.get("default")
    for field in fields:
        if element.find(field) is not None:
            stored[field] = child_text(element, field)
        stored.setdefault(field, "")


def render_customer(office: Office, customer: Customer) -> etree._Element:
    """A DEB dimension in the shape of Twinfield's customer read (customerGetResponse)."""
    root = etree.Element("dimension", status=customer.status, result="1")
    sub(root, "office", office.code, name=office.name, shortname=office.shortname)
    sub(root, "type", "DEB", name=TYPE_NAMES["DEB"], shortname=TYPE_NAMES["DEB"])
    sub(root, "name", customer.name)
    sub(root, "shortname", customer.shortname)
    sub(root, "website", customer.website)
    sub(root, "cocnumber", customer.cocnumber)
    sub(root, "vatnumber", customer.vatnumber)
    financials = sub(root, "financials")
    for tag, value in (("matchtype", "customersupplier"), ("duedays", customer.duedays), ("payavailable", "false"),
                       ("meansofpayment", "none"), ("level", "2"), ("accounttype", "inherit"),
                       ("subanalyse", "false"), ("ebilling", "false"), ("relationsreference", ""),
                       ("substitutionlevel", "1"), ("substitutewith", customer.collective_account),
                       ("vatobligatory", "false")):
        sub(financials, tag, value)
    sub(financials, "paycode", "", name="", shortname="")
    sub(financials, "performancetype", "")
    mandate = sub(financials, "collectmandate")
    for tag in ("id", "signaturedate", "firstrundate"):
        sub(mandate, tag, "")
    sub(financials, "collectionschema", "")
    sub(financials, "vatcode", customer.vatcode, name="", shortname="", type="")
    sub(financials, "vattype", "", name="", shortname="")
    validations = sub(financials, "childvalidations")
    sub(validations, "childvalidation", customer.collective_account, type="code", level="1")
    addresses = sub(root, "addresses")
    for index, address in enumerate(customer.addresses, start=1):
        element = sub(addresses, "address", id=index, type=address["type"], default=address["default"])
        for field in ADDRESS_FIELDS:
            if field == "country":
                sub(element, field, address.get(field, ""), name=COUNTRY_NAMES.get(address.get(field, ""), ""),
                    shortname="")
            else:
                sub(element, field, address.get(field, ""))
    banks = sub(root, "banks")
    for index, bank in enumerate(customer.banks, start=1):
        element = sub(banks, "bank", default=bank["default"], id=-index, destination=index)
        for field in BANK_FIELDS:
            sub(element, field, bank.get(field, ""))
        sub(element, "address")
    sub(root, "code", customer.code)
    sub(root, "uid", customer.uid)
    in_use = any(t.total_line is not None and t.total_line.dim2 == customer.code for t in office.transactions.values())
    sub(root, "inuse", "true" if in_use else "false")
    sub(root, "behaviour", "normal")
    sub(root, "touched", customer.touched)
    for tag in ("beginperiod", "beginyear", "endperiod", "endyear"):
        sub(root, tag, "0")
    sub(root, "editdimensionname", "true")
    credit = sub(root, "creditmanagement")
    sub(credit, "responsibleuser", "", name="", shortname="")
    sub(credit, "basecreditlimit", "0.00")
    sub(credit, "sendreminder", "true")
    sub(credit, "reminderemail", "")
    sub(credit, "blocked", "false", locked="false", modified="")
    for tag in ("freetext1", "freetext2", "freetext3", "comment"):
        sub(credit, tag, "")
    return root


def render_account(office: Office, account: Account) -> etree._Element:
    """A BAS/PNL general ledger account as a dimension read returns it."""
    root = etree.Element("dimension", status="active", result="1")
    sub(root, "office", office.code, name=office.name, shortname=office.shortname)
    sub(root, "type", account.type, name=TYPE_NAMES[account.type], shortname=TYPE_NAMES[account.type])
    sub(root, "code", account.code)
    sub(root, "uid", account.uid)
    sub(root, "name", account.name)
    sub(root, "shortname", account.name[:20])
    in_use = any(line.dim1 == account.code for t in office.transactions.values() for line in t.lines)
    sub(root, "inuse", "true" if in_use else "false")
    sub(root, "behaviour", "normal")
    financials = sub(root, "financials")
    sub(financials, "matchtype", "customersupplier" if account.is_debtors else "notmatchable")
    sub(financials, "accounttype", "balance" if account.type == "BAS" else "profitandloss")
    sub(financials, "subanalyse", "true" if account.is_debtors else "false")
    sub(financials, "level", "1")
    sub(financials, "vatcode", "", name="", shortname="", type="")
    return root
