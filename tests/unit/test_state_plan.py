"""load_drafts' decisions: write only what Twinfield does not hold, never a final transaction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from twinfield.domain.posting_plan import Action, after_check, decide
from twinfield.state.postings import Posting

TARGET = ("NLA001", "VRK", "2025-12")


def posting(status: str, content_hash: str | None = "h1", attempt_hash: str | None = "h1",
            target: tuple[str, str, str] = TARGET) -> Posting:
    office, daybook, number = target
    return Posting("invoice", "inv-1", "2025 / 12", office, daybook, number, "2025/03", "1001", "EUR",
                   Decimal("121.00"),
                   status, content_hash, "202500001" if content_hash else None, attempt_hash, "r1", 1, "r1",
                   None, None, None, None, None)


@pytest.mark.parametrize(
    ("existing", "content_hash", "target", "expected"),
    [
        (None, "h1", TARGET, Action.POST),
        (posting("rejected", content_hash=None), "h1", TARGET, Action.POST),
        (posting("deleted", content_hash=None), "h1", TARGET, Action.POST),
        (posting("posted"), "h1", TARGET, Action.SKIP),
        (posting("posted"), "h2", TARGET, Action.CHECK),  # changed: only while still a draft
        (posting("posted"), "h1", ("NLA002", "VRK", "2025-12"), Action.CHECK),  # moved office
        (posting("pending", content_hash=None), "h1", TARGET, Action.CHECK),  # outcome unknown
        (posting("final"), "h1", TARGET, Action.SKIP),
        (posting("final"), "h2", TARGET, Action.KEEP_FINAL),
        (posting("final"), "h1", ("NLA002", "VRK", "2025-12"), Action.HOLD_FINAL_ELSEWHERE),
    ],
)
def test_first_decision(existing, content_hash, target, expected):
    assert decide(existing, content_hash, target) is expected


@pytest.mark.parametrize(
    ("existing", "held", "content_hash", "target", "expected"),
    [
        # A crash left the outcome unknown; Twinfield has it as a draft: written again, which updates it.
        (posting("pending", content_hash=None), "temporary", "h1", TARGET, Action.POST),
        (posting("pending", content_hash=None), None, "h1", TARGET, Action.POST),
        # ... and the bookkeeper already made it final: never again.
        (posting("pending", content_hash=None), "final", "h1", TARGET, Action.SKIP),
        (posting("pending", content_hash=None, attempt_hash="h0"), "final", "h1", TARGET, Action.KEEP_FINAL),
        (posting("posted"), "temporary", "h2", TARGET, Action.POST),
        (posting("posted"), "final", "h2", TARGET, Action.KEEP_FINAL),
        (posting("posted"), "temporary", "h1", ("NLA002", "VRK", "2025-12"), Action.MOVE),
        (posting("posted"), "final", "h1", ("NLA002", "VRK", "2025-12"), Action.HOLD_FINAL_ELSEWHERE),
        (posting("posted"), None, "h1", ("NLA002", "VRK", "2025-12"), Action.POST),  # gone from the old place
    ],
)
def test_decision_after_asking_twinfield(existing, held, content_hash, target, expected):
    assert after_check(existing, held, content_hash, target) is expected
