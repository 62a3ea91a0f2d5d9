"""A Focus invoice or credit note -> a draft Twinfield sales transaction.

``build_transaction(doc, customer_code, config, route, ledger_for_category, vat_for_tax_rate)``:
- total line: debtors account (config) + the customer's code, value = Focus's tax-inclusive total, debit;
- detail lines: revenue account (the product category's ledger for the document's department, else the
  configured default revenue account), VAT code, value excl. VAT and ``vat_value``, credit;
- credit notes flip every side (Focus gives a credit note's amounts as positive numbers, like an invoice's);
  a negative amount (a trade-in line, a negative invoice) flips its own line;
- ``group_lines: per_account``: one detail line per (revenue account, VAT code), descriptions dropped;
  ``per_line``: one per Focus line, description cut to 40 characters;
- amounts follow Focus's own VAT summary (``total.taxes``): each rate's taxable amount and tax are spread
  over that rate's lines in proportion to their net amounts, to the cent, largest remainders first (ties:
  earlier line first), so the detail lines plus VAT add up exactly to Focus's tax-inclusive total. This also
  absorbs document-level discounts, which Focus applies to the taxable amounts but not to the lines;
- period "YYYY/PP" and booked number from the document; due date from Focus, else date + default days;
  the document's currency as is (Twinfield converts with its own rates).
Lines whose net and tax are both zero (text lines, free items) book nothing and need no account.

Anything it cannot map is not guessed: ``MappingError`` lists every problem found.

Also: ``allocate(total, weights) -> list[Decimal]`` and ``ledger_lookup(categories)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from collections.abc import Callable, Mapping, Sequence

from twinfield.domain import numbering
from twinfield.domain.config import GROUP_PER_LINE, DepartmentRoute, SyncConfig
from twinfield.domain.focus_model import FocusDocument, FocusLine, FocusProductCategory
from twinfield.domain.money import CENT, cents
from twinfield.domain.twinfield_model import DebitCredit, SalesTransaction, TransactionLine
from twinfield.domain.vat import VatChoice

DESCRIPTION_MAX_LENGTH = 40
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


def _side(amount: Decimal, natural: DebitCredit) -> tuple[Decimal, DebitCredit]:
    return (amount, natural) if amount >= 0 else (-amount, natural.flipped())


def _spread_taxes(doc: FocusDocument, lines: list[tuple[FocusLine, str, VatChoice]],
                  problems: list[str]) -> list[_Booked]:
    """Give each line its share of Focus's per-rate taxable amount and tax."""
    by_rate: dict[Decimal, list[tuple[FocusLine, str, VatChoice]]] = {}
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
        weights = [line.net for line, _acc, _vat in items]
        if rate in summary:
            taxable, amount = summary[rate]
        else:  # Focus left the rate out of its summary: take the lines as they are
            taxable = sum(weights, ZERO)
            amount = sum((line.tax or ZERO for line, _acc, _vat in items), ZERO)
        try:
            nets = allocate(taxable, weights)
            vats = allocate(amount, weights)
        except ValueError as exc:
            problems.append(f"VAT at {_pct(rate)}: {exc}")
            continue
        for (line, account, choice), net, vat in zip(items, nets, vats):
            booked.append(_Booked(line, account, choice.code, net, vat))
    booked.sort(key=lambda b: b.line.number)
    return booked


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _detail_lines(booked: list[_Booked], config: SyncConfig, natural: DebitCredit) -> list[TransactionLine]:
    if config.group_lines == GROUP_PER_LINE:
        groups = [(b.account, b.vatcode, b.net, b.vat, _description(b.line)) for b in booked]
    else:
        sums: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        for b in booked:  # dicts keep the order of first appearance
            net, vat = sums.get((b.account, b.vatcode), (ZERO, ZERO))
            sums[(b.account, b.vatcode)] = (net + b.net, vat + b.vat)
        groups = [(acc, code, net, vat, "") for (acc, code), (net, vat) in sums.items()]
    details = []
    for account, vatcode, net, vat, description in groups:
        if net == 0 and vat == 0:
            continue
        negative = (net if net != 0 else vat) < 0
        side = natural.flipped() if negative else natural
        flip = -1 if negative else 1
        details.append(TransactionLine(type="detail", dim1=account, value=abs(net), debitcredit=side,
                                       vatcode=vatcode, vat_value=vat * flip, description=description))
    return details


def _description(line: FocusLine) -> str:
    return " ".join(line.description.split())[:DESCRIPTION_MAX_LENGTH].rstrip()


def due_date(doc: FocusDocument, config: SyncConfig) -> dt.date | None:
    if doc.due_date:
        return doc.due_date
    return doc.date + dt.timedelta(days=config.default_payment_days) if doc.date else None


def period(date: dt.date) -> str:
    """Twinfield's period of a date, in monthly periods: "2026/03"."""
    return f"{date.year}/{date.month:02d}"


def build_transaction(doc: FocusDocument, customer_code: str, config: SyncConfig, route: DepartmentRoute,
                      ledger_for_category: LedgerForCategory, vat_for_tax_rate: VatForTaxRate) -> SalesTransaction:
    """The draft sales transaction of a Focus document, or ``MappingError`` with every problem found."""
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
    lines: list[tuple[FocusLine, str, VatChoice]] = []
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
            lines.append((line, account, choice))
    if problems:  # spreading VAT over only the lines that could be mapped would only add confusion
        raise MappingError(doc, problems)
    booked = _spread_taxes(doc, lines, problems)
    if problems:
        raise MappingError(doc, problems)

    natural_total = DebitCredit.CREDIT if doc.is_credit_note else DebitCredit.DEBIT
    natural_detail = natural_total.flipped()
    details = _detail_lines(booked, config, natural_detail)
    booked_total = sum((b.net + b.vat for b in booked), ZERO)
    if cents(booked_total) != cents(doc.total_incl):
        raise MappingError(doc, [f"its lines and VAT add up to {cents(booked_total)}, "
                                 f"not to its tax-inclusive total {cents(doc.total_incl)}"])
    value, side = _side(cents(doc.total_incl), natural_total)
    total = TransactionLine(type="total", dim1=config.debtors_account, dim2=customer_code, value=value,
                            debitcredit=side, description=f"Focus {doc.number}"[:DESCRIPTION_MAX_LENGTH])
    return SalesTransaction(
        office=route.office,
        daybook=route.daybook,
        currency=doc.currency,
        date=doc.date,
        period=period(doc.date),
        invoice_number=number,
        due_date=due_date(doc, config),
        lines=(total, *details),
    )
