"""The package registers as an Airflow provider and its connection forms reach the UI as declared."""

from __future__ import annotations

import importlib.metadata
import json
import warnings
from importlib import resources

import jsonschema
import pytest
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow.providers_manager import ProvidersManager

from twinfield.provider import get_provider_info

EXPECTED_EXTRAS = {
    "teamleader_focus": {"refresh_token", "token_url", "rate_limit_per_minute", "timeout"},
    "twinfield": {
        "auth_mode",
        "refresh_token",
        "organisation",
        "office",
        "credits_per_minute",
        "max_concurrent",
        "timeout",
    },
    "focus_twinfield_state": {"sqlalchemy_url"},
}
SECRETS = {"teamleader_focus": {"refresh_token"}, "twinfield": {"refresh_token"},
           "focus_twinfield_state": {"sqlalchemy_url"}}  # a URL may hold the database password


def _airflow_schema(name: str) -> dict:
    return json.loads((resources.files("airflow") / name).read_text(encoding="utf-8"))


def _connection(conn_type: str) -> dict:
    (conn,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type]
    return conn


@pytest.fixture(scope="module")
def hook_meta() -> dict:
    """What the UI's connection form reads (GET /ui/connections/hook_meta), per connection type."""
    return {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}


def test_provider_info_passes_airflows_runtime_schema():
    jsonschema.validate(get_provider_info(), _airflow_schema("provider_info.schema.json"))


def test_connection_types_pass_the_stricter_provider_yaml_schema():
    # provider.yaml.schema.json is what Airflow's own providers are held to; it types conn-fields and
    # ui-field-behaviour, which the runtime schema leaves open.
    schema = _airflow_schema("provider.yaml.schema.json")
    connection_types = {**schema["properties"]["connection-types"], "definitions": schema.get("definitions", {})}
    jsonschema.validate(get_provider_info()["connection-types"], connection_types)


def test_version_is_the_installed_distributions():
    assert get_provider_info()["versions"] == [importlib.metadata.version("focus-twinfield")]


def test_providers_manager_discovers_the_package_through_its_entry_point():
    provider = ProvidersManager().providers["focus-twinfield"]
    assert provider.version == importlib.metadata.version("focus-twinfield")
    assert {c["connection-type"] for c in provider.data["connection-types"]} == set(EXPECTED_EXTRAS)


@pytest.mark.parametrize(
    ("conn_type", "hook_name", "hook_class"),
    [
        ("teamleader_focus", "Teamleader Focus", "twinfield.hooks.focus.TeamleaderFocusHook"),
        ("twinfield", "Twinfield", "twinfield.hooks.twinfield.TwinfieldHook"),
    ],
)
def test_the_ui_lists_each_connection_type_with_its_fields(hook_meta, conn_type, hook_name, hook_class):
    meta = hook_meta[conn_type]
    assert (meta.hook_name, meta.hook_class_name) == (hook_name, hook_class)
    assert set(meta.extra_fields) == EXPECTED_EXTRAS[conn_type]
    # schema and port mean nothing for either service and are hidden; host/login/password are relabelled.
    assert meta.standard_fields.url_schema.hidden and meta.standard_fields.port.hidden
    for name in ("host", "login", "password"):
        field = getattr(meta.standard_fields, name)
        assert not field.hidden and field.title


@pytest.mark.parametrize("conn_type", sorted(EXPECTED_EXTRAS))
def test_each_extra_field_reaches_the_ui_with_its_label_and_default(hook_meta, conn_type):
    declared = _connection(conn_type)["conn-fields"]
    for name, field in hook_meta[conn_type].extra_fields.items():
        assert field["schema"]["title"] == declared[name]["label"]
        assert field["description"] == declared[name]["description"]
        # The UI pre-fills the form with "value": a default that the API masks (any field name with
        # "token" in it) would be saved back as "***".
        assert field["value"] == declared[name]["schema"].get("default"), name


def test_twinfield_form_offers_both_logins():
    extra = _connection("twinfield")["conn-fields"]
    assert extra["auth_mode"]["schema"]["enum"] == ["oauth2", "session"]
    assert extra["auth_mode"]["schema"]["default"] == "oauth2"
    assert "session" in extra["organisation"]["label"].lower()


@pytest.mark.parametrize("conn_type", sorted(EXPECTED_EXTRAS))
def test_refresh_tokens_and_urls_are_secret_fields(conn_type):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated for the task runtime only
        widgets = ProvidersManager().connection_form_widgets
    ours = {k: w for k, w in widgets.items() if k.startswith(f"extra__{conn_type}__")}
    assert {w.field_name for w in ours.values() if w.is_sensitive} == SECRETS[conn_type]


@pytest.mark.parametrize(
    ("conn_type", "conn_id_param"),
    [("teamleader_focus", "teamleader_focus_conn_id"), ("twinfield", "twinfield_conn_id"),
     ("focus_twinfield_state", "state_conn_id")],
)
def test_each_hook_imports_and_offers_a_connection_test(conn_type, conn_id_param):
    # What the API server uses for the connection form's "Test" button and for hook lookups by type.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ProvidersManager.hooks is deprecated for the task runtime only
        info = ProvidersManager().hooks[conn_type]
    assert info is not None, f"the hook for {conn_type} failed to import or lacks conn_type/hook_name"
    assert info.connection_type == conn_type and info.package_name == "focus-twinfield"
    assert info.connection_id_attribute_name == conn_id_param
    assert info.connection_testable
