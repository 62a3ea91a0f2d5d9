"""The sync configuration file's structure as pydantic models: the one list of its keys, types, defaults and
allowed values (include/mappings/sync.yaml and the VAT map file it names).

``load_config`` (twinfield.domain.config) validates through these models, then checks what a schema cannot say
(duplicates, numbers that could clash). ``python -m twinfield.domain.config_schema`` (``make schema``) writes
the JSON Schema generated from them to include/mappings/, where editors check the files against it.

Every model refuses unknown keys: a typo must not quietly fall back to a default. A key given as null (or
empty) counts as left out, so it takes its default.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, RootModel,
                      Strict, StringConstraints, Tag, WithJsonSchema, model_validator)

from twinfield.domain import numbering
from twinfield.domain.notifications import DEFAULT_EVENTS, EVENTS

DEFAULT_DAYBOOK = "VRK"
PERFORMANCE_TYPES = ("goods", "services")
GROUP_PER_ACCOUNT = "per_account"
GROUP_PER_LINE = "per_line"
# The YAML is read with every scalar as text (so "0110" keeps its zero); these words are its nulls and switches.
NULLS = frozenset({"", "~", "null", "Null", "NULL", "none", "None"})
TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "on"})
FALSE = frozenset({"false", "False", "FALSE", "no", "No", "off"})
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
SCHEMA_FILES = {"sync.schema.json": "SyncFile", "vat_codes.schema.json": "VatCodesFile"}


def _switch(value: Any) -> Any:
    if isinstance(value, str):
        if value.strip() in TRUE:
            return True
        if value.strip() in FALSE:
            return False
    return value


def _template(value: str) -> str:
    try:
        numbering.check_template(value)
    except numbering.NumberingError as exc:
        raise ValueError(exc.problem) from None
    return value


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


# Text refuses a number (pydantic never makes 110 into "110"): the loader reads YAML scalars as text, so an
# unquoted 0110 stays "0110", and a number given in Python data is an account code that already lost its zero.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Switch = Annotated[bool, Strict(), BeforeValidator(_switch),
                   WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": sorted(TRUE | FALSE)}]})]
Template = Annotated[Text, AfterValidator(_template)]
EmailAddress = Annotated[Text, AfterValidator(_email), WithJsonSchema({"type": "string", "pattern": EMAIL_PATTERN})]
PerformanceType = Literal[PERFORMANCE_TYPES]  # type: ignore[valid-type]
Event = Literal[tuple(EVENTS)]  # type: ignore[valid-type]


# The two forms of a one-or-list value; pydantic puts the form's tag in an error's location (not a file key).
TEXT_FORM, LIST_FORM = "text", "list"


def _form(value: Any) -> str:
    return TEXT_FORM if isinstance(value, str) else LIST_FORM


def one_or_list(one: Any, item: Any) -> Any:
    """Text (``one``) or a list of ``item``: a file name or the inline entries, one address or several."""
    return Annotated[Annotated[one, Tag(TEXT_FORM)] | Annotated[list[item], Tag(LIST_FORM)], Discriminator(_form)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_left_out(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {key: value for key, value in data.items() if value is not None}
        return data


class Department(Section):
    """One Focus department (by name or id) booked into one Twinfield office and daybook."""

    department: Text = Field(description="The Focus department's name or id.")
    office: Text = Field(description="The Twinfield office code.")
    daybook: Text = Field(DEFAULT_DAYBOOK, description="The Twinfield sales daybook.")
    number_prefix: Text | None = Field(None, description="Put before every booked number of this department; needed when "
                                "departments share an office and daybook.")


class VatEntry(Section):
    """Focus tax rate (of one department, or of every department) -> Twinfield sales VAT code."""

    department: Text | None = Field(None, description="Focus department name or id; left out: every department.")
    tax_rate: Text = Field(description="The tax rate's description as Focus shows it (\"21%\"), or its id.")
    vat_code: Text = Field(description="A Twinfield sales VAT code of the department's office.")


class Numbering(Section):
    """Templates of the booked invoice number; {year} and {seq} come from Focus's "2026 / 12"."""

    invoice: Template = "{year}-{seq}"
    credit_note: Template = "CN{year}-{seq}"


class Email(Section):
    to: one_or_list(EmailAddress, EmailAddress) = Field(description="One address or a list.")  # type: ignore[valid-type]
    smtp_conn_id: Text = Field("smtp_default", description="An Airflow connection of type smtp.")


class Slack(Section):
    slack_conn_id: Text = Field(description="An Airflow Slack incoming-webhook connection.")


class Notifications(Section):
    """Who hears how each run went; left out: nothing is sent."""

    email: Email | None = None
    slack: Slack | None = None
    events: Annotated[list[Event], Field(min_length=1)] = Field(
        sorted(DEFAULT_EVENTS), description="; ".join(f"{name}: {what}" for name, what in EVENTS.items()))
    report_url: Text | None = Field(None, description="A link to the run's report page; {run_id} is filled in.")

    @model_validator(mode="after")
    def _names_a_channel(self) -> Notifications:
        if not (self.email and self.email.to) and not self.slack:
            raise ValueError("names no channel: give email.to and/or slack.slack_conn_id (leave the section out "
                             "to send nothing)")
        return self


class SyncFile(Section):
    """How Teamleader Focus invoices are booked in Twinfield (include/mappings/sync.yaml)."""

    model_config = ConfigDict(title="focus-twinfield sync configuration")

    departments: Annotated[list[Department], Field(min_length=1)] = Field(
        description="Which Focus departments sync, and where to; one department books into one office.")
    debtors_account: Text | None = Field(
        None, description="Debtors account of the total line (text: leading zeros count); left out: Twinfield "
        "books each invoice on its customer's own collective account.")
    default_revenue_account: Text | None = Field(
        None, description="Revenue account for lines without a ledger; left out: such lines hold their "
        "document back.")
    vat_codes: one_or_list(Text, VatEntry) | None = Field(  # type: ignore[valid-type]
        None, description="Focus tax rate -> Twinfield VAT code: a file beside this one, or the entries inline.")
    auto_match_vat: Switch = Field(False, description="Book an unmapped tax rate on the proposed VAT code.")
    only_sent: Switch = Field(True, description="Only invoices sent to the customer; false: every booked one.")
    group_lines: Literal[GROUP_PER_ACCOUNT, GROUP_PER_LINE] = Field(
        GROUP_PER_ACCOUNT, description="One Twinfield line per revenue account and VAT code, or per Focus line.")
    numbering: Numbering = Field(default_factory=Numbering)
    default_payment_days: Annotated[int, Field(ge=0)] = Field(
        30, description="Due date when Focus gives none: document date + this many days.")
    payment_method_id: Text | None = Field(
        None, description="Focus payment method id for payments registered from Twinfield.")
    include_credit_notes: Switch = Field(True, description="Book Focus credit notes too.")
    delete_drafts_of_deleted_documents: Switch = Field(
        False, description="Delete the Twinfield draft of a document deleted in Focus (never a final one).")
    notifications: Notifications | None = None
    performance_types: dict[str, PerformanceType] = Field(
        default_factory=dict, description="Goods or services per Focus product category (name or id), for "
        "intra-community VAT codes.")
    default_performance_type: PerformanceType | None = Field(
        None, description="For categories not listed; left out: such a line holds its document back.")


class VatCodesFile(RootModel[list[VatEntry]]):
    """The VAT map file named by sync.yaml's vat_codes (include/mappings/vat_codes.yaml)."""

    model_config = ConfigDict(title="focus-twinfield VAT map")


def json_schemas() -> dict[str, str]:
    """File name -> the JSON Schema text published in include/mappings/."""
    models = {"SyncFile": SyncFile, "VatCodesFile": VatCodesFile}
    out = {}
    for name, model in SCHEMA_FILES.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **models[model].model_json_schema()}
        out[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m twinfield.domain.config_schema <folder of sync.yaml>", file=sys.stderr)
        return 2
    target = Path(argv[0])
    for name, text in json_schemas().items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
