"""companies.add: the sandbox as Focus defines it (over plain HTTP), and the hook's add_company, which never
makes two companies of one call when the answer is lost."""

from __future__ import annotations

import pytest

from tests.integration.test_focus_hook import connect  # noqa: F401 - fixture
from tests.integration.test_focus_sandbox import Focus, errors_of

pytestmark = pytest.mark.integration

ADDRESS = {"line_1": "Havenstraat 12", "postal_code": "1791 AB", "city": "Den Burg", "country": "NL"}


@pytest.fixture
def own_focus(make_sandbox):
    return Focus(make_sandbox(invoices=10, focus_rate_limit=100_000))


def test_added_company_is_listed_and_shown_with_what_was_sent(own_focus):
    body = {"name": "Zeilmakerij Noordenwind B.V.", "vat_number": "NL812345678B01",
            "emails": [{"type": "invoicing", "email": "boekhouding@noordenwind.example"}],
            "addresses": [{"type": "primary", "address": ADDRESS},
                          {"type": "invoicing", "address": {**ADDRESS, "addressee": "Crediteuren"}}],
            "iban": "NL91ABNA0417164300", "remarks": "Imported", "unknown_key": "ignored"}
    answer = own_focus.post("companies.add", body)
    assert answer.status_code == 201, answer.text
    created = answer.json()["data"]
    assert created["type"] == "company" and created["id"]

    info = own_focus.call("companies.info", {"id": created["id"]})["data"]
    assert info["name"] == body["name"] and info["vat_number"] == "NL812345678B01"
    assert info["emails"] == body["emails"] and info["iban"] == body["iban"]
    assert [a["type"] for a in info["addresses"]] == ["primary", "invoicing"]
    assert info["addresses"][1]["address"]["addressee"] == "Crediteuren"
    assert "unknown_key" not in info
    listed = own_focus.call("companies.list", {"filter": {"ids": [created["id"]]}})["data"]
    assert [c["name"] for c in listed] == [body["name"]]
    assert listed[0]["primary_address"]["city"] == "Den Burg" and "addresses" not in listed[0]
    assert own_focus.call("companies.list", {"filter": {"vat_number": "NL 8123.45.678.B01"}})["data"][0]["id"] == created["id"]


@pytest.mark.parametrize("body, fragment", [
    ({}, "name is required"),
    ({"name": "  "}, "Company name must not be empty"),
    ({"name": 12}, "name must be a string"),
    ({"name": "X", "vat_number": 123}, "vat_number must be a string"),
    ({"name": "X", "emails": [{"type": "billing", "email": "a@b.example"}]}, "emails[0].type"),
    ({"name": "X", "emails": [{"type": "primary", "email": "not-an-address"}]}, "emails[0].email"),
    ({"name": "X", "addresses": [{"type": "invoicing"}]}, "addresses[0].address is required"),
    ({"name": "X", "addresses": [{"type": "invoicing", "address": {"line_1": "a", "city": "b", "country": "NL"}}]},
     "addresses[0].address.postal_code is required"),
    ({"name": "X", "addresses": [{"type": "invoicing", "address": {**ADDRESS, "country": None}}]},
     "addresses[0].address.country is required"),
    ({"name": "X", "addresses": [{"type": "primary", "address": {**ADDRESS, "addressee": "Mr X"}}]},
     "Primary addresses can not contain an addressee"),
    ({"name": "X", "preferred_currency": "XXX"}, "preferred_currency must be one of"),
    ({"name": "X", "tags": "vip"}, "tags must be an array"),
])
def test_refusals_are_400_in_focus_error_shape_and_add_nothing(own_focus, body, fragment):
    before = len(own_focus.sb.focus.companies())
    answer = own_focus.post("companies.add", body)
    assert answer.status_code == 400
    assert fragment in errors_of(answer)[0]["title"]
    assert len(own_focus.sb.focus.companies()) == before


def test_null_address_lines_are_allowed(own_focus):
    answer = own_focus.post("companies.add", {"name": "Nullable BV", "addresses": [
        {"type": "invoicing", "address": {"line_1": None, "postal_code": None, "city": None, "country": "be"}}]})
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("kind", ["500", "drop"])
def test_hook_add_company_after_a_lost_answer_finds_the_company_instead_of_adding_it_twice(make_sandbox, connect,
                                                                                           kind):
    sb = make_sandbox(invoices=10, focus_rate_limit=100_000)
    hook = connect(sb)
    hook.clock.sleep = lambda seconds: None
    sb.focus.faults.inject(kind, path_contains="companies.add", after_apply=True)
    body = {"name": "Lost Answer BV", "vat_number": "NL812345678B01"}
    company_id = hook.add_company(body)
    added = [c for c in sb.focus.companies() if c["name"] == "Lost Answer BV"]
    assert [c["id"] for c in added] == [company_id]
    assert sb.focus.calls["companies.add"] == 1


def test_hook_add_company_refused_raises_the_title(make_sandbox, connect):
    from twinfield.errors import FocusApiError

    hook = connect(make_sandbox(invoices=10, focus_rate_limit=100_000))
    with pytest.raises(FocusApiError) as refused:
        hook.add_company({"name": ""})
    assert refused.value.status == 400 and refused.value.title == "Company name must not be empty"
