"""The bookkeeper's configuration of the sync, read from a reviewed YAML file (include/mappings/sync.yaml).

Public API:
- ``SyncConfig`` (frozen): departments -> office/daybook routes, accounts, VAT map, switches, numbering.
- ``DepartmentRoute``, ``VatMapping``, ``NumberFormat``.
- ``load_config(path) -> SyncConfig``; ``SyncConfig.from_mapping(data, base_dir)`` for tests and overrides.
- ``ConfigError``: raised with the offending key (e.g. ``departments[1].office``) and what is wrong.

The file's keys, types, defaults and allowed values are the pydantic models in ``config_schema`` (published as
include/mappings/sync.schema.json); this module reads the YAML, validates it through them, turns their errors
into ``ConfigError`` and checks what a schema cannot say: duplicate routes and VAT entries, clashing numbers.
YAML is read with every scalar kept as text (``yaml.BaseLoader``), so account ``0110`` keeps its leading zero
and ``on``/``no`` are not silently booleans.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, RootModel, ValidationError

from twinfield.domain import config_schema as schema
from twinfield.domain import notifications, numbering
from twinfield.domain.numbering import NumberFormat
from twinfield.domain.config_schema import DEFAULT_DAYBOOK, GROUP_PER_ACCOUNT, GROUP_PER_LINE, PERFORMANCE_TYPES
from twinfield.domain.focus_model import FocusDepartment

__all__ = ["ConfigError", "DepartmentRoute", "VatMapping", "NumberFormat", "SyncConfig", "load_config",
           "DEFAULT_DAYBOOK", "GROUP_PER_ACCOUNT", "GROUP_PER_LINE", "PERFORMANCE_TYPES"]


class ConfigError(ValueError):
    """The configuration is wrong; ``key`` names where (``departments[0].office``)."""

    def __init__(self, key: str, problem: str, source: str = "", also: Sequence[tuple[str, str]] = ()):
        self.key = key
        self.problem = problem
        self.also = tuple(also)  # further (key, problem) pairs found in the same pass
        where = f" in {source}" if source else ""
        super().__init__(f"{key}{where}: {problem}" + "".join(f"\n  and {k}: {p}" for k, p in self.also))


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
        return _build(data, base_dir or Path.cwd(), source)


def load_config(path: str | Path) -> SyncConfig:
    """Read and check the YAML file at ``path``; a VAT map file it names is read relative to it."""
    path = Path(path)
    return _build(_read_yaml(path, "(file)", f"cannot read {path}", ""), path.parent, str(path))


def _read_yaml(path: Path, key: str, what: str, source: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(key, f"{what}: {exc.strerror}", source) from None
    try:
        return _nulls(yaml.load(text, Loader=yaml.BaseLoader))
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", f"is not valid YAML: {exc}", str(path)) from None


def _nulls(value: Any) -> Any:
    """The YAML null words (read as text) as None, which the models take as "left out"."""
    if isinstance(value, str):
        return None if value.strip() in schema.NULLS else value
    if isinstance(value, Mapping):
        return {key: _nulls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulls(item) for item in value]
    return value


def _build(data: Any, base_dir: Path, source: str) -> SyncConfig:
    data = _nulls(data)
    if data is None:
        raise ConfigError("(file)", "is empty", source)
    file = _validated(schema.SyncFile, data, source)
    config = SyncConfig(
        departments=_routes(file.departments, source),
        debtors_account=file.debtors_account,
        default_revenue_account=file.default_revenue_account,
        vat_map=_vat_map(file.vat_codes, base_dir, source),
        auto_match_vat=file.auto_match_vat,
        only_sent=file.only_sent,
        group_lines=file.group_lines,
        numbering=NumberFormat(file.numbering.invoice, file.numbering.credit_note),
        default_payment_days=file.default_payment_days,
        payment_method_id=file.payment_method_id,
        include_credit_notes=file.include_credit_notes,
        delete_drafts_of_deleted_documents=file.delete_drafts_of_deleted_documents,
        notifications=_notifications(file.notifications),
        performance_types=dict(file.performance_types),
        default_performance_type=file.default_performance_type,
    )
    try:
        numbering.check_unique(config.numbering, config.departments)
    except numbering.NumberingError as exc:
        raise ConfigError(exc.key, exc.problem, source) from None
    return config


def _routes(departments: list[schema.Department], source: str) -> tuple[DepartmentRoute, ...]:
    routes, seen = [], {}
    for i, item in enumerate(departments):
        if item.department in seen:
            raise ConfigError(f"departments[{i}].department", f"{item.department!r} is already routed by "
                              f"departments[{seen[item.department]}]: one department books into one office", source)
        seen[item.department] = i
        routes.append(DepartmentRoute(item.department, item.office, item.daybook, item.number_prefix or ""))
    return tuple(routes)


def _vat_map(value: str | list[schema.VatEntry] | None, base_dir: Path, source: str) -> tuple[VatMapping, ...]:
    if value is None:
        return ()
    key = "vat_codes"
    if isinstance(value, str):  # a file beside this one
        path = (base_dir / value).resolve()
        data = _read_yaml(path, key, f"cannot read the VAT map {path}", source)
        value, key, source = _validated(schema.VatCodesFile, data or [], str(path)).root, "", str(path)
    entries, seen = [], {}
    for i, item in enumerate(value):
        entry = VatMapping(item.tax_rate, item.vat_code, item.department)
        pair = (entry.department, entry.tax_rate)
        if pair in seen:
            raise ConfigError(f"{key}[{i}].tax_rate", f"{entry.tax_rate!r} is already mapped by {key}[{seen[pair]}]",
                              source)
        seen[pair] = i
        entries.append(entry)
    return tuple(entries)


def _notifications(section: schema.Notifications | None) -> notifications.NotificationSettings | None:
    if section is None:
        return None
    email = section.email
    to = () if email is None else (email.to,) if isinstance(email.to, str) else tuple(email.to)
    return notifications.NotificationSettings(
        email_to=to,
        smtp_conn_id=email.smtp_conn_id if email else notifications.NotificationSettings.smtp_conn_id,
        slack_conn_id=section.slack.slack_conn_id if section.slack else None,
        events=frozenset(section.events),
        report_url=section.report_url,
    )


# From the models' errors to ConfigError: the key as the file writes it, and the problem in plain words.

def _validated(model: type[BaseModel], data: Any, source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # An unknown key first: a typo explains the "required" error of the key it misspells.
        errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        found = []
        for error in errors:
            path = _file_path(error["loc"], data)
            found.append((_key(path), _problem(error, path, model)))
        raise ConfigError(*found[0], source, also=found[1:]) from None


def _file_path(loc: tuple[int | str, ...], data: Any) -> list[int | str]:
    """``loc`` without the form tags of one-or-list values, which are no key of the file."""
    path, node = [], data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part] if part < len(node) else None
        elif part in (schema.TEXT_FORM, schema.LIST_FORM):
            continue
        else:  # a required key that is missing
            node = None
        path.append(part)
    return path


def _key(path: list[int | str]) -> str:
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
    return key or "(file)"


def _problem(error: Any, path: list[int | str], model: type[BaseModel]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if path == ["departments"] and kind in ("missing", "too_short", "list_type"):
        return "must list at least one Focus department with its Twinfield office"
    if kind == "extra_forbidden":
        return f"is not a known setting (known: {', '.join(_keys_at(model, path[:-1]))})"
    if kind == "missing" or value is None:
        return "is required"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {value!r}"
    if kind.startswith("int_"):
        return f"must be a whole number, got {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, got {value}"
    if kind == "string_type" and isinstance(value, int) and not isinstance(value, bool):
        return f"must be quoted text (\"{value}\"): a bare number loses leading zeros"
    if kind == "string_type":
        return f"must be text, got {value!r}"
    if kind == "literal_error":
        return f"must be {ctx['expected'].replace(chr(39), '')}, got {value!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a mapping of keys to values"
    if kind == "list_type":
        return "must be a list"
    if kind == "too_short":
        return f"must list at least {ctx['min_length']}"
    if kind == "value_error":
        return str(ctx["error"])
    return error["msg"]


def _keys_at(model: type[BaseModel], path: list[int | str]) -> list[str]:
    """The keys the models allow at ``path`` (where an unknown key was found)."""
    node: Any = model
    for part in path:
        node = next((inner for member in _members(node) if (inner := _inside(member, part)) is not None), None)
    models = [m for m in _members(node) if isinstance(m, type) and issubclass(m, BaseModel)]
    return sorted(models[0].model_fields) if models else []


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return _members(annotation.model_fields["root"].annotation)
    return [annotation]


def _inside(annotation: Any, part: int | str) -> Any:
    if isinstance(part, int) and typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    if isinstance(part, str) and typing.get_origin(annotation) is dict:
        return typing.get_args(annotation)[1]
    if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found = annotation.model_fields.get(part)
        return found.annotation if found else None
    return None
