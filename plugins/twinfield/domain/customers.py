"""Which Twinfield customer (DEB) each Focus customer is, and what to create for the ones Twinfield lacks.

``match_customers(focus_customers, twinfield_customers, links) -> list[CustomerDecision]``, for one office
(customers are per office in Twinfield; call it once per office with that office's customers and links):

1. a stored link (Focus customer -> Twinfield code) wins, if Twinfield still has that code; a link to a code
   Twinfield no longer lists is *not* silently replaced: the customer is left unresolved for a person;
2. else the VAT number: normalised (spaces, dots, dashes dropped, upper case, country prefix added from the
   address when missing, GR -> EL). One Twinfield customer with it -> matched. Several -> the one among
   them with the same normalised name, else unresolved (a person picks; creating a third would be wrong);
3. else the exact normalised name (Unicode NFKC, case-folded, dots and commas dropped so "B.V." equals "BV",
   whitespace collapsed). Legal forms are *not* stripped: "Acme BV", "Acme NV" and "Acme Holding BV" are
   different legal persons. A name match is refused when both sides have a VAT number and they differ.
   One match -> matched; several -> create a new customer (which of the namesakes it is cannot be told,
   and a wrong customer misbooks receivables, while a new one is merely a duplicate the bookkeeper can merge);
4. else create.

Each Focus customer gets exactly one decision (duplicates in the input are folded), so one run never creates
two Twinfield customers for one Focus customer; across runs, the stored link (recorded right after creation)
and the VAT/name match (which finds a customer created just before a crash) keep it so.

``plan_office(office, refs, focus_customers, twinfield_customers) -> OfficePlan``: for resolve_customers, the
decisions of the Focus customers not linked yet in one office, as links to make, customers to create, and a
problem for each one left to a person.

``to_twinfield_customer(focus_customer, payment_days=30, office="") -> (Customer, note)``: always without a
code (Twinfield numbers new customers itself, within the office's code mask); a VAT number that is not valid
for Twinfield is left out and ``note`` says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from twinfield.domain.focus_model import CustomerRef, FocusCustomer
from twinfield.domain.xml_text import removed_note, xml_safe
from twinfield.domain.twinfield_model import Address, Customer

LINKED = "linked"
MATCHED_VAT = "matched_vat"
MATCHED_NAME = "matched_name"
CREATE = "create"
UNRESOLVED = "unresolved"
MATCHED_BY = {MATCHED_VAT: "vat_number", MATCHED_NAME: "name"}  # how a link records the match that made it


@dataclass(frozen=True)
class CustomerDecision:
    focus: FocusCustomer
    action: str  # LINKED | MATCHED_VAT | MATCHED_NAME | CREATE | UNRESOLVED
    code: str | None  # the Twinfield code for LINKED / MATCHED_*; None for CREATE / UNRESOLVED
    reason: str

    @property
    def ref(self) -> CustomerRef:
        return self.focus.ref


def normalise_vat(vat_number: str, country: str = "") -> str:
    """"be 0899.623.035" -> "BE0899623035"; a bare number gets the address's country prefix."""
    vat = re.sub(r"[\s.\-/]", "", vat_number or "").upper()
    if not vat:
        return ""
    if not re.match(r"^[A-Z]{2}", vat) and country:
        vat = country.upper() + vat
    if vat.startswith("GR"):
        vat = "EL" + vat[2:]
    return vat


# The part after the country prefix, per prefix (EU member states as VIES writes them, GR as EL, plus XI, GB, CH
# and NO). Twinfield refuses a vatnumber that is not one of these forms; a prefix not listed is not accepted.
VAT_FORMATS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-W][A-I]?", "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}",
    "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}",
    "SE": r"\d{12}", "SI": r"\d{8}", "SK": r"\d{10}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}", "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "CH": r"E\d{9}(?:MWST|TVA|IVA)?", "NO": r"\d{9}(?:MVA)?",
}


def vat_number_problem(vat_number: str) -> str | None:
    """Why a normalised VAT number (see normalise_vat) is not valid for Twinfield; None when it is."""
    prefix, rest = vat_number[:2], vat_number[2:]
    if not re.fullmatch(r"[A-Z]{2}", prefix):
        return "it has no country prefix"
    form = VAT_FORMATS.get(prefix)
    if form is None:
        return f"{prefix} is not a country whose VAT numbers Twinfield checks"
    if not re.fullmatch(form, rest):
        return f"it does not have the form of a {prefix} VAT number"
    return None


def normalise_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = re.sub(r"[.,]", "", text)
    return " ".join(text.split())


def _index(customers: Iterable[Customer]):
    by_code, by_vat, by_name = {}, {}, {}
    for c in customers:
        if not c.code:
            continue
        by_code[c.code] = c
        country = c.address.country if c.address else ""
        vat = normalise_vat(c.vat_number, country)
        if vat:
            by_vat.setdefault(vat, []).append(c)
        name = normalise_name(c.name)
        if name:
            by_name.setdefault(name, []).append(c)
    return by_code, by_vat, by_name


def match_customers(focus_customers: Iterable[FocusCustomer], twinfield_customers: Iterable[Customer],
                    links: Mapping[CustomerRef, str]) -> list[CustomerDecision]:
    by_code, by_vat, by_name = _index(twinfield_customers)
    decisions: dict[CustomerRef, CustomerDecision] = {}
    for fc in focus_customers:
        if fc.ref not in decisions:
            decisions[fc.ref] = _decide(fc, links.get(fc.ref), by_code, by_vat, by_name)
    return list(decisions.values())


def _decide(fc: FocusCustomer, linked: str | None, by_code, by_vat, by_name) -> CustomerDecision:
    if linked is not None:
        if linked in by_code:
            return CustomerDecision(fc, LINKED, linked, f"linked earlier to Twinfield customer {linked}")
        return CustomerDecision(fc, UNRESOLVED, None, f"linked earlier to Twinfield customer {linked}, which "
                                "Twinfield no longer lists: restore it or remove the link")
    name = normalise_name(fc.name)
    vat = normalise_vat(fc.vat_number, fc.country)
    if vat and vat in by_vat:
        found = by_vat[vat]
        if len(found) == 1:
            return CustomerDecision(fc, MATCHED_VAT, found[0].code, f"same VAT number {vat}")
        named = [c for c in found if normalise_name(c.name) == name]
        if len(named) == 1:
            return CustomerDecision(fc, MATCHED_VAT, named[0].code, f"same VAT number {vat} and name")
        codes = ", ".join(sorted(c.code for c in found))
        return CustomerDecision(fc, UNRESOLVED, None, f"several Twinfield customers have VAT number {vat} "
                                f"({codes}): link one by hand")
    candidates = [c for c in by_name.get(name, []) if not _vat_conflict(vat, c)]
    if len(candidates) == 1:
        return CustomerDecision(fc, MATCHED_NAME, candidates[0].code, f"same name '{fc.name}'")
    if len(candidates) > 1:
        codes = ", ".join(sorted(c.code for c in candidates))
        return CustomerDecision(fc, CREATE, None, f"several Twinfield customers are named '{fc.name}' ({codes}); "
                                "none can be told to be this one, so a new one is created")
    return CustomerDecision(fc, CREATE, None, "no Twinfield customer with this VAT number or name")


def _vat_conflict(vat: str, customer: Customer) -> bool:
    theirs = normalise_vat(customer.vat_number, customer.address.country if customer.address else "")
    return bool(vat and theirs and vat != theirs)


@dataclass(frozen=True)
class OfficePlan:
    """What resolve_customers writes in one office: ``matches`` (decisions MATCHED_VAT / MATCHED_NAME) to link,
    customers to create, and a problem (customer, office, reason) for each one it cannot settle."""

    office: str
    matches: list[CustomerDecision]
    to_create: list[FocusCustomer]
    problems: list[dict]
    unresolved: int


def plan_office(office: str, refs: Iterable[CustomerRef], focus_customers: Mapping[CustomerRef, FocusCustomer],
                twinfield_customers: Iterable[Customer]) -> OfficePlan:
    """The plan for the Focus customers ``refs`` (not linked yet in ``office``): ``focus_customers`` as Focus
    gave them (a ref missing there is a problem), matched against the office's unlinked ``twinfield_customers``."""
    refs = list(refs)
    decisions = match_customers([focus_customers[ref] for ref in refs if ref in focus_customers],
                                twinfield_customers, {})
    problems = [{"customer": str(ref), "office": office,
                 "reason": "Focus does not know it, or answered with data this sync cannot read"}
                for ref in refs if ref not in focus_customers]
    unresolved = [d for d in decisions if d.action == UNRESOLVED]
    problems += [{"customer": f"{d.focus.name} ({d.ref})", "office": office, "reason": d.reason} for d in unresolved]
    return OfficePlan(office, [d for d in decisions if d.action in MATCHED_BY],
                      [d.focus for d in decisions if d.action == CREATE], problems, len(unresolved))


def to_twinfield_customer(focus_customer: FocusCustomer, payment_days: int = 30,
                          office: str = "") -> tuple[Customer, str | None]:
    """The Twinfield DEB customer to create for a Focus company or contact, and a note when its VAT number had
    to be left out (Twinfield refuses the whole customer over an invalid one).

    Due days: the customer's own Focus payment term when it is "days after invoice date", else ``payment_days``.
    """
    fc = focus_customer
    vat_number = normalise_vat(fc.vat_number, fc.country)
    problem = vat_number_problem(vat_number) if vat_number else None
    notes = [removed_note(what, text) for what, text in (("name", fc.name), ("addressee", fc.addressee),
                                                         ("street", fc.street), ("postcode", fc.postcode),
                                                         ("city", fc.city))]
    if problem:
        notes.append(f"VAT number '{fc.vat_number}' left out of the new Twinfield customer: {problem}")
        vat_number = ""
    note = "; ".join(n for n in notes if n) or None
    address = Address(
        name=xml_safe(fc.addressee or fc.name),
        street=xml_safe(fc.street),
        postcode=xml_safe(fc.postcode),
        city=xml_safe(fc.city),
        country=fc.country.upper(),
        email=fc.email,
    )
    return Customer(
        code=None,
        name=xml_safe(fc.name),
        vat_number=vat_number,
        due_days=fc.payment_days if fc.payment_days is not None else payment_days,
        address=address,
        iban=re.sub(r"\s", "", fc.iban).upper(),
        office=office,
        coc_number=fc.national_identification_number.strip(),
    ), note
