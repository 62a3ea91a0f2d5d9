"""twinfield.domain.config: the shipped sync.yaml, defaults, and clear errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinfield.domain.config import ConfigError, DepartmentRoute, NumberFormat, SyncConfig, VatMapping, load_config
from twinfield.domain.focus_model import FocusDepartment

SHIPPED = Path(__file__).resolve().parents[2] / "include" / "mappings" / "sync.yaml"
MINIMAL = "departments:\n  - {department: Acme Nederland, office: NLA001}\n"


def write(tmp_path: Path, text: str, name: str = "sync.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configuration_loads_with_its_vat_map():
    config = load_config(SHIPPED)
    assert config.departments == (
        DepartmentRoute("Acme Nederland", "NLA001", "VRK", ""), DepartmentRoute("Acme Belgie", "NLA001", "VRK", "BE"))
    assert VatMapping("21%", "VH", "Acme Nederland") in config.vat_map
    assert not any(m.tax_rate == "6%" for m in config.vat_map)  # left for a person, on purpose
    assert (config.debtors_account, config.default_revenue_account, config.group_lines) == (None, None,
                                                                                            "per_account")
    assert (config.performance_type("x", "Training"), config.performance_type("x", "Hardware")) == ("services", "goods")
    assert config.performance_type(None, None) is None  # no default: such a line holds its invoice back


def test_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    assert config == SyncConfig(departments=(DepartmentRoute("Acme Nederland", "NLA001"),))
    assert (config.debtors_account, config.auto_match_vat, config.only_sent, config.include_credit_notes,
            config.default_payment_days, config.payment_method_id, config.numbering) == (
        None, False, True, True, 30, None, NumberFormat("{year}-{seq}", "CN{year}-{seq}"))
    assert config.delete_drafts_of_deleted_documents is False  # drafts of deleted documents are only reported


def test_deleting_drafts_of_deleted_documents_is_a_switch(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "delete_drafts_of_deleted_documents: yes\n"))
    assert config.delete_drafts_of_deleted_documents is True
    with pytest.raises(ConfigError, match="delete_drafts_of_deleted_documents"):
        load_config(write(tmp_path, MINIMAL + "delete_drafts_of_deleted_documents: sometimes\n"))


def test_account_codes_keep_leading_zeros_and_switches_read_as_yaml_booleans(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "debtors_account: 0130\ndefault_revenue_account: 08200\n"
                                                   "only_sent: no\nauto_match_vat: yes\ngroup_lines: per_line\n"))
    assert (config.debtors_account, config.default_revenue_account) == ("0130", "08200")
    assert (config.only_sent, config.auto_match_vat, config.group_lines) == (False, True, "per_line")


def test_performance_types_by_category_name_or_id_with_a_default(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "performance_types:\n  Training: services\n  cat-9: goods\n"
                                                   "default_performance_type: goods\n"))
    assert config.performance_type("cat-1", "Training") == "services"
    assert config.performance_type("cat-9", "Anything") == "goods"
    assert config.performance_type("cat-2", "Other") == "goods"  # the default
    with pytest.raises(ConfigError, match=r"performance_types.Training .*: must be goods or services, got .both."):
        load_config(write(tmp_path, MINIMAL + "performance_types:\n  Training: both\n"))
    with pytest.raises(ConfigError, match="default_performance_type .*: must be goods or services"):
        load_config(write(tmp_path, MINIMAL + "default_performance_type: diensten\n"))


def test_vat_map_inline_and_from_a_file_beside_the_config(tmp_path):
    write(tmp_path, '- {tax_rate: "21%", vat_code: VH}\n- {department: Acme Belgie, tax_rate: "6%", vat_code: VL}\n',
          "vat.yaml")
    from_file = load_config(write(tmp_path, MINIMAL + "vat_codes: vat.yaml\n"))
    inline = load_config(write(tmp_path, MINIMAL + 'vat_codes:\n  - {tax_rate: "21%", vat_code: VH}\n'
                                                   '  - {department: Acme Belgie, tax_rate: "6%", vat_code: VL}\n'))
    assert from_file.vat_map == inline.vat_map == (VatMapping("21%", "VH"), VatMapping("6%", "VL", "Acme Belgie"))


def test_route_by_department_name_or_id():
    config = SyncConfig.from_mapping({"departments": [{"department": "Acme Nederland", "office": "NLA001"},
                                                      {"department": "dep-2", "office": "NLA002"}]})
    departments = {"dep-1": FocusDepartment("dep-1", "Acme Nederland"), "dep-2": FocusDepartment("dep-2", "B")}
    assert config.route_for("dep-1", departments).office == "NLA001"
    assert config.route_for("dep-2", departments).office == "NLA002"
    assert config.route_for("dep-3", departments) is None


@pytest.mark.parametrize("text, key, problem", [
    ("", "(file)", "is empty"),
    ("departmnets: []\n", "departmnets", "is not a known setting"),
    ("departments: []\n", "departments", "must list at least one Focus department"),
    ("departments:\n  - {department: A}\n", "departments[0].office", "is required"),
    ("departments:\n  - {department: A, office: X, dagboek: VRK}\n", "departments[0].dagboek", "not a known setting"),
    (MINIMAL + "  - {department: Acme Nederland, office: NLA002}\n", "departments[1].department",
     "'Acme Nederland' is already routed by departments[0]: one department books into one office"),
    (MINIMAL + "group_lines: per_invoice\n", "group_lines", "must be per_account or per_line, got 'per_invoice'"),
    (MINIMAL + "only_sent: maybe\n", "only_sent", "must be true or false, got 'maybe'"),
    (MINIMAL + "default_payment_days: thirty\n", "default_payment_days", "must be a whole number"),
    (MINIMAL + "default_payment_days: -1\n", "default_payment_days", "must be at least 0"),
    (MINIMAL + "vat_codes: missing.yaml\n", "vat_codes", "cannot read the VAT map"),
    (MINIMAL + "vat_codes:\n  - {tax_rate: 21%}\n", "vat_codes[0].vat_code", "is required"),
    (MINIMAL + "vat_codes:\n  - {tax_rate: 21%, vat_code: VH}\n  - {tax_rate: 21%, vat_code: VL}\n",
     "vat_codes[1].tax_rate", "'21%' is already mapped by vat_codes[0]"),
    (MINIMAL + "numbering: {invoice: '{seq}'}\n", "numbering.invoice", "must contain {year} and {seq} once each"),
    (MINIMAL + "numbering: {invoice: '{year}-{seq}-{office}'}\n", "numbering.invoice", "and no other field"),
    (MINIMAL + "numbering: {credit_note: '{year}-{seq}'}\n", "numbering.credit_note", "must differ"),
    (MINIMAL + "numbering: {credit_note: 'CREDITNOTE-{year}-{seq}'}\n", "numbering.credit_note",
     "longer than Twinfield's 20 characters"),
    (MINIMAL + "  - {department: Acme Belgie, office: NLA001}\n", "departments[1].number_prefix",
     "could stand for 'Acme Nederland' and for 'Acme Belgie'"),
    ("departments: [\n", "(file)", "is not valid YAML"),
])
def test_errors_name_the_key(tmp_path, text, key, problem):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{key} in {tmp_path / 'sync.yaml'}: ")


def test_bare_numbers_from_python_are_refused_for_account_codes():
    with pytest.raises(ConfigError, match="must be quoted text"):
        SyncConfig.from_mapping({"departments": [{"department": "A", "office": "X"}], "debtors_account": 1300})


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read"):
        load_config("/nonexistent/sync.yaml")
