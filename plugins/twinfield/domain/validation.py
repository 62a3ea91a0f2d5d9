"""Which Focus documents can be booked, the transactions of those that can, and every reason for the rest.

``validate(documents, config, *, ledger_accounts, vat_codes, currencies, categories, tax_rates, departments,
customer_codes, new_customer_code=None) -> ValidationResult``

- ``ledger_accounts`` / ``vat_codes`` / ``currencies``: per Twinfield office, what Twinfield has (re-read every
  run; currencies as codes, the office's base currency included);
- ``categories`` / ``tax_rates`` / ``departments``: parsed Focus lists (``focus_model.parse_*``);
- ``customer_codes``: ``{(office, CustomerRef): Twinfield customer code}`` after the customer stage;
- ``new_customer_code``: when given, a customer without a code counts as one the run creates and is booked
  under this code (a dry run, whose customer stage created nothing).

Checks, all of them for every document (a held-back document lists every reason, in plain words):
status (draft; not sent while ``only_sent``), department routed to an office, customer known, number and
date present, debtors account in Twinfield, the document's currency kept by the office (the transaction is
booked in that currency, see domain/twinfield/transactions.py), per line: revenue account (category ledger for
the department, else the default) present and in Twinfield, tax rate known, VAT code mapped (or proposed and allowed),
in Twinfield, a sales code with the same percentage; sums: Focus's VAT summary against its totals and, per
rate, against the lines; no withheld taxes. Line checks need the office, so a document whose department is
not routed only gets the document-level checks.

The line checks join every line of the run to categories, ledgers, accounts and VAT codes in one pandas
table, which keeps a run of thousands of documents to a few vectorised merges.

Public API: ``validate``, ``ValidationResult`` (``valid``, ``held_back``, ``waiting``, ``vat_proposals``,
``causes()``), ``ValidDocument``, ``HeldBack``, ``Problem`` and the problem codes below.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from collections.abc import Collection, Iterable, Mapping

import pandas as pd

from twinfield.domain import numbering
from twinfield.domain.config import SyncConfig
from twinfield.domain.focus_model import (
    INVOICE, CustomerRef, FocusDepartment, FocusDocument, FocusProductCategory, FocusTaxRate, content_hash,
)
from twinfield.domain.mapping import MappingError, books_nothing, build_transaction, ledger_lookup
from twinfield.domain.money import cents
from twinfield.domain.twinfield_model import LedgerAccount, SalesTransaction, VatCode
from twinfield.domain.vat import VatProposal, VatResolver, percentage_on

# Problem codes: stable names for filtering and counting; the message is what a person reads.
DRAFT = "draft"
NOT_SENT = "not_sent"
DEPARTMENT_NOT_SYNCED = "department_not_synced"
NO_CUSTOMER = "no_customer"
NO_NUMBER = "no_number"
NO_DATE = "no_date"
DEBTORS_ACCOUNT_UNKNOWN = "debtors_account_unknown"
NO_REVENUE_ACCOUNT = "no_revenue_account"
ACCOUNT_UNKNOWN = "account_unknown"
NO_TAX_RATE = "no_tax_rate"
NO_VAT_CODE = "no_vat_code"
VAT_CODE_UNKNOWN = "vat_code_unknown"
VAT_CODE_NOT_SALES = "vat_code_not_sales"
VAT_PERCENTAGE_DIFFERS = "vat_percentage_differs"
AMOUNTS_DO_NOT_ADD_UP = "amounts_do_not_add_up"
WITHHELD_TAX = "withheld_tax"
NOTHING_TO_BOOK = "nothing_to_book"
CURRENCY_UNKNOWN = "currency_unknown"
NOT_MAPPABLE = "not_mappable"
# Not wrong, just not yet: these documents are picked up again once they are booked / sent in Focus.
WAITING_CODES = frozenset({DRAFT, NOT_SENT})


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    subject: str  # what to fix, shared by every document it holds back ("ledger 8999 in NLA001")


@dataclass(frozen=True)
class HeldBack:
    document: FocusDocument
    problems: tuple[Problem, ...]
    office: str | None = None

    @property
    def waiting(self) -> bool:
        """Only waiting for Focus (draft, not sent): nothing for a person to fix."""
        return all(p.code in WAITING_CODES for p in self.problems)

    @property
    def reasons(self) -> list[str]:
        return [p.message for p in self.problems]


@dataclass(frozen=True)
class ValidDocument:
    document: FocusDocument
    office: str
    customer_code: str
    transaction: SalesTransaction
    content_hash: str


@dataclass
class ValidationResult:
    valid: list[ValidDocument] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)  # including the waiting ones
    vat_proposals: list[VatProposal] = field(default_factory=list)

    @property
    def waiting(self) -> list[HeldBack]:
        return [h for h in self.held_back if h.waiting]

    @property
    def to_fix(self) -> list[HeldBack]:
        return [h for h in self.held_back if not h.waiting]

    def causes(self) -> list[dict]:
        """What to fix first: each distinct subject with the number of documents it holds back."""
        rows = [(p.code, p.subject, h.document.id) for h in self.to_fix for p in h.problems
                if p.code not in WAITING_CODES]
        if not rows:
            return []
        frame = pd.DataFrame(rows, columns=["code", "subject", "document"])
        counted = (frame.groupby(["code", "subject"], sort=False)["document"].nunique()
                   .reset_index(name="documents").sort_values(["documents", "subject"], ascending=[False, True]))
        return counted.to_dict("records")


def merge_causes(parts: Iterable[list[dict]]) -> list[dict]:
    """``causes()`` of results over different documents, as one: documents per subject added up, most first."""
    counted: dict[tuple[str, str], int] = {}
    for part in parts:
        for cause in part:
            key = (cause["code"], cause["subject"])
            counted[key] = counted.get(key, 0) + int(cause["documents"])
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0][1]))
    return [{"code": code, "subject": subject, "documents": n} for (code, subject), n in ordered]


def validate(documents: Iterable[FocusDocument], config: SyncConfig, *,
             ledger_accounts: Mapping[str, Iterable[LedgerAccount]],
             vat_codes: Mapping[str, Iterable[VatCode]],
             currencies: Mapping[str, Collection[str]],
             categories: Mapping[str, FocusProductCategory],
             tax_rates: Mapping[str, FocusTaxRate],
             departments: Mapping[str, FocusDepartment],
             customer_codes: Mapping[tuple[str, CustomerRef], str],
             new_customer_code: str | None = None) -> ValidationResult:
    documents = list(documents)
    accounts = {office: {a.code for a in accs} for office, accs in ledger_accounts.items()}
    codes = {office: {c.code: c for c in cs} for office, cs in vat_codes.items()}
    resolver = VatResolver(config, tax_rates, departments, {o: list(cs.values()) for o, cs in codes.items()})
    routes = {doc.department_id: config.route_for(doc.department_id, departments) for doc in documents}

    problems: dict[int, list[Problem]] = defaultdict(list)
    for i, doc in enumerate(documents):
        problems[i].extend(_document_problems(doc, config, routes[doc.department_id], departments, accounts,
                                              currencies, customer_codes, new_customer_code))
    line_table = _line_table(documents, routes, categories, tax_rates, departments, config, accounts, codes, resolver)
    for i, found in _line_problems(line_table, config):
        problems[i].extend(found)
    for i, found in _sum_problems(documents, line_table):
        problems[i].extend(found)

    result = ValidationResult()
    ledger_for_category = ledger_lookup(categories)
    for i, doc in enumerate(documents):
        route = routes[doc.department_id]
        office = route.office if route else None
        found = problems[i]
        if not found:
            customer = customer_codes.get((office, doc.customer), new_customer_code)
            try:
                transaction = build_transaction(doc, customer, config, route, ledger_for_category,
                                                resolver.vat_for_tax_rate(office), categories)
            except MappingError as exc:
                found = [Problem(NOT_MAPPABLE, text, subject="documents that cannot be mapped")
                         for text in exc.problems]
            except Exception as exc:  # noqa: BLE001 - one document this code cannot handle never stops the rest
                found = [Problem(NOT_MAPPABLE, f"it could not be turned into a Twinfield transaction "
                                 f"({type(exc).__name__}: {exc})", subject="documents that cannot be mapped")]
            else:
                result.valid.append(ValidDocument(doc, office, customer, transaction, content_hash(doc)))
                continue
        result.held_back.append(HeldBack(doc, tuple(found), office))
    result.vat_proposals = resolver.proposals
    return result


def _document_problems(doc: FocusDocument, config: SyncConfig, route, departments, accounts, currencies,
                       customer_codes, new_customer_code) -> list[Problem]:
    found: list[Problem] = []
    draft = doc.kind == INVOICE and doc.status == "draft"
    if draft:
        found.append(Problem(DRAFT, "it is still a draft in Focus", subject="drafts in Focus"))
    elif config.only_sent and not doc.sent:
        found.append(Problem(NOT_SENT, "it has not been sent to the customer yet (only_sent is on)",
                             subject="invoices not sent yet"))
    department = departments.get(doc.department_id)
    dep_name = department.name if department else doc.department_id
    if route is None:
        found.append(Problem(DEPARTMENT_NOT_SYNCED, f"its department '{dep_name}' is not set up to sync "
                             f"(no entry under departments in sync.yaml)", subject=f"department {dep_name}"))
    else:
        office = route.office
        if (office, doc.customer) not in customer_codes and new_customer_code is None:
            found.append(Problem(NO_CUSTOMER, f"customer '{doc.invoicee_name}' ({doc.customer}) has no Twinfield "
                                 f"customer in office {office}", subject=f"customer {doc.customer} in {office}"))
        if config.debtors_account and config.debtors_account not in accounts.get(office, ()):
            found.append(Problem(DEBTORS_ACCOUNT_UNKNOWN, f"debtors account {config.debtors_account} does not exist "
                                 f"in Twinfield office {office}",
                                 subject=f"debtors account {config.debtors_account} in {office}"))
        if doc.currency not in currencies.get(office, ()):
            found.append(Problem(CURRENCY_UNKNOWN, f"currency {doc.currency}: Twinfield office {office} has no such "
                                 f"currency", subject=f"currency {doc.currency} in {office}"))
        if not draft:
            try:
                numbering.booked_number(doc, config.numbering, route.number_prefix)
            except numbering.NumberingError as exc:
                found.append(Problem(NO_NUMBER, exc.problem, subject="Focus numbers that cannot be booked"))
    if doc.date is None and not draft:  # Focus dates an invoice when it is booked
        found.append(Problem(NO_DATE, "it has no date in Focus", subject="documents without a date"))
    if doc.withheld_tax:
        found.append(Problem(WITHHELD_TAX, f"it withholds {cents(doc.withheld_tax)} tax, which this sync does "
                             f"not book", subject="withheld taxes"))
    return found


# --- lines ------------------------------------------------------------------------------------------

_LINE_COLUMNS = ["doc", "line", "description", "category_id", "tax_rate_id", "net", "department_id", "office", "date"]


def _line_table(documents, routes, categories, tax_rates, departments, config, accounts, codes,
                resolver: VatResolver) -> pd.DataFrame:
    """One row per line that books something, joined to its ledger, account, VAT code and rate."""
    rows = [
        (i, ln.number, _short(ln.description), ln.product_category_id, ln.tax_rate_id, ln.net, doc.department_id,
         routes[doc.department_id].office if routes[doc.department_id] else None, doc.date)
        for i, doc in enumerate(documents) for ln in doc.lines if not books_nothing(ln)
    ]
    lines = pd.DataFrame(rows, columns=_LINE_COLUMNS).astype({"category_id": object, "tax_rate_id": object})
    ledgers = pd.DataFrame(
        [(c.id, dep, ledger, c.name) for c in categories.values() for dep, ledger in c.ledgers.items()],
        columns=["category_id", "department_id", "ledger", "category_name"])
    names = pd.DataFrame([(c.id, c.name) for c in categories.values()], columns=["category_id", "known_category"])
    rates = pd.DataFrame([(t.id, t.description, t.rate) for t in tax_rates.values()],
                         columns=["tax_rate_id", "tax_rate_description", "rate"])
    known_accounts = pd.DataFrame([(o, a) for o, accs in accounts.items() for a in accs], columns=["office", "account"])
    known_accounts["account_known"] = True
    known_codes = pd.DataFrame([(o, c.code, c.type, c) for o, cs in codes.items() for c in cs.values()],
                               columns=["office", "vat_code", "vat_type", "vat_obj"])

    table = (lines.merge(ledgers, on=["category_id", "department_id"], how="left")
             .merge(names, on="category_id", how="left")
             .merge(rates, on="tax_rate_id", how="left"))
    table["account"] = table["ledger"].where(table["ledger"].notna(), config.default_revenue_account)
    table = table.merge(known_accounts, on=["office", "account"], how="left")
    table["account_known"] = table["account_known"].fillna(False).astype(bool)
    routed = table["office"].notna() & table["tax_rate_id"].notna()
    pairs = table.loc[routed, ["tax_rate_id", "office"]].drop_duplicates()
    resolutions = pd.DataFrame(
        [(t, o, r.code, r.source, r.proposal) for t, o in pairs.itertuples(index=False)
         for r in [resolver.resolve(t, o)]],
        columns=["tax_rate_id", "office", "vat_code", "vat_source", "proposal"])
    table = (table.merge(resolutions, on=["tax_rate_id", "office"], how="left")
             .merge(known_codes, on=["office", "vat_code"], how="left"))
    table["department_name"] = table["department_id"].map(
        lambda d: departments[d].name if d in departments else d)
    return table


def _short(description: str) -> str:
    text = " ".join((description or "").split())
    return text if len(text) <= 40 else text[:39] + "…"


def _line_problems(table: pd.DataFrame, config: SyncConfig):
    """(document index, problems) for every document with a line that cannot be booked."""
    routed = table[table["office"].notna()]
    if routed.empty:
        return []
    no_ledger = routed["ledger"].isna()
    default = config.default_revenue_account
    masks = {
        NO_REVENUE_ACCOUNT: no_ledger & (default is None),
        ACCOUNT_UNKNOWN: routed["account"].notna() & ~routed["account_known"],
        NO_TAX_RATE: routed["rate"].isna(),
        NO_VAT_CODE: routed["rate"].notna() & routed["vat_code"].isna(),
        VAT_CODE_UNKNOWN: routed["vat_code"].notna() & routed["vat_type"].isna(),
        VAT_CODE_NOT_SALES: routed["vat_type"].notna() & (routed["vat_type"] != "sales"),
    }
    masks[VAT_PERCENTAGE_DIFFERS] = (routed["vat_type"] == "sales") & routed["vat_obj"].notna()
    out: dict[int, dict[tuple[str, str, str], list[str]]] = defaultdict(dict)
    for code, mask in masks.items():
        for row in routed[mask].itertuples(index=False):
            explained = _explain(code, row, config)
            if explained is None:
                continue
            what, subject = explained
            where = f"line {row.line} '{row.description}'"
            out[row.doc].setdefault((code, what, subject), []).append(where)
    return [
        (doc, [Problem(code, f"{', '.join(wheres)}: {what}", subject=subject)
               for (code, what, subject), wheres in grouped.items()])
        for doc, grouped in out.items()
    ]


def _explain(code: str, row, config: SyncConfig) -> tuple[str, str] | None:
    """(what is wrong, the subject to fix) for one line and problem code; None when it is fine after all."""
    office, dep = row.office, row.department_name
    category = row.category_name if isinstance(row.category_name, str) else row.known_category
    if code == NO_REVENUE_ACCOUNT:
        if not isinstance(row.category_id, str):
            return "it has no product category, and no default revenue account is configured", "lines without category"
        if not isinstance(category, str):
            return (f"its product category {row.category_id} is unknown in Focus, and no default revenue account "
                    f"is configured", f"category {row.category_id}")
        return (f"product category '{category}' has no ledger account for department '{dep}', and no default "
                f"revenue account is configured", f"category {category} in {dep}")
    if code == ACCOUNT_UNKNOWN:
        if isinstance(row.ledger, str):
            return (f"product category '{category}' has ledger {row.ledger}, which Twinfield office {office} does "
                    f"not have", f"ledger {row.ledger} in {office}")
        return (f"the default revenue account {row.account} does not exist in Twinfield office {office}",
                f"default revenue account {row.account} in {office}")
    rate_label = f"'{row.tax_rate_description}' of {dep}"
    if code == NO_TAX_RATE:
        if not isinstance(row.tax_rate_id, str):
            return "it has no tax rate", "lines without tax rate"
        return f"its tax rate {row.tax_rate_id} is unknown in Focus", f"tax rate {row.tax_rate_id}"
    if code == NO_VAT_CODE:
        proposal: VatProposal | None = row.proposal if isinstance(row.proposal, VatProposal) else None
        if proposal and proposal.code:
            hint = (f"proposed: {proposal.code} ({proposal.reason}); add it to the VAT map or set auto_match_vat")
        else:
            hint = f"no proposal: {proposal.reason}" if proposal else "no proposal"
        return (f"Focus tax rate {rate_label} has no Twinfield VAT code in the VAT map ({hint})",
                f"tax rate {row.tax_rate_description} of {dep} in {office}")
    source = "proposed" if row.vat_source == "proposed" else "mapped"
    if code == VAT_CODE_UNKNOWN:
        return (f"VAT code {row.vat_code} ({source} for tax rate {rate_label}) does not exist in Twinfield "
                f"office {office}", f"VAT code {row.vat_code} in {office}")
    if code == VAT_CODE_NOT_SALES:
        return (f"VAT code {row.vat_code} ({source} for tax rate {rate_label}) is a {row.vat_type} code, not a "
                f"sales code", f"VAT code {row.vat_code} in {office}")
    if code == VAT_PERCENTAGE_DIFFERS:
        twinfield_pct = percentage_on(row.vat_obj, row.date if isinstance(row.date, dt.date) else None)
        focus_pct = (row.rate * 100).normalize()
        if twinfield_pct is None or twinfield_pct == focus_pct:
            return None
        return (f"Focus tax rate {rate_label} is {focus_pct}%, but VAT code {row.vat_code} ({source} for it) is "
                f"{twinfield_pct.normalize()}% in Twinfield office {office}", f"VAT code {row.vat_code} in {office}")
    raise ValueError(f"unknown problem code {code}")


# --- sums -------------------------------------------------------------------------------------------


def _sum_problems(documents: list[FocusDocument], table: pd.DataFrame):
    """Focus's VAT summary against its totals, and per rate against its lines (known rates only)."""
    per_rate: dict[int, dict[Decimal, Decimal]] = defaultdict(dict)
    rated = table[table["rate"].notna()]
    for doc_index, rate, net in zip(rated["doc"], rated["rate"], rated["net"]):
        key = rate.normalize()
        per_rate[doc_index][key] = per_rate[doc_index].get(key, Decimal("0")) + net
    unrated = set(table.loc[table["rate"].isna(), "doc"])
    out = []
    for i, doc in enumerate(documents):
        found: list[Problem] = []
        taxable = sum((t.taxable for t in doc.taxes), Decimal("0"))
        tax = sum((t.tax for t in doc.taxes), Decimal("0"))
        if cents(taxable) != cents(doc.total_excl):
            found.append(_sums(f"Focus's VAT summary taxes {cents(taxable)} in all, but its tax-exclusive total is "
                               f"{cents(doc.total_excl)}"))
        if cents(doc.total_excl + tax) != cents(doc.total_incl):
            found.append(_sums(f"its tax-exclusive total {cents(doc.total_excl)} plus VAT {cents(tax)} is not its "
                               f"tax-inclusive total {cents(doc.total_incl)}"))
        if not any(not books_nothing(ln) for ln in doc.lines) and not doc.total_incl:
            found.append(Problem(NOTHING_TO_BOOK, "all its amounts are zero: there is nothing to book",
                                 subject="documents with nothing to book"))
        if i not in unrated:  # with a line of unknown rate, the per-rate comparison would only mislead
            summary: dict[Decimal, tuple[Decimal, Decimal]] = {}
            for t in doc.taxes:
                before = summary.get(t.rate.normalize(), (Decimal("0"), Decimal("0")))
                summary[t.rate.normalize()] = (before[0] + t.taxable, before[1] + t.tax)
            lines = per_rate.get(i, {})
            for rate, (rate_taxable, rate_tax) in summary.items():
                pct = f"{(rate * 100).normalize()}%"
                lines_net = lines.get(rate)
                if lines_net is None:
                    if rate_taxable or rate_tax:
                        found.append(_sums(f"Focus's VAT summary taxes {cents(rate_taxable)} at {pct}, but no line "
                                           f"carries that rate"))
                elif lines_net == 0 and (rate_taxable or rate_tax):
                    found.append(_sums(f"its lines at {pct} add up to zero, but Focus's VAT summary taxes "
                                       f"{cents(rate_taxable)} at that rate"))
                elif not doc.has_discounts and cents(lines_net) != cents(rate_taxable):
                    found.append(_sums(f"its lines at {pct} add up to {cents(lines_net)}, but Focus's VAT summary "
                                       f"taxes {cents(rate_taxable)} at that rate"))
        if found:
            out.append((i, found))
    return out


def _sums(message: str) -> Problem:
    return Problem(AMOUNTS_DO_NOT_ADD_UP, message, subject="amounts that do not add up in Focus")
