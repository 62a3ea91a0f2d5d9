"""Import an office's Twinfield customers into Focus: plan (``twinfield.domain.customer_import``), then apply.

Reads the office's customers with their details (Finder DIM without ``includehidden``: a hidden customer is
one the bookkeeper retired, and neither Focus nor the sync should bring it back; the sync's own Finder search
leaves them out too, so it could not book on them anyway), every Focus company (companies.list) and the
office's stored customer links. A dry run logs the plan and writes nothing. A real run records the matches
as customer links and creates the missing companies (companies.add) one at a time, each linked right after
it was created; a crash in between is mended by the next run, which finds the new company by its VAT number
or name and links it instead of creating it again.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from twinfield.domain.customer_import import (
    CREATE,
    MATCHED_NAME,
    MATCHED_VAT,
    SKIP,
    FocusCompany,
    ImportDecision,
    ImportOutcome,
    company_to_add,
    plan_import,
    planned,
    report_markdown,
    summary,
)
from twinfield.errors import FocusApiError, FocusAuthError, FocusRateLimited, FocusUnavailable
from twinfield.hooks.focus import TeamleaderFocusHook
from twinfield.hooks.state import StateStoreHook
from twinfield.hooks.twinfield import TwinfieldHook
from twinfield.state import StateStore, customers
from twinfield.state.customers import CustomerLink

MATCHED_BY = {MATCHED_VAT: "vat_number", MATCHED_NAME: "name", CREATE: "created"}


class TwinfieldCustomersToFocusOperator(BaseOperator):
    """Links each Twinfield customer of ``office`` to a Focus company, creating the missing companies.

    :param office: Twinfield office code (templated); empty: the Twinfield connection's ``office`` extra.
    :param dry_run: only report the plan (templated, e.g. ``{{ params.dry_run }}``).
    """

    template_fields = ("office", "dry_run", "focus_conn_id", "twinfield_conn_id", "state_conn_id")
    ui_color = "#eaf5e9"

    def __init__(self, *, office: str | None = None, dry_run: bool | str = False,
                 focus_conn_id: str = TeamleaderFocusHook.default_conn_name,
                 twinfield_conn_id: str = TwinfieldHook.default_conn_name,
                 state_conn_id: str = StateStoreHook.default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.office = office
        self.dry_run = dry_run
        self.focus_conn_id = focus_conn_id
        self.twinfield_conn_id = twinfield_conn_id
        self.state_conn_id = state_conn_id

    def execute(self, context: Any) -> dict:
        dry_run = self.dry_run in (True, "True", "true", "1")
        store = StateStoreHook(self.state_conn_id).store
        twinfield = TwinfieldHook(self.twinfield_conn_id, state=store)
        focus = TeamleaderFocusHook(self.focus_conn_id, state=store)
        office = self.office or twinfield.default_office
        if not office:
            raise AirflowFailException("no office: pass the office param or set the Twinfield connection's 'office' extra")

        links = {link.twinfield_code: link.focus_key for link in customers.links(store, office).values()
                 if link.status == "linked"}
        found = twinfield.customers.list(office, with_details=True)
        companies = [FocusCompany.from_list_item(item) for item in focus.list_companies()]
        decisions = plan_import(found, companies, links)
        try:
            outcomes = planned(decisions) if dry_run else self._apply(
                decisions, focus, store, office, context["run_id"])
        finally:
            focus.save_rate_window()
        self.log.info("%s", report_markdown(office, outcomes, dry_run))
        self.log.info("API requests: Twinfield %s, Focus %s", twinfield.stats["requests"], dict(focus.stats))
        return {"office": office, **summary(outcomes, dry_run)}

    def _apply(self, decisions: list[ImportDecision], focus: TeamleaderFocusHook, store: StateStore, office: str,
               run_id: str) -> list[ImportOutcome]:
        outcomes = []
        for d in decisions:
            code, name = d.customer.code or "", d.customer.name
            if d.action not in MATCHED_BY:
                outcomes.append(ImportOutcome(code, name, d.action, d.focus_id, d.reason))
                continue
            focus_id, reason = d.focus_id, d.reason
            if d.action == CREATE:
                try:
                    focus_id = focus.add_company(company_to_add(d.customer, office))
                except FocusApiError as refused:
                    if refused.status != 400 or isinstance(refused, (FocusAuthError, FocusRateLimited,
                                                                     FocusUnavailable)):
                        raise  # not this company's fault (auth, scope, limits, outage): stop; a re-run goes on
                    outcomes.append(ImportOutcome(code, name, SKIP, None, f"Focus refused it: {refused.title}"))
                    continue
            link = CustomerLink("company", focus_id, office, code, MATCHED_BY[d.action], "linked", run_id)
            if customers.link_existing(store, run_id, [link]):
                outcomes.append(ImportOutcome(code, name, d.action, focus_id, reason))
            else:
                outcomes.append(ImportOutcome(code, name, SKIP, focus_id, f"{reason}, but the Twinfield customer "
                                              "or the Focus company was linked meanwhile (by a sync run)"))
        return outcomes
