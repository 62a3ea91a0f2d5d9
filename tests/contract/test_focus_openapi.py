"""The Focus sandbox answers in the shapes of Teamleader's openapi.yaml, for every call the hook makes.

Each answer is validated against the 200-response schema of its path (OpenAPI 3.0, nullable honoured), and
must not carry fields the schema does not declare. The YAML's anchors and aliases are its only references;
PyYAML resolves them while loading.
"""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS30Validator

from sandbox.focus import FocusSandbox
from sandbox.focus.generate import generate

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def spec(reference):
    with open(reference / "teamleader-focus" / "openapi.yaml", encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture(scope="module")
def focus():
    return FocusSandbox(generate(seed=7, invoices=300), "contract-client", "contract-secret", "contract-rt",
                        rate_limit_per_minute=1_000_000)


@pytest.fixture(scope="module")
def call(focus):
    root = FastAPI()
    root.mount("/focus", focus.app())
    client = TestClient(root)
    token = client.post("/focus/oauth2/access_token", data={
        "grant_type": "refresh_token", "refresh_token": "contract-rt",
        "client_id": "contract-client", "client_secret": "contract-secret"}).json()["access_token"]

    def _call(method: str, body: dict | None = None):
        response = client.post(f"/focus/{method}", json=body or {}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        return response.json()

    return _call


def response_schema(spec: dict, method: str) -> dict:
    schema = spec["paths"][f"/{method}"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return null_as_intended(schema)


# Fields the API Blueprint documents "(object, nullable)" that openapi.yaml writes as
# ``{nullable: true, allOf: [...]}``, a form a strict OpenAPI 3.0 validator applies to null too (the allOf's
# ``type: object`` refuses it). For these the blueprint's "this, or null" is meant. Every other null is checked
# strictly: ``file``, ``for_attention_of.contact``, ``area_level_two`` and ``peppol_status`` must be absent or
# filled, never null.
BLUEPRINT_NULLABLE = frozenset({"deal", "project", "expected_payment_method", "for_attention_of", "product",
                                "product_category", "unit", "discount", "withheld_tax"})


def null_as_intended(node, name: str | None = None):
    """The schema with "this, or null" for the BLUEPRINT_NULLABLE properties, and nothing looser."""
    if isinstance(node, list):
        return [null_as_intended(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            copied[key] = {prop: null_as_intended(sub, prop) for prop, sub in value.items()}
        else:
            copied[key] = null_as_intended(value)
    if copied.get("nullable") and name in BLUEPRINT_NULLABLE and "allOf" in copied:
        del copied["nullable"]
        return {"anyOf": [{"enum": [None]}, copied]}
    return copied


def declared(schema: dict) -> tuple[dict, list]:
    """(properties, item schemas) a schema declares, through allOf/oneOf/anyOf."""
    properties = dict(schema.get("properties") or {})
    items = [schema["items"]] if "items" in schema else []
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            sub_properties, sub_items = declared(sub)
            for name, sub_schema in sub_properties.items():
                properties[name] = {"allOf": [properties[name], sub_schema]} if name in properties else sub_schema
            items += sub_items
    return properties, items


def undeclared_fields(instance, schema: dict, path: str = "") -> list[str]:
    properties, items = declared(schema)
    found = []
    if isinstance(instance, dict) and properties:
        for key, value in instance.items():
            if key not in properties:
                found.append(f"{path}.{key}")
            else:
                found += undeclared_fields(value, properties[key], f"{path}.{key}")
    elif isinstance(instance, list):
        for i, value in enumerate(instance):
            for item_schema in items:
                found += undeclared_fields(value, item_schema, f"{path}[{i}]")
    return found


def check(spec: dict, method: str, answer: dict) -> None:
    schema = response_schema(spec, method)
    errors = sorted(OAS30Validator(schema).iter_errors(answer), key=lambda e: list(e.path))
    assert not errors, f"{method}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    extra = undeclared_fields(answer, schema)
    assert not extra, f"{method} answers fields openapi.yaml does not declare: {extra[:10]}"


def test_the_checker_catches_wrong_types_nulls_and_undeclared_fields(spec):
    """The contract checks must be able to fail: a string amount, a null status, an invented field."""
    schema = response_schema(spec, "invoices.list")
    good = {"data": [{"id": "x", "status": "outstanding", "total": {"payable": {"amount": 1.5, "currency": "EUR"}}}]}
    assert not list(OAS30Validator(schema).iter_errors(good))
    bad_amount = json.loads(json.dumps(good))
    bad_amount["data"][0]["total"]["payable"]["amount"] = "1.50"
    assert list(OAS30Validator(schema).iter_errors(bad_amount))
    null_status = json.loads(json.dumps(good))
    null_status["data"][0]["status"] = None
    assert list(OAS30Validator(schema).iter_errors(null_status))
    invented = json.loads(json.dumps(good))
    invented["data"][0]["lines"] = []
    assert undeclared_fields(invented, schema) == [".data[0].lines"]


def test_the_checker_refuses_null_where_only_absent_or_filled_is_allowed(spec):
    """null is refused for file, for_attention_of.contact, area_level_two and peppol_status, and taken for a
    field the blueprint documents as nullable (deal)."""
    invoices = response_schema(spec, "invoices.list")
    item = {"id": "x", "deal": None, "invoicee": {"for_attention_of": {"name": "Ann"}}}
    assert not list(OAS30Validator(invoices).iter_errors({"data": [item]}))
    for path, value in ((("file",), None), (("invoicee", "for_attention_of", "contact"), None)):
        bad = json.loads(json.dumps(item))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert list(OAS30Validator(invoices).iter_errors({"data": [bad]})), path
    address = {"line_1": "Dok Noord 3A", "country": "BE"}
    for method, shape in (("companies.list", {"id": "x", "primary_address": address}),
                          ("contacts.info", {"id": "x", "addresses": [{"type": "primary", "address": address}]})):
        schema = response_schema(spec, method)
        data = [shape] if method.endswith(".list") else shape
        assert not list(OAS30Validator(schema).iter_errors({"data": data}))
        address["area_level_two"] = None
        assert list(OAS30Validator(schema).iter_errors({"data": data})), method
        del address["area_level_two"]


def test_invoices_list_every_page_and_filter_shape(spec, call):
    page, seen = 1, 0
    while True:
        answer = call("invoices.list", {"page": {"size": 100, "number": page}, "includes": "late_fees"})
        check(spec, "invoices.list", answer)
        seen += len(answer["data"])
        if len(answer["data"]) < 100:
            break
        page += 1
    assert seen == 300
    filtered = call("invoices.list", {"filter": {"status": ["matched"], "invoice_date_after": "2000-01-01"}})
    check(spec, "invoices.list", filtered)


def test_invoices_info_for_every_invoice(spec, call, focus):
    for invoice in focus.data.invoices:
        check(spec, "invoices.info", call("invoices.info", {"id": invoice["id"]}))
    check(spec, "invoices.info", call("invoices.info", {"id": focus.data.invoices[0]["id"], "includes": "late_fees"}))


def test_invoices_info_after_a_registered_payment(spec, call, focus):
    invoice = next(i for i in focus.data.invoices if i["status"] == "outstanding" and not i["payments"])
    focus.add_payment(invoice["id"], invoice["total"]["due"]["amount"])
    answer = call("invoices.info", {"id": invoice["id"]})
    check(spec, "invoices.info", answer)
    assert answer["data"]["status"] == "matched"


def test_credit_notes_list_and_info(spec, call, focus):
    answer = call("creditNotes.list", {"page": {"size": 100}})
    check(spec, "creditNotes.list", answer)
    assert answer["data"]
    focus.set_credit_note_info_shape("array")
    try:
        for note in focus.data.credit_notes:
            check(spec, "creditNotes.info", call("creditNotes.info", {"id": note["id"]}))
    finally:
        focus.set_credit_note_info_shape("mixed")


def test_companies_and_contacts(spec, call, focus):
    for method, records in (("companies", focus.data.companies), ("contacts", focus.data.contacts)):
        ids = [r["id"] for r in records]
        for start in range(0, len(ids), 100):
            check(spec, f"{method}.list", call(f"{method}.list", {"filter": {"ids": ids[start:start + 100]},
                                                                "page": {"size": 100}}))
        for record_id in ids:
            check(spec, f"{method}.info", call(f"{method}.info", {"id": record_id}))
    company_id = focus.data.companies[0]["id"]
    check(spec, "companies.info", call("companies.info", {"id": company_id, "includes": "related_contacts"}))


@pytest.mark.parametrize("method", ["taxRates.list", "productCategories.list", "departments.list",
                                    "paymentMethods.list"])
def test_account_settings(spec, call, method):
    answer = call(method, {})
    check(spec, method, answer)
    assert answer["data"]


def test_answers_stay_valid_after_every_kind_of_control_edit(spec, call, focus):
    """Documents, customers and tax rates edited through sandbox.focus.editing, every edit the corpus uses."""
    from sandbox.focus import editing

    invoices = [i for i in map(focus.invoice, (i["id"] for i in focus.data.invoices))
                if i["status"] == "outstanding" and not i["payments"]][:12]  # as they are now (others pay some)
    rate = focus.data.tax_rates[0]
    reverse = editing.add_tax_rate(focus, {"department_id": rate["department"]["id"], "description": "0% verlegd",
                                           "rate": "0"})
    line = {"description": "Extra \u0007 line", "quantity": "1", "unit_price": "-10.00", "tax_rate_id": rate["id"]}
    edits = [
        {"description": "BEL \u0007 NUL \u0000 \uffff", "quantity": "0", "discount": "100"},
        {"tax_rate_id": "no-such-rate", "withheld_tax": "0.15"},
        {"currency": "CHF", "due_on": None, "number": "2026 / <script>"},
        {"date": "1999-03-01", "due_on": "1999-01-01", "tax_rate_id": reverse["id"]},
        {"invoicee": {"name": "x" * 250, "vat_number": "nl123", "customer": {"type": "company", "id": "gone"}}},
        {"product_category_id": None, "unit_price": "-5.00"},
    ]
    for invoice, edit in zip(invoices, edits):
        editing.edit_document(focus, "invoices", invoice["id"], edit)
        check(spec, "invoices.info", call("invoices.info", {"id": invoice["id"]}))
    editing.add_lines(focus, "invoices", invoices[6]["id"], [line], repeat=5)
    check(spec, "invoices.info", call("invoices.info", {"id": invoices[6]["id"]}))
    check(spec, "invoices.list", call("invoices.list", {"filter": {"ids": [i["id"] for i in invoices]}}))
    note = focus.data.credit_notes[0]
    editing.edit_document(focus, "credit_notes", note["id"], {"quantity": "-1", "description": "\u001b[31m"})
    editing.add_lines(focus, "credit_notes", note["id"], [line])
    focus.set_credit_note_info_shape("array")
    try:
        check(spec, "creditNotes.info", call("creditNotes.info", {"id": note["id"]}))
    finally:
        focus.set_credit_note_info_shape("mixed")
    company = focus.data.companies[-1]
    editing.edit_customer(focus, "company", company["id"], {"name": "A\u0001B", "vat_number": None,
                                                           "address": {"city": None, "postal_code": None}})
    check(spec, "companies.info", call("companies.info", {"id": company["id"]}))
    contact = focus.data.contacts[-1]
    editing.edit_customer(focus, "contact", contact["id"], {"vat_number": "be 0123.456.789", "address": None})
    check(spec, "contacts.info", call("contacts.info", {"id": contact["id"]}))
    check(spec, "taxRates.list", call("taxRates.list", {}))
