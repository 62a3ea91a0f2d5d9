"""Stage 7: the run's report, from the state store: stored there, logged, written as a file, and summed up
as XCom. It runs even when a stage before it failed: then it publishes the partial report (how each stage
ended, the failed stage's error, what was booked so far) and fails itself, so that the run stays failed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from airflow.sdk import ObjectStoragePath, TriggerRule
from airflow.sdk.exceptions import AirflowFailException

from twinfield.domain.focus_model import CREDIT_NOTE, INVOICE
from twinfield.domain.money import format_amount
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
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import deletions, documents, payments, postings, runs
from twinfield.state.encoding import dumps


REPORTS_ENV = "FOCUS_TWINFIELD_REPORTS"


def report_folder(configured: str | None = None) -> ObjectStoragePath:
    """Where report files go, through Airflow's object storage: ``configured`` (the operator's ``reports_dir``),
    else $FOCUS_TWINFIELD_REPORTS, else $AIRFLOW_HOME/reports on local disk. A bucket names its connection as
    the URL's user, e.g. ``s3://aws_default@my-bucket/focus-twinfield/reports``."""
    target = configured or os.environ.get(REPORTS_ENV)
    if not target:
        target = str(Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow") / "reports")
    if "://" not in target:
        target = Path(target).resolve().as_uri()
    return ObjectStoragePath(target)


def file_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


class ReportOperator(SyncStageOperator):
    """Puts together what every stage of the run did (documents found, booked, already booked, held back
    with every reason and its Focus link, customers matched and created, payments registered, credit notes,
    API calls per service) and publishes it: in the state store (Markdown and JSON), in the task log as a
    Markdown table, as ``<reports_dir>/<run_id>.md`` (and ``.json``) for people, and as a small XCom summary.

    Its trigger rule is ``all_done``: when a stage before it failed, the report is partial (how each stage
    ended, with the failed stage's error from the run log) and, once published, the task fails
    (``AirflowFailException`` naming the failed stages) so that the DAG run is failed too.

    :param reports_dir: folder or object-storage URL of the report files (default: ``report_folder()``).
    """

    stage = "report"
    template_fields = (*SyncStageOperator.template_fields, "reports_dir")

    def __init__(self, *, reports_dir: str | None = None, trigger_rule: str = TriggerRule.ALL_DONE, **kwargs: Any):
        super().__init__(trigger_rule=trigger_rule, **kwargs)
        self.reports_dir = reports_dir

    def sync(self, run: StageRun) -> dict:
        report = build_report(run.store, run.run_id, self.upstream_states(run))
        markdown = report.to_markdown()
        runs.save_report(run.store, run.run_id, markdown, report.to_dict())
        runs.finish_run(run.store, run.run_id)
        folder = report_folder(self.reports_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{file_name(run.run_id)}.md"
        path.write_text(markdown, encoding="utf-8")
        path.with_suffix(".json").write_text(dumps(report.to_dict()), encoding="utf-8")
        self.log.info("Report of run %s (also in %s):\n%s", run.run_id, path, markdown)
        if report.incomplete:
            failed = ", ".join(report.failed_stages) or "none"
            raise AirflowFailException(f"run {run.run_id} is incomplete: failed stage(s): {failed}; "
                                       f"the partial report is in {path}")
        return {**report.to_summary(), "report_file": str(path)}

    def upstream_states(self, run: StageRun) -> dict[str, str | None]:
        """Stage -> Airflow state of its task in this run, for every stage before the report, in order."""
        # A task has more tasks before it than any task before it has: sorting by that count puts them in order.
        tasks = sorted(self.get_flat_relatives(upstream=True),
                       key=lambda task: (len(task.get_flat_relative_ids(upstream=True)), task.task_id))
        states = run.context["ti"].get_task_states(dag_id=self.dag_id, task_ids=[t.task_id for t in tasks],
                                                   run_ids=[run.run_id]).get(run.run_id, {})
        return {getattr(task, "stage", task.task_id): states.get(task.task_id) for task in tasks}


def build_report(store, run_id: str, upstream_states: dict[str, str | None] | None = None) -> RunReport:
    """The RunReport of a run, from what its stages left in the state store; ``upstream_states`` (stage ->
    Airflow task state, in order) says how each stage ended."""
    meta = runs.get_run(store, run_id)
    log = {entry.stage: entry for entry in runs.stage_log(store, run_id)}
    summary = {stage: entry.summary for stage, entry in log.items()}
    dry_run = bool(meta and meta.dry_run)
    report = RunReport(run_id=run_id, dry_run=dry_run, window=summary.get("extract", {}).get("window", ""))
    report.stages = [_outcome(stage, state, log.get(stage)) for stage, state in (upstream_states or {}).items()]

    staged = documents.staged_numbers(store, run_id)
    for kind, _ in staged:
        report.found[kind] = report.found.get(kind, 0) + 1
    for outcome in documents.validation_outcomes(store, run_id, valid=False):
        entry = HeldBackEntry(outcome.kind, outcome.focus_id, outcome.focus_number, outcome.focus_link,
                              outcome.reasons, outcome.office)
        (report.waiting if outcome.waiting else report.held_back).append(entry)
    links = documents.focus_links(store, run_id)
    for posting in postings.refused_in_run(store, run_id):
        reasons = (f"Twinfield refused it: {posting.last_error}",)
        report.held_back.append(HeldBackEntry(posting.kind, posting.focus_id, posting.focus_number,
                                              links.get(posting.key, ""), reasons, posting.office))
    found_deleted = (summary.get("extract", {}).get("deleted_in_focus", []) if dry_run
                     else [vars(d) for d in deletions.found_in_run(store, run_id)])
    report.deleted_in_focus = [DeletedEntry(d["kind"], d["focus_id"], d["focus_number"], d["office"],
                                            d["invoice_number"], d["outcome"], d["detail"]) for d in found_deleted]
    validate = summary.get("validate", {})
    report.causes = validate.get("causes", [])
    report.notes = [f"{_KINDS.get(n['kind'], n['kind'])} {n['focus_number']}: {n['note']}"
                    for n in validate.get("notes", [])]
    report.vat_proposals = [f"office {p['office']}: Focus tax rate {p['tax_rate']} -> "
                            f"{'propose ' + p['code'] if p['code'] else 'no proposal'}: {p['reason']}"
                            for p in validate.get("vat_proposals", [])]

    resolve = summary.get("resolve_customers", {})
    report.customers_matched = resolve.get("matched_vat_number", 0) + resolve.get("matched_name", 0)
    report.customers_created = resolve.get("created", 0)
    report.customers_unresolved = [f"{p['customer']} in {p['office']}: {p['reason']}"
                                   for p in resolve.get("customer_problems", [])]

    load = summary.get("load_drafts", {})
    report.already_booked = load.get("already_booked", 0)
    report.already_in_twinfield = [
        f"{_KINDS.get(f['kind'], f['kind'])} {f['focus_number']}: {f['office']} invoice number {f['invoice_number']} "
        f"is already in Twinfield as {'final' if f['status'] == 'final' else 'draft'} {f['twinfield_number']}"
        f"{'' if f['same_content'] else ' with other content (a later run updates a draft)'}; recorded, not booked again"
        for f in load.get("found_in_twinfield", [])]
    if load.get("changed_after_final"):
        report.errors.append(f"{load['changed_after_final']} document(s) changed in Focus after they were made final "
                             "in Twinfield: not booked again; correct them in Twinfield by hand")
    if load.get("final_elsewhere"):
        report.errors.append(f"{load['final_elsewhere']} document(s) now route to another office or number, but are "
                             "final where they were booked: not moved")
    pay = summary.get("update_payments", {})
    if pay.get("busy"):
        report.errors.append(f"{pay['busy']} payment(s) were being registered by another run (or one that was "
                             "killed): a later run checks Focus and finishes them")
    problems = pay.get("payment_problems")
    if problems is not None:
        report.errors += [f"payment of invoice {p['focus_number']} ({p['amount']}): {p['reason']}" for p in problems]
    elif pay.get("refused"):  # a run log of an earlier version
        report.errors.append(f"Focus refused {pay['refused']} payment(s); see the update_payments task log")
    report.errors += [
        f"payment state of invoice {p['focus_number']} ({p['office']} invoice number {p['invoice_number']}, "
        f"transaction {p['twinfield_number'] or 'unknown'}) cannot be read from Twinfield: {p['reason']}; "
        "left as it was" for p in summary.get("pull_reconciliations", {}).get("reconciliation_problems", [])]
    _add_booked(report, store, run_id, load, dry_run, staged)
    _add_payments(report, store, run_id, pay, dry_run)

    for entry in log.values():
        for service, calls in entry.api_calls.items():
            report.count_calls(service, calls["requests"])
    return report


_KINDS = {"invoice": "invoice", "credit_note": "credit note"}


def _outcome(stage: str, state: str | None, entry: runs.StageEntry | None) -> StageOutcome:
    if state == "success":
        return StageOutcome(stage, DONE)
    if state == "failed":
        error = entry.error if entry and entry.error else "no error in the run log (the task may have been killed)"
        return StageOutcome(stage, FAILED, error)
    return StageOutcome(stage, NOT_RUN)


def _add_booked(report: RunReport, store, run_id: str, load: dict, dry_run: bool,
                staged: dict[tuple[str, str], str]) -> None:
    if dry_run:
        booked = [BookedEntry(w["kind"], w["focus_id"], w["focus_number"], w["invoice_number"], w["office"],
                              w["amount"], w["currency"], w["updated"]) for w in load.get("would_post", [])]
    else:
        updated = set(load.get("updated", []))
        booked = [BookedEntry(p.kind, p.focus_id, p.focus_number, p.invoice_number, p.office, format_amount(p.total),
                              p.currency, p.focus_id in updated) for p in postings.posted_in_run(store, run_id)]
    credited = _credited_invoices(store, run_id, staged)
    report.booked = sorted(booked, key=lambda b: (b.kind != INVOICE, b.twinfield_number))
    for entry in report.booked:
        if entry.kind == CREDIT_NOTE:
            report.credit_notes.append(CreditNoteEntry(entry.focus_number, entry.twinfield_number,
                                                       credited.get(entry.focus_id, ""), entry.amount, entry.currency))


def _credited_invoices(store, run_id: str, staged: dict[tuple[str, str], str]) -> dict[str, str]:
    """Credit note id -> number (else id) of the Focus invoice it credits."""
    notes = documents.staged(store, run_id, CREDIT_NOTE)
    invoice_of = {d.focus_id: (d.raw.get("invoice") or {}).get("id") for d in notes}
    known = postings.postings(store, [(INVOICE, i) for i in invoice_of.values() if i])
    numbers = {focus_id: p.focus_number for (_, focus_id), p in known.items()}
    numbers.update({focus_id: number for (kind, focus_id), number in staged.items() if kind == INVOICE})
    return {note: numbers.get(invoice, invoice) for note, invoice in invoice_of.items() if invoice}


def _add_payments(report: RunReport, store, run_id: str, pay: dict, dry_run: bool) -> None:
    if dry_run:
        report.payments = [PaymentEntry(w["focus_number"], w["amount"], w["currency"], w["paid_at"])
                           for w in pay.get("would_register", [])]
        return
    registered = [p for p in payments.registered_in_run(store, run_id) if p.amount > 0]
    numbers = {key[1]: p.focus_number for key, p in
               postings.postings(store, [(INVOICE, p.focus_invoice_id) for p in registered]).items()}
    report.payments = [PaymentEntry(numbers.get(p.focus_invoice_id, p.focus_invoice_id), format_amount(p.amount),
                                    p.currency, p.paid_at.isoformat()) for p in registered]
