"""What the pipeline sends to and reads from Twinfield, as plain values.

The Twinfield hook turns these into ProcessXml / Finder requests (via twinfield.domain.twinfield) and
its replies back into these; the mapping code builds them from Focus documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum


class DebitCredit(str, Enum):
    DEBIT = "debit"
    CREDIT = "credit"

    def flipped(self) -> "DebitCredit":
        return DebitCredit.CREDIT if self is DebitCredit.DEBIT else DebitCredit.DEBIT


@dataclass(frozen=True)
class Address:
    name: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    email: str = ""


@dataclass(frozen=True)
class Customer:
    """A Twinfield DEB dimension. ``code`` is None for a customer still to be created (Twinfield numbers it)."""

    code: str | None
    name: str
    vat_number: str = ""
    due_days: int | None = None
    address: Address | None = None
    iban: str = ""
    office: str = ""
    coc_number: str = ""  # company registration number (KvK, KBO)


@dataclass(frozen=True)
class LedgerAccount:
    code: str  # leading zeros matter: "0110" != "110"
    name: str
    dimtype: str  # "BAS" (balance) or "PNL" (profit and loss)


@dataclass(frozen=True)
class VatCode:
    code: str
    name: str
    type: str  # "sales" | "purchase"
    percentage: Decimal | None  # current percentage (None when Twinfield gave none)
    # Dated percentages, newest first: (valid from, percentage)
    percentages: tuple[tuple[dt.date, Decimal], ...] = ()


GOODS, SERVICES = "goods", "services"  # performance types of intra-community (ICT) lines


@dataclass(frozen=True)
class TransactionLine:
    type: str  # "total" | "detail" | "vat"
    # Ledger account; "" leaves it out: on the total line Twinfield then takes the customer's collective account.
    dim1: str
    value: Decimal  # positive amount; the side is debitcredit
    debitcredit: DebitCredit
    dim2: str | None = None  # customer code on the total line
    vatcode: str | None = None
    # VAT amount of a detail line as the invoice computed it; when given, Twinfield books exactly this VAT
    # (so totals match Focus to the cent) instead of recomputing it from the VAT code's percentage.
    vat_value: Decimal | None = None
    description: str = ""  # max 40 characters in Twinfield
    # Intra-community (ICT) VAT codes only: goods | services, and the date of a service.
    performance_type: str | None = None
    performance_date: dt.date | None = None


@dataclass(frozen=True)
class SalesTransaction:
    """A draft (destiny="temporary") sales transaction: invoice, or credit note with every side flipped."""

    office: str
    daybook: str  # e.g. "VRK"
    currency: str
    date: dt.date
    invoice_number: str
    due_date: dt.date | None
    lines: tuple[TransactionLine, ...]
    header_description: str = ""
    # Twinfield's transaction number: None for a new transaction (Twinfield assigns one); the draft's number
    # to update that draft.
    number: str | None = None
    # "YYYY/PP" as Twinfield booked it (read back); never sent: Twinfield derives it from the date with the
    # office's own period scheme, which need not be twelve months.
    period: str = ""


@dataclass(frozen=True)
class Message:
    """One error/warning/info message from a ProcessXml reply, with where it sat."""

    type: str  # "error" | "warning" | "info"
    text: str
    element: str  # e.g. "transaction", "header", "line", "value", "dim1"
    line_id: str | None = None  # id of the <line> it sat in, when it sat in one


@dataclass(frozen=True)
class ItemResult:
    """Result of one child of a ProcessXml request (one transaction, one dimension, ...)."""

    index: int  # position in the request as sent
    ok: bool
    key: str = ""  # invoice number / dimension code / what identifies the item
    number: str | None = None  # Twinfield transaction number, or the dimension code assigned
    location: str | None = None  # "temporary" | "final" for transactions
    messages: tuple[Message, ...] = ()
    period: str = ""  # transactions: the "YYYY/PP" Twinfield booked it in

    @property
    def error_messages(self) -> list[str]:
        """The reasons it failed: errors, and warnings (which fail a transaction just the same)."""
        return [m.text for m in self.messages if m.type in ("error", "warning")]

    @property
    def double_invoice_number(self) -> bool:
        """Refused because the daybook already holds its invoice number (a warning on ``<invoicenumber>``):
        read by where the warning sits, not by its text, which is in the user's language."""
        return not self.ok and any(m.type == "warning" and m.element == "invoicenumber" for m in self.messages)


@dataclass(frozen=True)
class MatchStatus:
    """Payment state of an invoice's total line, from the browse of customer transactions (code 100)."""

    office: str
    daybook: str
    number: str  # Twinfield transaction number
    invoice_number: str
    customer_code: str
    status: str  # head status: temporary | final
    value: Decimal  # signed, incl. VAT
    open_value: Decimal  # signed
    match_status: str  # available | proposed | matched | notmatchable
    match_date: dt.date | None = None
    currency: str = "EUR"
    period: str = ""  # "YYYY/PP" as Twinfield booked it

    @property
    def paid_amount(self) -> Decimal:
        return self.value - self.open_value


@dataclass(frozen=True)
class UnreadableRow:
    """A browse row whose payment state cannot be read (an amount or a date in a form this sync does not know):
    what it names, and why it cannot be read."""

    office: str
    number: str  # Twinfield transaction number
    invoice_number: str
    reason: str


@dataclass
class Office:
    code: str
    name: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PostedTransaction:
    """A sales transaction as Twinfield holds it (from a ``<read>``), with the state of its total line."""

    transaction: SalesTransaction  # ``number`` is set
    location: str  # "temporary" (draft) | "final"
    match_status: str | None = None  # of the total line: available | proposed | matched | notmatchable
    open_value: Decimal | None = None  # of the total line, signed (debit positive)
    match_date: dt.date | None = None

    @property
    def is_draft(self) -> bool:
        return self.location == "temporary"
