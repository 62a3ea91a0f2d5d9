"""Stage 3: which staged documents can be booked, their transactions, and every reason for the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from twinfield.domain.focus_model import (
    CustomerRef,
    FocusDocument,
    parse_departments,
    parse_product_categories,
    parse_tax_rates,
)
from twinfield.domain.mapping import text_notes, zero_total_note
from twinfield.domain.staged_documents import parsed
from twinfield.domain.validation import merge_causes, validate
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import customers, documents
from twinfield.state.documents import ValidationOutcome

BATCH = 500  # documents validated at a time: a large run never holds them all
NEW_CUSTOMER = "(new)"  # the code a dry run books a customer under that it would create


class ValidateOperator(SyncStageOperator):
    """Checks every staged document against the configuration, Focus's reference data and what Twinfield has
    (ledger accounts, VAT codes and currencies are read from Twinfield on every run), builds the transaction of each
    valid one, and records every reason a document is held back, with its Focus link."""

    stage = "validate"

    def sync(self, run: StageRun) -> dict:
        documents.clear_validation(run.store, run.run_id)
        reference: dict[str, Any] | None = None  # read with the first batch: an idle run reads none of it
        totals = {"documents": 0, "valid": 0, "held_back": 0, "waiting_in_focus": 0}
        causes: list[list[dict]] = []
        proposals: dict[tuple, dict] = {}
        notes: list[dict] = []  # text cleaned for Twinfield's XML, zero totals booked on purpose
        for batch in _batches(parsed(documents.staged(run.store, run.run_id)), BATCH):
            if reference is None:
                reference = self._reference(run)
            readable = [doc for _, doc in batch if isinstance(doc, FocusDocument)]
            hashes = {(staged.kind, staged.focus_id): staged.content_hash for staged, _ in batch}
            result = validate(readable, run.config, **reference)
            outcomes = [
                ValidationOutcome(v.document.kind, v.document.id, v.document.number or "", v.document.web_url or "",
                                  hashes[(v.document.kind, v.document.id)], office=v.office,
                                  transaction=v.transaction)
                for v in result.valid
            ]
            outcomes += [
                ValidationOutcome(h.document.kind, h.document.id, h.document.number or "", h.document.web_url or "",
                                  hashes[(h.document.kind, h.document.id)],
                                  reasons=tuple(h.reasons), waiting=h.waiting, office=h.office or "")
                for h in result.held_back
            ]
            outcomes += [
                ValidationOutcome(s.kind, s.focus_id, s.focus_number, s.raw.get("web_url") or "", s.content_hash,
                                  reasons=(f"Focus answered with data this sync cannot read: {problem}",))
                for s, problem in batch if not isinstance(problem, FocusDocument)
            ]
            documents.add_validation(run.store, run.run_id, outcomes)
            totals["documents"] += len(outcomes)
            totals["valid"] += len(result.valid)
            totals["waiting_in_focus"] += len(result.waiting)
            totals["held_back"] += len(outcomes) - len(result.valid) - len(result.waiting)
            causes.append(result.causes())
            noted = [(doc, note) for doc in readable for note in text_notes(doc, run.config)]
            noted += [(v.document, note) for v in result.valid for note in [zero_total_note(v.document)] if note]
            notes += [{"kind": doc.kind, "focus_id": doc.id, "focus_number": doc.number or doc.id, "note": note}
                      for doc, note in noted]
            for p in result.vat_proposals:
                proposals.setdefault((p.office, p.tax_rate_label, p.code), {
                    "office": p.office, "tax_rate": p.tax_rate_label, "code": p.code, "reason": p.reason})
        run.details["notes"] = notes
        run.details["causes"] = merge_causes(causes)
        run.details["vat_proposals"] = list(proposals.values())
        return {**totals, "vat_proposals": len(proposals)}

    @staticmethod
    def _reference(run: StageRun) -> dict[str, Any]:
        """What documents are checked against: the configuration's offices' ledger accounts, VAT codes and
        currencies (re-read from Twinfield on every run that validates something), Focus's rates, categories,
        departments, and the customer links."""
        config = run.config
        focus, twinfield = run.focus, run.twinfield
        run.doing("reading what documents are checked against: ledger accounts, VAT codes and currencies from "
                  "Twinfield, tax rates, product categories and departments from Focus")
        departments = parse_departments(focus.departments())
        offices = sorted({route.office for route in config.departments})
        synced = [d for d in departments if config.route_for(d, departments) is not None]
        codes: dict[tuple[str, CustomerRef], str] = {}
        for office in offices:
            for (customer_type, focus_id), link in customers.links(run.store, office).items():
                if link.status == "linked":
                    codes[(office, CustomerRef(customer_type, focus_id))] = link.twinfield_code
        return {
            "ledger_accounts": {office: twinfield.reference.ledger_accounts(office) for office in offices},
            "vat_codes": {office: twinfield.reference.vat_codes(office) for office in offices},
            "currencies": {office: twinfield.reference.currencies(office) for office in offices},
            "categories": parse_product_categories(focus.product_categories()),
            "tax_rates": parse_tax_rates([rate for d in synced for rate in focus.tax_rates(d)]),
            "departments": departments,
            "customer_codes": codes,
            # A dry run created no customers: each one without a link counts as one the real run would create.
            "new_customer_code": NEW_CUSTOMER if run.dry_run else None,
        }


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
