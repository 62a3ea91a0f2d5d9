"""A Focus invoice or credit note -> a draft Twinfield sales transaction.

``build_transaction(doc, customer_code, config, route, ledger_for_category, vat_for_tax_rate)``:
- total line: the customer's code (and a debtors account only when the config names one: without it Twinfield
  books on the customer's own collective account), value = Focus's tax-inclusive total, debit;
- detail lines: revenue account (the product category's ledger for the document's department, else the
  configured default revenue account), VAT code, value excl. VAT and ``vat_value``, credit;
- credit notes flip every side (Focus gives a credit note's amounts as positive numbers, like an invoice's);
  a negative amount (a trade-in line, a negative invoice) flips its own line;
- ``group_lines: per_account``: one detail line per (revenue account, VAT code, performance type), described by
  its lines' product category names (else "Focus <number>"); ``per_line``: one per Focus line, its description
  cut to 40 characters (else as a group). Every line carries a description: a daybook can make it mandatory;
- intra-community (ICT) VAT codes: each such line gets its performance type, goods or services (by product
  category, see ``SyncConfig.performance_type``), and services the document date as performance date; a line
  whose type cannot be decided holds the document back;
- at most 1000 lines as Twinfield counts them (total, details, one VAT line per VAT code): more is refused by
  Twinfield with HTTP 400 for the whole request, so such a document is held back here;
- amounts follow Focus's own VAT summary (``total.taxes``): each rate's taxable amount and tax are spread
  over that rate's lines in proportion to their net amounts, to the cent, largest remainders first (ties:
  earlier line first), so the detail lines plus VAT add up exactly to Focus's tax-inclusive total. This also
  absorbs document-level discounts, which Focus applies to the taxable amounts but not to the lines;
- no period (Twinfield derives it from the date); booked number from the document; due date from Focus, else
  date + default days;
  the document's currency as is (Twinfield converts with its own rates).
Lines whose net and tax are both zero (text lines, free items) book nothing and need no account.

Anything it cannot map is not guessed: ``MappingError`` lists every problem found.

Also: ``allocate(total, weights) -> list[Decimal]`` and ``ledger_lookup(categories)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from collections.abc import Callable, Mapping, Sequence

from twinfield.domain import numbering
from twinfield.domain.config import GROUP_PER_ACCOUNT, GROUP_PER_LINE, DepartmentRoute, SyncConfig
from twinfield.domain.focus_model import FocusDocument, FocusLine, FocusProductCategory
from twinfield.domain.money import CENT, cents
from twinfield.domain.twinfield_model import SERVICES, DebitCredit, SalesTransaction, TransactionLine
from twinfield.domain.vat import VatChoice
from twinfield.domain.xml_text import removed_note, xml_safe

DESCRIPTION_MAX_LENGTH = 40
MAX_LINES = 1000  # per transaction; Twinfield answers HTTP 400 to more
ZERO = Decimal("0")

LedgerForCategory = Callable[[str, str], "str | None"]  # (category id, department id) -> ledger account
VatForTaxRate = Callable[[str], "VatChoice | None"]  # Focus tax rate id -> VAT code and Focus rate


class MappingError(ValueError):
    """The document cannot be turned into a transaction; ``problems`` says every reason, in plain words."""

    def __init__(self, doc: FocusDocument, problems: Sequence[str]):
        self.document_id = doc.id
        self.problems = tuple(problems)
        super().__init__(f"{doc.label}: " + "; ".join(self.problems))


def ledger_lookup(categories: Mapping[str, FocusProductCategory]) -> LedgerForCategory:
    """The ``ledger_for_category`` callable over parsed ``productCategories.list``."""

    def ledger_for_category(category_id: str, department_id: str) -> str | None:
        category = categories.get(category_id)
        return category.ledgers.get(department_id) if category else None

    return ledger_for_category


def revenue_account(line: FocusLine, department_id: str, config: SyncConfig,
                    ledger_for_category: LedgerForCategory) -> str | None:
    """The product category's ledger for this department, else the default revenue account (or None)."""
    if line.product_category_id:
        ledger = ledger_for_category(line.product_category_id, department_id)
        if ledger:
            return ledger
    return config.default_revenue_account


def books_nothing(line: FocusLine) -> bool:
    return line.net == 0 and not line.tax


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (to the cent) over ``weights`` proportionally; the parts add up to it exactly.

    Each part is first rounded down to the cent; the cents left over go one each to the parts with the
    largest remainders (earlier first on ties). Weights may be negative; their sum must not be zero
    unless ``total`` is zero. Exact: weights are scaled to integers, so no rounding happens but the one.
    """
    total_cents = int(cents(total) / CENT)
    if not weights or sum(weights, ZERO) == 0:
        if total_cents:
            raise ValueError(f"cannot spread {cents(total)} over lines whose amounts add up to zero")
        return [ZERO.quantize(CENT)] * len(weights)
    places = max(0, *(-w.as_tuple().exponent for w in weights))
    scaled = [int(w.scaleb(places)) for w in weights]
    weight_sum = sum(scaled)
    # floor(total * w / sum) and what is left of it; with a negative sum the remainders are <= 0
    shares = [divmod(total_cents * w, weight_sum) for w in scaled]
    direction = 1 if weight_sum > 0 else -1
    left = total_cents - sum(q for q, _r in shares)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][1] * direction, i))
    parts = [q for q, _r in shares]
    for i in by_remainder[:left]:
        parts[i] += 1
    return [Decimal(c).scaleb(-2) for c in parts]


@dataclass(frozen=True)
class _Booked:
    """A Focus line with its account, VAT code and the exact amounts it books (invoice orientation)."""

    line: FocusLine
    account: str
    vatcode: str
    net: Decimal
    vat: Decimal
    performance_type: str | None = None  # ICT VAT codes only


def _side(amount: Decimal, natural: DebitCredit) -> tuple[Decimal, DebitCredit]:
    return (amount, natural) if amount >= 0 else (-amount, natural.flipped())


def _spread_taxes(doc: FocusDocument, lines: list[tuple[FocusLine, str, VatChoice, str | None]],
                  problems: list[str]) -> list[_Booked]:
    """Give each line its share of Focus's per-rate taxable amount and tax."""
    by_rate: dict[Decimal, list[tuple[FocusLine, str, VatChoice, str | None]]] = {}
    for item in lines:
        by_rate.setdefault(item[2].rate.normalize(), []).append(item)
    summary: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for tax in doc.taxes:
        taxable, amount = summary.get(tax.rate.normalize(), (ZERO, ZERO))
        summary[tax.rate.normalize()] = (taxable + tax.taxable, amount + tax.tax)
    for rate, (taxable, amount) in summary.items():
        if rate not in by_rate and (taxable or amount):
            problems.append(f"Focus's VAT summary has {cents(taxable)} taxed at {_pct(rate)} "
                            f"({cents(amount)} VAT), but no line carries that rate")
    booked: list[_Booked] = []
    for rate, items in by_rate.items():
        weights = [item[0].net for item in items]
        if rate in summary:
            taxable, amount = summary[rate]
        else:  # Focus left the rate out of its summary: take the lines as they are
            taxable = sum(weights, ZERO)
            amount = sum((item[0].tax or ZERO for item in items), ZERO)
        try:
            if sum(weights, ZERO) == 0:
                nets, vats = _cancelling(items, taxable, amount)
            else:
                nets = allocate(taxable, weights)
                vats = allocate(amount, weights)
        except ValueError as exc:
            problems.append(f"VAT at {_pct(rate)}: {exc}")
            continue
        for (line, account, choice, performance), net, vat in zip(items, nets, vats):
            booked.append(_Booked(line, account, choice.code, net, vat, performance))
    booked.sort(key=lambda b: b.line.number)
    return booked


def _cancelling(items: list[tuple[FocusLine, str, VatChoice, str | None]], taxable: Decimal,
                amount: Decimal) -> tuple[list[Decimal], list[Decimal]]:
    """Lines of one rate that cancel each other out (a free-of-charge line against another): nothing can be
    spread in proportion, so each keeps its own net and tax, as long as they add up to Focus's summary."""
    nets = [cents(item[0].net) for item in items]
    vats = [cents(item[0].tax or ZERO) for item in items]
    if cents(taxable) != 0:
        raise ValueError(f"its lines add up to zero, but Focus's VAT summary taxes {cents(taxable)}")
    if sum(vats, ZERO) != cents(amount):
        raise ValueError(f"its lines add up to zero and their VAT to {sum(vats, ZERO)}, but Focus's VAT summary "
                         f"has {cents(amount)} VAT")
    return nets, vats


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _group_key(b: _Booked, config: SyncConfig) -> tuple:
    if config.group_lines == GROUP_PER_LINE:
        return (b.line.number,)
    return (b.account, b.vatcode, b.performance_type)


def _detail_lines(doc: FocusDocument, booked: list[_Booked], config: SyncConfig, natural: DebitCredit,
                  category_name: Callable[[str], str | None]) -> list[TransactionLine]:
    groups: dict[tuple, list[_Booked]] = {}
    for b in booked:  # dicts keep the order of first appearance
        groups.setdefault(_group_key(b, config), []).append(b)
    details = []
    for members in groups.values():
        net = sum((b.net for b in members), ZERO)
        vat = sum((b.vat for b in members), ZERO)
        if net == 0 and vat == 0:
            continue
        first = members[0]
        negative = (net if net != 0 else vat) < 0
        side = natural.flipped() if negative else natural
        flip = -1 if negative else 1
        performance_date = doc.date if first.performance_type == SERVICES else None
        details.append(TransactionLine(type="detail", dim1=first.account, value=abs(net), debitcredit=side,
                                       vatcode=first.vatcode, vat_value=vat * flip,
                                       description=_group_description(doc, members, config, category_name),
                                       performance_type=first.performance_type, performance_date=performance_date))
    return details


def _group_description(doc: FocusDocument, members: list[_Booked], config: SyncConfig,
                       category_name: Callable[[str], str | None]) -> str:
    """A Focus line's own description (per_line), else its lines' category names, else "Focus <number>"."""
    if config.group_lines == GROUP_PER_LINE and _description(members[0].line):
        return _description(members[0].line)
    names = dict.fromkeys(name for b in members if b.line.product_category_id
                          for name in [category_name(b.line.product_category_id)] if name)
    text = _cut(", ".join(names)) if names else ""
    return text or _cut(f"Focus {doc.number}")


def _cut(text: str) -> str:
    """At most 40 characters (Twinfield counts characters, see ``xml_text``) of what XML can carry."""
    return " ".join(xml_safe(text).split())[:DESCRIPTION_MAX_LENGTH].rstrip(" ,")


def _description(line: FocusLine) -> str:
    return _cut(line.description)


def _performance_type(line: FocusLine, choice: VatChoice, config: SyncConfig,
                      category_name: Callable[[str], str | None], where: str, problems: list[str]) -> str | None:
    """goods | services for a line with an intra-community VAT code (None for other codes, or a problem)."""
    if not choice.intra_community:
        return None
    name = category_name(line.product_category_id) if line.product_category_id else None
    kind = config.performance_type(line.product_category_id, name)
    if kind is None:
        category = f"product category '{name or line.product_category_id}'" if line.product_category_id else \
            "it has no product category"
        problems.append(f"{where}: intra-community VAT code {choice.code} needs goods or services, and {category} "
                        "is not under performance_types in sync.yaml (nor is there a default_performance_type)")
    return kind


def twinfield_line_count(details: Sequence[TransactionLine]) -> int:
    """Lines of the transaction in Twinfield: the total line, the detail lines and one VAT line per VAT code."""
    return 1 + len(details) + len({d.vatcode for d in details if d.vatcode})


def due_date(doc: FocusDocument, config: SyncConfig) -> dt.date | None:
    if doc.due_date:
        return doc.due_date
    return doc.date + dt.timedelta(days=config.default_payment_days) if doc.date else None


def build_transaction(doc: FocusDocument, customer_code: str, config: SyncConfig, route: DepartmentRoute,
                      ledger_for_category: LedgerForCategory, vat_for_tax_rate: VatForTaxRate,
                      categories: Mapping[str, FocusProductCategory] | None = None) -> SalesTransaction:
    """The draft sales transaction of a Focus document, or ``MappingError`` with every problem found.
    ``categories`` (Focus's product categories by id) name the grouped lines and decide performance types."""
    categories = categories or {}

    def category_name(category_id: str) -> str | None:
        category = categories.get(category_id)
        return category.name if category else None

    problems: list[str] = []
    try:
        number = numbering.booked_number(doc, config.numbering, route.number_prefix)
    except numbering.NumberingError as exc:
        problems.append(exc.problem)
        number = ""
    if doc.date is None:
        problems.append("it has no date in Focus")
    if not customer_code:
        problems.append("it has no Twinfield customer")
    lines: list[tuple[FocusLine, str, VatChoice, str | None]] = []
    for line in doc.lines:
        if books_nothing(line):
            continue
        where = f"line {line.number} '{_description(line)}'"
        account = revenue_account(line, doc.department_id, config, ledger_for_category)
        choice = vat_for_tax_rate(line.tax_rate_id) if line.tax_rate_id else None
        if account is None:
            problems.append(f"{where}: no revenue account")
        if choice is None:
            problems.append(f"{where}: no Twinfield VAT code")
        if account is not None and choice is not None:
            performance = _performance_type(line, choice, config, category_name, where, problems)
            lines.append((line, account, choice, performance))
    if problems:  # spreading VAT over only the lines that could be mapped would only add confusion
        raise MappingError(doc, problems)
    booked = _spread_taxes(doc, lines, problems)
    if problems:
        raise MappingError(doc, problems)

    natural_total = DebitCredit.CREDIT if doc.is_credit_note else DebitCredit.DEBIT
    natural_detail = natural_total.flipped()
    details = _detail_lines(doc, booked, config, natural_detail, category_name)
    count = twinfield_line_count(details)
    if count > MAX_LINES:
        hint = ""
        if config.group_lines == GROUP_PER_LINE:
            grouped = twinfield_line_count(_detail_lines(doc, booked, replace(config, group_lines=GROUP_PER_ACCOUNT),
                                                         natural_detail, category_name))
            hint = f" (group_lines: per_account would make it {grouped})"
        raise MappingError(doc, [f"it needs {count} lines in one Twinfield transaction, and Twinfield takes at most "
                                 f"{MAX_LINES}{hint}"])
    booked_total = sum((b.net + b.vat for b in booked), ZERO)
    if cents(booked_total) != cents(doc.total_incl):
        raise MappingError(doc, [f"its lines and VAT add up to {cents(booked_total)}, "
                                 f"not to its tax-inclusive total {cents(doc.total_incl)}"])
    value, side = _side(cents(doc.total_incl), natural_total)
    total = TransactionLine(type="total", dim1=config.debtors_account or "", dim2=customer_code, value=value,
                            debitcredit=side, description=f"Focus {doc.number}"[:DESCRIPTION_MAX_LENGTH])
    return SalesTransaction(
        office=route.office,
        daybook=route.daybook,
        currency=doc.currency,
        date=doc.date,
        invoice_number=number,
        due_date=due_date(doc, config),
        lines=(total, *details),
    )


def text_notes(doc: FocusDocument, config: SyncConfig) -> list[str]:
    """What the run report should say about the document's text on its way into Twinfield: characters XML
    cannot carry, removed from a line description that is sent (per_line). Its number needs no note: only a
    number of Focus's own form is booked (``numbering``)."""
    if config.group_lines != GROUP_PER_LINE:
        return []
    notes = [removed_note(f"line {line.number} description", line.description) for line in doc.lines]
    return [note for note in notes if note]


def zero_total_note(doc: FocusDocument) -> str | None:
    """A document whose total is zero while its lines are not is booked on purpose: it moves revenue (or VAT)
    between accounts, which the bookkeeping must show. The report says so."""
    if cents(doc.total_incl) == 0 and any(not books_nothing(line) for line in doc.lines):
        return ("its total is 0.00 but its lines are not: booked as it is (lines that cancel each other out "
                "still move revenue between accounts)")
    return None
