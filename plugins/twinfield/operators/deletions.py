"""Documents deleted in Focus (Focus deletes drafts and the last booked invoice of a department): found by
extract, named in the run's report with what Twinfield holds for them, and their Twinfield drafts deleted only
when the configuration says so (``delete_drafts_of_deleted_documents``). A final transaction is never deleted.

Which documents are checked, within a daily run's request budget: those an earlier run validated but Twinfield
does not hold (extract lists them by id anyway), and those Twinfield holds as drafts by the state store's record
(one ids-filtered list call per 100). Focus leaving an id out of such a list is confirmed with its info call
(404, or 400 "references non-existing resources") before the document counts as deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace

from twinfield.domain.batching import FOCUS_IDS_PER_LIST, chunked
from twinfield.domain.deletions import IN_TWINFIELD, Deletion, plan_deletions
from twinfield.domain.report import DRAFT_DELETED, DRAFT_NOT_DELETED, WOULD_DELETE
from twinfield.errors import FocusApiError, FocusAuthError
from twinfield.state import deletions, postings
from twinfield.state.postings import Posting


def missing_from(list_documents: Callable[..., Iterable[dict]], ids: list[str]) -> list[str]:
    """The ids an ids-filtered list leaves out, 100 ids per call."""
    missing = []
    for chunk in chunked(ids, FOCUS_IDS_PER_LIST):
        returned = {item["id"] for item in list_documents(ids=chunk)}
        missing += [focus_id for focus_id in chunk if focus_id not in returned]
    return missing


def unknown_to_focus(read_info: Callable[[str], dict], ids: Iterable[str]) -> list[str]:
    """The ids whose info call answers that Focus does not know them (404, or 400 per the API's error list)."""
    gone = []
    for focus_id in ids:
        try:
            read_info(focus_id)
        except FocusApiError as exc:
            if exc.status not in (400, 404) or isinstance(exc, FocusAuthError):
                raise
            gone.append(focus_id)
    return gone


def plan(run, kind: str, gone: list[str]) -> list[Deletion]:
    """What becomes of each document Focus deleted, given what Twinfield holds for it (``WOULD_DELETE``: a draft
    to delete, as configured). Nothing is written here."""
    if not gone:
        return []
    known = postings.postings(run.store, [(kind, focus_id) for focus_id in gone])
    numbers = deletions.known_numbers(run.store, kind, gone)
    run.doing(f"checking in Twinfield what it holds for {len(gone)} {kind}(s) deleted in Focus")
    held = _held_in_twinfield(run.twinfield, [p for p in known.values() if p.status in IN_TWINFIELD])
    return plan_deletions(kind, gone, known, numbers, held, run.config.delete_drafts_of_deleted_documents)


def apply(run, planned: list[Deletion]) -> list[Deletion]:
    """Delete the drafts ``planned`` would delete; returns the deletions with what became of each. Nothing is
    recorded here."""
    to_delete = [d for d in planned if d.outcome == WOULD_DELETE]
    if not to_delete:
        return planned
    run.doing(f"deleting {len(to_delete)} draft(s) in Twinfield of documents deleted in Focus")
    known = postings.postings(run.store, [(d.kind, d.focus_id) for d in to_delete])
    done = {}
    for draft in to_delete:
        posting, number = known[(draft.kind, draft.focus_id)], draft.twinfield_number
        outcome = run.twinfield.transactions.delete_draft(posting.office, posting.daybook, number,
                                                          f"deleted in Teamleader Focus ({posting.focus_number})")
        if outcome.ok:
            done[posting.key] = replace(draft, outcome=DRAFT_DELETED)
        else:
            detail = " // ".join(outcome.error_messages) or "no reason given"
            done[posting.key] = replace(draft, outcome=DRAFT_NOT_DELETED, detail=detail)
    return [done.get((d.kind, d.focus_id), d) for d in planned]


def _held_in_twinfield(twinfield, to_ask: list[Posting]) -> dict[tuple[str, str], tuple[str, str]]:
    """What Twinfield holds at each posting's booked number: key -> (Twinfield number, head status)."""
    by_book: dict[tuple[str, str], list[Posting]] = defaultdict(list)
    for posting in to_ask:
        by_book[(posting.office, posting.daybook)].append(posting)
    held = {}
    for (office, daybook), group in by_book.items():
        statuses = twinfield.matching.statuses(office, daybook, invoice_numbers=sorted({p.invoice_number for p in group}))
        found = {s.invoice_number: s for s in statuses}
        for posting in group:
            status = found.get(posting.invoice_number)
            if status is not None:
                held[posting.key] = (status.number, status.status)
    return held
