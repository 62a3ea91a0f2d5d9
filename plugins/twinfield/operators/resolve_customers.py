"""Stage 2: a Twinfield customer for every invoicee, matched where one exists, created where not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from twinfield.domain.batching import TWINFIELD_MAX_PER_REQUEST, chunked
from twinfield.domain.customers import (
    MATCHED_BY,
    MATCHED_NAME,
    MATCHED_VAT,
    OfficePlan,
    plan_office,
    to_twinfield_customer,
)
from twinfield.domain.focus_model import (
    CustomerRef,
    FocusCustomer,
    FocusDocument,
    MalformedFocusData,
    parse_customer,
    parse_departments,
)
from twinfield.domain.twinfield.customers import customer_element
from twinfield.domain.twinfield_model import Customer
from twinfield.domain.staged_documents import parsed
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import customers, documents
from twinfield.state.customers import CustomerLink

# How long another run's claim on a creation counts as that run sending it: far longer than one create request
# (25 customers, a 60 s timeout, its retries and credit waits), so a live claim is never taken over; a claim
# older than this is a run that died, and its customer is looked for in Twinfield before it is sent again.
CLAIM_LEASE = dt.timedelta(minutes=15)
POLL_SECONDS = 2.0  # how often a run waiting for another run's creations looks at the state store


class ResolveCustomersOperator(SyncStageOperator):
    """Links each Focus customer (company or contact) of the run's documents to a Twinfield DEB customer in
    the office its department books into: a stored link, else the same VAT number, else the same name
    (``twinfield.domain.customers``); the rest are created in Twinfield in batches.

    Twinfield numbers new customers (its own code mask, hidden customers' codes included), so this stage never
    sends a code and never writes to a customer it did not create: an existing customer is only linked. Each
    creation is recorded before it is sent; one still recorded at the next run (a crash, a lost reply) is first
    looked for in Twinfield (same name and VAT number, changed since the attempt, not linked yet), so a re-run
    never creates a second Twinfield customer for one Focus customer.

    Runs overlap (a backfill runs up to ten at once), and two of them may want to create the same customer: each
    claims a creation just before sending it (``customers.claim_creations``), and a run that finds a customer
    claimed by another run (within ``CLAIM_LEASE``) waits for that run's link instead of sending it too.
    """

    stage = "resolve_customers"

    def sync(self, run: StageRun) -> dict:
        wanted, invoicee_vat = self._wanted(run)
        summary: dict[str, Any] = {"customers": sum(len(refs) for refs in wanted.values()), "linked_before": 0,
                                   "matched_vat_number": 0, "matched_name": 0, "created": 0, "unresolved": 0,
                                   "refused_by_twinfield": 0, "linked_by_another_run": 0}
        plans = [plan for office, refs in sorted(wanted.items())
                 if (plan := self._plan(run, office, refs, invoicee_vat, summary)) is not None]
        summary["unresolved"] += sum(plan.unresolved for plan in plans)
        if run.dry_run:
            for plan in plans:
                summary["matched_vat_number"] += sum(d.action == MATCHED_VAT for d in plan.matches)
                summary["matched_name"] += sum(d.action == MATCHED_NAME for d in plan.matches)
                summary["created"] += len(plan.to_create)
            run.details["customer_problems"] = [problem for plan in plans for problem in plan.problems]
            return summary
        problems: list[dict] = []
        for plan in plans:
            problems += plan.problems + self._apply(run, plan, invoicee_vat, summary)
        run.details["customer_problems"] = problems
        return summary

    @staticmethod
    def _wanted(run: StageRun) -> tuple[dict[str, set[CustomerRef]], dict[CustomerRef, str]]:
        """The customers of the run's documents per office they book into, and the VAT number the documents
        show for each customer."""
        config = run.config
        departments = None  # read with the first document: an idle run asks Focus nothing here
        wanted: dict[str, set[CustomerRef]] = defaultdict(set)  # office -> customers
        invoicee_vat: dict[CustomerRef, str] = {}
        for _, doc in parsed(documents.staged(run.store, run.run_id)):
            if not isinstance(doc, FocusDocument):
                continue  # validate reports it
            if doc.invoicee_vat_number and not invoicee_vat.get(doc.customer):
                invoicee_vat[doc.customer] = doc.invoicee_vat_number
            if departments is None:
                run.doing("reading the departments from Focus")
                departments = parse_departments(run.focus.departments())
            route = config.route_for(doc.department_id, departments)
            if route is not None:
                wanted[route.office].add(doc.customer)
        return wanted, invoicee_vat

    def _plan(self, run: StageRun, office: str, refs: set[CustomerRef], invoicee_vat: Mapping[CustomerRef, str],
              summary: dict) -> OfficePlan | None:
        """Read what one office's plan needs (its links, the Focus customers not linked yet, the Twinfield
        customers they may match) and plan it; None when every customer is linked. A real run first waits for
        other runs' creations and settles what earlier runs left, which a dry run may not write."""
        run.doing(f"matching {len(refs)} customer(s) with Twinfield office {office}")
        if not run.dry_run:
            self._wait_for_other_runs(run, office, refs)
        links = customers.links(run.store, office)
        known = [links[_key(ref)] for ref in refs if _key(ref) in links]
        summary["linked_before"] += sum(link.status == "linked" for link in known)
        reserved = [link.focus_key for link in known if link.status == "pending"]  # by an earlier version
        new = sorted(ref for ref in refs if _key(ref) not in links or _key(ref) in reserved)
        if not new:
            return None
        focus_customers = self._focus_customers(run, new, invoicee_vat)
        taken = {link.twinfield_code for link in links.values() if link.focus_key not in reserved}
        if not run.dry_run:
            new = self._settle_earlier_runs(run, office, new, reserved, taken, summary)
        listed = run.twinfield.customers.list(office, with_details=False)
        candidates = self._details(run, office, [c.code for c in listed if c.code and c.code not in taken])
        return plan_office(office, new, focus_customers, candidates)

    def _apply(self, run: StageRun, plan: OfficePlan, invoicee_vat: Mapping[CustomerRef, str],
               summary: dict) -> list[dict]:
        """Link the matched customers and create the others in Twinfield; returns the problems met doing so."""
        office = plan.office
        matches = [CustomerLink(d.ref.type, d.ref.id, office, d.code, MATCHED_BY[d.action], "linked", run.run_id)
                   for d in plan.matches]
        recorded = customers.link_existing(run.store, run.run_id, matches)
        customers.forget_attempts(run.store, office, [link.focus_key for link in recorded])
        summary["matched_vat_number"] += sum(link.matched_by == "vat_number" for link in recorded)
        summary["matched_name"] += sum(link.matched_by == "name" for link in recorded)
        lost = {link.focus_key for link in matches} - {link.focus_key for link in recorded}
        matched = {_key(d.ref): d.focus for d in plan.matches}
        to_create = plan.to_create + [matched[key] for key in sorted(lost)]  # code taken meanwhile

        run.doing(f"creating {len(to_create)} customer(s) in Twinfield office {office}")
        details = self._details_to_create(run, [fc.ref for fc in to_create], invoicee_vat)
        created, refused, notes, elsewhere = self._create(run, office,
                                                          [details.get(fc.ref, fc) for fc in to_create])
        summary["created"] += created
        summary["refused_by_twinfield"] += len(refused)
        problems = [{"customer": name, "office": office, "reason": reason} for name, reason in refused + notes]
        if elsewhere:
            linked, unsettled = self._settled_elsewhere(run, office, elsewhere)
            summary["linked_by_another_run"] += linked
            problems += unsettled
        return problems

    @staticmethod
    def _wait_for_other_runs(run: StageRun, office: str, refs) -> None:
        """Wait while another run is creating any of these customers (a claim within the lease), so that this
        run links what that run creates instead of creating it again. A claim that outlives its lease is a run
        that died: this run looks for its customer in Twinfield (``_settle_earlier_runs``)."""
        keys = {_key(ref) for ref in refs}
        announced = False
        while True:
            at = dt.datetime.now(dt.timezone.utc)
            busy = [attempt for key, attempt in customers.attempts(run.store, office).items()
                    if key in keys and attempt.in_flight_elsewhere(run.run_id, CLAIM_LEASE, at)]
            if not busy:
                return
            if not announced:
                run.log.info("Waiting for %d customer(s) that run(s) %s are creating in Twinfield office %s",
                             len(busy), ", ".join(sorted({a.run_id for a in busy})), office)
                announced = True
            time.sleep(POLL_SECONDS)

    def _settled_elsewhere(self, run: StageRun, office: str, refs: list[CustomerRef]) -> tuple[int, list[dict]]:
        """Customers another run claimed first: wait for that run, then take its links. Returns how many were
        linked and a problem for each that was not (that run was refused or died: the next run settles it)."""
        self._wait_for_other_runs(run, office, refs)
        links = customers.links(run.store, office)
        unsettled = [{"customer": str(ref), "office": office,
                      "reason": "another run was creating this customer in Twinfield and did not link it (refused, "
                                "or the run ended first): the next run looks for it and books its documents"}
                     for ref in refs if _key(ref) not in links]
        return len(refs) - len(unsettled), unsettled

    def _details(self, run: StageRun, office: str, codes: list[str]) -> list[Customer]:
        """Twinfield customers with their VAT numbers and addresses, read a few at a time. Only those not
        linked yet are read: a customer already linked to a Focus customer cannot match another one."""
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="twinfield-customers") as pool:
            found = pool.map(lambda code: run.twinfield.customers.read(code, office), codes)
            return [customer for customer in found if customer is not None]

    @staticmethod
    def _focus_customers(run: StageRun, refs: list[CustomerRef],
                         invoicee_vat: Mapping[CustomerRef, str]) -> dict[CustomerRef, FocusCustomer]:
        """Companies and contacts from Focus, 100 per call (list items: primary address only, no VAT number for
        a contact, so the documents' invoicee VAT number stands in for matching)."""
        found: dict[CustomerRef, FocusCustomer] = {}
        for customer_type in ("company", "contact"):
            ids = [ref.id for ref in refs if ref.type == customer_type]
            if ids:
                for focus_id, raw in run.focus.customers(customer_type, ids).items():
                    ref = CustomerRef(customer_type, focus_id)
                    try:
                        found[ref] = _with_vat(parse_customer(customer_type, raw), invoicee_vat.get(ref, ""))
                    except MalformedFocusData as exc:  # reported with the customer; the others go on
                        run.log.warning("Focus's %s cannot be read: %s", ref, exc)
        return found

    def _details_to_create(self, run: StageRun, refs: list[CustomerRef],
                           invoicee_vat: Mapping[CustomerRef, str]) -> dict[CustomerRef, FocusCustomer]:
        """What a new Twinfield customer needs and only companies.info / contacts.info give: the invoicing
        address, VAT number, emails and registration number. One call per customer to create."""

        def read(ref: CustomerRef) -> tuple[CustomerRef, FocusCustomer | None]:
            info = run.focus.customer_info(ref.type, ref.id)
            try:
                return ref, None if info is None else _with_vat(parse_customer(ref.type, info),
                                                                invoicee_vat.get(ref, ""))
            except MalformedFocusData as exc:  # created from its list item instead
                run.log.warning("Focus's %s cannot be read in full: %s", ref, exc)
                return ref, None

        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="focus-customers") as pool:
            return {ref: customer for ref, customer in pool.map(read, refs) if customer is not None}

    @staticmethod
    def _settle_earlier_runs(run: StageRun, office: str, refs: list[CustomerRef], reserved: list[tuple[str, str]],
                             taken: set[str], summary: dict) -> list[CustomerRef]:
        """Drop the links an earlier version reserved (``reserved``: resolved again), and settle creations an
        earlier run recorded but never saw answered: the customer Twinfield now holds for it (same name and VAT
        number, changed since the attempt, not linked) is linked; the others are resolved again (the attempt
        never reached Twinfield). Returns the refs still to resolve."""
        if reserved:
            customers.drop_pending(run.store, office, reserved)
        attempts = customers.attempts(run.store, office)
        open_ = [attempts[_key(ref)] for ref in refs if _key(ref) in attempts]
        if not open_:
            return refs
        since = min(attempt.attempted_at for attempt in open_)
        sent = [Customer(None, attempt.name, vat_number=attempt.vat_number) for attempt in open_]
        found = run.twinfield.customers.in_effect(sent, office, since, exclude=taken)
        linked = [(open_[pos].focus_type, open_[pos].focus_id, result.number) for pos, result in found.items()]
        customers.link_created(run.store, run.run_id, office, linked)
        taken.update(code for _, _, code in linked)
        summary["created"] += len(linked)
        done = {(t, i) for t, i, _ in linked}
        return [ref for ref in refs if _key(ref) not in done]

    def _create(self, run: StageRun, office: str, to_create: list[FocusCustomer]
                ) -> tuple[int, list[tuple[str, str]], list[tuple[str, str]], list[CustomerRef]]:
        """Create these customers in Twinfield, a request's worth at a time, each claimed first; link the
        created ones. Returns how many were created, the refused ones and notes (name, reason) for the report,
        and the customers another run had claimed (not sent)."""
        if not to_create:
            return 0, [], [], []
        writable, notes, unwritable = [], [], []
        for fc in to_create:
            try:
                customer, note = to_twinfield_customer(fc, payment_days=run.config.default_payment_days,
                                                       office=office)
                customer_element(customer, office)
            except Exception as exc:  # noqa: BLE001 - one customer that cannot be written never stops the rest
                unwritable.append((f"{fc.name} ({fc.ref})", f"not sent to Twinfield: it could not be written as "
                                   f"XML ({type(exc).__name__}: {exc})"))
                continue
            writable.append((fc, customer))
            if note:
                notes.append((f"{fc.name} ({fc.ref})", note))
        created = 0
        refused: list[tuple[FocusCustomer, Any]] = []
        elsewhere: list[CustomerRef] = []
        for chunk in chunked(writable, TWINFIELD_MAX_PER_REQUEST):
            claimed = customers.claim_creations(run.store, run.run_id, office,
                                                [(fc.ref.type, fc.ref.id, c.name, c.vat_number) for fc, c in chunk],
                                                CLAIM_LEASE)
            sending = [(fc, c) for fc, c in chunk if _key(fc.ref) in claimed]
            elsewhere += [fc.ref for fc, _ in chunk if _key(fc.ref) not in claimed]
            if not sending:
                continue
            try:
                results = run.twinfield.customers.create([c for _, c in sending], office)
            except BaseException:  # outcome unknown: the attempts stay, for whichever run comes next to look up
                customers.release_claims(run.store, office, [_key(fc.ref) for fc, _ in sending])
                raise
            done = [(fc.ref.type, fc.ref.id, result.number) for (fc, _), result in zip(sending, results, strict=True)
                    if result.ok and result.number]
            no = [(fc, result) for (fc, _), result in zip(sending, results, strict=True) if not result.ok]
            customers.link_created(run.store, run.run_id, office, done)
            customers.forget_attempts(run.store, office, [_key(fc.ref) for fc, _ in no])
            created += len(done)
            refused += no
        return created, unwritable + [(f"{fc.name} ({fc.ref})", " // ".join(result.error_messages)
                                       or "refused without a message") for fc, result in refused], notes, elsewhere


def _with_vat(customer: FocusCustomer, invoicee_vat: str) -> FocusCustomer:
    """The customer's own VAT number, else the one its invoices show."""
    if customer.vat_number or not invoicee_vat:
        return customer
    return dataclasses.replace(customer, vat_number=invoicee_vat)


def _key(ref: CustomerRef) -> tuple[str, str]:
    return (ref.type, ref.id)
