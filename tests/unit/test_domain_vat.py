"""twinfield.domain.vat: VAT map precedence, proposals by percentage and kind, auto-matching."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit import domain_fixtures as fx
from twinfield.domain.focus_model import FocusTaxRate, parse_departments, parse_tax_rates
from twinfield.domain.twinfield_model import VatCode
from twinfield.domain.vat import VatChoice, VatKind, VatResolver, propose, vat_kind

RATES = parse_tax_rates(fx.TAX_RATES)
DEPARTMENTS = parse_departments(fx.DEPARTMENTS)


@pytest.mark.parametrize("text, kind", [
    ("21%", VatKind.DOMESTIC), ("0%", VatKind.DOMESTIC), ("BTW nul", VatKind.DOMESTIC),
    ("0% intracommunautair", VatKind.INTRA_COMMUNITY), ("Intracommunautaire levering", VatKind.INTRA_COMMUNITY),
    ("VICP", VatKind.INTRA_COMMUNITY), ("0% ICP", VatKind.INTRA_COMMUNITY), ("0% EU", VatKind.INTRA_COMMUNITY),
    ("0% export", VatKind.EXPORT), ("Export buiten de EU", VatKind.EXPORT), ("Outside the EU", VatKind.EXPORT),
    ("VEXP", VatKind.EXPORT), ("Uitvoer", VatKind.EXPORT),
])
def test_kind_from_descriptions(text, kind):
    assert vat_kind(text) is kind


@pytest.mark.parametrize("tax_rate, code", [
    (fx.NL21, "VH"), (fx.NL9, "VL"), (fx.NL0, "VN"), (fx.NL_ICP, "VICP"), (fx.NL_EXP, "VEXP"), (fx.BE6, None),
])
def test_proposals_by_percentage_and_kind_among_sales_codes(tax_rate, code):
    proposal = propose(RATES[tax_rate], fx.VAT_CODES, office="NLA001", department_name="Acme")
    assert proposal.code == code


def test_no_proposal_when_several_codes_fit_or_only_another_kind_does():
    twins = fx.VAT_CODES + [VatCode("VH2", "BTW hoog (oud)", "sales", Decimal("21"))]
    ambiguous = propose(RATES[fx.NL21], twins)
    assert (ambiguous.code, ambiguous.candidates) == (None, ("VH", "VH2"))
    assert ambiguous.reason == "several 21% domestic sales VAT codes (VH, VH2): choose one in the VAT map"
    domestic_only = [c for c in fx.VAT_CODES if c.code != "VICP"]
    other_kind = propose(RATES[fx.NL_ICP], domestic_only)
    assert other_kind.code is None
    assert other_kind.reason == ("Twinfield has no 0% intra-community sales VAT code (at 0% there is only VEXP, VN, "
                                 "of another kind)")


def resolver(vat_map, auto=False):
    return VatResolver(fx.config(vat_codes=vat_map, auto_match_vat=auto), RATES, DEPARTMENTS,
                       {"NLA001": fx.VAT_CODES})


def test_map_precedence_id_then_department_and_description_then_description():
    r = resolver([{"tax_rate": "21%", "vat_code": "A"}, {"department": "Acme Belgie", "tax_rate": "21%",
                                                          "vat_code": "B"}, {"tax_rate": fx.BE21, "vat_code": "C"}])
    assert r.resolve(fx.BE21, "NLA001").code == "C"  # by id
    assert r.resolve(fx.NL21, "NLA001").code == "A"  # description, any department
    r = resolver([{"tax_rate": "21%", "vat_code": "A"}, {"department": fx.DEP_BE, "tax_rate": "21%", "vat_code": "B"}])
    assert r.resolve(fx.BE21, "NLA001").code == "B"  # department given by id
    assert r.resolve(fx.BE21, "NLA001").source == "configured"


def test_unmapped_rates_are_proposed_and_booked_only_with_auto_match():
    held = resolver([]).resolve(fx.NL9, "NLA001")
    assert (held.code, held.source, held.proposal.code, held.choice) == (None, "unmapped", "VL", None)
    auto = resolver([], auto=True)
    booked = auto.resolve(fx.NL9, "NLA001")
    assert (booked.code, booked.source, booked.choice) == ("VL", "proposed", VatChoice("VL", Decimal("0.09")))
    assert [p.as_text() for p in auto.proposals] == [
        "office NLA001: Focus tax rate 9% (Acme Nederland) -> propose VL: the only 9% domestic sales VAT code"]


def test_unknown_tax_rate():
    r = resolver([])
    assert r.resolve("tr-gone", "NLA001").source == "unknown"
    assert r.vat_for_tax_rate("NLA001")("tr-gone") is None
    assert r.proposals == []


def test_tax_rate_percentage():
    assert FocusTaxRate("x", "5.5%", Decimal("0.055"), "d").percentage == Decimal("5.5")
