"""Stage 1: stage the Focus invoices and credit notes of the run's window, with their lines."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from twinfield.domain.batching import FOCUS_IDS_PER_LIST, chunked
from twinfield.domain.deletions import Deletion
from twinfield.domain.focus_model import CREDIT_NOTE, INVOICE, content_hash, parse_departments
from twinfield.domain.staged_documents import PARSERS
from twinfield.domain.window import Window, window_for
from twinfield.errors import FocusApiError, FocusAuthError
from twinfield.operators import deletions as deleted
from twinfield.operators.base import StageRun, SyncStageOperator
from twinfield.state import deletions, documents, runs, webhook_hints
from twinfield.state.documents import StagedDocument
from twinfield.state.encoding import dumps


WEBHOOK_RUN_TYPES = ("asset_triggered", "DagRunType.ASSET_TRIGGERED")
BATCH = 500  # documents read and staged at a time: a large run never holds all of them in memory


@dataclass(frozen=True)
class Source:
    """How one kind of Focus document is listed, read and parsed."""

    kind: str
    list_method: str  # hook method
    info_method: str
    number_field: str
    date_after_filter: str
    number_filter: str | None  # the list filter on one full number, when Focus has one
    extra_filters: dict
    optional: bool  # left out when the run or the configuration excludes credit notes


SOURCES = (
    Source(INVOICE, "list_invoices", "invoice_info", "invoice_number", "invoice_date_after", "invoice_number",
           {"status": ["outstanding", "matched"]}, optional=False),
    Source(CREDIT_NOTE, "list_credit_notes", "credit_note_info", "credit_note_number", "credit_note_date_after",
           None, {}, optional=True),
)


def _slim(source: Source, item: dict) -> dict:
    """What extract uses of a list item: a window of 20,000 holds only these until their details are read."""
    slim = {key: item.get(key) for key in ("id", "updated_at", source.number_field, "web_url")}
    if "sent" in item:  # a copy staged before the invoice was sent is read again once it was (see _details)
        slim["sent"] = item["sent"]
    return slim


def _hash(source: Source, raw: dict) -> str:
    """The content hash of what would be booked; a document Focus sent malformed hashes by its raw JSON
    (validate reports what is wrong with it)."""
    try:
        return content_hash(PARSERS[source.kind](raw))
    except Exception:  # noqa: BLE001 - malformed in any way: validate holds it back with the reason
        return "raw:" + hashlib.sha256(dumps(raw).encode()).hexdigest()


class ExtractOperator(SyncStageOperator):
    """Lists the window's booked documents of the synced departments in Focus (sent or not: validate says
    which wait), plus those that earlier runs could not book (held back, refused, or interrupted), reads the
    details of new or changed ones (a few in parallel), and stages them for the run. Documents whose
    ``updated_at`` did not change are taken from an earlier run's copy, without another info call.

    It also finds the documents deleted in Focus since (see ``twinfield.operators.deletions``): the report names
    them, and their Twinfield drafts are deleted only when the configuration says so."""

    stage = "extract"

    def sync(self, run: StageRun) -> dict:
        context = run.context
        dag_run = context.get("dag_run")
        # A run the webhooks' asset events started syncs the documents they named (every pending hint).
        hints = webhook_hints.take(run.store, run.run_id) if str(dag_run.run_type) in WEBHOOK_RUN_TYPES else []
        try:
            window = window_for(
                run.params,
                data_interval_start=context.get("data_interval_start"),
                data_interval_end=context.get("data_interval_end"),
                run_after=dag_run.run_after,
                hinted_ids=tuple(h.subject_id for h in hints),
            )
        except ValueError as exc:
            raise AirflowFailException(f"run parameters: {exc}") from None
        runs.start_run(
            run.store,
            run.run_id,
            window_start=window.updated_since,
            window_end=window.updated_before,
            starting_date=window.starting_date,
            params=run.params,
            dry_run=run.dry_run,
        )
        config = run.config
        run.doing("reading the departments from Focus")
        departments = parse_departments(run.focus.departments())
        synced = {d for d in departments if config.route_for(d, departments) is not None}
        with_credit_notes = config.include_credit_notes and run.params.get("include_credit_notes", True)

        documents.clear_staged(run.store, run.run_id)  # what an earlier try of this run staged
        summary: dict[str, Any] = {"window": window.describe(), "staged": 0}
        gone: list[Deletion] = []  # the plan: what becomes of each document deleted in Focus
        for source in SOURCES:
            if source.optional and not with_credit_notes:
                continue
            run.doing(f"listing the {source.kind}s of {window.describe()} in Focus")
            listed = {
                item["id"]: _slim(source, item)
                for item in self._listed(run, source, window)
                if (item.get("department") or {}).get("id") in synced and window.takes(item.get("updated_at"))
            }
            retried = 0
            if not window.named:  # and whatever earlier runs could not book, whatever its window
                run.doing(f"listing the {source.kind}s earlier runs could not book, and those deleted in Focus")
                unbooked = documents.unbooked(run.store, source.kind)
                returned = set()
                for item in self._listed_by_id(run, source, unbooked):
                    returned.add(item["id"])
                    if item["id"] not in listed and (item.get("department") or {}).get("id") in synced:
                        listed[item["id"]] = _slim(source, item)
                        retried += 1
                known = set(listed) | set(unbooked)
                drafts = [i for i in deletions.to_check(run.store, source.kind) if i not in known]
                found = self._deleted(run, source, [i for i in unbooked if i not in returned], drafts)
                summary[f"{source.kind}s_deleted_in_focus"] = len(found)
                gone.extend(found)
            items = list(listed.values())
            read = 0
            run.doing(f"reading {len(items)} {source.kind}(s) from Focus")
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix=f"focus-{source.kind}") as pool:
                for batch in chunked(items, BATCH):
                    docs, fresh = self._details(run, source, batch, pool)
                    documents.add_staged(run.store, run.run_id, docs)
                    read += fresh
            summary[f"{source.kind}s"] = len(items)
            summary[f"{source.kind}s_read"] = read
            summary[f"{source.kind}s_retried"] = retried
            summary["staged"] += len(items)
        if run.dry_run:  # reported, not recorded: the real run reports them again
            run.details["deleted_in_focus"] = [vars(d) for d in gone]
            return summary
        deletions.record(run.store, run.run_id, deleted.apply(run, gone))
        return summary

    @staticmethod
    def _deleted(run: StageRun, source: Source, unlisted: list[str], drafts: list[str]) -> list[Deletion]:
        """Documents Focus deleted: ``unlisted`` were left out of a list by id already, ``drafts`` (drafts in
        Twinfield by our record) are listed by id first; either is confirmed with its info call."""
        list_documents = getattr(run.focus, source.list_method)
        candidates = unlisted + deleted.missing_from(list_documents, drafts)
        gone = deleted.unknown_to_focus(getattr(run.focus, source.info_method), candidates)
        return deleted.plan(run, source.kind, gone)

    def _listed(self, run: StageRun, source: Source, window: Window) -> Iterator[dict]:
        list_documents = getattr(run.focus, source.list_method)
        filters = dict(source.extra_filters)
        if window.starting_date:
            filters[source.date_after_filter] = window.starting_date
        if window.query_since:
            filters["updated_since"] = window.query_since
        if window.focus_ids:  # by id, 100 per call; ids Focus no longer has (deleted) are simply absent
            for ids in chunked(list(window.focus_ids), FOCUS_IDS_PER_LIST):
                yield from list_documents(**source.extra_filters, ids=ids)
            return
        if not window.invoice_numbers:
            yield from list_documents(**filters)
            return
        wanted = set(window.invoice_numbers)
        if source.number_filter:  # one list call per number
            for number in window.invoice_numbers:
                listed = list_documents(**filters, **{source.number_filter: number})
                yield from (i for i in listed if i.get(source.number_field) == number)
            return
        yield from (i for i in list_documents(**filters) if i.get(source.number_field) in wanted)

    def _listed_by_id(self, run: StageRun, source: Source, ids: list[str]) -> Iterator[dict]:
        """The list items of these documents (those earlier runs saw but Twinfield does not hold), 100 ids per
        call."""
        list_documents = getattr(run.focus, source.list_method)
        for chunk in chunked(ids, FOCUS_IDS_PER_LIST):
            yield from list_documents(**source.extra_filters, ids=chunk)

    @staticmethod
    def _details(run: StageRun, source: Source, items: list[dict], pool: ThreadPoolExecutor,
                 ) -> tuple[list[StagedDocument], int]:
        """Staged copies of the listed documents: earlier copies where unchanged, else read from Focus (in
        ``pool``). Returns them and how many were read."""
        stamps = {item["id"]: item.get("updated_at") for item in items}
        copies = documents.unchanged_copies(run.store, source.kind, stamps)
        # Whether Focus moves updated_at when an invoice is sent is not documented: a copy staged before it
        # was sent is read again once the list says it was, or it would wait for ever.
        sent = {item["id"]: item["sent"] for item in items if "sent" in item}
        copies = {i: c for i, c in copies.items() if i not in sent or c.raw.get("sent") == sent[i]}
        to_read = [item for item in items if item["id"] not in copies]
        read_info = getattr(run.focus, source.info_method)

        def read(item: dict) -> StagedDocument | None:
            try:
                raw = read_info(item["id"])
            except FocusApiError as exc:
                if exc.status != 404 or isinstance(exc, FocusAuthError):
                    raise
                run.log.warning("%s %s was deleted in Focus after it was listed: not staged", source.kind,
                                item.get(source.number_field) or item["id"])
                return None
            if not raw.get("web_url") and item.get("web_url"):
                raw = {**raw, "web_url": item["web_url"]}
            return StagedDocument(
                kind=source.kind,
                focus_id=item["id"],
                focus_number=item.get(source.number_field) or raw.get(source.number_field) or "",
                updated_at=item.get("updated_at"),
                raw=raw,
                content_hash=_hash(source, raw),
            )

        fresh = {doc.focus_id: doc for doc in pool.map(read, to_read) if doc is not None}
        return [copies.get(item["id"]) or fresh[item["id"]] for item in items
                if item["id"] in copies or item["id"] in fresh], len(to_read)
