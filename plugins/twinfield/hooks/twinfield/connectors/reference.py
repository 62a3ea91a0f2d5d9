"""Reference data: offices, ledger accounts, VAT codes and currencies.

Costs: ``offices`` 1 read; ``ledger_accounts`` one Finder page per 25 accounts per dimension type (BAS, PNL);
``vat_codes`` one Finder page, plus one ``<read>`` per VAT code (for its type and percentages);
``currencies`` one Finder page per 25 currencies (in practice one).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from twinfield.domain.twinfield.reference import list_offices_xml, parse_offices, parse_vat_code, read_vat_xml
from twinfield.domain.twinfield_model import LedgerAccount, Office, VatCode
from twinfield.hooks.twinfield.client import TwinfieldClient

ADMINISTRATION_TZ = ZoneInfo("Europe/Amsterdam")


class Reference:
    def __init__(self, client: TwinfieldClient):
        self.client = client

    def offices(self) -> list[Office]:
        return parse_offices(self.client.read(list_offices_xml(), self.client.default_office))

    def ledger_accounts(self, office: str | None = None) -> list[LedgerAccount]:
        office = self.client.office(office)
        return [
            LedgerAccount(code=r.get("code", ""), name=r.get("name", ""), dimtype=dimtype)
            for dimtype in ("BAS", "PNL")
            for r in self.client.search("DIM", {"dimtype": dimtype, "office": office}, office)
        ]

    def vat_codes(self, office: str | None = None) -> list[VatCode]:
        """VAT codes with their type and dated percentages (the current one as of today in the Netherlands)."""
        office = self.client.office(office)
        today = dt.datetime.now(ADMINISTRATION_TZ).date()
        codes = []
        for row in self.client.search("VAT", {"office": office}, office):
            vat = parse_vat_code(self.client.read(read_vat_xml(office, row.get("code", "")), office), today)
            if vat is not None:
                codes.append(vat)
        return codes

    def currencies(self, office: str | None = None) -> list[str]:
        """Codes of the currencies ``office`` keeps, its base currency included (Finder CUR): Twinfield refuses
        a transaction in any other currency."""
        office = self.client.office(office)
        return [r.get("code", "") for r in self.client.search("CUR", {"office": office}, office)]
