"""Stage 5: read from Twinfield, in bulk, how far each booked invoice has been paid."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import postings
from twinfield.state.postings import MatchUpdate, Posting


BROWSE_CHUNK = 100  # invoice numbers per browse (one invoice-number range each); a few browses at a time


class PullReconciliationsOperator(SyncStageOperator):
    """For every invoice in Twinfield that Focus does not show fully paid yet, reads the match status of its
    total line with browses of Twinfield's customer transactions (per office and daybook, 100 invoice numbers
    each, a few at a time: invoice number, open value, match status and date), and records it, including
    drafts that the bookkeeper made final. Reads only: a dry run does the same."""

    stage = "pull_reconciliations"

    def sync(self, run: StageRun) -> dict:
        open_invoices = postings.to_reconcile(run.store)
        by_book: dict[tuple[str, str], list[Posting]] = defaultdict(list)
        for posting in open_invoices:
            by_book[(posting.office, posting.daybook)].append(posting)
        updates: list[MatchUpdate] = []
        for (office, daybook), group in by_book.items():
            wanted = {p.invoice_number: p for p in group}
            numbers = sorted(wanted)
            chunks = [numbers[start : start + BROWSE_CHUNK] for start in range(0, len(numbers), BROWSE_CHUNK)]
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="twinfield-browse") as pool:
                found = pool.map(lambda chunk: run.twinfield.match_statuses(office, daybook, invoice_numbers=chunk),
                                 chunks)
                statuses = [status for chunk in found for status in chunk]
            for status in statuses:
                posting = wanted.get(status.invoice_number)
                if posting is None:
                    continue
                updates.append(
                    MatchUpdate(
                        key=posting.key,
                        head_status=status.status,
                        match_status=status.match_status,
                        paid_amount=abs(status.paid_amount),
                        open_amount=abs(status.open_value),
                        match_date=status.match_date,
                    )
                )
        postings.record_matches(run.store, updates)
        return {
            "invoices_checked": len(open_invoices),
            "found_in_twinfield": len(updates),
            "final": sum(u.head_status == "final" for u in updates),
            "matched": sum(u.match_status == "matched" for u in updates),
            "partly_paid": sum(u.match_status != "matched" and u.paid_amount > 0 for u in updates),
        }
