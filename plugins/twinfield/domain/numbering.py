"""The invoice number a Focus document is booked under in Twinfield, and back.

Focus numbers invoices "2026 / 12" and credit notes "2026/3": each department, each book year and each
kind has its own sequence. Twinfield keeps one daybook (VRK) per office, where the invoice number must be
unique, and the same daybook + invoice number *updates* the earlier draft. So the booked number keeps the
book year and tells the kinds (and, where departments share a daybook, the departments) apart:

    invoice "2026 / 12"     -> "2026-12"       (template "{year}-{seq}")
    credit note "2026/3"    -> "CN2026-3"      (template "CN{year}-{seq}")
    with number_prefix "BE" -> "BE2026-12", "BECN2026-3"

Public API:
- ``booked_number(doc, fmt, prefix="") -> str``; ``parse_booked_number(text, fmt, prefix="") -> BookedNumber``.
- ``focus_year_and_seq("2026 / 12") -> (2026, 12)``.
- ``check_template(template)``, ``check_unique(config)``: used by config loading; raise ``NumberingError``.
- ``INVOICE_NUMBER_MAX_LENGTH``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from twinfield.domain.focus_model import CREDIT_NOTE, INVOICE, FocusDocument

@dataclass(frozen=True)
class NumberFormat:
    """Templates of the booked Twinfield invoice number; ``{year}`` and ``{seq}`` come from Focus's number."""

    invoice: str = "{year}-{seq}"
    credit_note: str = "CN{year}-{seq}"


class Route(Protocol):
    """Where a department books (``twinfield.domain.config.DepartmentRoute``)."""

    department: str
    office: str
    daybook: str
    number_prefix: str


# Twinfield does not publish the length of <invoicenumber>; 20 is a conservative bound that the default
# formats ("CN2026-123456" is 13) keep well within. Config loading refuses formats that could exceed it.
INVOICE_NUMBER_MAX_LENGTH = 20
_FOCUS_NUMBER = re.compile(r"^\s*(\d{4})\s*/\s*(\d+)\s*$")
# Checked against every template: book years and sequence numbers of every width we expect.
_SAMPLE_YEARS = (2000, 2026, 9999)
_SAMPLE_SEQS = (1, 7, 12, 123, 4567, 999999)


class NumberingError(ValueError):
    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


@dataclass(frozen=True)
class BookedNumber:
    kind: str  # INVOICE | CREDIT_NOTE
    year: int
    seq: int
    prefix: str = ""


def focus_year_and_seq(number: str) -> tuple[int, int]:
    """Book year and sequence of a Focus number ("2026 / 12", "2026/3")."""
    match = _FOCUS_NUMBER.match(number or "")
    if not match:
        raise NumberingError("number", f"Focus number {number!r} is not of the form 'YYYY / N'")
    return int(match.group(1)), int(match.group(2))


def _template(fmt: NumberFormat, kind: str) -> str:
    return fmt.credit_note if kind == CREDIT_NOTE else fmt.invoice


def format_number(kind: str, year: int, seq: int, fmt: NumberFormat, prefix: str = "") -> str:
    return prefix + _template(fmt, kind).format(year=year, seq=seq)


def booked_number(doc: FocusDocument, fmt: NumberFormat, prefix: str = "") -> str:
    """The Twinfield invoice number of a Focus invoice or credit note."""
    if not doc.number:
        raise NumberingError("number", f"{doc.label} has no number in Focus yet")
    year, seq = focus_year_and_seq(doc.number)
    number = format_number(doc.kind, year, seq, fmt, prefix)
    if len(number) > INVOICE_NUMBER_MAX_LENGTH:
        raise NumberingError("number", f"booked number {number!r} is longer than {INVOICE_NUMBER_MAX_LENGTH} "
                             "characters")
    return number


def _pattern(fmt: NumberFormat, kind: str, prefix: str) -> re.Pattern:
    parts = [re.escape(prefix)]
    for literal, name, _spec, _conv in string.Formatter().parse(_template(fmt, kind)):
        parts.append(re.escape(literal))
        if name == "year":
            parts.append(r"(?P<year>\d{4})")
        elif name == "seq":
            parts.append(r"(?P<seq>\d+)")
    return re.compile("".join(parts) + r"\Z")


def parse_booked_number(text: str, fmt: NumberFormat, prefix: str = "") -> BookedNumber | None:
    """Which Focus document a booked number stands for, or None when it is not one of ours."""
    for kind in (INVOICE, CREDIT_NOTE):
        match = _pattern(fmt, kind, prefix).match(text)
        if match:
            return BookedNumber(kind, int(match.group("year")), int(match.group("seq")), prefix)
    return None


def check_template(template: str) -> None:
    """A template uses ``{year}`` and ``{seq}`` once each (``{seq:05d}`` pads), and nothing else."""
    try:
        fields = [(name, spec) for _lit, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise NumberingError("template", f"{template!r} is not a valid template: {exc}") from None
    names = [name for name, _spec in fields]
    if sorted(names) != ["seq", "year"]:
        raise NumberingError("template", f"{template!r} must contain {{year}} and {{seq}} once each, and no "
                             "other field")
    if dict(fields)["year"]:
        raise NumberingError("template", f"{template!r}: {{year}} takes no format")
    try:
        template.format(year=2026, seq=1)
    except (ValueError, KeyError) as exc:
        raise NumberingError("template", f"{template!r} does not format: {exc}") from None


def check_unique(fmt: NumberFormat, departments: Sequence[Route]) -> None:
    """Every number booked into one office + daybook belongs to exactly one department and kind.

    Checked on sample years and sequence numbers: each formatted number must parse back to its own
    department (prefix), kind, year and sequence and to no other, and fit INVOICE_NUMBER_MAX_LENGTH.
    """
    if fmt.invoice == fmt.credit_note:
        raise NumberingError("numbering.credit_note", "must differ from numbering.invoice, or credit notes would "
                             "overwrite invoices with the same Focus number")
    by_daybook: dict[tuple[str, str], list[int]] = {}
    for i, route in enumerate(departments):
        by_daybook.setdefault((route.office, route.daybook), []).append(i)
    for (office, daybook), indexes in by_daybook.items():
        shapes = [(i, kind, _pattern(fmt, kind, departments[i].number_prefix))
                  for i in indexes for kind in (INVOICE, CREDIT_NOTE)]
        for i, kind, own in shapes:
            prefix = departments[i].number_prefix
            for year in _SAMPLE_YEARS:
                for seq in _SAMPLE_SEQS:
                    number = format_number(kind, year, seq, fmt, prefix)
                    if len(number) > INVOICE_NUMBER_MAX_LENGTH:
                        key = f"departments[{i}].number_prefix" if prefix else f"numbering.{kind}"
                        raise NumberingError(key, f"gives {number!r}, longer than Twinfield's "
                                             f"{INVOICE_NUMBER_MAX_LENGTH} characters")
                    matches = [(j, k) for j, k, pattern in shapes if pattern.match(number)]
                    clash = next(((j, k) for j, k in matches if (j, k) != (i, kind)), None)
                    if clash and clash[0] != i:
                        raise NumberingError(
                            f"departments[{max(i, clash[0])}].number_prefix",
                            f"{number!r} could stand for {departments[i].department!r} and for "
                            f"{departments[clash[0]].department!r}, which both book into office {office} "
                            f"daybook {daybook}: give them distinct number_prefix values")
                    if clash:
                        raise NumberingError("numbering.credit_note", f"{number!r} could stand for an invoice and "
                                             f"for a credit note: make the two templates tell them apart")
                    if not _parses_to(own, number, year, seq):
                        raise NumberingError(f"numbering.{kind}", f"{number!r} does not read back as {year}/{seq}")


def _parses_to(pattern: re.Pattern, number: str, year: int, seq: int) -> bool:
    match = pattern.match(number)
    return bool(match) and int(match.group("year")) == year and int(match.group("seq")) == seq
