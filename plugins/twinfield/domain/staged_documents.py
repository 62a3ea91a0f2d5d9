"""Staged Focus documents back as domain documents (shared by the stages that read them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

from twinfield.domain.focus_model import (
    CREDIT_NOTE,
    INVOICE,
    FocusDocument,
    MalformedFocusData,
    parse_credit_note,
    parse_invoice,
)

PARSERS = {INVOICE: parse_invoice, CREDIT_NOTE: parse_credit_note}


class Staged(Protocol):
    """A staged Focus answer (``twinfield.state.documents.StagedDocument``)."""

    kind: str
    raw: dict


S = TypeVar("S", bound=Staged)


def parsed(staged: Iterable[S]) -> Iterator[tuple[S, FocusDocument | MalformedFocusData]]:
    """Each staged document with its parsed form, or the reason Focus's answer could not be read."""
    for doc in staged:
        try:
            yield doc, PARSERS[doc.kind](doc.raw)
        except MalformedFocusData as exc:
            yield doc, exc
