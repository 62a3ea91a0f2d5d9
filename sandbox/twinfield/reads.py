"""``<read>`` and ``<list>`` requests.

- ``<read><type>dimensions</type><office/><dimtype>DEB|BAS|PNL</dimtype><code/></read>`` -> ``<dimension>``
- ``<read><type>vat</type><office/><code/></read>`` -> ``<vat>`` with its dated ``<percentages>``
- ``<read><type>transaction</type><office/><code>daybook</code><number/></read>`` -> ``<transaction>``
- ``<read><type>browse</type><office/><code>100</code></read>`` -> the browse definition (browse.py)
- ``<list><type>dimensions</type><office/><dimtype/></list>`` -> ``<dimensions office type>`` of
  ``<dimension name shortname>code</dimension>``; ``<list><type>offices</type></list>`` -> ``<offices>``.

Something that does not exist comes back as the expected root element with ``result="0"``, echoing the keys
asked for, the message on the key that failed. An unknown ``type`` echoes the request with ``result="0"``.
"""

from __future__ import annotations

import copy

from lxml import etree

from sandbox.twinfield import browse, dimensions, transactions
from sandbox.twinfield.office import USER_CODE, USER_NAME, World
from sandbox.twinfield.xmltools import child_text, mark, sub, timestamp, ymd

# VAT return groups (Dutch return boxes) per sandbox VAT code: (code, name)
VAT_GROUPS = {
    "VH": ("NL1A", "Leveringen/diensten belast met hoog tarief"),
    "VL": ("NL1B", "Leveringen/diensten belast met laag tarief"),
    "VN": ("NL1E", "Leveringen/diensten belast met 0% of niet bij u belast"),
    "VICP": ("NL3B", "Leveringen naar landen binnen de EU"),
    "VEXP": ("NL3A", "Leveringen naar landen buiten de EU"),
    "IH": ("NL5B", "Voorbelasting"),
    "IL": ("NL5B", "Voorbelasting"),
}


def read(world: World, request: etree._Element) -> etree._Element:
    kind = child_text(request, "type")
    office = world.office(child_text(request, "office"))
    roots = {"dimensions": "dimension", "vat": "vat", "transaction": "transaction", "browse": "browse"}
    if kind not in roots:
        return _unknown_type(request)
    if office is None:
        return _missing(roots[kind], request, "office",
                        f"Administratie '{child_text(request, 'office')}' bestaat niet of u heeft er geen toegang toe.")
    code = child_text(request, "code")
    if kind == "dimensions":
        dimtype = child_text(request, "dimtype")
        if dimtype == "DEB" and code in office.customers:
            return dimensions.render_customer(office, office.customers[code])
        account = office.accounts.get(code)
        if account is not None and account.type == dimtype:
            return dimensions.render_account(office, account)
        return _missing("dimension", request, "code", f"Dimensie {dimtype} {code} bestaat niet.")
    if kind == "vat":
        if code not in office.vatcodes:
            return _missing("vat", request, "code", f"Btw-code {code} bestaat niet.")
        return _render_vat(office.vatcodes[code])
    if kind == "transaction":
        found = office.transactions.get((code, child_text(request, "number")))
        if found is None:
            number = child_text(request, "number")
            return _missing("transaction", request, "number", f"Boeking {code} {number} bestaat niet.")
        return transactions.render(office, found)
    definition = browse.definition(office, code)
    if definition is None:
        return _missing("browse", request, "code", f"Browsecode {code} bestaat niet.")
    return definition


def list_(world: World, request: etree._Element) -> etree._Element:
    kind = child_text(request, "type")
    if kind == "offices":
        root = etree.Element("offices", result="1")
        for office in world.offices.values():
            sub(root, "office", office.code, name=office.name, shortname=office.shortname)
        return root
    if kind != "dimensions":
        return _unknown_type(request)
    office = world.office(child_text(request, "office"))
    dimtype = child_text(request, "dimtype")
    office_code = child_text(request, "office")
    root = etree.Element("dimensions", office=office_code, type=dimtype, result="1")
    if office is None:
        mark(root, "error", f"Administratie '{office_code}' bestaat niet of u heeft er geen toegang toe.")
        return root
    if dimtype == "DEB":
        entries = [(customer.code, customer.name, customer.shortname) for customer in office.customers.values()]
    elif dimtype in ("BAS", "PNL"):
        entries = [(a.code, a.name, a.name[:20]) for a in office.accounts.values() if a.type == dimtype]
    else:
        mark(root, "error", f"Dimensietype '{dimtype}' bestaat niet.")
        return root
    for code, name, shortname in sorted(entries):
        sub(root, "dimension", code, name=name, shortname=shortname)
    return root


def _render_vat(vat) -> etree._Element:
    root = etree.Element("vat", status="active", result="1")
    sub(root, "code", vat.code)
    sub(root, "name", vat.name)
    sub(root, "shortname", vat.code)
    sub(root, "uid", vat.uid)
    sub(root, "created", timestamp(vat.created))
    sub(root, "modified", timestamp(vat.created))
    sub(root, "touched", "0")
    sub(root, "user", USER_CODE, name=USER_NAME, shortname=USER_NAME)
    sub(root, "type", vat.type)
    percentages = sub(root, "percentages")
    for start, percentage, account in vat.percentages:
        element = sub(percentages, "percentage", status="active", inuse="true")
        sub(element, "date", ymd(start))
        sub(element, "percentage", f"{percentage:.9f}")
        sub(element, "created", timestamp(vat.created))
        sub(element, "name", vat.name)
        sub(element, "shortname", vat.code)
        sub(element, "user", USER_CODE, name=USER_NAME, shortname=USER_NAME)
        sub(element, "discountaccount", "", name="", shortname="", dimensiontype="")
        sub(element, "writeoffaccount", "", name="", shortname="", dimensiontype="")
        accounts = sub(element, "accounts")
        entry = sub(accounts, "account", id="1")
        sub(entry, "dim1", account, name="", shortname="", dimensiontype="BAS")
        sub(entry, "groupcountry", "NL", name="Nederland", shortname="")
        sub(entry, "group", VAT_GROUPS.get(vat.code, ("", ""))[0], name=VAT_GROUPS.get(vat.code, ("", ""))[1],
            shortname="")
        sub(entry, "percentage", "100.0")
        sub(entry, "linetype", "vat")
    return root


def _missing(root_tag: str, request: etree._Element, field: str, message: str) -> etree._Element:
    root = etree.Element(root_tag, result="0")
    for child in request:
        if child.tag != "type":
            root.append(copy.deepcopy(child))
    target = root.find(field)
    if target is None:
        target = sub(root, field, "")
    mark(target, "error", message, root)
    return root


def _unknown_type(request: etree._Element) -> etree._Element:
    reply = copy.deepcopy(request)
    mark(reply, "error", f"Onbekend type '{child_text(request, 'type')}' voor {request.tag}.", reply)
    return reply
