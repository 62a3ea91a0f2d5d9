"""Importing an office's Twinfield customers into Focus: which Focus company each one is, or what to create.

``plan_import(twinfield_customers, focus_companies, links) -> list[ImportDecision]`` (pure), for one office.
Each Twinfield customer gets one decision, decided in passes so that a stronger match is never lost to a
weaker one that happened to come first:

1. a stored link (``links``: Twinfield code -> Focus (type, id), the sync's customer links) keeps it;
   a link to a Focus company that Focus no longer lists is skipped for a person, never replaced;
2. the same VAT number (``normalise_vat``: spacing, dots, country prefix) as exactly one Focus company (of
   several: the one with the same name, else skipped);
3. the same normalised name as exactly one Focus company whose VAT number does not contradict it (several
   namesakes: skipped; guessing would misbook receivables);
4. else the company is created in Focus, unless another Twinfield customer of this import already is, with
   the same VAT number or name (a duplicate in Twinfield: the bookkeeper merges it there).

A Focus company is linked to at most one Twinfield customer per office (the sync's rule), so a company
already linked or matched earlier in the plan is not matched again: that Twinfield customer is skipped.

``company_to_add(customer, office) -> dict`` is the companies.add body for a customer to create.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from twinfield.domain.customers import normalise_name, normalise_vat
from twinfield.domain.twinfield_model import Customer

LINKED = "linked_before"
MATCHED_VAT = "matched_vat_number"
MATCHED_NAME = "matched_name"
CREATE = "create"
SKIP = "skip"
ACTIONS = (LINKED, MATCHED_VAT, MATCHED_NAME, CREATE, SKIP)


@dataclass(frozen=True)
class FocusCompany:
    """A Focus company as companies.list shows it: enough to match on."""

    id: str
    name: str
    vat_number: str = ""
    country: str = ""

    @classmethod
    def from_list_item(cls, item: Mapping) -> FocusCompany:
        address = item.get("primary_address") or {}
        return cls(str(item["id"]), str(item.get("name") or ""), str(item.get("vat_number") or ""),
                   str(address.get("country") or ""))


@dataclass(frozen=True)
class ImportDecision:
    customer: Customer  # the Twinfield customer
    action: str  # one of ACTIONS
    focus_id: str | None  # the Focus company (or contact, for LINKED) it is or becomes; None for CREATE/SKIP
    reason: str
    focus_type: str = "company"


def _vat(customer: Customer) -> str:
    return normalise_vat(customer.vat_number, customer.address.country if customer.address else "")


def plan_import(twinfield_customers: Iterable[Customer], focus_companies: Iterable[FocusCompany],
                links: Mapping[str, tuple[str, str]]) -> list[ImportDecision]:
    customers = sorted({c.code: c for c in twinfield_customers if c.code}.values(), key=lambda c: c.code or "")
    companies = {c.id: c for c in focus_companies}
    by_vat: dict[str, list[FocusCompany]] = {}
    by_name: dict[str, list[FocusCompany]] = {}
    for company in companies.values():
        vat = normalise_vat(company.vat_number, company.country)
        if vat:
            by_vat.setdefault(vat, []).append(company)
        by_name.setdefault(normalise_name(company.name), []).append(company)
    claimed: dict[str, str] = {focus_id: code for code, (kind, focus_id) in links.items() if kind == "company"}
    decided: dict[str, ImportDecision] = {}

    def claim(customer: Customer, company: FocusCompany, action: str, why: str) -> None:
        holder = claimed.get(company.id)
        if holder is not None:
            decided[customer.code] = ImportDecision(
                customer, SKIP, None, f"{why}: Focus company '{company.name}', which is linked to Twinfield "
                f"customer {holder} already (a duplicate in Twinfield? merge it there, or link it by hand)")
            return
        claimed[company.id] = customer.code
        decided[customer.code] = ImportDecision(customer, action, company.id, f"{why}: Focus company '{company.name}'")

    for customer in customers:  # 1. stored links
        if customer.code not in links:
            continue
        kind, focus_id = links[customer.code]
        if kind == "contact":
            decided[customer.code] = ImportDecision(customer, LINKED, focus_id, "linked to a Focus contact",
                                                    focus_type="contact")
        elif focus_id in companies:
            decided[customer.code] = ImportDecision(customer, LINKED, focus_id,
                                                    f"linked to Focus company '{companies[focus_id].name}'")
        else:
            decided[customer.code] = ImportDecision(customer, SKIP, None, f"linked to Focus company {focus_id}, "
                                                    "which Focus no longer lists: restore it or remove the link")
    for customer in customers:  # 2. VAT numbers
        vat = _vat(customer)
        if customer.code in decided or not vat or vat not in by_vat:
            continue
        found = by_vat[vat]
        if len(found) > 1:
            found = [c for c in found if normalise_name(c.name) == normalise_name(customer.name)]
        if len(found) == 1:
            claim(customer, found[0], MATCHED_VAT, f"same VAT number {vat}")
        else:
            decided[customer.code] = ImportDecision(customer, SKIP, None, f"several Focus companies have VAT "
                                                    f"number {vat}: link one by hand")
    for customer in customers:  # 3. names
        if customer.code in decided:
            continue
        vat = _vat(customer)
        found = [c for c in by_name.get(normalise_name(customer.name), [])
                 if not (vat and normalise_vat(c.vat_number, c.country) not in ("", vat))]
        if len(found) == 1:
            claim(customer, found[0], MATCHED_NAME, f"same name '{customer.name}'")
        elif found:
            decided[customer.code] = ImportDecision(customer, SKIP, None, f"{len(found)} Focus companies are "
                                                    f"named '{customer.name}': link one by hand")
    created: list[Customer] = []  # 4. the rest are created, once per VAT number and per name, as step 3 matches:
    for customer in customers:  # a namesake whose VAT number contradicts is another company, here as there
        if customer.code in decided:
            continue
        vat, name = _vat(customer), normalise_name(customer.name)
        twin = next((c.code for c in created if (vat and _vat(c) == vat)
                     or (name == normalise_name(c.name) and not (vat and _vat(c) and _vat(c) != vat))), None)
        if not normalise_name(customer.name):
            decided[customer.code] = ImportDecision(customer, SKIP, None, "no name: Focus needs one")
        elif twin is not None:
            decided[customer.code] = ImportDecision(customer, SKIP, None, f"same VAT number or name as Twinfield "
                                                    f"customer {twin}, which this import creates in Focus")
        else:
            created.append(customer)
            decided[customer.code] = ImportDecision(customer, CREATE, None, "no Focus company with this VAT "
                                                    "number or name")
    return [decided[c.code] for c in customers]


def company_to_add(customer: Customer, office: str) -> dict:
    """The companies.add body: name, VAT number, IBAN, the invoice e-mail as the invoicing e-mail, and the
    invoice address as both primary address (lists show only that one) and invoicing address (with the
    addressee Twinfield has, which a primary address cannot carry). An address without a country is left
    out: Focus requires one."""
    body: dict = {"name": customer.name.strip(),
                  "remarks": f"Imported from Twinfield customer {customer.code} (office {office})"}
    vat = _vat(customer)
    if vat:
        body["vat_number"] = vat
    if customer.iban:
        body["iban"] = customer.iban.replace(" ", "").upper()
    address = customer.address
    if address is not None and address.email.strip():
        body["emails"] = [{"type": "invoicing", "email": address.email.strip()}]
    if address is not None and address.country.strip():
        fields = {"line_1": address.street.strip() or None, "postal_code": address.postcode.strip() or None,
                  "city": address.city.strip() or None, "country": address.country.strip().upper()}
        invoicing = dict(fields)
        if address.name.strip() and address.name.strip() != customer.name.strip():
            invoicing["addressee"] = address.name.strip()
        body["addresses"] = [{"type": "primary", "address": fields}, {"type": "invoicing", "address": invoicing}]
    return body


@dataclass(frozen=True)
class ImportOutcome:
    """What became of one decision: ``action`` as planned, or SKIP when applying it failed (``reason`` why)."""

    code: str
    name: str
    action: str
    focus_id: str | None
    reason: str


def planned(decisions: Iterable[ImportDecision]) -> list[ImportOutcome]:
    return [ImportOutcome(d.customer.code or "", d.customer.name, d.action, d.focus_id, d.reason) for d in decisions]


def summary(outcomes: Iterable[ImportOutcome], dry_run: bool) -> dict:
    """Counts per action and the skipped customers with their reasons (small enough for XCom)."""
    outcomes = list(outcomes)
    counts = {action: sum(o.action == action for o in outcomes) for action in ACTIONS}
    skipped = [{"code": o.code, "name": o.name, "reason": o.reason} for o in outcomes if o.action == SKIP]
    return {"customers": len(outcomes), "dry_run": dry_run, **counts, "skipped": skipped}


LABELS = {LINKED: "linked before", MATCHED_VAT: "matched (VAT number)", MATCHED_NAME: "matched (name)",
          CREATE: "created in Focus", SKIP: "skipped"}


def report_markdown(office: str, outcomes: Iterable[ImportOutcome], dry_run: bool) -> str:
    """The import's report: counts, then one row per Twinfield customer with what happened and why."""
    outcomes = list(outcomes)
    counts = summary(outcomes, dry_run)
    title = f"Twinfield customers of {office} -> Teamleader Focus" + (" (dry run: nothing written)" if dry_run else "")
    lines = [f"# {title}", "", "| outcome | customers |", "|---|---:|"]
    lines += [f"| {LABELS[a]}{' (planned)' if dry_run and a != SKIP else ''} | {counts[a]} |" for a in ACTIONS]
    lines += ["", "| Twinfield code | name | outcome | Focus id | why |", "|---|---|---|---|---|"]
    for o in outcomes:
        cells = [o.code, o.name, LABELS[o.action], o.focus_id or "", o.reason]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
