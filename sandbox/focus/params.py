"""Reading request bodies as Focus does: typed fields are checked (400 with a title saying what is wrong),
unknown keys are silently ignored. No maximum page size is enforced: openapi.yaml documents one (100) for
calls.list only, which this sandbox does not serve."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

DEFAULT_PAGE_SIZE = 20


class ApiError(Exception):
    """An answer in Focus' error shape: ``{"errors": [{"title": ..., "status": ...}]}``."""

    def __init__(self, status: int, title: str):
        super().__init__(title)
        self.status = status
        self.title = title

    def body(self) -> dict:
        return {"errors": [{"title": self.title, "status": self.status}]}


def bad_request(title: str) -> ApiError:
    return ApiError(400, title)


def not_found(title: str) -> ApiError:
    return ApiError(404, title)


def body_object(body: object) -> dict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def section(body: dict, key: str) -> dict:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{key} must be an object")
    return value


def string(params: dict, key: str, where: str, required: bool = False) -> str | None:
    value = params.get(key)
    if value is None:
        if required:
            raise bad_request(f"{where}{key} is required")
        return None
    if not isinstance(value, str) or (required and not value):
        raise bad_request(f"{where}{key} must be a non-empty string" if required else f"{where}{key} must be a string")
    return value


def string_list(params: dict, key: str, where: str, allowed: tuple[str, ...] | None = None) -> set[str] | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{where}{key} must be an array of strings")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise bad_request(f"{where}{key} contains {v!r}; allowed: {', '.join(allowed)}")
    return set(value)


def day(params: dict, key: str, where: str) -> date | None:
    value = string(params, key, where)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{where}{key} must be a date (YYYY-MM-DD)") from None


def moment(params: dict, key: str, where: str, required: bool = False) -> datetime | None:
    """An ISO 8601 date-time with its UTC offset (``2016-02-04T16:44:33+00:00``)."""
    value = string(params, key, where, required)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or "T" not in value or parsed.tzinfo is None:
        raise bad_request(f"{where}{key} must be a date-time with time zone (e.g. 2016-02-04T16:44:33+00:00)")
    return parsed


def customer(params: dict, where: str) -> tuple[str, str] | None:
    value = params.get("customer")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{where}customer must be an object")
    kind = string(value, "type", f"{where}customer.", required=True)
    if kind not in ("company", "contact"):
        raise bad_request(f"{where}customer.type must be company or contact")
    return kind, string(value, "id", f"{where}customer.", required=True)


def page(body: dict) -> tuple[int, int]:
    """(size, number) of ``page``."""
    params = section(body, "page")
    return _positive_int(params, "size", DEFAULT_PAGE_SIZE), _positive_int(params, "number", 1)


def _positive_int(params: dict, key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"page.{key} must be a positive integer")
    return value


def sort(body: dict, fields: tuple[str, ...], default: list[tuple[str, str]],
         default_order: str = "asc") -> list[tuple[str, str]]:
    """``sort`` as [(field, order)]; an entry without ``order`` gets ``default_order``."""
    value = body.get("sort")
    if value is None:
        return default
    if not isinstance(value, list):
        raise bad_request("sort must be an array")
    result = []
    for entry in value:
        if not isinstance(entry, dict):
            raise bad_request("sort entries must be objects")
        field = entry.get("field")
        if field not in fields:
            raise bad_request(f"sort.field must be one of {', '.join(fields)}")
        order = entry.get("order", default_order)
        if order not in ("asc", "desc"):
            raise bad_request("sort.order must be asc or desc")
        result.append((field, order))
    return result or default


def amount(params: dict, key: str, where: str) -> Decimal:
    """A JSON number with at most two decimals, greater than zero."""
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise bad_request(f"{where}{key} must be a number")
    value = Decimal(value)
    if value <= 0:
        raise bad_request(f"{where}{key} must be greater than 0")
    if value != value.quantize(Decimal("0.01")):
        raise bad_request(f"{where}{key} must not have more than 2 decimals")
    return value


def includes(body: dict) -> set[str]:
    value = body.get("includes")
    if value is None:
        return set()
    if not isinstance(value, str):
        raise bad_request("includes must be a comma-separated string")
    return {part.strip() for part in value.split(",") if part.strip()}
