"""Twinfield's check of a relation's VAT number (``vatnumber``, and ``field4`` of an address): a country prefix
and the country's form, no spaces or punctuation. Twinfield's exact rules are not published; these are the
forms VIES documents for the EU (GR as EL, Northern Ireland as XI) plus GB, CH and NO.
"""

from __future__ import annotations

import re

FORMS = {
    "AT": r"U\d{8}", "BE": r"[01]\d{9}", "BG": r"\d{9,10}", "CY": r"\d{8}[A-Z]", "CZ": r"\d{8,10}",
    "DE": r"\d{9}", "DK": r"\d{8}", "EE": r"\d{9}", "EL": r"\d{9}", "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}", "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"\d{11}", "HU": r"\d{8}",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-W][A-I]?", "IT": r"\d{11}", "LT": r"\d{9}|\d{12}", "LU": r"\d{8}",
    "LV": r"\d{11}", "MT": r"\d{8}", "NL": r"\d{9}B\d{2}", "PL": r"\d{10}", "PT": r"\d{9}", "RO": r"\d{2,10}",
    "SE": r"\d{12}", "SI": r"\d{8}", "SK": r"\d{10}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}", "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "CH": r"E\d{9}(?:MWST|TVA|IVA)?", "NO": r"\d{9}(?:MVA)?",
}


def valid(vat_number: str) -> bool:
    form = FORMS.get(vat_number[:2])
    return form is not None and re.fullmatch(form, vat_number[2:]) is not None
