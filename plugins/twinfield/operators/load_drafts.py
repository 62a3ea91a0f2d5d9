"""Stage 4: post the valid documents to Twinfield as draft sales transactions, each exactly once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from twinfield import assets
from twinfield.domain.batching import TWINFIELD_MAX_PER_REQUEST, chunked
from twinfield.domain.money import format_amount
from twinfield.domain.twinfield.transactions import sales_transaction_element
from twinfield.domain.twinfield_model import MatchStatus
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.domain.posting_plan import Action, PostingPlan, plan_postings, to_check
from twinfield.state import deletions, documents, postings
from twinfield.state.documents import ValidationOutcome
from twinfield.state.postings import Attempt, InTwinfield, Posting



def attempt_for(outcome: ValidationOutcome, number: str | None = None) -> Attempt:
    """The write of a document: a new transaction, or with ``number`` an update of that draft."""
    tx = replace(outcome.transaction, number=number)
    total = next(line for line in tx.lines if line.type == "total")
    return Attempt(outcome.kind, outcome.focus_id, outcome.focus_number, outcome.content_hash, tx, total.dim2,
                   total.value)


class LoadDraftsOperator(SyncStageOperator):
    """Writes each valid document that Twinfield does not hold yet (or holds as an outdated draft) as a draft
    (``destiny="temporary"``) sales transaction, in requests of at most 25.

    Before every request the attempt is recorded ('pending'); after it, each document's Twinfield number or
    Twinfield's reasons for refusing it. Documents whose earlier outcome is unknown, or that changed, are
    first looked up in Twinfield by invoice number (see ``twinfield.domain.posting_plan``); a draft found there is
    updated by its number. A new transaction that Twinfield refuses because the daybook already holds its
    invoice number is there already: it is looked up, recorded and reported, never written again.

    :param batch_size: documents per request (at most 25).
    """

    stage = "load_drafts"

    def __init__(self, *, batch_size: int = TWINFIELD_MAX_PER_REQUEST, **kwargs: Any):
        super().__init__(**kwargs)
        if not 1 <= batch_size <= TWINFIELD_MAX_PER_REQUEST:
            raise ValueError(f"batch_size must be 1..{TWINFIELD_MAX_PER_REQUEST}, got {batch_size}")
        self.batch_size = batch_size

    def sync(self, run: StageRun) -> dict:
        outcomes = documents.validation_outcomes(run.store, run.run_id, valid=True)
        known = postings.postings(run.store, [(o.kind, o.focus_id) for o in outcomes])
        held = self._held_in_twinfield(run, to_check(outcomes, known))
        plan = plan_postings(outcomes, known, held)
        to_post = [attempt_for(outcome, draft) for outcome, draft in plan.post]
        to_move = [(posting, attempt_for(outcome)) for posting, outcome in plan.move]
        updates = plan.updates
        summary: dict[str, Any] = {
            "valid": len(outcomes),
            "already_booked": plan.counts[Action.SKIP.value],
            "changed_after_final": plan.counts[Action.KEEP_FINAL.value],
            "final_elsewhere": plan.counts[Action.HOLD_FINAL_ELSEWHERE.value],
            "checked_in_twinfield": plan.counts["checked"],
            "to_post": len(to_post) + len(to_move),
        }
        if run.dry_run:
            summary["would_post"] = summary.pop("to_post")
            run.details["would_post"] = [
                {"kind": a.kind, "focus_id": a.focus_id, "focus_number": a.focus_number, "office": a.transaction.office,
                 "invoice_number": a.transaction.invoice_number, "amount": format_amount(a.total),
                 "currency": a.transaction.currency, "updated": a.key in updates}
                for a in to_post + [attempt for _, attempt in to_move]
            ]
            return summary
        return self._apply(run, plan, held, to_post, to_move, summary)

    def _apply(self, run: StageRun, plan: PostingPlan, held: dict[tuple[str, str], tuple[str, str]],
               to_post: list[Attempt], to_move: list[tuple[Posting, Attempt]], summary: dict[str, Any]) -> dict:
        """Record the finals found, move drafts (delete, then write at the new target), write the rest."""
        finals, updates = plan.finals, plan.updates
        postings.record_found(run.store, finals)
        not_moved = []
        for posting, attempt in to_move:
            run.doing(f"deleting the draft of {_label(attempt)} in Twinfield office {posting.office} to move it")
            deleted = run.twinfield.transactions.delete_draft(posting.office, posting.daybook, held[posting.key][0],
                                                 f"moved to {attempt.transaction.office}/{attempt.transaction.daybook}")
            if deleted.ok:
                postings.record_deleted(run.store, posting.key)
                to_post.append(attempt)
            else:
                not_moved.append((posting.key, "the earlier draft could not be deleted to move it: "
                                  + (" // ".join(deleted.error_messages) or "no reason given")))
        postings.record_rejected(run.store, not_moved)
        posted, rejected, already = self._post(run, to_post)
        run.details["updated"] = sorted(focus_id for _, focus_id in posted & updates)
        assets.emit_sales(run.context, assets.sales_events(run.run_id, [
            (a.transaction.office, a.transaction.invoice_number, a.key in updates) for a in to_post if a.key in posted]))
        run.details["found_in_twinfield"] = already
        summary.update(
            booked=len(posted - updates),
            updated_drafts=len(posted & updates),
            moved=len(to_move) - len(not_moved),
            rejected_by_twinfield=len(rejected),
            already_in_twinfield=len(already),
        )
        return summary

    def _held_in_twinfield(self, run: StageRun, to_check: list[Posting]) -> dict[tuple[str, str], tuple[str, str]]:
        """What Twinfield holds at each posting's target: key -> (Twinfield number, head status)."""
        by_book: dict[tuple[str, str], list[Posting]] = defaultdict(list)
        for posting in to_check:
            by_book[(posting.office, posting.daybook)].append(posting)
        held = {}
        for (office, daybook), group in by_book.items():
            numbers = sorted({p.invoice_number for p in group})
            run.doing(f"checking {len(numbers)} earlier booking(s) in Twinfield office {office}, daybook {daybook}")
            statuses = run.twinfield.matching.statuses(office, daybook, invoice_numbers=numbers)
            found = {s.invoice_number: s for s in statuses}
            for posting in group:
                status = found.get(posting.invoice_number)
                if status is not None:
                    held[posting.key] = (status.number, status.status)
        return held

    def _post(self, run: StageRun, to_post: list[Attempt]) -> tuple[set, set, list[dict]]:
        """Write the documents in requests of ``batch_size``; returns the keys (posted, refused) and what
        Twinfield turned out to hold already."""
        posted: set[tuple[str, str]] = set()
        rejected: set[tuple[str, str]] = set()
        already: list[dict] = []
        for batch in chunked(to_post, self.batch_size):
            postings.mark_attempts(run.store, run.run_id, batch)
            unwritable = _unwritable(batch)
            batch = [a for a in batch if a.key not in unwritable]
            postings.record_rejected(run.store, list(unwritable.items()))
            rejected.update(unwritable)
            if not batch:
                continue
            run.doing(f"posting {len(batch)} draft(s) to Twinfield ({_label(batch[0])} and on)")
            results = run.twinfield.transactions.post([a.transaction for a in batch])
            ok, refused, doubled = [], [], []
            for attempt, result in zip(batch, results, strict=True):
                if result.ok:
                    ok.append((attempt.key, result.number, result.location or "temporary", result.period))
                elif result.double_invoice_number and attempt.transaction.number is None:
                    doubled.append((attempt, " // ".join(result.error_messages)))
                else:
                    message = " // ".join(result.error_messages) or "refused without a message"
                    refused.append((attempt.key, message))
            postings.record_posted(run.store, run.run_id, ok)
            found, not_found = self._already_there(run, doubled)
            postings.record_in_twinfield(run.store, found)
            refused += not_found
            postings.record_rejected(run.store, refused)
            posted.update(key for key, *_ in ok)
            rejected.update(key for key, _ in refused)
            by_key = {a.key: a for a in batch}
            already += [{"kind": f.key[0], "focus_id": f.key[1], "focus_number": by_key[f.key].focus_number,
                         "office": by_key[f.key].transaction.office, "invoice_number":
                         by_key[f.key].transaction.invoice_number, "twinfield_number": f.number,
                         "status": f.head_status, "same_content": f.same_content} for f in found]
            self.log.info("Sent %d of %d documents to Twinfield (%d refused, %d already there)",
                          len(posted) + len(rejected) + len(already), len(to_post), len(rejected), len(already))
        return posted, rejected, already

    def _already_there(self, run: StageRun, doubled: list[tuple[Attempt, str]]
                       ) -> tuple[list[InTwinfield], list[tuple[tuple[str, str], str]]]:
        """New transactions refused because the daybook holds their invoice number: what Twinfield holds for
        each (found), or the refusal when even a lookup finds nothing."""
        found: list[InTwinfield] = []
        not_found = []
        by_book: dict[tuple[str, str], list[tuple[Attempt, str]]] = defaultdict(list)
        for attempt, message in doubled:
            by_book[(attempt.transaction.office, attempt.transaction.daybook)].append((attempt, message))
        for (office, daybook), group in by_book.items():
            numbers = sorted({a.transaction.invoice_number for a, _ in group})
            held: dict[str, list[MatchStatus]] = defaultdict(list)
            of_deleted = deletions.held_for_deleted(run.store, office, daybook)
            unreadable: dict[str, str] = {}
            run.doing(f"looking up {len(numbers)} invoice number(s) Twinfield holds already in office {office}")
            for status in run.twinfield.matching.statuses(
                    office, daybook, invoice_numbers=numbers,
                    unreadable=lambda row: unreadable.setdefault(row.invoice_number, row.reason)):
                held[status.invoice_number].append(status)
            for attempt, message in group:
                statuses = held.get(attempt.transaction.invoice_number)
                if not statuses:
                    reason = unreadable.get(attempt.transaction.invoice_number)
                    looked_up = (f"Twinfield's row for it cannot be read: {reason}; not booked again" if reason
                                 else "a lookup by invoice number found nothing")
                    not_found.append((attempt.key, f"{message} (and {looked_up})"))
                    continue
                if all(s.number in of_deleted for s in statuses):  # Focus gave a deleted document's number again
                    taken = ", ".join(sorted(s.number for s in statuses))
                    not_found.append((attempt.key, f"invoice number {attempt.transaction.invoice_number} is still "
                                      f"taken in Twinfield by {daybook} {taken}, booked for a document since deleted "
                                      "in Focus: delete that draft in Twinfield (or credit it if final), then this "
                                      "one is booked"))
                    continue
                statuses = [s for s in statuses if s.number not in of_deleted]
                same = [s for s in statuses if _holds(s, attempt)]
                status = (same or statuses)[0]
                found.append(InTwinfield(attempt.key, status.number, status.status, status.period, bool(same)))
                self.log.warning("%s %s is already in Twinfield as %s %s (%s): recorded, not written again",
                                 attempt.kind, attempt.focus_number, daybook, status.number, status.status)
        return found, not_found


def _unwritable(batch: list[Attempt]) -> dict[tuple[str, str], str]:
    """The documents of a batch whose transaction cannot be written as a request, with the reason: they are
    not sent (the rest of the batch is), and the report names each one."""
    found = {}
    for attempt in batch:
        try:
            sales_transaction_element(attempt.transaction)
        except Exception as exc:  # noqa: BLE001 - one unwritable document never stops the batch
            found[attempt.key] = (f"not sent: {_label(attempt)}'s transaction could not be written as XML "
                                  f"({type(exc).__name__}: {exc})")
    return found


def _label(attempt: Attempt) -> str:
    return f"{'credit note' if attempt.kind == 'credit_note' else 'invoice'} {attempt.focus_number or attempt.focus_id}"


def _holds(status: MatchStatus, attempt: Attempt) -> bool:
    """Whether Twinfield's transaction has the customer and total this attempt was writing."""
    total = next(line for line in attempt.transaction.lines if line.type == "total")
    signed = total.value if total.debitcredit.value == "debit" else -total.value
    return status.customer_code == total.dim2 and status.value == signed
