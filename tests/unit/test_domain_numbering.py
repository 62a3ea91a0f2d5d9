"""twinfield.domain.numbering: booked numbers keep the year, tell credit notes and departments apart, parse back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit import domain_fixtures as fx
from twinfield.domain.numbering import NumberFormat
from twinfield.domain.focus_model import CREDIT_NOTE, INVOICE, parse_credit_note, parse_invoice
from twinfield.domain.numbering import (
    INVOICE_NUMBER_MAX_LENGTH, BookedNumber, NumberingError, booked_number, focus_year_and_seq, format_number,
    parse_booked_number,
)

FMT = NumberFormat()
LINE = [fx.line("x", "1", "1.00", fx.NL21)]


def test_focus_numbers():
    assert focus_year_and_seq("2026 / 12") == (2026, 12)
    assert focus_year_and_seq("2026/3") == (2026, 3)
    with pytest.raises(NumberingError, match="not of the form"):
        focus_year_and_seq("INV-12")


def test_invoice_and_credit_note_of_the_same_focus_number_differ():
    invoice = parse_invoice(fx.invoice(LINE, number="2026 / 3"))
    note = parse_credit_note(fx.credit_note(LINE, number="2026/3"))
    assert booked_number(invoice, FMT) == "2026-3"
    assert booked_number(note, FMT) == "CN2026-3"
    assert booked_number(invoice, FMT, "BE") == "BE2026-3"
    assert booked_number(note, FMT, "BE") == "BECN2026-3"


def test_the_year_is_kept_so_restarting_sequences_do_not_collide():
    assert booked_number(parse_invoice(fx.invoice(LINE, number="2025 / 1")), FMT) != \
           booked_number(parse_invoice(fx.invoice(LINE, number="2026 / 1")), FMT)


def test_draft_has_no_number():
    with pytest.raises(NumberingError, match="has no number in Focus yet"):
        booked_number(parse_invoice(fx.invoice(LINE, number=None)), FMT)


def test_parse_back():
    assert parse_booked_number("2026-12", FMT) == BookedNumber(INVOICE, 2026, 12)
    assert parse_booked_number("CN2026-3", FMT) == BookedNumber(CREDIT_NOTE, 2026, 3)
    assert parse_booked_number("BECN2026-3", FMT, "BE") == BookedNumber(CREDIT_NOTE, 2026, 3, "BE")
    assert parse_booked_number("BE2026-3", FMT) is None  # another department's number
    assert parse_booked_number("20130-6000", FMT) is None  # booked by hand, not ours


def test_padded_template():
    fmt = NumberFormat(invoice="F{year}{seq:05d}", credit_note="C{year}{seq:05d}")
    assert format_number(INVOICE, 2026, 12, fmt) == "F202600012"
    assert parse_booked_number("F202600012", fmt) == BookedNumber(INVOICE, 2026, 12)


def test_too_long_numbers_are_refused():
    fmt = NumberFormat(invoice="{year}-{seq}", credit_note="CN{year}-{seq}")
    doc = parse_invoice(fx.invoice(LINE, number="2026 / 12345"))
    with pytest.raises(NumberingError, match="longer than"):
        booked_number(doc, fmt, "X" * (INVOICE_NUMBER_MAX_LENGTH - 9))


@settings(max_examples=200, deadline=None)
@given(
    docs=st.lists(st.tuples(st.sampled_from([INVOICE, CREDIT_NOTE]), st.sampled_from(["", "BE"]),
                            st.integers(2000, 2099), st.integers(1, 999999)), min_size=2, max_size=40, unique=True),
)
def test_distinct_documents_never_share_a_booked_number_in_one_daybook(docs):
    numbers = [format_number(kind, year, seq, FMT, prefix) for kind, prefix, year, seq in docs]
    assert len(set(numbers)) == len(numbers)
    for (kind, prefix, year, seq), number in zip(docs, numbers):
        assert len(number) <= INVOICE_NUMBER_MAX_LENGTH
        assert parse_booked_number(number, FMT, prefix) == BookedNumber(kind, year, seq, prefix)
