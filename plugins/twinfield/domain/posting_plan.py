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

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from twinfield.domain.twinfield_model import SalesTransaction


class Posting(Protocol):
    """What the state store records of a document's posting (``twinfield.state.postings.Posting``)."""

    key: tuple[str, str]
    twinfield_number: str | None
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


class Valid(Protocol):
    """A valid document with its transaction (``twinfield.state.documents.ValidationOutcome``)."""

    kind: str
    focus_id: str
    content_hash: str
    transaction: SalesTransaction


def target_of(tx: SalesTransaction) -> tuple[str, str, str]:
    return (tx.office, tx.daybook, tx.invoice_number)


@dataclass
class PostingPlan:
    """What load_drafts writes: ``post`` (document, number of the draft it updates or None), ``move`` (the
    posting at its old target, document), the finals Twinfield turned out to hold (key, number, "final"), how
    many took each ``Action`` and ``checked``, and the documents Twinfield holds a draft of (``updates``)."""

    post: list[tuple[Valid, str | None]] = field(default_factory=list)
    move: list[tuple[Posting, Valid]] = field(default_factory=list)
    finals: list[tuple[tuple[str, str], str, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    updates: set[tuple[str, str]] = field(default_factory=set)

    def route(self, action: Action, document: Valid, posting: Posting | None, draft: str | None = None) -> None:
        """``draft``: the number of the draft Twinfield holds at the document's target (to update)."""
        self.counts[action.value] += 1
        if posting is not None and posting.twinfield_number and action in (Action.POST, Action.MOVE):
            self.updates.add(posting.key)
        if action is Action.POST:
            self.post.append((document, draft))
        elif action is Action.MOVE:
            self.move.append((posting, document))


def to_check(documents: Iterable[Valid], known: Mapping[tuple[str, str], Posting]) -> list[Posting]:
    """The postings of these documents to look up in Twinfield before deciding (``Action.CHECK``)."""
    checks = []
    for doc in documents:
        posting = known.get((doc.kind, doc.focus_id))
        if decide(posting, doc.content_hash, target_of(doc.transaction)) is Action.CHECK:
            checks.append(posting)
    return checks


def plan_postings(documents: Iterable[Valid], known: Mapping[tuple[str, str], Posting],
                  held: Mapping[tuple[str, str], tuple[str, str]]) -> PostingPlan:
    """The plan for the valid ``documents``, given their postings as the state store knows them and what
    Twinfield holds at the target of each posting ``to_check`` named: key -> (Twinfield number, head status)."""
    plan = PostingPlan()
    checks = []
    for doc in documents:
        posting = known.get((doc.kind, doc.focus_id))
        action = decide(posting, doc.content_hash, target_of(doc.transaction))
        if action is Action.CHECK:
            checks.append((posting, doc))
        else:
            plan.route(action, doc, posting)
    for posting, doc in checks:
        number, head_status = held.get(posting.key, (None, None))
        if head_status == "final":
            plan.finals.append((posting.key, number, head_status))
        plan.route(after_check(posting, head_status, doc.content_hash, target_of(doc.transaction)),
                   doc, posting, number if head_status == "temporary" else None)
    plan.counts["checked"] = len(checks)
    return plan
