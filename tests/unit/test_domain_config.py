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


# The models in config_schema are the file's one definition: unknown keys refused at every level, wrong types
# named with their path, and the JSON Schema published beside sync.yaml generated from them.

@pytest.mark.parametrize("text, key, known", [
    (MINIMAL + "only_send: true\n", "only_send", "auto_match_vat, debtors_account, default_payment_days"),
    ("departments:\n  - {department: A, office: X, dagboek: VRK}\n", "departments[0].dagboek",
     "daybook, department, number_prefix, office"),
    (MINIMAL + "numbering: {invoice: '{year}-{seq}', creditnote: 'C{year}-{seq}'}\n", "numbering.creditnote",
     "credit_note, invoice"),
    (MINIMAL + "vat_codes:\n  - {tax_rate: 21%, vat_code: VH, office: NLA001}\n", "vat_codes[0].office",
     "department, tax_rate, vat_code"),
    (MINIMAL + "notifications:\n  email: {to: a@example.com, smtp: smtp_default}\n", "notifications.email.smtp",
     "smtp_conn_id, to"),
])
def test_unknown_keys_are_refused_at_every_level_with_the_known_ones(tmp_path, text, key, known):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key
    assert caught.value.problem.startswith("is not a known setting (known: ")
    assert known in caught.value.problem


def test_an_unknown_key_in_the_vat_map_file_names_that_file(tmp_path):
    vat = write(tmp_path, '- {tax_rate: "21%", vat_code: VH}\n- {tax_rate: "9%", vatcode: VL}\n', "vat.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, MINIMAL + "vat_codes: vat.yaml\n"))
    assert (caught.value.key, caught.value.problem) == ("[1].vatcode", "is not a known setting (known: department, "
                                                                       "tax_rate, vat_code)")
    assert str(caught.value).startswith(f"[1].vatcode in {vat}: ")
    assert caught.value.also == (("[1].vat_code", "is required"),)


@pytest.mark.parametrize("data, key, problem", [
    ({"departments": [{"department": "A", "office": "X"}, {"department": "B", "office": 110}]},
     "departments[1].office", 'must be quoted text ("110"): a bare number loses leading zeros'),
    ({"departments": "Acme"}, "departments", "must list at least one Focus department"),
    ({"departments": [{"department": "A", "office": "X"}], "numbering": "{year}-{seq}"}, "numbering",
     "must be a mapping of keys to values"),
    ({"departments": ["Acme"]}, "departments[0]", "must be a mapping of keys to values"),
    ({"departments": [{"department": "A", "office": "X"}], "default_payment_days": "30 days"},
     "default_payment_days", "must be a whole number, got '30 days'"),
    ({"departments": [{"department": "A", "office": "X"}], "include_credit_notes": "1"},
     "include_credit_notes", "must be true or false, got '1'"),
    ({"departments": [{"department": "A", "office": "X"}], "performance_types": {"Hardware": "goods", "Training":
     "diensten"}}, "performance_types.Training", "must be goods or services, got 'diensten'"),
    ({"departments": [{"department": "A", "office": "X"}], "performance_types": ["goods"]}, "performance_types",
     "must be a mapping of keys to values"),
    ({"departments": [{"department": "A", "office": "X"}], "vat_codes": {"tax_rate": "21%", "vat_code": "VH"}},
     "vat_codes", "must be a list"),
    ({"departments": [{"department": "A", "office": "X"}],
      "notifications": {"email": {"to": ["a@example.com", True]}}}, "notifications.email.to[1]",
     "must be text, got True"),
    ({"departments": [{"department": "A", "office": "X"}], "notifications": {"email": {"to": "finance"}}},
     "notifications.email.to", "'finance' is not an e-mail address"),
])
def test_wrong_types_are_named_with_their_path(data, key, problem):
    with pytest.raises(ConfigError) as caught:
        SyncConfig.from_mapping(data, source="sync.yaml")
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{key} in sync.yaml: ")


def test_every_problem_of_a_pass_is_reported_unknown_keys_first(tmp_path):
    text = "departmnets:\n  - {department: A, office: X}\nonly_sent: maybe\ndefault_payment_days: -3\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == "departmnets"
    assert caught.value.also == (
        ("departments", "must list at least one Focus department with its Twinfield office"),
        ("only_sent", "must be true or false, got 'maybe'"),
        ("default_payment_days", "must be at least 0, got -3"),
    )
    assert "\n  and only_sent: must be true or false, got 'maybe'" in str(caught.value)


def test_null_takes_the_default(tmp_path):
    config = load_config(write(tmp_path, "departments:\n  - {department: A, office: X, daybook: ~, number_prefix:}\n"
                                         "only_sent: null\nnumbering:\ngroup_lines: ''\ndefault_payment_days: ~\n"))
    assert config == SyncConfig(departments=(DepartmentRoute("A", "X"),))


MAPPINGS = SHIPPED.parent


def test_published_json_schema_is_the_models_schema():
    from twinfield.domain.config_schema import json_schemas

    for name, text in json_schemas().items():
        published = MAPPINGS / name
        assert published.read_text(encoding="utf-8") == text, f"{published} is stale: run `make schema`"


def test_shipped_files_point_editors_at_the_published_schema_and_pass_it():
    jsonschema = pytest.importorskip("jsonschema")
    import json

    import yaml

    for config, schema in (("sync.yaml", "sync.schema.json"), ("vat_codes.yaml", "vat_codes.schema.json")):
        text = (MAPPINGS / config).read_text(encoding="utf-8")
        assert text.startswith(f"# yaml-language-server: $schema={schema}\n")
        validator = jsonschema.Draft202012Validator(json.loads((MAPPINGS / schema).read_text(encoding="utf-8")))
        data = yaml.safe_load(text)  # as an editor reads it: true/false, null, numbers typed
        assert list(validator.iter_errors(data)) == []
    # The published schema refuses what the loader refuses: an unknown key, nested too, and a bad value.
    sync = yaml.safe_load((MAPPINGS / "sync.yaml").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads((MAPPINGS / "sync.schema.json").read_text()))
    for wrong in ({**sync, "only_send": True}, {**sync, "departments": [{**sync["departments"][0], "dagboek": "V"}]},
                  {**sync, "group_lines": "per_invoice"}, {**sync, "default_payment_days": -1},
                  {**sync, "debtors_account": 130}, {**sync, "departments": []}):
        assert list(validator.iter_errors(wrong)), wrong
