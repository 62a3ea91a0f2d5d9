"""Stage 5: read from Twinfield, in bulk, how far each booked invoice has been paid."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from twinfield.domain.batching import TWINFIELD_INVOICES_PER_BROWSE, chunked
from twinfield.domain.twinfield_model import MatchStatus, UnreadableRow
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import postings
from twinfield.state.postings import MatchUpdate, Posting



def browses(run: StageRun, office: str, daybook: str, group: list[Posting],
             unreadable: Callable[[UnreadableRow], None]) -> list[Callable[[], list[MatchStatus]]]:
    """The browses that cover a group of invoices: one per period Twinfield booked them in, or one per 100
    invoice numbers, whichever takes fewer requests. The periods are the ones Twinfield replied with (its own
    period scheme, which need not be months); invoices whose period is not known go by invoice number. Rows that
    cannot be read go to ``unreadable`` (a period's, of other invoices too: the caller takes its own)."""
    twinfield = run.twinfield
    wanted = {p.invoice_number for p in group}

    def ours(status: MatchStatus) -> bool:  # a period's answer holds every invoice of the period
        return status.invoice_number in wanted

    dated = [p for p in group if p.period]
    periods = sorted({p.period for p in dated})
    calls: list[Callable[[], list[MatchStatus]]] = []
    by_number = [p for p in group if not p.period]
    if len(periods) <= math.ceil(len(dated) / TWINFIELD_INVOICES_PER_BROWSE):
        calls += [lambda p=p: twinfield.matching.statuses(office, daybook, from_period=p, to_period=p, keep=ours,
                                                       unreadable=unreadable)
                  for p in periods]
    else:
        by_number += dated
    numbers = sorted({p.invoice_number for p in by_number})
    chunks = chunked(numbers, TWINFIELD_INVOICES_PER_BROWSE)
    return calls + [lambda c=c: twinfield.matching.statuses(office, daybook, invoice_numbers=c, unreadable=unreadable)
                    for c in chunks]


class PullReconciliationsOperator(SyncStageOperator):
    """For every invoice in Twinfield that Focus does not show fully paid yet, reads the match status of its
    total line from browses of Twinfield's customer transactions (per office and daybook: by period or by
    invoice-number range, whichever is fewer requests, a few at a time): invoice number, open value, match
    status and date. Records it, including drafts that the bookkeeper made final. A row of one invoice that
    cannot be read (an amount or date in an unknown form) is reported with the invoice, which stays as it was;
    the others go on. Reads only: a dry run does the same."""

    stage = "pull_reconciliations"

    def sync(self, run: StageRun) -> dict:
        open_invoices = postings.to_reconcile(run.store)
        by_book: dict[tuple[str, str], list[Posting]] = defaultdict(list)
        for posting in open_invoices:
            by_book[(posting.office, posting.daybook)].append(posting)
        found_by_key: dict[tuple[str, str], MatchUpdate] = {}
        requests = 0
        problems: list[dict] = []
        for (office, daybook), group in by_book.items():
            wanted = {p.invoice_number: p for p in group}
            unreadable: list[UnreadableRow] = []
            run.doing(f"reading payment states of {len(group)} invoice(s) in Twinfield office {office}, "
                      f"daybook {daybook}")
            calls = browses(run, office, daybook, group, unreadable.append)
            requests += len(calls)
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="twinfield-browse") as pool:
                statuses = (status for found in pool.map(lambda call: call(), calls) for status in found)
                for status in statuses:
                    posting = wanted.get(status.invoice_number)
                    if posting is None or status.number != posting.twinfield_number:
                        continue  # another invoice of the same period, or another transaction with its number
                    found_by_key[posting.key] = MatchUpdate(
                        key=posting.key,
                        head_status=status.status,
                        match_status=status.match_status,
                        paid_amount=abs(status.paid_amount),
                        open_amount=abs(status.open_value),
                        match_date=status.match_date,
                        period=status.period,
                    )
            for row in unreadable:
                posting = wanted.get(row.invoice_number)
                if posting is not None and row.number in ("", posting.twinfield_number):
                    problems.append({"office": office, "invoice_number": row.invoice_number,
                                     "focus_number": posting.focus_number, "twinfield_number": row.number,
                                     "reason": row.reason})
        updates = list(found_by_key.values())
        run.doing("recording the payment states")
        postings.record_matches(run.store, updates)
        run.details["reconciliation_problems"] = problems
        return {
            "invoices_checked": len(open_invoices),
            "browses": requests,
            "found_in_twinfield": len(updates),
            "final": sum(u.head_status == "final" for u in updates),
            "matched": sum(u.match_status == "matched" for u in updates),
            "partly_paid": sum(u.match_status != "matched" and u.paid_amount > 0 for u in updates),
            "unreadable": len(problems),
        }
