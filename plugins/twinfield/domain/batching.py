"""How work is cut into requests: the one chunker, and the caps the services put on one request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

TWINFIELD_MAX_PER_REQUEST = 25  # Twinfield refuses more than 25 children (transactions, dimensions) in one ProcessXml
TWINFIELD_INVOICES_PER_BROWSE = 100  # invoice numbers asked for in one browse (by invoice-number range)
FOCUS_IDS_PER_LIST = 100  # ids in one Focus list call's filter.ids (Focus's page size)
SQL_PARAMETERS = 500  # ids per IN (...) in one SQL statement, well under SQLite's and PostgreSQL's limits


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``, in order (none for no items)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]
