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

from twinfield.domain.report import (
    DRAFT_DELETED,
    DRAFT_KEPT,
    DRAFT_NOT_DELETED,
    FINAL,
    NOT_BOOKED,
    NOTHING_HELD,
    WOULD_DELETE,
)
from twinfield.errors import FocusApiError, FocusAuthError
from twinfield.state import deletions, postings
from twinfield.state.deletions import Deletion
from twinfield.state.postings import Posting

ID_PAGE = 100  # ids per list call (Focus's page size)
IN_TWINFIELD = ("pending", "posted")  # what may be a draft in Twinfield by our record


def missing_from(list_documents: Callable[..., Iterable[dict]], ids: list[str]) -> list[str]:
    """The ids an ids-filtered list leaves out, 100 ids per call."""
    missing = []
    for start in range(0, len(ids), ID_PAGE):
        chunk = ids[start : start + ID_PAGE]
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


def settle(run, kind: str, gone: list[str]) -> list[Deletion]:
    """What becomes of each document Focus deleted, given what Twinfield holds for it; deletes drafts when
    configured (not in a dry run). Nothing is recorded here."""
    if not gone:
        return []
    known = postings.postings(run.store, [(kind, focus_id) for focus_id in gone])
    numbers = deletions.known_numbers(run.store, kind, gone)
    run.doing(f"checking in Twinfield what it holds for {len(gone)} {kind}(s) deleted in Focus")
    held = _held_in_twinfield(run.twinfield, [p for p in known.values() if p.status in IN_TWINFIELD])
    delete_drafts = run.config.delete_drafts_of_deleted_documents
    result = []
    for focus_id in gone:
        posting = known.get((kind, focus_id))
        if posting is None or posting.status not in IN_TWINFIELD:
            # Never booked (or refused by Twinfield, or its draft deleted earlier): nothing in Twinfield.
            result.append(Deletion(kind, focus_id, numbers.get(focus_id, ""), NOT_BOOKED))
            continue
        where = {"office": posting.office, "daybook": posting.daybook, "invoice_number": posting.invoice_number}
        number, status = held.get(posting.key, (None, None))
        if status == "final":
            result.append(Deletion(kind, focus_id, posting.focus_number, FINAL, twinfield_number=number, **where))
        elif status is None:
            result.append(Deletion(kind, focus_id, posting.focus_number, NOTHING_HELD, **where))
        elif not delete_drafts:
            result.append(Deletion(kind, focus_id, posting.focus_number, DRAFT_KEPT, twinfield_number=number, **where))
        elif run.dry_run:
            result.append(Deletion(kind, focus_id, posting.focus_number, WOULD_DELETE, twinfield_number=number,
                                   **where))
        else:
            outcome = run.twinfield.transactions.delete_draft(posting.office, posting.daybook, number,
                                                 f"deleted in Teamleader Focus ({posting.focus_number})")
            if outcome.ok:
                result.append(Deletion(kind, focus_id, posting.focus_number, DRAFT_DELETED, twinfield_number=number,
                                       **where))
            else:
                detail = " // ".join(outcome.error_messages) or "no reason given"
                result.append(Deletion(kind, focus_id, posting.focus_number, DRAFT_NOT_DELETED,
                                       twinfield_number=number, detail=detail, **where))
    return result


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
