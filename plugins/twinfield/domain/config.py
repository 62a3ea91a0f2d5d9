"""The bookkeeper's configuration of the sync, read from a reviewed YAML file (include/mappings/sync.yaml).

Public API:
- ``SyncConfig`` (frozen): departments -> office/daybook routes, accounts, VAT map, switches, numbering.
- ``DepartmentRoute``, ``VatMapping``, ``NumberFormat``.
- ``load_config(path) -> SyncConfig``; ``SyncConfig.from_mapping(data, base_dir)`` for tests and overrides.
- ``ConfigError``: raised with the offending key (e.g. ``departments[1].office``) and what is wrong.

YAML is read with every scalar kept as text (``yaml.BaseLoader``), so account ``0110`` keeps its leading zero
and ``on``/``no`` are not silently booleans; each key is then converted and checked here. Unknown keys are
refused: a typo must not quietly fall back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import yaml

from twinfield.domain import notifications, numbering
from twinfield.domain.focus_model import FocusDepartment

DEFAULT_DAYBOOK = "VRK"
PERFORMANCE_TYPES = ("goods", "services")
GROUP_PER_ACCOUNT = "per_account"
GROUP_PER_LINE = "per_line"
_NULLS = {"", "~", "null", "Null", "NULL", "none", "None"}
_TRUE = {"true", "True", "TRUE", "yes", "Yes", "on"}
_FALSE = {"false", "False", "FALSE", "no", "No", "off"}


class ConfigError(ValueError):
    """The configuration is wrong; ``key`` names where (``departments[0].office``)."""

    def __init__(self, key: str, problem: str, source: str = ""):
        self.key = key
        self.problem = problem
        where = f" in {source}" if source else ""
        super().__init__(f"{key}{where}: {problem}")


@dataclass(frozen=True)
class DepartmentRoute:
    """One Focus department (by name or id) booked into one Twinfield office and daybook."""

    department: str  # Focus department name or id, as written in the file
    office: str
    daybook: str = DEFAULT_DAYBOOK
    # Put before every booked number of this department; needed when departments share office + daybook,
    # because Focus numbers each department's invoices separately ("2026 / 1" in both).
    number_prefix: str = ""

    def matches(self, department: FocusDepartment | None, department_id: str) -> bool:
        return self.department == department_id or (department is not None and self.department == department.name)


@dataclass(frozen=True)
class VatMapping:
    """A reviewed pairing: Focus tax rate (description or id), optionally of one department -> VAT code."""

    tax_rate: str
    vat_code: str
    department: str | None = None  # None: for this tax rate description in every department


@dataclass(frozen=True)
class NumberFormat:
    """Templates of the booked Twinfield invoice number; ``{year}`` and ``{seq}`` come from Focus's number."""

    invoice: str = "{year}-{seq}"
    credit_note: str = "CN{year}-{seq}"


@dataclass(frozen=True)
class SyncConfig:
    departments: tuple[DepartmentRoute, ...]
    # None: the total line names no debtors account, so Twinfield books it on the customer's own collective account
    debtors_account: str | None = None
    default_revenue_account: str | None = None  # None: lines without a ledger hold their document back
    vat_map: tuple[VatMapping, ...] = ()
    auto_match_vat: bool = False
    only_sent: bool = True
    group_lines: str = GROUP_PER_ACCOUNT
    numbering: NumberFormat = field(default_factory=NumberFormat)
    default_payment_days: int = 30
    payment_method_id: str | None = None
    include_credit_notes: bool = True
    # A document deleted in Focus: delete its Twinfield draft too (never a final transaction). Off: the report
    # lists the draft for the bookkeeper.
    delete_drafts_of_deleted_documents: bool = False
    notifications: notifications.NotificationSettings | None = None  # None: nothing is sent
    # Intra-community (ICT) lines: goods or services per Focus product category (name or id), else the default;
    # None: such a line holds its document back until the category is listed.
    performance_types: Mapping[str, str] = field(default_factory=dict)
    default_performance_type: str | None = None

    def performance_type(self, category_id: str | None, category_name: str | None) -> str | None:
        """goods | services for a line of this product category (None: cannot be decided)."""
        for key in (category_id, category_name):
            if key and key in self.performance_types:
                return self.performance_types[key]
        return self.default_performance_type

    def route_for(self, department_id: str, departments: Mapping[str, FocusDepartment]) -> DepartmentRoute | None:
        """The route of a Focus department (matched by id, else by name), or None when it does not sync."""
        department = departments.get(department_id)
        for route in self.departments:
            if route.matches(department, department_id):
                return route
        return None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base_dir: Path | None = None, source: str = "") -> SyncConfig:
        """Build and check a config from parsed YAML (all scalars as text, or plain Python values)."""
        return _Parser(source, base_dir or Path.cwd()).config(data)


def load_config(path: str | Path) -> SyncConfig:
    """Read and check the YAML file at ``path``; a VAT map file it names is read relative to it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("(file)", f"cannot read {path}: {exc.strerror}") from None
    return SyncConfig.from_mapping(_load_yaml(text, str(path)), path.parent, str(path))


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", f"is not valid YAML: {exc}", source) from None


class _Parser:
    KEYS = {
        "departments", "debtors_account", "default_revenue_account", "vat_codes", "auto_match_vat", "only_sent",
        "group_lines", "numbering", "default_payment_days", "payment_method_id", "include_credit_notes",
        "delete_drafts_of_deleted_documents", "notifications",
        "performance_types", "default_performance_type",
    }

    def __init__(self, source: str, base_dir: Path):
        self.source = source
        self.base_dir = base_dir

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(key, problem, self.source)

    # scalars
    def text(self, value: Any, key: str, required: bool = True) -> str | None:
        if value is None or (isinstance(value, str) and value.strip() in _NULLS):
            if required:
                raise self.fail(key, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(key, f"must be text, got {value!r}")
        if isinstance(value, int):
            raise self.fail(key, f"must be quoted text (\"{value}\"): a bare number loses leading zeros")
        return value.strip()

    def flag(self, value: Any, key: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip() in _TRUE:
            return True
        if isinstance(value, str) and value.strip() in _FALSE:
            return False
        raise self.fail(key, f"must be true or false, got {value!r}")

    def integer(self, value: Any, key: str, default: int, minimum: int = 0) -> int:
        if value is None:
            return default
        try:
            number = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
        except ValueError:
            raise self.fail(key, f"must be a whole number, got {value!r}") from None
        if number < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {number}")
        return number

    def mapping(self, value: Any, key: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a mapping of keys to values")
        unknown = sorted(set(value) - allowed)
        if unknown:
            prefix = f"{key}." if key else ""
            raise self.fail(f"{prefix}{unknown[0]}", f"is not a known setting (known: {', '.join(sorted(allowed))})")
        return value

    # sections
    def config(self, data: Any) -> SyncConfig:
        if data is None:
            raise self.fail("(file)", "is empty")
        data = self.mapping(data, "", self.KEYS)
        departments = self.departments(data.get("departments"))
        group = self.text(data.get("group_lines"), "group_lines", required=False) or GROUP_PER_ACCOUNT
        if group not in (GROUP_PER_ACCOUNT, GROUP_PER_LINE):
            raise self.fail("group_lines", f"must be {GROUP_PER_ACCOUNT} or {GROUP_PER_LINE}, got {group!r}")
        config = SyncConfig(
            departments=departments,
            debtors_account=self.text(data.get("debtors_account"), "debtors_account", required=False),
            default_revenue_account=self.text(data.get("default_revenue_account"), "default_revenue_account",
                                              required=False),
            vat_map=self.vat_codes(data.get("vat_codes")),
            auto_match_vat=self.flag(data.get("auto_match_vat"), "auto_match_vat", False),
            only_sent=self.flag(data.get("only_sent"), "only_sent", True),
            group_lines=group,
            numbering=self.numbering(data.get("numbering")),
            default_payment_days=self.integer(data.get("default_payment_days"), "default_payment_days", 30),
            payment_method_id=self.text(data.get("payment_method_id"), "payment_method_id", required=False),
            include_credit_notes=self.flag(data.get("include_credit_notes"), "include_credit_notes", True),
            delete_drafts_of_deleted_documents=self.flag(data.get("delete_drafts_of_deleted_documents"),
                                                         "delete_drafts_of_deleted_documents", False),
            notifications=notifications.parse(self, data.get("notifications")),
            performance_types=self.performance_types(data.get("performance_types")),
            default_performance_type=self.performance_type(data.get("default_performance_type"),
                                                           "default_performance_type", required=False),
        )
        try:
            numbering.check_unique(config)
        except numbering.NumberingError as exc:
            raise self.fail(exc.key, exc.problem) from None
        return config

    def performance_type(self, value: Any, key: str, required: bool = True) -> str | None:
        kind = self.text(value, key, required)
        if kind is not None and kind not in PERFORMANCE_TYPES:
            raise self.fail(key, f"must be goods or services, got {kind!r}")
        return kind

    def performance_types(self, value: Any) -> dict[str, str]:
        if value is None or (isinstance(value, str) and value.strip() in _NULLS):
            return {}
        if not isinstance(value, Mapping):
            raise self.fail("performance_types", "must map Focus product categories (name or id) to goods or services")
        return {str(category): self.performance_type(kind, f"performance_types.{category}")
                for category, kind in value.items()}

    def departments(self, value: Any) -> tuple[DepartmentRoute, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("departments", "must list at least one Focus department with its Twinfield office")
        routes, seen = [], {}
        for i, item in enumerate(value):
            key = f"departments[{i}]"
            item = self.mapping(item, key, {"department", "office", "daybook", "number_prefix"})
            route = DepartmentRoute(
                department=self.text(item.get("department"), f"{key}.department"),
                office=self.text(item.get("office"), f"{key}.office"),
                daybook=self.text(item.get("daybook"), f"{key}.daybook", required=False) or DEFAULT_DAYBOOK,
                number_prefix=self.text(item.get("number_prefix"), f"{key}.number_prefix", required=False) or "",
            )
            if route.department in seen:
                raise self.fail(f"{key}.department", f"{route.department!r} is already routed by "
                                f"departments[{seen[route.department]}]: one department books into one office")
            seen[route.department] = i
            routes.append(route)
        return tuple(routes)

    def vat_codes(self, value: Any) -> tuple[VatMapping, ...]:
        key = "vat_codes"
        if value is None or (isinstance(value, str) and value.strip() in _NULLS):
            return ()
        if isinstance(value, str):  # a file beside this one
            path = (self.base_dir / value.strip()).resolve()
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise self.fail(key, f"cannot read the VAT map {path}: {exc.strerror}") from None
            parser = _Parser(str(path), path.parent)
            return parser.vat_entries(_load_yaml(text, str(path)) or [], "")
        return self.vat_entries(value, key)

    def vat_entries(self, value: Any, key: str) -> tuple[VatMapping, ...]:
        if not isinstance(value, list):
            raise self.fail(key or "(file)", "must be a list of {department, tax_rate, vat_code} entries")
        entries, seen = [], {}
        for i, item in enumerate(value):
            at = f"{key}[{i}]"
            item = self.mapping(item, at, {"department", "tax_rate", "vat_code"})
            entry = VatMapping(
                tax_rate=self.text(item.get("tax_rate"), f"{at}.tax_rate"),
                vat_code=self.text(item.get("vat_code"), f"{at}.vat_code"),
                department=self.text(item.get("department"), f"{at}.department", required=False),
            )
            pair = (entry.department, entry.tax_rate)
            if pair in seen:
                raise self.fail(f"{at}.tax_rate", f"{entry.tax_rate!r} is already mapped by {key}[{seen[pair]}]")
            seen[pair] = i
            entries.append(entry)
        return tuple(entries)

    def numbering(self, value: Any) -> NumberFormat:
        if value is None:
            return NumberFormat()
        value = self.mapping(value, "numbering", {"invoice", "credit_note"})
        fmt = NumberFormat(
            invoice=self.text(value.get("invoice"), "numbering.invoice", required=False) or NumberFormat.invoice,
            credit_note=self.text(value.get("credit_note"), "numbering.credit_note", required=False)
            or NumberFormat.credit_note,
        )
        for kind in ("invoice", "credit_note"):
            try:
                numbering.check_template(getattr(fmt, kind))
            except numbering.NumberingError as exc:
                raise self.fail(f"numbering.{kind}", exc.problem) from None
        return fmt
