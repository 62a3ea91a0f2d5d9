"""twinfield.domain.report: the run report as Markdown for people, a summary for XCom, JSON for the store."""

from __future__ import annotations

import json

from twinfield.domain.report import (
    DONE,
    FAILED,
    NOT_RUN,
    BookedEntry,
    CreditNoteEntry,
    DeletedEntry,
    HeldBackEntry,
    PaymentEntry,
    RunReport,
    StageOutcome,
)

FOCUS = "https://focus.teamleader.eu/invoice_detail.php?id="


def filled_report() -> RunReport:
    """A report as ``operators.report.build_report`` puts it together from a run's log and state."""
    report = RunReport("scheduled__2026-03-15T00:00:00+00:00", window="2026-03-14 .. 2026-03-15")
    report.found = {"invoice": 3, "credit_note": 1}
    report.held_back = [HeldBackEntry(
        "invoice", "inv-2", "2026 / 13", FOCUS + "inv-2",
        ("line 1 'Legacy | support': product category 'Legacy services' has ledger 8999, which Twinfield office "
         "NLA001 does not have",), "NLA001")]
    report.waiting = [HeldBackEntry("invoice", "inv-3", "", FOCUS + "inv-3", ("it is still a draft in Focus",),
                                    "NLA001")]
    report.causes = [{"code": "account_unknown", "subject": "ledger 8999 in NLA001", "documents": 1}]
    report.booked = [BookedEntry("invoice", "inv-1", "2026 / 12", "2026-12", "NLA001", "1210.00", "EUR"),
                     BookedEntry("credit_note", "cn-1", "2026/3", "CN2026-3", "NLA001", "1210.00", "EUR",
                                 updated=True)]
    report.credit_notes = [CreditNoteEntry("2026/3", "CN2026-3", "2026 / 12", "1210.00", "EUR")]
    report.payments = [PaymentEntry("2026 / 11", "605.00", "EUR", "2026-03-14")]
    report.customers_matched, report.customers_created = 3, 1
    report.count_calls("focus", 12)
    report.count_calls("twinfield", 4)
    report.count_calls("focus", 3)
    return report


def test_summary_counts_every_stage():
    assert filled_report().to_summary() == {
        "run_id": "scheduled__2026-03-15T00:00:00+00:00", "dry_run": False, "found": 4, "booked": 1,
        "updated_drafts": 1, "already_booked": 0, "already_in_twinfield": 0, "held_back": 1, "waiting": 1,
        "customers_matched": 3,
        "customers_created": 1, "customers_unresolved": 0, "payments_registered": 1, "credit_notes": 1,
        "vat_proposals": 0, "deleted_in_focus": 0, "api_calls": {"focus": 15, "twinfield": 4}, "errors": 0,
    }


def test_markdown_lists_held_back_documents_with_links_and_every_reason():
    text = filled_report().to_markdown()
    assert text.startswith("# Focus -> Twinfield sync, run scheduled__2026-03-15T00:00:00+00:00\n")
    assert "| held back (to fix) | 1 |" in text
    assert ("| [invoice 2026 / 13](https://focus.teamleader.eu/invoice_detail.php?id=inv-2) | NLA001 | line 1 "
            "'Legacy \\| support': product category 'Legacy services' has ledger 8999, which Twinfield office "
            "NLA001 does not have |") in text
    assert "| ledger 8999 in NLA001 | 1 |" in text
    assert "| invoice 2026 / 12 | 2026-12 | NLA001 | 1210.00 EUR | new |" in text
    assert "| credit note 2026/3 | CN2026-3 | NLA001 | 1210.00 EUR | updated |" in text
    assert "| 2026 / 11 | 605.00 EUR | 2026-03-14 |" in text
    assert "| API calls to focus | 15 |" in text
    assert "- [invoice inv-3](https://focus.teamleader.eu/invoice_detail.php?id=inv-3): it is still a draft" in text


def test_a_complete_run_lists_no_stages_and_an_incomplete_one_says_which_failed_and_why_first():
    report = filled_report()
    report.stages = [StageOutcome("extract", DONE), StageOutcome("load_drafts", DONE)]
    assert not report.incomplete and "Incomplete" not in report.to_markdown()
    assert report.to_markdown() == filled_report().to_markdown()

    report.stages = [StageOutcome("extract", DONE),
                     StageOutcome("pull_reconciliations", FAILED, "TwinfieldUnavailable: 503 | busy"),
                     StageOutcome("update_payments", NOT_RUN)]
    assert report.incomplete and report.failed_stages == ["pull_reconciliations"]
    text = report.to_markdown()
    assert text.index("**Incomplete run: failed stage(s): pull_reconciliations.**") < text.index("| stage | count |")
    assert "| pull_reconciliations | failed: TwinfieldUnavailable: 503 \\| busy |" in text
    assert "| update_payments | did not run |" in text
    assert "| invoice 2026 / 12 | 2026-12 | NLA001 | 1210.00 EUR | new |" in text  # what was booked so far
    assert RunReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_dry_run_says_so():
    assert "(dry run: nothing was written)" in RunReport("manual__1", dry_run=True).to_markdown()


def test_round_trip_through_json():
    report = filled_report()
    stored = json.loads(json.dumps(report.to_dict()))
    assert RunReport.from_dict(stored) == report


def test_documents_deleted_in_focus_get_a_section_and_a_count():
    report = RunReport(run_id="r1", deleted_in_focus=[
        DeletedEntry("invoice", "i1", "2026 / 9", "NLA001", "2026-9", "draft_kept"),
        DeletedEntry("credit_note", "c1", "2026/3", "NLA001", "CN2026-3", "draft_not_deleted", "Boeking is definitief"),
        DeletedEntry("invoice", "i2", "2026 / 8", outcome="not_booked")])
    assert report.to_summary()["deleted_in_focus"] == 3
    markdown = report.to_markdown()
    assert "| deleted in Focus | 3 |" in markdown and "## Deleted in Focus" in markdown
    assert "| invoice 2026 / 9 | NLA001 | 2026-9 | its draft is still in Twinfield: delete it there" in markdown
    assert "deleting it was refused (Boeking is definitief)" in markdown
    assert "| invoice 2026 / 8 | - | - | never booked in Twinfield" in markdown
    assert RunReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
