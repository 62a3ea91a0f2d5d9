"""What becomes of a document deleted in Focus, given what Twinfield holds for it (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from twinfield.domain.report import DRAFT_KEPT, FINAL, NOT_BOOKED, NOTHING_HELD, WOULD_DELETE

IN_TWINFIELD = ("pending", "posted")  # what may be a draft in Twinfield by our record


@dataclass(frozen=True)
class Deletion:
    kind: str
    focus_id: str
    focus_number: str
    outcome: str  # see twinfield.domain.report (NOT_BOOKED, DRAFT_DELETED, ...)
    office: str = ""
    daybook: str = ""
    invoice_number: str = ""
    twinfield_number: str | None = None
    detail: str = ""


class Booked(Protocol):
    """A document's posting as the state store records it (``twinfield.state.postings.Posting``)."""

    key: tuple[str, str]
    status: str
    focus_number: str
    office: str
    daybook: str
    invoice_number: str


def plan_deletions(kind: str, gone: Iterable[str], known: Mapping[tuple[str, str], Booked],
                   numbers: Mapping[str, str], held: Mapping[tuple[str, str], tuple[str, str]],
                   delete_drafts: bool) -> list[Deletion]:
    """A ``Deletion`` per Focus id in ``gone``: ``known`` its posting, ``numbers`` its Focus number when it has
    none, ``held`` what Twinfield holds at a posting's number (key -> (Twinfield number, head status)). A draft
    to delete (``delete_drafts``) is ``WOULD_DELETE``: deleting it is the caller's to do."""
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
        else:
            result.append(Deletion(kind, focus_id, posting.focus_number, WOULD_DELETE, twinfield_number=number,
                                   **where))
    return result
