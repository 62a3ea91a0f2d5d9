"""Focus tax rate -> Twinfield VAT code: the reviewed map first, else a proposal that a person confirms.

Resolution of a Focus tax rate (``VatResolver.resolve(tax_rate_id, office)``):
1. an entry of the VAT map naming the tax rate's id;
2. an entry naming its department (name or id) and its description ("21%");
3. an entry naming only its description (any department);
4. otherwise ``propose()``: the one Twinfield *sales* VAT code of the office with the same percentage and the
   same kind (domestic / intra-community / export, recognised from the descriptions and codes). A proposal
   is booked only when the config says ``auto_match_vat: true``; either way it is reported, so that a person
   can copy it into include/mappings/vat_codes.yaml.

Public API: ``VatKind``, ``vat_kind(text)``, ``VatProposal``, ``propose(tax_rate, vat_codes, on=None)``,
``VatChoice`` (code + Focus rate, what mapping needs), ``VatResolution``, ``VatResolver``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from collections.abc import Iterable, Mapping

from twinfield.domain.config import SyncConfig
from twinfield.domain.focus_model import FocusDepartment, FocusTaxRate
from twinfield.domain.twinfield_model import VatCode


class VatKind(str, Enum):
    DOMESTIC = "domestic"
    INTRA_COMMUNITY = "intra-community"
    EXPORT = "export"


# Checked in this order: "Export buiten de EU" mentions the EU but is export.
_EXPORT = re.compile(
    r"export|uitvoer|buiten\s+(de\s+)?eu|extra[-\s]?eu|non[-\s]?eu|outside\s+(the\s+)?eu|\bvexp\b", re.I)
_INTRA = re.compile(r"intra|\bicp\b|\bicl\b|\bic\b|binnen\s+(de\s+)?eu|\beu\b|\bvicp\b|communautair", re.I)


def vat_kind(*texts: str) -> VatKind:
    """Domestic, intra-community or export, from descriptions like "0% intracommunautair" or "VICP"."""
    text = " ".join(t for t in texts if t)
    if _EXPORT.search(text):
        return VatKind.EXPORT
    if _INTRA.search(text):
        return VatKind.INTRA_COMMUNITY
    return VatKind.DOMESTIC


def percentage_on(code: VatCode, on: dt.date | None) -> Decimal | None:
    """The VAT code's percentage valid on a date (its dated percentages are newest first)."""
    if on is not None:
        for valid_from, pct in code.percentages:
            if valid_from <= on:
                return pct
    return code.percentage


@dataclass(frozen=True)
class VatProposal:
    """What the pipeline would book for a tax rate nobody has mapped, and why (or why nothing)."""

    office: str
    tax_rate: FocusTaxRate
    department_name: str
    code: str | None
    reason: str
    candidates: tuple[str, ...] = ()

    @property
    def tax_rate_label(self) -> str:
        return f"{self.tax_rate.description or self.tax_rate.id} ({self.department_name})"

    def as_text(self) -> str:
        what = f"propose {self.code}" if self.code else "no proposal"
        return f"office {self.office}: Focus tax rate {self.tax_rate_label} -> {what}: {self.reason}"


def propose(tax_rate: FocusTaxRate, vat_codes: Iterable[VatCode], *, office: str = "", department_name: str = "",
            on: dt.date | None = None) -> VatProposal:
    """Propose the Twinfield sales VAT code matching a Focus tax rate's percentage and kind."""
    kind = vat_kind(tax_rate.description)
    pct = tax_rate.percentage
    sales = [c for c in vat_codes if c.type == "sales"]
    same_pct = [c for c in sales if (p := percentage_on(c, on)) is not None and p == pct]
    same_kind = [c for c in same_pct if vat_kind(c.code, c.name) is kind]
    label = f"{pct}% {kind.value}"
    if len(same_kind) == 1:
        return VatProposal(office, tax_rate, department_name, same_kind[0].code,
                           f"the only {label} sales VAT code", (same_kind[0].code,))
    if len(same_kind) > 1:
        codes = tuple(sorted(c.code for c in same_kind))
        return VatProposal(office, tax_rate, department_name, None,
                           f"several {label} sales VAT codes ({', '.join(codes)}): choose one in the VAT map", codes)
    others = tuple(sorted(c.code for c in same_pct))
    hint = f" (at {pct}% there is only {', '.join(others)}, of another kind)" if others else ""
    return VatProposal(office, tax_rate, department_name, None, f"Twinfield has no {label} sales VAT code{hint}",
                       others)


@dataclass(frozen=True)
class VatChoice:
    """The VAT code to book for a Focus tax rate, with the rate Focus computed (to match Focus's taxes)."""

    code: str
    rate: Decimal
    intra_community: bool = False  # an ICT code: its lines need a performance type


@dataclass(frozen=True)
class VatResolution:
    tax_rate_id: str
    tax_rate: FocusTaxRate | None  # None: Focus has no such tax rate
    code: str | None  # what will be booked; None: nothing (see proposal / tax_rate)
    source: str  # "configured" | "proposed" | "unmapped" | "unknown"
    proposal: VatProposal | None = None

    @property
    def choice(self) -> VatChoice | None:
        if self.code is None or self.tax_rate is None:
            return None
        return VatChoice(self.code, self.tax_rate.rate)


class VatResolver:
    """Resolves Focus tax rates for one run; remembers the proposals it made, for the report."""

    def __init__(self, config: SyncConfig, tax_rates: Mapping[str, FocusTaxRate],
                 departments: Mapping[str, FocusDepartment], vat_codes: Mapping[str, Iterable[VatCode]]):
        self.config = config
        self.tax_rates = tax_rates
        self.departments = departments
        self.vat_codes = {office: tuple(codes) for office, codes in vat_codes.items()}
        self._proposals: dict[tuple[str, str], VatProposal] = {}
        self._cache: dict[tuple[str, str], VatResolution] = {}

    def department_name(self, department_id: str) -> str:
        dep = self.departments.get(department_id)
        return dep.name if dep else department_id

    def configured(self, tax_rate: FocusTaxRate) -> str | None:
        dep = self.departments.get(tax_rate.department_id)
        dep_keys = {tax_rate.department_id} | ({dep.name} if dep else set())
        entries = self.config.vat_map
        for entry in entries:
            if entry.tax_rate == tax_rate.id:
                return entry.vat_code
        for entry in entries:
            if entry.department in dep_keys and entry.tax_rate == tax_rate.description:
                return entry.vat_code
        for entry in entries:
            if entry.department is None and entry.tax_rate == tax_rate.description:
                return entry.vat_code
        return None

    def resolve(self, tax_rate_id: str, office: str) -> VatResolution:
        key = (tax_rate_id, office)
        if key not in self._cache:
            self._cache[key] = self._resolve(tax_rate_id, office)
        return self._cache[key]

    def _resolve(self, tax_rate_id: str, office: str) -> VatResolution:
        tax_rate = self.tax_rates.get(tax_rate_id)
        if tax_rate is None:
            return VatResolution(tax_rate_id, None, None, "unknown")
        code = self.configured(tax_rate)
        if code is not None:
            return VatResolution(tax_rate_id, tax_rate, code, "configured")
        proposal = propose(tax_rate, self.vat_codes.get(office, ()), office=office,
                           department_name=self.department_name(tax_rate.department_id))
        self._proposals[(office, tax_rate_id)] = proposal
        if proposal.code and self.config.auto_match_vat:
            return VatResolution(tax_rate_id, tax_rate, proposal.code, "proposed", proposal)
        return VatResolution(tax_rate_id, tax_rate, None, "unmapped", proposal)

    def vat_for_tax_rate(self, office: str):
        """The ``vat_for_tax_rate`` callable that ``mapping.build_transaction`` takes, for one office."""
        intra = {c.code for c in self.vat_codes.get(office, ()) if vat_kind(c.code, c.name) is VatKind.INTRA_COMMUNITY}

        def vat_for_tax_rate(tax_rate_id: str) -> VatChoice | None:
            choice = self.resolve(tax_rate_id, office).choice
            return replace(choice, intra_community=choice.code in intra) if choice else None

        return vat_for_tax_rate

    @property
    def proposals(self) -> list[VatProposal]:
        return list(self._proposals.values())
