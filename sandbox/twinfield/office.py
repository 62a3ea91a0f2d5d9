"""The emulated Twinfield organisation: offices with their chart, VAT codes, daybooks, customers and transactions.

Everything lives in memory in one ``World`` guarded by one re-entrant lock: FastAPI runs the sync endpoints in a
thread pool, and a whole ProcessXml request is applied under the lock so that it is atomic, as in Twinfield.

Amounts are Decimal. A line keeps Twinfield's representation: a positive ``value`` plus a ``debitcredit`` side;
``signed`` is debit-positive. ``value`` is in the transaction's currency, ``basevalue`` in the office's base
currency (EUR), converted with the line's ``rate`` (see currencies.py). Transaction numbers are per office,
daybook and year: ``YYYY`` + a 5-digit sequence (``202400001``), like Twinfield's. Each office has its own period
scheme (chart.OFFICE_PERIODS: calendar months, or 13 four-week periods) from which a transaction's period follows.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sandbox import chart
from sandbox.twinfield.currencies import Currency, of_office, to_base

CENT = Decimal("0.01")
ORGANISATION = "ACME"
ORGANISATION_NAME = "Acme Groep"
# The user that the sandbox's bookkeeper acts as, and that the import is attributed to.
USER_CODE = "API000001"
USER_NAME = "Sandbox API"
FIRST_OPEN_YEAR = 2015
# Each office's DEB code mask (as a regular expression: the sandbox's notation, not Twinfield's) and how it
# numbers a customer sent without a code: (format, first number). A code outside the mask is refused.
DEB_MASKS = {"NLA001": (r"1\d{3,5}", "{}", 1000), "NLA002": (r"\d{4}", "{}", 1000)}


def money(value: Decimal) -> str:
    """Twinfield's amount notation: two decimals, dot separator."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Account:
    """A general ledger account: dimension type BAS (balance) or PNL (profit and loss)."""

    code: str
    name: str
    type: str
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def is_debtors(self) -> bool:
        return self.code in chart.DEBTORS_ACCOUNTS


@dataclass
class VatCode:
    code: str
    name: str
    type: str  # "sales" | "purchase"
    # Dated percentages, oldest first: (valid from, percentage, VAT account)
    percentages: list[tuple[dt.date, Decimal, str]]
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: dt.datetime = field(default_factory=now)
    ict: bool = False  # intra-community: lines need a performancetype (and a performancedate for services)

    def percentage_on(self, day: dt.date) -> tuple[Decimal, str] | None:
        valid = [(pct, account) for start, pct, account in self.percentages if start <= day]
        return valid[-1] if valid else None


@dataclass
class Daybook:
    code: str
    name: str
    shortname: str
    type: str  # "sales" | "memorial"
    descriptions_required: bool = False  # every total and detail line must carry a description


@dataclass
class Customer:
    """A DEB dimension. ``addresses`` and ``banks`` hold the fields as Twinfield names them."""

    code: str
    name: str
    shortname: str = ""
    vatnumber: str = ""
    website: str = ""
    cocnumber: str = ""
    duedays: int = 30
    vatcode: str = ""
    addresses: list[dict] = field(default_factory=list)
    banks: list[dict] = field(default_factory=list)
    status: str = "active"  # "hide": archived, left out of Finder DIM unless includehidden=1
    # The customer's general ledger (collective) account: a total line without dim1 books on it.
    collective_account: str = chart.DEBTORS_ACCOUNT
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    touched: int = 0
    modified: dt.datetime = field(default_factory=now)


@dataclass
class Line:
    id: int
    type: str  # "total" | "detail" | "vat"
    dim1: str
    debitcredit: str  # "debit" | "credit"
    value: Decimal
    dim2: str = ""
    vatcode: str = ""
    vatvalue: Decimal | None = None  # detail lines: the VAT booked for this line
    description: str = ""
    vatturnover: Decimal | None = None  # vat lines: the turnover the VAT was computed on
    performancetype: str = ""  # detail lines with an ICT VAT code: goods | services
    performancedate: dt.date | None = None  # ... and for services, the date of the service
    rate: Decimal = Decimal(1)  # units of the transaction's currency per unit of the base currency
    basevalue: Decimal | None = None  # ``value`` in the base currency; None: the same as ``value``
    # Matching, on the total line only.
    openvalue: Decimal | None = None
    matchstatus: str = "notmatchable"  # available | matched | notmatchable
    matchdate: dt.date | None = None
    matchnumber: int | None = None

    @property
    def signed(self) -> Decimal:
        return self.value if self.debitcredit == "debit" else -self.value

    @property
    def open_signed(self) -> Decimal | None:
        if self.openvalue is None:
            return None
        return self.openvalue if self.debitcredit == "debit" else -self.openvalue

    @property
    def base(self) -> Decimal:
        return self.value if self.basevalue is None else self.basevalue

    @property
    def base_signed(self) -> Decimal:
        return self.base if self.debitcredit == "debit" else -self.base

    def in_base(self, amount: Decimal | None) -> Decimal | None:
        """Another amount of this line (its VAT, its VAT's turnover) in the base currency, at its rate."""
        return None if amount is None else to_base(amount, self.rate)

    @property
    def open_base_signed(self) -> Decimal | None:
        """The open value in the base currency: all of ``basevalue`` while nothing is paid."""
        if self.openvalue is None:
            return None
        base = self.base if self.openvalue == self.value else to_base(self.openvalue, self.rate)
        return base if self.debitcredit == "debit" else -base


@dataclass
class Transaction:
    office: str
    daybook: str
    number: str
    status: str  # "temporary" (draft) | "final"
    date: dt.date
    period: str  # "YYYY/PP"
    currency: str
    lines: list[Line]
    invoicenumber: str = ""
    duedate: dt.date | None = None
    paymentreference: str = ""
    freetexts: dict[str, str] = field(default_factory=dict)
    raisewarning: str = "false"
    autobalancevat: str = "true"
    modified: dt.datetime = field(default_factory=now)

    @property
    def total_line(self) -> Line | None:
        return next((line for line in self.lines if line.type == "total"), None)


@dataclass
class Office:
    code: str
    name: str
    accounts: dict[str, Account]
    vatcodes: dict[str, VatCode]
    daybooks: dict[str, Daybook]
    currencies: dict[str, Currency]  # base currency first
    customers: dict[str, Customer] = field(default_factory=dict)
    transactions: dict[tuple[str, str], Transaction] = field(default_factory=dict)  # (daybook, number)
    # (daybook, invoicenumber) -> numbers: more than one only when a duplicate was forced (raisewarning="false")
    invoice_index: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    sequences: dict[tuple[str, int], int] = field(default_factory=dict)  # (daybook, year) -> last sequence
    # Periods up to and including this "YYYY/PP" are closed for posting; None: none closed.
    closed_through: str | None = None
    last_open_year: int = field(default_factory=lambda: now().year + 1)
    last_matchnumber: int = 0
    deb_mask: str = r"\d{4,6}"
    deb_format: tuple[str, int] = ("{}", 1000)  # how a customer sent without a code is numbered
    periods_per_year: int = 12  # 12: calendar months; 13: four-week periods

    @property
    def shortname(self) -> str:
        return self.name[:20]

    @property
    def base_currency(self) -> str:
        return next(iter(self.currencies))

    def next_number(self, daybook: str, year: int) -> str:
        sequence = self.sequences.get((daybook, year), 0) + 1
        self.sequences[(daybook, year)] = sequence
        return f"{year}{sequence:05d}"

    def next_customer_code(self) -> str:
        """The first free code of the office's numbering (hidden customers' codes included)."""
        template, number = self.deb_format
        while template.format(number) in self.customers:
            number += 1
        return template.format(number)

    def fits_mask(self, code: str) -> bool:
        return re.fullmatch(self.deb_mask, code) is not None

    def find_by_invoicenumber(self, daybook: str, invoicenumber: str) -> list[Transaction]:
        """Every transaction of the daybook with this invoice number (drafts and final ones)."""
        numbers = sorted(self.invoice_index.get((daybook, invoicenumber), ()))
        return [self.transactions[(daybook, number)] for number in numbers]

    def store(self, transaction: Transaction, previous_invoicenumber: str = "") -> None:
        """Add or re-index a transaction (its invoice number may have changed from ``previous_invoicenumber``)."""
        self.invoice_index.get((transaction.daybook, previous_invoicenumber), set()).discard(transaction.number)
        self.transactions[(transaction.daybook, transaction.number)] = transaction
        if transaction.invoicenumber:
            self.invoice_index.setdefault((transaction.daybook, transaction.invoicenumber), set()).add(
                transaction.number)

    def remove(self, transaction: Transaction) -> None:
        del self.transactions[(transaction.daybook, transaction.number)]
        self.invoice_index.get((transaction.daybook, transaction.invoicenumber), set()).discard(transaction.number)

    def period_of(self, day: dt.date) -> str:
        """The "YYYY/PP" period a date falls in, by this office's period scheme."""
        if self.periods_per_year == 12:
            return f"{day.year}/{day.month:02d}"
        length = 364 // self.periods_per_year  # 13 periods: 28 days each, the last one takes the rest
        number = min(self.periods_per_year, (day.timetuple().tm_yday - 1) // length + 1)
        return f"{day.year}/{number:02d}"

    def period_state(self, period: str) -> str:
        """"open", "closed" or "invalid" for a "YYYY/PP" period."""
        year, _, number = period.partition("/")
        if not (len(year) == 4 and year.isdigit() and len(number) == 2 and number.isdigit()):
            return "invalid"
        if not (FIRST_OPEN_YEAR <= int(year) <= self.last_open_year and 1 <= int(number) <= self.periods_per_year):
            return "invalid"
        if self.closed_through is not None and period <= self.closed_through:
            return "closed"
        return "open"


def new_office(code: str, name: str) -> Office:
    accounts = {code_: Account(code_, account_name, dimtype) for code_, account_name, dimtype in chart.LEDGER_ACCOUNTS}
    vatcodes = {
        vat_code: VatCode(
            vat_code,
            vat_name,
            vat_type,
            # Dutch high rate went from 19% to 21% on 2012-10-01; the other codes carry one percentage.
            [(dt.date(2000, 1, 1), Decimal("19"), account), (dt.date(2012, 10, 1), pct, account)]
            if pct == Decimal("21")
            else [(dt.date(2000, 1, 1), pct, account)],
            ict=vat_code in chart.ICT_VAT_CODES,
        )
        for vat_code, vat_name, vat_type, pct, account in chart.VAT_CODES
    }
    daybooks = {
        chart.SALES_DAYBOOK: Daybook(chart.SALES_DAYBOOK, "Verkoopboek", "Verkoop", "sales",
                                     (code, chart.SALES_DAYBOOK) in chart.DESCRIPTION_REQUIRED),
        "MEMO": Daybook("MEMO", "Memoriaal", "Memoriaal", "memorial"),
    }
    mask, template, first = DEB_MASKS[code]
    return Office(code, name, accounts, vatcodes, daybooks, of_office(code), deb_mask=mask,
                  deb_format=(template, first), periods_per_year=chart.OFFICE_PERIODS.get(code, 12))


class World:
    """All offices of the one organisation the sandbox emulates, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.offices: dict[str, Office] = {code: new_office(code, name) for code, name in chart.OFFICES.items()}

    def office(self, code: str) -> Office | None:
        return self.offices.get(code)
