"""Sales transactions: drafts posted (new or updated), read, deleted.

Costs: ``post`` one write per 25 transactions (a batch Twinfield answers with HTTP 400 is sent again in halves,
down to the one transaction it refuses); ``read`` 1 read; ``delete_draft`` 1 write. An unknown outcome is
checked with a browse (see :class:`Matching`) or a read before anything is sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from twinfield.domain.twinfield.transactions import (
    delete_transaction_xml,
    parse_transaction,
    read_transaction_xml,
    sales_transactions_xml,
    signed_total,
)
from twinfield.domain.twinfield_model import ItemResult, Message, PostedTransaction, SalesTransaction
from twinfield.errors import TwinfieldFault
from twinfield.hooks.twinfield.client import TwinfieldClient
from twinfield.hooks.twinfield.connectors.matching import Matching


class Transactions:
    def __init__(self, client: TwinfieldClient, matching: Matching):
        self.client = client
        self.matching = matching

    def post(self, transactions: Sequence[SalesTransaction]) -> list[ItemResult]:
        """Post drafts (destiny temporary), 25 per request: without ``number`` a new transaction, with the
        ``number`` of a draft an update of that draft. ``ItemResult.number`` is Twinfield's transaction number
        and ``period`` the period it booked it in; rejections are returned, not raised (one whose invoice
        number the daybook already holds has ``double_invoice_number``)."""

        def write(batch: Sequence[SalesTransaction], office: str) -> list[ItemResult]:
            try:
                return self.client.write_checked(batch, sales_transactions_xml, office,
                                                 lambda b: self._in_effect(b, office))
            except TwinfieldFault as fault:
                if fault.code != "400":
                    raise
            # HTTP 400 refuses the whole request (e.g. a transaction of more than 1000 lines): find the one(s)
            # it refuses, so that they do not hold back the rest. Sending the others again is safe: a new one
            # that did get saved is refused with the double-invoice-number warning.
            if len(batch) == 1:
                message = Message("error", "Twinfield refused it with HTTP 400 (Bad Request), not an XML message; "
                                  "a transaction of more than 1000 lines is answered so", "transaction")
                return [ItemResult(0, False, key=batch[0].invoice_number, messages=(message,))]
            half = len(batch) // 2
            return write(batch[:half], office) + write(batch[half:], office)

        return self.client.batched(transactions, lambda t: t.office, write)

    def _in_effect(self, transactions: Sequence[SalesTransaction], office: str) -> dict[int, ItemResult]:
        """Which transactions Twinfield now holds as sent: same daybook, invoice number, customer and total (and,
        for an update, the same transaction number)."""
        applied = {}
        by_daybook: dict[str, list[int]] = defaultdict(list)
        for pos, tx in enumerate(transactions):
            by_daybook[tx.daybook].append(pos)
        for daybook, positions in by_daybook.items():
            numbers = [transactions[p].invoice_number for p in positions]
            found = defaultdict(list)
            for status in self.matching.statuses(office, daybook, numbers):
                found[status.invoice_number].append(status)
            for pos in positions:
                tx = transactions[pos]
                total = signed_total(tx)
                customer = next((ln.dim2 for ln in tx.lines if ln.type == "total"), None)
                for status in found[tx.invoice_number]:
                    if status.value == total and status.customer_code == customer and tx.number in (None,
                                                                                                     status.number):
                        applied[pos] = ItemResult(pos, True, key=tx.invoice_number, number=status.number,
                                                  location=status.status, period=status.period)
                        break
        return applied

    def read(self, office: str, daybook: str, number: str) -> PostedTransaction | None:
        """A transaction as Twinfield holds it, with its location and its total line's match state;
        None when Twinfield has no such transaction."""
        return parse_transaction(self.client.read(read_transaction_xml(office, daybook, number), office))

    def delete_draft(self, office: str, daybook: str, number: str, reason: str) -> ItemResult:
        """Delete a draft (Twinfield refuses final transactions: returned as a failed ItemResult)."""

        def gone(_: Sequence[str]) -> dict[int, ItemResult]:
            if self.read(office, daybook, number) is None:
                return {0: ItemResult(0, True, key=str(number), number=str(number))}
            return {}

        [result] = self.client.write_checked([number], lambda _: delete_transaction_xml(office, daybook, number, reason),
                                             office, gone)
        return replace(result, key=str(number))
