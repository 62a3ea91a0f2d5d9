"""What a run did: ``RunReport``, for the state store (``to_dict``/``from_dict``), XCom (``to_summary``) and people
(``to_markdown``).

The report task puts it together once every stage has run (``twinfield.operators.report.build_report``, from
the run log and the state store). ``stages`` says how each stage ended; when one did not succeed the report is
partial and says so first (``incomplete``).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from twinfield.domain.focus_model import CREDIT_NOTE


@dataclass(frozen=True)
class HeldBackEntry:
    kind: str
    focus_id: str
    focus_number: str
    web_url: str
    reasons: tuple[str, ...]
    office: str = ""


@dataclass(frozen=True)
class BookedEntry:
    kind: str
    focus_id: str
    focus_number: str
    twinfield_number: str  # the invoice number it carries in Twinfield ("2026-12", "CN2026-3")
    office: str
    amount: str  # tax-inclusive, as text ("121.00"), so the report stays JSON
    currency: str
    updated: bool = False  # an earlier draft was replaced because the Focus document changed


@dataclass(frozen=True)
class PaymentEntry:
    focus_number: str
    amount: str
    currency: str
    paid_at: str  # ISO date


@dataclass(frozen=True)
class CreditNoteEntry:
    focus_number: str
    twinfield_number: str
    credited_invoice: str  # Focus invoice number (or id) it credits, "" when standalone
    amount: str
    currency: str


# What Twinfield held for a document deleted in Focus, and what became of it.
NOT_BOOKED = "not_booked"  # never booked in Twinfield
DRAFT_DELETED = "draft_deleted"  # its draft was deleted (configured: delete_drafts_of_deleted_documents)
DRAFT_KEPT = "draft_kept"  # its draft is still there: for the bookkeeper to delete
DRAFT_NOT_DELETED = "draft_not_deleted"  # deleting the draft was refused (``detail`` says why)
FINAL = "final"  # final in Twinfield: never deleted; to be credited by hand
NOTHING_HELD = "nothing_held"  # booked once, but Twinfield holds nothing at its number any more
WOULD_DELETE = "would_delete"  # dry run: its draft would be deleted
_DELETION_TEXT = {
    NOT_BOOKED: "never booked in Twinfield: nothing to do",
    DRAFT_DELETED: "its draft was deleted in Twinfield",
    DRAFT_KEPT: "its draft is still in Twinfield: delete it there (not deleted automatically)",
    DRAFT_NOT_DELETED: "its draft is still in Twinfield: deleting it was refused",
    FINAL: "final in Twinfield (never deleted automatically): credit it in Twinfield",
    NOTHING_HELD: "Twinfield holds nothing at its number any more: nothing to do",
    WOULD_DELETE: "its draft would be deleted in Twinfield",
}


@dataclass(frozen=True)
class DeletedEntry:
    """A Focus document that Focus no longer knows (deleted there), and its Twinfield side."""

    kind: str
    focus_id: str
    focus_number: str
    office: str = ""
    twinfield_invoice_number: str = ""  # the number it was booked under ("" when never booked)
    outcome: str = NOT_BOOKED
    detail: str = ""  # Twinfield's reason when it refused the deletion

    def describe(self) -> str:
        text = _DELETION_TEXT.get(self.outcome, self.outcome)
        return f"{text} ({self.detail})" if self.detail else text


DONE, FAILED, NOT_RUN = "done", "failed", "did not run"


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    status: str  # DONE, FAILED or NOT_RUN (an upstream stage failed)
    error: str = ""  # why it failed, from the run log


_ENTRY_LISTS = {"held_back": HeldBackEntry, "waiting": HeldBackEntry, "booked": BookedEntry,
                "payments": PaymentEntry, "credit_notes": CreditNoteEntry, "stages": StageOutcome,
                "deleted_in_focus": DeletedEntry}


@dataclass
class RunReport:
    run_id: str
    dry_run: bool = False
    window: str = ""  # e.g. "2026-03-01 .. 2026-03-02" or "since 2026-01-01"
    found: dict[str, int] = field(default_factory=dict)  # {"invoice": n, "credit_note": m}
    booked: list[BookedEntry] = field(default_factory=list)
    already_booked: int = 0
    # Documents Twinfield held already though the state store did not know (a lost answer, a restored state
    # database, another installation): recorded, not booked again.
    already_in_twinfield: list[str] = field(default_factory=list)
    held_back: list[HeldBackEntry] = field(default_factory=list)
    waiting: list[HeldBackEntry] = field(default_factory=list)  # drafts / not sent: picked up later
    causes: list[dict] = field(default_factory=list)  # ValidationResult.causes()
    customers_matched: int = 0
    customers_created: int = 0
    customers_unresolved: list[str] = field(default_factory=list)
    payments: list[PaymentEntry] = field(default_factory=list)
    credit_notes: list[CreditNoteEntry] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)  # {"focus": n, "twinfield": m}
    vat_proposals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Said about documents on purpose (text cleaned for XML, a zero total booked): "invoice 2026 / 3: ..."
    notes: list[str] = field(default_factory=list)
    stages: list[StageOutcome] = field(default_factory=list)  # in the order they run
    deleted_in_focus: list[DeletedEntry] = field(default_factory=list)  # found gone in Focus by this run

    def count_calls(self, service: str, calls: int) -> None:
        self.api_calls[service] = self.api_calls.get(service, 0) + calls

    @property
    def failed_stages(self) -> list[str]:
        return [s.stage for s in self.stages if s.status == FAILED]

    @property
    def incomplete(self) -> bool:
        return any(s.status != DONE for s in self.stages)

    @property
    def updated_drafts(self) -> int:
        return sum(1 for b in self.booked if b.updated)

    def to_summary(self) -> dict[str, Any]:
        """A small dict for XCom: counts only."""
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "found": sum(self.found.values()),
            "booked": len(self.booked) - self.updated_drafts,
            "updated_drafts": self.updated_drafts,
            "already_booked": self.already_booked,
            "already_in_twinfield": len(self.already_in_twinfield),
            "held_back": len(self.held_back),
            "waiting": len(self.waiting),
            "customers_matched": self.customers_matched,
            "customers_created": self.customers_created,
            "customers_unresolved": len(self.customers_unresolved),
            "payments_registered": len(self.payments),
            "credit_notes": len(self.credit_notes),
            "vat_proposals": len(self.vat_proposals),
            "deleted_in_focus": len(self.deleted_in_focus),
            "api_calls": dict(self.api_calls),
            "errors": len(self.errors),
        }

    def count_rows(self) -> list[tuple[str, int]]:
        """The report's table of counts, (label, count), as every rendering shows it."""
        s = self.to_summary()
        return [
            ("documents found", s["found"]),
            ("booked as new drafts", s["booked"]),
            ("drafts updated (changed in Focus)", s["updated_drafts"]),
            ("skipped, already booked", s["already_booked"]),
            ("found already in Twinfield", s["already_in_twinfield"]),
            ("held back (to fix)", s["held_back"]),
            ("waiting in Focus (draft / not sent)", s["waiting"]),
            ("customers matched", s["customers_matched"]),
            ("customers created", s["customers_created"]),
            ("customers needing a person", s["customers_unresolved"]),
            ("payments registered in Focus", s["payments_registered"]),
            ("credit notes booked", s["credit_notes"]),
            ("deleted in Focus", s["deleted_in_focus"]),
            *[(f"API calls to {svc}", n) for svc, n in sorted(self.api_calls.items())],
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        values = dict(data)
        for name, entry_type in _ENTRY_LISTS.items():
            values[name] = [entry_type(**{**e, **({"reasons": tuple(e["reasons"])} if "reasons" in e else {})})
                            for e in values.get(name, [])]
        return cls(**values)

    def to_markdown(self) -> str:
        mode = " (dry run: nothing was written)" if self.dry_run else ""
        found = ", ".join(f"{n} {_kind(k)}s" for k, n in sorted(self.found.items())) or "nothing"
        out = [
            f"# Focus -> Twinfield sync, run {self.run_id}{mode}",
            "",
            f"Window: {self.window or '-'}. Found: {found}.",
            "",
            *self._incomplete_markdown(),
            "| stage | count |",
            "|---|---:|",
            *[f"| {label} | {n} |" for label, n in self.count_rows()],
        ]
        if self.held_back:
            out += ["", "## Held back", "", "| document | office | reasons |", "|---|---|---|"]
            for h in self.held_back:
                out.append(f"| {_link(h)} | {h.office or '-'} | {'<br>'.join(_cell(r) for r in h.reasons)} |")
        if self.causes:
            out += ["", "## What to fix first", "", "| what | documents held back |", "|---|---:|"]
            out += [f"| {_cell(c['subject'])} | {c['documents']} |" for c in self.causes]
        if self.vat_proposals:
            out += ["", "## VAT codes to review", ""] + [f"- {_cell(p)}" for p in self.vat_proposals]
        if self.customers_unresolved:
            out += ["", "## Customers needing a person", ""] + [f"- {_cell(c)}" for c in self.customers_unresolved]
        if self.already_in_twinfield:
            out += ["", "## Already in Twinfield", ""] + [f"- {_cell(a)}" for a in self.already_in_twinfield]
        if self.deleted_in_focus:
            out += ["", "## Deleted in Focus", "", "| Focus document | office | Twinfield invoice number | in Twinfield |",
                    "|---|---|---|---|"]
            out += [f"| {_kind(d.kind)} {_cell(d.focus_number or d.focus_id)} | {d.office or '-'} | "
                    f"{d.twinfield_invoice_number or '-'} | {_cell(d.describe())} |" for d in self.deleted_in_focus]
        if self.booked:
            out += ["", "## Booked", "", "| Focus | Twinfield invoice number | office | amount | |",
                    "|---|---|---|---:|---|"]
            for b in self.booked:
                out.append(f"| {_kind(b.kind)} {_cell(b.focus_number)} | {b.twinfield_number} | {b.office} | "
                           f"{b.amount} {b.currency} | {'updated' if b.updated else 'new'} |")
        if self.credit_notes:
            out += ["", "## Credit notes (booked, not paid from here)", "",
                    "| Focus credit note | Twinfield invoice number | credits invoice | amount |", "|---|---|---|---:|"]
            out += [f"| {_cell(c.focus_number)} | {c.twinfield_number} | {_cell(c.credited_invoice) or '-'} | "
                    f"{c.amount} {c.currency} |" for c in self.credit_notes]
        if self.payments:
            out += ["", "## Payments registered in Focus", "", "| invoice | amount | paid on |", "|---|---:|---|"]
            out += [f"| {_cell(p.focus_number)} | {p.amount} {p.currency} | {p.paid_at} |" for p in self.payments]
        if self.waiting:
            out += ["", "## Waiting in Focus", ""]
            out += [f"- {_link(w)}: {_cell('; '.join(w.reasons))}" for w in self.waiting]
        if self.notes:
            out += ["", "## Notes on documents", ""] + [f"- {_cell(n)}" for n in self.notes]
        if self.errors:
            out += ["", "## Errors", ""] + [f"- {_cell(e)}" for e in self.errors]
        return "\n".join(out) + "\n"

    def _incomplete_markdown(self) -> list[str]:
        """How each stage ended, when one did not succeed: the rest of the report is only what ran."""
        if not self.incomplete:
            return []
        failed = ", ".join(self.failed_stages) or "none"
        out = [f"**Incomplete run: failed stage(s): {failed}.** What follows is what the stages before did; "
               "clear the failed task (and those after it) to finish the run.", "",
               "| stage | outcome |", "|---|---|"]
        out += [f"| {s.stage} | {s.status}{': ' + _cell(s.error) if s.error else ''} |" for s in self.stages]
        return [*out, ""]


def _kind(kind: str) -> str:
    return "credit note" if kind == CREDIT_NOTE else "invoice"


_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")  # what acts inside a line (no item here starts a line)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _cell(text: str) -> str:
    """Focus's text as literal text in Markdown (a table cell or a list item): HTML escaped (``<script>``,
    ``<PoE>``), Markdown's special characters backslashed (pipes included), controls shown as code points."""
    text = _CONTROL.sub(lambda m: f"U+{ord(m.group()):04X}", " ".join(str(text).split()))
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def _link(entry: HeldBackEntry) -> str:
    label = _cell(f"{_kind(entry.kind)} {entry.focus_number or entry.focus_id}")
    url = quote(entry.web_url, safe=":/?&=#%") if entry.web_url else ""
    return f"[{label}]({url})" if url else label
