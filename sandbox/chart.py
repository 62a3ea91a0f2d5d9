"""The sandbox world's fixed reference data, shared by both emulators so that they agree.

Twinfield side: the offices, their currencies, chart of accounts and VAT codes. Focus side: departments, tax
rates and product categories whose ledger numbers point into that chart (one deliberately not, to be held back).
"""

from __future__ import annotations

from decimal import Decimal

OFFICES = {"NLA001": "Acme Nederland B.V.", "NLA002": "Acme Export B.V."}
DEFAULT_OFFICE = "NLA001"
SALES_DAYBOOK = "VRK"  # Verkoopboek
DEBTORS_ACCOUNT = "1300"  # the collective account a customer gets unless set otherwise
FOREIGN_DEBTORS_ACCOUNT = "1310"  # a second collective account, for customers abroad
DEBTORS_ACCOUNTS = (DEBTORS_ACCOUNT, FOREIGN_DEBTORS_ACCOUNT)
# How many periods each office's year has: NLA001 books in 13 four-week periods (day 1-28 of the year is
# period 1, ...; the last period takes the rest of the year), NLA002 in calendar months.
OFFICE_PERIODS = {"NLA001": 13, "NLA002": 12}
# Daybooks whose lines must carry a description (Twinfield lets a daybook require one).
DESCRIPTION_REQUIRED = {("NLA001", SALES_DAYBOOK)}
# The currencies each office keeps, its base currency first (Finder CUR lists them; a transaction in any
# other currency is refused). NLA002 keeps only its base currency.
OFFICE_CURRENCIES = {"NLA001": ("EUR", "USD", "GBP"), "NLA002": ("EUR",)}

# (code, name, dimtype)
LEDGER_ACCOUNTS = [
    ("0110", "Inventaris", "BAS"),
    ("1100", "Bank", "BAS"),
    ("1300", "Debiteuren", "BAS"),
    ("1310", "Debiteuren buitenland", "BAS"),
    ("1500", "Te betalen BTW hoog", "BAS"),
    ("1510", "Te betalen BTW laag", "BAS"),
    ("1520", "Te betalen BTW overig", "BAS"),
    ("1600", "Crediteuren", "BAS"),
    ("8000", "Omzet hardware", "PNL"),
    ("8010", "Omzet training", "PNL"),
    ("8020", "Omzet diensten", "PNL"),
    ("8100", "Omzet intracommunautair", "PNL"),
    ("8110", "Omzet export", "PNL"),
    ("8200", "Omzet overig", "PNL"),  # the sensible "undefined accounts" default
    ("4000", "Inkoopkosten", "PNL"),
]

# (code, name, type, percentage, VAT account). Intra-community (ICT) codes need performancetype on their lines.
ICT_VAT_CODES = {"VICP"}
VAT_CODES = [
    ("VH", "BTW hoog", "sales", Decimal("21"), "1500"),
    ("VL", "BTW laag", "sales", Decimal("9"), "1510"),
    ("VN", "BTW nul", "sales", Decimal("0"), "1520"),
    ("VICP", "Intracommunautaire levering", "sales", Decimal("0"), "1520"),
    ("VEXP", "Export buiten de EU", "sales", Decimal("0"), "1520"),
    ("IH", "Voorbelasting hoog", "purchase", Decimal("21"), "1520"),
    ("IL", "Voorbelasting laag", "purchase", Decimal("9"), "1520"),
]

# Focus departments and their tax rates: (description, rate). "6%" (Belgian rate) has no Twinfield code.
DEPARTMENTS = [
    ("Acme Nederland", "EUR", [("21%", "0.21"), ("9%", "0.09"), ("0%", "0.00"),
                               ("0% intracommunautair", "0.00"), ("0% export", "0.00")]),
    ("Acme Belgie", "EUR", [("21%", "0.21"), ("6%", "0.06"), ("0% intracommunautair", "0.00")]),
]

# Focus product categories: (name, ledger account number). "8999" does not exist in Twinfield.
PRODUCT_CATEGORIES = [
    ("Hardware", "8000"),
    ("Training", "8010"),
    ("Consulting", "8020"),
    ("Intra-EU deliveries", "8100"),
    ("Export", "8110"),
    ("Legacy services", "8999"),
]
