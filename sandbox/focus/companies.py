"""companies.add as Focus defines it (api-blueprint/companies.apib, openapi.yaml ``companies.addrequest``).

Only ``name`` is required; every field given is checked for its type and its enum, each address needs
``line_1``, ``postal_code`` and ``city`` (present, may be null) and a ``country``, and a primary address
cannot carry an addressee. Refusals are 400s in Focus' error shape; unknown keys are ignored. The answer is
201 ``{"data": {"type": "company", "id": ...}}``; the company is then listed and shown like any other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sandbox.focus.data import APP_URL
from sandbox.focus.params import bad_request

EMAIL_TYPES = ("primary", "invoicing")
TELEPHONE_TYPES = ("phone", "fax")
ADDRESS_TYPES = ("primary", "invoicing", "delivery", "visiting")
CURRENCIES = ("BAM", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP", "INR", "ISK", "JPY", "MAD",
              "MXN", "NOK", "PEN", "PLN", "RON", "SEK", "TRY", "USD", "ZAR")
OPTIONAL_STRINGS = ("business_type_id", "vat_number", "national_identification_number", "website", "iban", "bic",
                    "language", "responsible_user_id", "remarks")


def new_company(body: dict, now: datetime) -> dict:
    """The company record companies.add makes of ``body`` (400 ApiError when Focus would refuse it)."""
    name = body.get("name")
    if name is None:
        raise bad_request("name is required")
    if not isinstance(name, str):
        raise bad_request("name must be a string")
    if not name.strip():
        raise bad_request("Company name must not be empty")
    for key in OPTIONAL_STRINGS:
        if key in body and not isinstance(body[key], str):
            raise bad_request(f"{key} must be a string")
    emails = [_email(e, i) for i, e in enumerate(_array(body, "emails"))]
    telephones = [_telephone(t, i) for i, t in enumerate(_array(body, "telephones"))]
    addresses = [_address_entry(a, i) for i, a in enumerate(_array(body, "addresses"))]
    tags = _array(body, "tags")
    if not all(isinstance(tag, str) for tag in tags):
        raise bad_request("tags must be an array of strings")
    custom_fields = _array(body, "custom_fields")
    if not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in custom_fields):
        raise bad_request("custom_fields must be objects with an id")
    currency = body.get("preferred_currency", "EUR")
    if currency not in CURRENCIES:
        raise bad_request(f"preferred_currency must be one of {', '.join(CURRENCIES)}")
    consent = body.get("marketing_mails_consent", False)
    if not isinstance(consent, bool):
        raise bad_request("marketing_mails_consent must be a boolean")

    company_id = str(uuid.uuid4())
    stamp = now.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    optional = {key: body[key] for key in ("vat_number", "national_identification_number", "website", "iban", "bic")
                if body.get(key)}
    return {
        "id": company_id,
        "name": name,
        "status": "active",
        **optional,
        "emails": emails,
        "telephones": telephones,
        "addresses": addresses,
        "language": body.get("language") or "nl",
        "preferred_currency": currency,
        "payment_term": None,  # the account's default applies; companies.add cannot set one
        "invoicing_preferences": {"electronic_invoicing_address": None},
        "responsible_user": ({"type": "user", "id": body["responsible_user_id"]}
                             if body.get("responsible_user_id") else None),
        "added_at": stamp,
        "updated_at": stamp,
        "web_url": f"{APP_URL}/company_detail.php?id={company_id}",
        "tags": list(tags),
        "remarks": body.get("remarks") or "",
        "custom_fields": [],
        "marketing_mails_consent": consent,
    }


def _array(body: dict, key: str) -> list:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(f"{key} must be an array")
    return value


def _email(entry: object, i: int) -> dict:
    where = f"emails[{i}]"
    if not isinstance(entry, dict):
        raise bad_request(f"{where} must be an object")
    if entry.get("type") not in EMAIL_TYPES:
        raise bad_request(f"{where}.type must be one of {', '.join(EMAIL_TYPES)}")
    email = entry.get("email")
    if not isinstance(email, str) or "@" not in email.strip(" @"):
        raise bad_request(f"{where}.email must be a valid e-mail address")
    return {"type": entry["type"], "email": email}


def _telephone(entry: object, i: int) -> dict:
    where = f"telephones[{i}]"
    if not isinstance(entry, dict):
        raise bad_request(f"{where} must be an object")
    if entry.get("type") not in TELEPHONE_TYPES:
        raise bad_request(f"{where}.type must be one of {', '.join(TELEPHONE_TYPES)}")
    if not isinstance(entry.get("number"), str) or not entry["number"]:
        raise bad_request(f"{where}.number is required")
    return {"type": entry["type"], "number": entry["number"]}


def _address_entry(entry: object, i: int) -> dict:
    where = f"addresses[{i}]"
    if not isinstance(entry, dict):
        raise bad_request(f"{where} must be an object")
    kind = entry.get("type")
    if kind not in ADDRESS_TYPES:
        raise bad_request(f"{where}.type must be one of {', '.join(ADDRESS_TYPES)}")
    address = entry.get("address")
    if not isinstance(address, dict):
        raise bad_request(f"{where}.address is required")
    out: dict = {}
    for key in ("line_1", "postal_code", "city"):  # required, nullable
        if key not in address:
            raise bad_request(f"{where}.address.{key} is required")
        if address[key] is not None and not isinstance(address[key], str):
            raise bad_request(f"{where}.address.{key} must be a string or null")
        out[key] = address[key]
    country = address.get("country")
    if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
        raise bad_request(f"{where}.address.country is required (ISO 3166-1 alpha-2)")
    out["country"] = country.upper()
    out["area_level_two"] = None
    if "addressee" in address and address["addressee"] is not None:
        if kind == "primary":
            raise bad_request("Primary addresses can not contain an addressee")
        if not isinstance(address["addressee"], str):
            raise bad_request(f"{where}.address.addressee must be a string")
        out["addressee"] = address["addressee"]
    return {"type": kind, "address": out}
