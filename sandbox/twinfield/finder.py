"""Finder ``Search(type, pattern, field, firstRow, maxRows, options)``.

Types: ``DIM`` (options ``dimtype`` DEB|BAS|PNL, mandatory; ``office``; ``modifiedsince`` yyyyMMddHHmmss,
customers only; ``includehidden`` 0|1: hidden (archived) customers are left out unless 1; ``level`` 1 for
general ledger accounts, 2 for customers; ``matchtype``; ``section``, ``group``, ``beginperiod``, ``beginyear``,
``endperiod``, ``endyear`` accepted and, the sandbox having no dimension groups or sections, a ``group`` finds
nothing), ``VAT`` (options ``office``, ``vattype`` sales|purchase), ``CUR`` (the currencies an office
keeps, its base currency included; option ``office``) and ``OFF`` (the organisation's offices). Every result
row is ``[code, name]``, ordered by code; ``Columns`` are titles in the user's language (``["Code", "Naam"]``
for a Dutch user, ``["Code", "Name"]`` for an English one): clients must read rows by position.
``pattern`` is matched case-insensitively as a whole, ``*`` matching any run of characters and ``?`` one;
``field`` 0 searches code and name, 1 the code only, 2 the name only. Paging: ``firstRow`` counts from 1,
``maxRows`` rows at most; ``TotalRows`` is the count of all matches. Problems come back as SearchResult
messages (Type Error + one of the WSDL's ErrorCodes) without data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.twinfield.office import World
from sandbox.twinfield.xmltools import timestamp

COLUMNS = {"nl": ["Code", "Naam"], "en": ["Code", "Name"]}
OPTIONS = {"DIM": {"dimtype", "office", "modifiedsince", "includehidden", "level", "matchtype", "section", "group",
                   "beginperiod", "beginyear", "endperiod", "endyear"},
           "VAT": {"office", "vattype"}, "CUR": {"office"}, "OFF": set()}
LEVELS = {"DEB": "2", "BAS": "1", "PNL": "1"}
MATCHTYPES = ("customersupplier", "matchable", "notmatchable")


@dataclass
class FinderMessage:
    code: str  # an ErrorCodes value of the WSDL
    text: str
    type: str = "Error"


@dataclass
class FinderResult:
    messages: list[FinderMessage]
    total: int = 0
    items: list[list[str]] | None = None


def search(world: World, current_office: str, kind: str, pattern: str, field: int, first_row: int, max_rows: int,
           options: dict[str, str]) -> FinderResult:
    if kind not in OPTIONS:
        return _error("InvalidFinderType", f"Finder type '{kind}' is invalid.")
    for name in options:
        if name not in OPTIONS[kind]:
            return _error("OptionNotAllowed", f"Option '{name}' is not allowed for finder type {kind}.")
    if first_row < 1 or max_rows < 1:
        return _error("ParameterTooSmall", "firstRow and maxRows must be at least 1.")
    if field not in (0, 1, 2):
        return _error("ParameterOutOfRange", f"Field {field} is out of range (0, 1 or 2).")
    office_code = options.get("office") or current_office
    office = world.office(office_code)
    if kind != "OFF" and office is None:
        return _error("NoAccessToOffice", f"No access to office '{office_code}'.")

    if kind == "OFF":
        rows = [(office.code, office.name, None) for office in world.offices.values()]
    elif kind == "VAT":
        vattype = options.get("vattype")
        if vattype not in (None, "sales", "purchase"):
            return _error("InvalidEnumerationOptionValue", f"Value '{vattype}' is invalid for option vattype.")
        rows = [(v.code, v.name, None) for v in office.vatcodes.values() if vattype in (None, v.type)]
    elif kind == "CUR":
        rows = [(c.code, c.name, None) for c in office.currencies.values()]
    else:
        dimtype = options.get("dimtype")
        if dimtype is None:
            return _error("OptionMandatory", "Option 'dimtype' is mandatory for finder type DIM.")
        hidden = options.get("includehidden", "0")
        if hidden not in ("0", "1"):
            return _error("InvalidEnumerationOptionValue", f"Value '{hidden}' is invalid for option includehidden.")
        matchtype = options.get("matchtype")
        if matchtype not in (None, *MATCHTYPES):
            return _error("InvalidEnumerationOptionValue", f"Value '{matchtype}' is invalid for option matchtype.")
        if dimtype == "DEB":
            rows = [(c.code, c.name, timestamp(c.modified)) for c in office.customers.values()
                    if hidden == "1" or c.status != "hide"]
            kinds = {"customersupplier", "matchable"}
        elif dimtype in ("BAS", "PNL"):
            rows = [(a.code, a.name, None) for a in office.accounts.values() if a.type == dimtype
                    and matchtype in (None, "customersupplier" if a.is_debtors else "notmatchable")]
            kinds = set(MATCHTYPES)
        else:
            return _error("InvalidEnumerationOptionValue", f"Value '{dimtype}' is invalid for option dimtype.")
        if options.get("level") not in (None, LEVELS[dimtype]) or options.get("group") \
                or (dimtype == "DEB" and matchtype not in (None, *kinds)):
            rows = []
        since = options.get("modifiedsince")
        if since is not None:
            if len(since) != 14 or not since.isdigit():
                return _error("InvalidDateTimeOptionValue", f"Value '{since}' is not a YYYYMMDDHHMMSS date-time.")
            rows = [row for row in rows if row[2] is not None and row[2] >= since]

    matcher = _matcher(pattern or "*")
    found = sorted(
        [code, name] for code, name, _ in rows
        if (field in (0, 1) and matcher(code)) or (field in (0, 2) and matcher(name))
    )
    return FinderResult([], len(found), found[first_row - 1:first_row - 1 + max_rows])


def _matcher(pattern: str):
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    compiled = re.compile(regex, re.IGNORECASE | re.DOTALL)
    return lambda value: compiled.fullmatch(value or "") is not None


def _error(code: str, text: str) -> FinderResult:
    return FinderResult([FinderMessage(code, text)])
