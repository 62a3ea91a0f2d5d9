"""Match statuses: the payment state of sales invoices, from browse 100 (customer transactions).

Costs: one browse per 100 invoice numbers (or one for a period range); a browse that comes back incomplete is
asked again in halves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from twinfield.domain.batching import TWINFIELD_INVOICES_PER_BROWSE, chunked
from twinfield.domain.twinfield.browse import (
    BrowseRefused,
    BrowseRow,
    match_status_browse_xml,
    match_status_from_row,
    parse_browse,
)
from twinfield.domain.twinfield_model import MatchStatus, UnreadableRow
from twinfield.errors import TwinfieldError, TwinfieldFault
from twinfield.hooks.twinfield.client import TwinfieldClient


class _Truncated(Exception):
    """A browse answered fewer rows than it counted."""


class Matching:
    def __init__(self, client: TwinfieldClient):
        self.client = client

    def statuses(
        self,
        office: str | None = None,
        daybook: str = "VRK",
        invoice_numbers: Collection[str] | None = None,
        from_period: str | None = None,
        to_period: str | None = None,
        *,
        keep: Callable[[MatchStatus], bool] | None = None,
        unreadable: Callable[[UnreadableRow], None] | None = None,
    ) -> list[MatchStatus]:
        """Payment state of total lines (browse 100), drafts included: of the given invoice numbers (one
        browse per 100 of them, by invoice-number range, the rows then filtered to exactly these), or of
        every invoice of the daybook in the period range (only those ``keep`` accepts are held: a period's
        answer is read row by row). A browse that answers fewer rows than it counts is asked again in halves;
        without invoice numbers that is an error (narrow the period range). A row whose amounts or dates
        cannot be read goes to ``unreadable`` (of the given invoice numbers only, when they are given); without
        it, such a row is an error that names its invoice."""
        office = self.client.office(office)
        periods = (from_period or "0000/00", to_period or "9999/99") if (from_period or to_period) else None
        if invoice_numbers is None:
            return self._browse(office, daybook, None, periods, keep, unreadable)
        wanted = sorted(set(invoice_numbers))
        statuses = []
        for group in chunked(wanted, TWINFIELD_INVOICES_PER_BROWSE):
            statuses += self._group(office, daybook, group, periods, unreadable)
        return [s for s in statuses if keep(s)] if keep else statuses

    def _group(self, office: str, daybook: str, group: list[str], periods,
               unreadable: Callable[[UnreadableRow], None] | None) -> list[MatchStatus]:
        wanted = set(group)

        def ours(row: UnreadableRow) -> None:  # the range holds other invoices too
            if row.invoice_number in wanted:
                unreadable(row)

        try:
            return self._browse(office, daybook, (group[0], group[-1]), periods,
                                lambda status: status.invoice_number in wanted,
                                ours if unreadable is not None else None)
        except _Truncated:
            if len(group) == 1:
                raise TwinfieldError(f"browse of invoice {group[0]} came back incomplete") from None
            half = len(group) // 2
            return self._group(office, daybook, group[:half], periods, unreadable) + self._group(
                office, daybook, group[half:], periods, unreadable)

    def _browse(self, office, daybook, invoice_range, periods, keep, unreadable) -> list[MatchStatus]:
        reply = self.client.read(match_status_browse_xml(office, daybook, invoice_range, periods), office)
        statuses: list[MatchStatus] = []
        cannot_read: list[UnreadableRow] = []  # handed on only once the browse came back whole

        def take(row: BrowseRow) -> bool:
            try:
                status = match_status_from_row(row)
            except (ValueError, ArithmeticError) as exc:
                found = UnreadableRow(office, row.values.get("fin.trs.head.number") or row.key.get("number", ""),
                                      row.values.get("fin.trs.line.invnumber", ""), str(exc))
                if unreadable is None:
                    raise TwinfieldError(f"browse row of invoice {found.invoice_number!r} (transaction "
                                         f"{found.number}) in office {office} cannot be read: {exc}") from None
                cannot_read.append(found)
                return False
            if keep is None or keep(status):
                statuses.append(status)
            return False  # the row itself is not needed any more

        try:
            result = parse_browse(reply, take)
        except BrowseRefused as refused:
            raise TwinfieldFault(None, f"browse refused: {refused}") from None
        if not result.complete:
            if invoice_range is None:
                raise TwinfieldError(f"browse answered {result.received} of {result.total} rows: narrow the period range")
            raise _Truncated()
        for row in cannot_read:
            unreadable(row)
        return statuses
