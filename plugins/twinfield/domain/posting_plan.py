"""What load_drafts does with a valid document, given what the state store knows (pure, no I/O).

A document is written to Twinfield only when nothing of it is there yet, or when it changed and Twinfield
still holds it as a draft. Whenever our record cannot be trusted to say so (an attempt whose outcome is
unknown, a change, a move to another office, daybook or number), Twinfield is asked first (``CHECK``).
A write without a transaction number creates a transaction; a draft is updated in place only by sending its
number, which ``CHECK`` finds (load_drafts passes it on with ``POST``). Should the lookup miss a transaction,
Twinfield refuses a second one with the same invoice number (a warning, as long as raisewarning is left on),
and load_drafts records the one it holds. A final transaction is never written again.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol


class Posting(Protocol):
    """What the state store records of a document's posting (``twinfield.state.postings.Posting``)."""

    status: str
    target: tuple[str, str, str]
    content_hash: str | None
    attempt_hash: str | None


class Action(str, Enum):
    POST = "post"  # nothing in Twinfield yet (or only a refused or deleted attempt), or a draft to update: write it
    SKIP = "skip"  # Twinfield holds exactly this: nothing to do
    CHECK = "check"  # ask Twinfield what it holds at the posting's target, then decide with ``after_check``
    KEEP_FINAL = "keep_final"  # changed in Focus, but final in Twinfield: never written again; reported
    MOVE = "move"  # a draft at another target: delete it, then write the document at its new target
    HOLD_FINAL_ELSEWHERE = "hold_final_elsewhere"  # final at another target: cannot move; held back


def decide(posting: Posting | None, content_hash: str, target: tuple[str, str, str]) -> Action:
    """The first step for a valid document; ``target`` is (office, daybook, booked number) it would go to."""
    if posting is None or posting.status in ("rejected", "deleted"):
        return Action.POST
    if posting.status == "final":
        if posting.target != target:
            return Action.HOLD_FINAL_ELSEWHERE
        return Action.SKIP if posting.content_hash == content_hash else Action.KEEP_FINAL
    if posting.status == "posted" and posting.target == target and posting.content_hash == content_hash:
        return Action.SKIP
    return Action.CHECK  # pending (outcome unknown), changed, or moved


def after_check(posting: Posting, head_status: str | None, content_hash: str, target: tuple[str, str, str]) -> Action:
    """Decide once Twinfield said what it holds at ``posting.target``: "temporary", "final" or None (nothing)."""
    same_target = posting.target == target
    if head_status == "final":
        if not same_target:
            return Action.HOLD_FINAL_ELSEWHERE
        written = posting.attempt_hash if posting.status == "pending" else posting.content_hash
        return Action.SKIP if written == content_hash else Action.KEEP_FINAL
    if head_status == "temporary" and not same_target:
        return Action.MOVE
    return Action.POST
