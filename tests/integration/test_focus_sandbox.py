"""The Focus sandbox over plain HTTP (requests), as any real-protocol client sees it: paging, filters,
payments, OAuth2 token rotation, error shapes, the rate limit and injected faults."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

pytestmark = pytest.mark.integration

UTC = timezone.utc


class Focus:
    """A bare client of the sandbox's Focus: token endpoint and API calls, nothing clever."""

    def __init__(self, sb):
        self.sb = sb
        self.base = f"{sb.url}/focus"
        self.http = requests.Session()
        self.token = self.refresh(sb.focus.grant_refresh_token()).json()["access_token"]

    def refresh(self, refresh_token: str, **overrides) -> requests.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": "sandbox-client", "client_secret": "sandbox-secret", **overrides}
        return self.http.post(f"{self.base}/oauth2/access_token", data=form, timeout=10)

    def post(self, method: str, body: dict | None = None, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        kwargs.setdefault("timeout", 10)
        return self.http.post(f"{self.base}/{method}", json=body if body is not None else {}, headers=headers,
                              **kwargs)

    def call(self, method: str, body: dict | None = None):
        response = self.post(method, body)
        assert response.status_code == 200, response.text
        return json.loads(response.text, parse_float=Decimal)

    def all_invoices(self, body: dict | None = None) -> list[dict]:
        found, page = [], 1
        while True:
            data = self.call("invoices.list", {**(body or {}), "page": {"size": 100, "number": page}})["data"]
            found += data
            if len(data) < 100:
                return found
            page += 1

    def control(self, verb: str, path: str, body: dict | None = None) -> requests.Response:
        return self.http.request(verb, f"{self.base}/_sandbox/{path}", json=body, timeout=10)


@pytest.fixture(scope="module")
def focus(sandbox):
    """The session's sandbox (read-only use)."""
    return Focus(sandbox)


@pytest.fixture
def own_focus(make_sandbox):
    """A sandbox of the test's own, for tests that change state (payments, tokens, limits, faults)."""
    return Focus(make_sandbox(invoices=40, focus_rate_limit=100_000))


def errors_of(response: requests.Response) -> list[dict]:
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    assert all(isinstance(e["title"], str) and e["title"] for e in body["errors"])
    return body["errors"]


def number_key(number: str | None):
    return (0,) if number is None else (1, *map(int, number.split(" / ")))


# -- paging -----------------------------------------------------------------------------------------------


def test_pages_through_3000_invoices_without_loss_or_duplicates(make_sandbox):
    focus = Focus(make_sandbox(invoices=3000, focus_rate_limit=100_000))
    expected = {i["id"] for i in focus.sb.data.invoices}

    ascending = focus.all_invoices()
    assert len(ascending) == 3000 and {i["id"] for i in ascending} == expected
    keys = [number_key(i["invoice_number"]) for i in ascending]
    assert keys == sorted(keys)  # default: invoice_number ascending, drafts (no number) first

    by_date = focus.all_invoices({"sort": [{"field": "invoice_date", "order": "desc"}]})
    assert len(by_date) == 3000 and {i["id"] for i in by_date} == expected
    dates = [i["invoice_date"] or "" for i in by_date]
    assert dates == sorted(dates, reverse=True)

    assert focus.call("invoices.list", {"page": {"size": 100, "number": 31}})["data"] == []


def test_page_size_defaults_to_20_and_has_no_undocumented_maximum(focus):
    """openapi.yaml documents a maximum page size (100) for calls.list only: a larger size is not refused."""
    assert len(focus.call("invoices.list")["data"]) == 20
    assert len(focus.call("invoices.list", {"page": {"size": 100}})["data"]) == 100
    assert len(focus.call("invoices.list", {"page": {"size": 250}})["data"]) == 250
    response = focus.post("invoices.list", {"page": {"size": 0}})
    assert response.status_code == 400 and "page.size" in errors_of(response)[0]["title"]


# -- filters ----------------------------------------------------------------------------------------------


def test_invoice_filters(focus):
    invoices = focus.sb.data.invoices
    department = focus.sb.data.departments[1]["id"]
    found = focus.all_invoices({"filter": {"department_id": department}})
    assert {i["id"] for i in found} == {i["id"] for i in invoices if i["department"]["id"] == department}

    found = focus.all_invoices({"filter": {"status": ["draft", "matched"]}})
    assert {i["id"] for i in found} == {i["id"] for i in invoices if i["status"] in ("draft", "matched")}

    chosen = [i["id"] for i in invoices[:7]]
    assert {i["id"] for i in focus.all_invoices({"filter": {"ids": chosen}})} == set(chosen)

    customer = invoices[0]["invoicee"]["customer"]
    found = focus.all_invoices({"filter": {"customer": customer}})
    assert found and {i["id"] for i in found} == {i["id"] for i in invoices if i["invoicee"]["customer"] == customer}

    found = focus.all_invoices({"filter": {"term": "JANSEN &"}})  # invoicee name, number, PO, reference
    expected = {i["id"] for i in invoices if "jansen &" in i["invoicee"]["name"].lower()}
    assert found and {i["id"] for i in found} == expected


def test_invoice_date_window_is_inclusive_at_both_ends(focus):
    dates = sorted({i["invoice_date"] for i in focus.sb.data.invoices if i["invoice_date"]})
    after, before = dates[5], dates[15]
    found = focus.all_invoices({"filter": {"invoice_date_after": after, "invoice_date_before": before}})
    assert {i["invoice_date"] for i in found} == set(dates[5:16])
    expected = [i for i in focus.sb.data.invoices if i["invoice_date"] and after <= i["invoice_date"] <= before]
    assert len(found) == len(expected)


def test_updated_since_keeps_what_changed_at_or_after_it(focus):
    stamps = sorted(i["updated_at"] for i in focus.sb.data.invoices)
    since = stamps[len(stamps) // 2]
    found = focus.all_invoices({"filter": {"updated_since": since}})
    assert {i["id"] for i in found} == {i["id"] for i in focus.sb.data.invoices if i["updated_at"] >= since}
    # the same moment in another time zone is the same filter
    local = datetime.fromisoformat(since).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert len(focus.all_invoices({"filter": {"updated_since": local}})) == len(found)


def test_unknown_filter_keys_are_silently_ignored(focus):
    """As the real API: a typo filters nothing, which is why the hook checks its own filter keys."""
    everything = focus.all_invoices()
    typo = focus.all_invoices({"filter": {"updated_sinse": "2999-01-01T00:00:00+00:00"}, "whatever": 1})
    assert len(typo) == len(everything) == len(focus.sb.data.invoices)


@pytest.mark.parametrize("bad_filter, fragment", [
    ({"status": "draft"}, "filter.status"),  # must be an array
    ({"status": ["paid"]}, "filter.status"),
    ({"updated_since": "2026-01-01T00:00:00"}, "filter.updated_since"),  # no time zone
    ({"invoice_date_after": "01-02-2026"}, "filter.invoice_date_after"),
    ({"customer": {"type": "person", "id": "x"}}, "filter.customer"),
    ({"ids": "abc"}, "filter.ids"),
])
def test_malformed_filters_are_400(focus, bad_filter, fragment):
    response = focus.post("invoices.list", {"filter": bad_filter})
    assert response.status_code == 400
    errors = errors_of(response)
    assert fragment in errors[0]["title"] and errors[0]["status"] == 400


def test_credit_note_filters_and_date_window(focus):
    notes = focus.sb.data.credit_notes
    everything = focus.call("creditNotes.list", {"page": {"size": 100}})["data"]
    assert {n["id"] for n in everything} == {n["id"] for n in notes}
    day = sorted(n["credit_note_date"] for n in notes)[len(notes) // 2]
    before = focus.call("creditNotes.list", {"filter": {"credit_note_date_before": day}, "page": {"size": 100}})
    assert {n["id"] for n in before["data"]} == {n["id"] for n in notes if n["credit_note_date"] < day}  # exclusive
    after = focus.call("creditNotes.list", {"filter": {"credit_note_date_after": day}, "page": {"size": 100}})
    assert {n["id"] for n in after["data"]} == {n["id"] for n in notes if n["credit_note_date"] >= day}  # inclusive
    invoice_id = notes[0]["invoice"]["id"]
    linked = focus.call("creditNotes.list", {"filter": {"invoice_id": invoice_id}})["data"]
    assert [n["invoice"]["id"] for n in linked] == [invoice_id] * len(linked) and linked


def test_credit_note_info_comes_as_an_object_or_an_array(focus, own_focus):
    shapes = Counter()
    for note in focus.sb.data.credit_notes:
        data = focus.call("creditNotes.info", {"id": note["id"]})["data"]
        shapes[type(data).__name__] += 1
        record = data[0] if isinstance(data, list) else data
        assert record["id"] == note["id"] and record["invoice"]["id"] == note["invoice"]["id"]
    assert shapes["list"] and shapes["dict"]  # "mixed" by default: a client must accept both
    assert own_focus.control("POST", "config", {"credit_note_info_shape": "array"}).status_code == 200
    note_id = own_focus.sb.data.credit_notes[0]["id"]
    assert isinstance(own_focus.call("creditNotes.info", {"id": note_id})["data"], list)


def test_customers_resolve_in_bulk_by_ids(focus):
    companies = focus.sb.data.companies
    ids = [c["id"] for c in companies]
    found = []
    for start in range(0, len(ids), 100):
        found += focus.call("companies.list", {"filter": {"ids": ids[start:start + 100]},
                                               "page": {"size": 100}})["data"]
    active = [c["id"] for c in companies if c["status"] == "active"]
    assert len(active) < len(ids)  # the data holds a deactivated company
    assert sorted(c["id"] for c in found) == sorted(active)  # lists leave deactivated customers out
    found = focus.call("companies.list", {"filter": {"ids": ids, "status": "deactivated"}, "page": {"size": 500}})
    assert sorted(c["id"] for c in found["data"]) == sorted(set(ids) - set(active))
    assert all("addresses" not in c and "primary_address" in c for c in found["data"])
    contact = focus.sb.data.contacts[0]
    listed = focus.call("contacts.list", {"filter": {"ids": [contact["id"]]}})["data"]
    assert [c["id"] for c in listed] == [contact["id"]] and "vat_number" not in listed[0]  # only in info
    assert focus.call("contacts.info", {"id": contact["id"]})["data"]["vat_number"] == contact["vat_number"]
    with_vat = next(c for c in companies if " " in c.get("vat_number", ""))
    by_vat = focus.call("companies.list", {"filter": {"vat_number": with_vat["vat_number"].replace(" ", "")
                                                                    .replace(".", "")}})["data"]
    assert with_vat["id"] in [c["id"] for c in by_vat]


def test_account_settings(focus):
    departments = focus.call("departments.list")["data"]
    assert [d["name"] for d in departments] == ["Acme Nederland", "Acme Belgie"]
    belgian = departments[1]["id"]
    rates = focus.call("taxRates.list", {"filter": {"department_id": belgian}})["data"]
    assert sorted((r["description"], r["rate"]) for r in rates) == [
        ("0% intracommunautair", Decimal("0.00")), ("21%", Decimal("0.21")), ("6%", Decimal("0.06"))]
    categories = focus.call("productCategories.list")["data"]
    ledgers = {c["name"]: {entry["ledger_account_number"] for entry in c["ledgers"]} for c in categories}
    assert ledgers["Legacy services"] == {"8999"} and ledgers["Hardware"] == {"8000"}
    methods = focus.call("paymentMethods.list", {"filter": {"status": ["active"]}})["data"]
    assert methods and all(m["status"] == "active" for m in methods)


# -- invoices.info and registerPayment ------------------------------------------------------------------


def test_invoice_info_has_lines_and_exact_amounts(focus):
    invoice = next(i for i in focus.sb.data.invoices if i["currency"] != "EUR")
    data = focus.call("invoices.info", {"id": invoice["id"]})["data"]
    assert data["total"] == invoice["total"]  # Decimals survive the wire digit for digit
    assert data["grouped_lines"] == invoice["grouped_lines"]
    assert data["currency_exchange_rate"]["rate"] == invoice["currency_exchange_rate"]["rate"]
    assert data["currency"] in ("USD", "GBP")


def test_register_payment_partly_then_fully(own_focus):
    invoice = next(i for i in own_focus.sb.data.invoices if i["status"] == "outstanding" and not i["payments"])
    currency, due = invoice["currency"], invoice["total"]["due"]["amount"]  # payable, less any credit note
    first = Decimal("10.05")
    response = own_focus.post("invoices.registerPayment", {
        "id": invoice["id"], "payment": {"amount": 10.05, "currency": currency},
        "paid_at": "2026-02-03T10:00:00+01:00"})
    assert response.status_code == 204 and response.content == b""
    data = own_focus.call("invoices.info", {"id": invoice["id"]})["data"]
    # paid_at is kept as the day in the account's time zone (Europe/Brussels)
    assert data["payments"] == [{"paid_at": "2026-02-03", "payment": {"amount": first, "currency": currency}}]
    assert data["total"]["due"]["amount"] == due - first
    assert (data["status"], data["paid"], data["paid_at"]) == ("outstanding", False, None)
    assert data["updated_at"] > invoice["updated_at"]
    listed = own_focus.call("invoices.list", {"filter": {"updated_since": data["updated_at"]}})["data"]
    assert [i["id"] for i in listed] == [invoice["id"]]

    rest = due - first
    method = own_focus.sb.data.payment_methods[0]["id"]
    body = (f'{{"id": "{invoice["id"]}", "payment": {{"amount": {rest}, "currency": "{currency}"}}, '
            f'"paid_at": "2026-02-10T09:30:00+00:00", "payment_method_id": "{method}"}}')  # exact JSON number
    response = own_focus.http.post(f"{own_focus.base}/invoices.registerPayment", data=body, timeout=10, headers={
        "Authorization": f"Bearer {own_focus.token}", "Content-Type": "application/json"})
    assert response.status_code == 204
    data = own_focus.call("invoices.info", {"id": invoice["id"]})["data"]
    assert data["total"]["due"]["amount"] == 0
    assert (data["status"], data["paid"], data["paid_at"]) == ("matched", True, "2026-02-10")
    assert [(p["amount"], p["payment_method_id"], p["via"]) for p in own_focus.sb.focus.payments(invoice["id"])] == [
        (first, None, "api"), (rest, method, "api")]


def test_register_payment_is_not_idempotent(own_focus):
    invoice = next(i for i in own_focus.sb.data.invoices if i["status"] == "outstanding" and not i["payments"])
    body = {"id": invoice["id"], "payment": {"amount": 1, "currency": invoice["currency"]},
            "paid_at": "2026-02-03T10:00:00+00:00"}
    assert own_focus.post("invoices.registerPayment", body).status_code == 204
    assert own_focus.post("invoices.registerPayment", body).status_code == 204
    assert len(own_focus.call("invoices.info", {"id": invoice["id"]})["data"]["payments"]) == 2


def test_register_payment_refusals(own_focus):
    invoices = own_focus.sb.data.invoices
    open_invoice = next(i for i in invoices if i["status"] == "outstanding")
    draft = next(i for i in invoices if i["status"] == "draft")
    good = {"id": open_invoice["id"], "payment": {"amount": 5, "currency": open_invoice["currency"]},
            "paid_at": "2026-02-03T10:00:00+00:00"}
    cases = [
        ({**good, "payment": {"amount": "5.00", "currency": open_invoice["currency"]}}, 400),  # not a number
        ({**good, "payment": {"amount": 5, "currency": "JPY"}}, 400),
        ({**good, "payment": {"amount": 5.001, "currency": open_invoice["currency"]}}, 400),
        ({**good, "paid_at": "2026-02-03 10:00"}, 400),
        ({k: v for k, v in good.items() if k != "paid_at"}, 400),
        ({**good, "payment_method_id": "no-such-method"}, 400),
        ({**good, "id": draft["id"], "payment": {"amount": 5, "currency": draft["currency"]}}, 400),
        ({**good, "id": "00000000-0000-4000-8000-000000000000"}, 404),
    ]
    for body, status in cases:
        response = own_focus.post("invoices.registerPayment", body)
        assert response.status_code == status, (body, response.text)
        assert errors_of(response)[0]["status"] == status
    assert [p for p in own_focus.sb.focus.payments(open_invoice["id"]) if p["via"] == "api"] == []


# -- the bookkeeper's side (control endpoints) ----------------------------------------------------------


def test_control_edit_book_and_pay_as_in_focus(own_focus):
    invoices = own_focus.sb.data.invoices
    invoice = next(i for i in invoices if i["status"] == "outstanding" and not i["payments"])
    response = own_focus.control("POST", f"invoices/{invoice['id']}/edit", {"unit_price": "99.99", "line": 0})
    assert response.status_code == 200
    data = own_focus.call("invoices.info", {"id": invoice["id"]})["data"]
    assert data["grouped_lines"][0]["line_items"][0]["unit_price"]["amount"] == Decimal("99.99")
    assert data["total"]["tax_exclusive"]["amount"] == sum(
        line["total"]["tax_exclusive"]["amount"] for group in data["grouped_lines"] for line in group["line_items"])
    assert data["updated_at"] > invoice["updated_at"]

    draft = next(i for i in invoices if i["status"] == "draft")
    department = draft["department"]["id"]
    booked = own_focus.control("POST", f"invoices/{draft['id']}/book", {"on": "2026-03-01"}).json()["data"]
    assert booked["status"] == "outstanding" and booked["invoice_date"] == "2026-03-01"
    numbers = [number_key(i["invoice_number"]) for i in own_focus.all_invoices({"filter": {
        "department_id": department}}) if i["invoice_number"] and i["invoice_number"].startswith("2026")]
    assert number_key(booked["invoice_number"]) == max(numbers)

    response = own_focus.control("POST", f"invoices/{invoice['id']}/payments", {"amount": "3.00"})
    assert response.status_code == 201
    payments = json.loads(own_focus.control("GET", f"invoices/{invoice['id']}/payments").text, parse_float=Decimal)
    assert [(p["amount"], p["via"]) for p in payments["data"]] == [(Decimal("3.00"), "focus")]

    assert own_focus.control("POST", "invoices/no-such-invoice/book", {}).status_code == 404
    assert own_focus.control("POST", f"invoices/{invoice['id']}/book", {}).status_code == 400  # not a draft
    assert own_focus.control("POST", f"invoices/{invoice['id']}/edit", {"line": 99}).status_code == 400
    assert own_focus.control("POST", f"invoices/{invoice['id']}/edit", {"unit_price": "1.00"}).status_code == 400


def test_control_delete_as_focus_allows(own_focus):
    """A draft, or the last booked invoice of its department (invoices.delete in the blueprint); afterwards
    Focus answers for it as for an unknown id, and lists leave it out."""
    invoices = own_focus.sb.data.invoices
    credited = {(c["invoice"] or {}).get("id") for c in own_focus.sb.data.credit_notes}
    by_department: dict[str, list[dict]] = {}
    for invoice in sorted((i for i in invoices if i["invoice_number"]), key=lambda i: number_key(i["invoice_number"])):
        by_department.setdefault(invoice["department"]["id"], []).append(invoice)
    for booked in by_department.values():
        if booked[-1]["id"] in credited:  # a credited invoice stays
            assert own_focus.control("POST", f"invoices/{booked[-1]['id']}/delete").status_code == 400
    booked = next(b for b in by_department.values() if b[-1]["id"] not in credited)
    last, earlier = booked[-1], booked[0]
    refused = own_focus.control("POST", f"invoices/{earlier['id']}/delete")
    assert refused.status_code == 400 and "last booked invoice" in errors_of(refused)[0]["title"]
    assert own_focus.control("POST", f"invoices/{last['id']}/delete").status_code == 204
    gone = own_focus.post("invoices.info", {"id": last["id"]})
    assert gone.status_code == 404 and errors_of(gone)
    assert own_focus.call("invoices.list", {"filter": {"ids": [last["id"], earlier["id"]]}})["data"] == [
        own_focus.call("invoices.list", {"filter": {"ids": [earlier["id"]]}})["data"][0]]
    assert own_focus.control("POST", f"invoices/{last['id']}/delete").status_code == 404
    draft = next(i for i in invoices if i["status"] == "draft")
    assert own_focus.control("POST", f"invoices/{draft['id']}/delete").status_code == 204

    notes = sorted(own_focus.sb.data.credit_notes,
                   key=lambda c: tuple(map(int, c["credit_note_number"].replace(" ", "").split("/"))))
    last_note = [c for c in notes if c["department"]["id"] == notes[0]["department"]["id"]][-1]
    assert own_focus.control("POST", f"credit_notes/{last_note['id']}/delete").status_code == 204
    assert own_focus.post("creditNotes.info", {"id": last_note["id"]}).status_code == 404
    assert last_note["id"] not in {c["id"] for c in own_focus.call("creditNotes.list", {"page": {"size": 100}})["data"]}


# -- OAuth2 ---------------------------------------------------------------------------------------------


def test_authorization_code_grant(own_focus):
    response = own_focus.http.get(f"{own_focus.base}/oauth2/authorize", params={
        "client_id": "sandbox-client", "response_type": "code", "state": "xyz",
        "redirect_uri": "http://127.0.0.1:9/callback"}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = requests.utils.urlparse(response.headers["location"])
    query = dict(pair.split("=", 1) for pair in location.query.split("&"))
    assert location.path == "/callback" and query["state"] == "xyz"
    form = {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": "http://127.0.0.1:9/callback",
            "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    url = f"{own_focus.base}/oauth2/access_token"
    pair = own_focus.http.post(url, data=form, timeout=10).json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 3600
    assert own_focus.post("departments.list", token=pair["access_token"]).status_code == 200
    again = own_focus.http.post(url, data=form, timeout=10)  # codes are single-use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert own_focus.refresh(pair["refresh_token"]).status_code == 200


def test_refresh_tokens_rotate_and_a_reused_one_is_refused(own_focus):
    first = own_focus.sb.focus.grant_refresh_token()
    response = own_focus.refresh(first)
    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != first
    reused = own_focus.refresh(first)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant" and reused.json()["error_description"]
    assert own_focus.post("departments.list", token=pair["access_token"]).status_code == 200
    assert own_focus.refresh(pair["refresh_token"]).status_code == 200  # the new one works, once
    assert own_focus.refresh(pair["refresh_token"]).status_code == 400


def test_two_refreshers_with_one_token_one_wins(own_focus):
    token = own_focus.sb.focus.grant_refresh_token()
    statuses = []
    start = threading.Barrier(2)

    def refresh():
        start.wait()
        statuses.append(requests.post(f"{own_focus.base}/oauth2/access_token", data={
            "grant_type": "refresh_token", "refresh_token": token, "client_id": "sandbox-client",
            "client_secret": "sandbox-secret"}, timeout=10).status_code)

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]


def test_token_endpoint_refusals(own_focus):
    token = own_focus.sb.focus.grant_refresh_token()
    wrong_secret = own_focus.refresh(token, client_secret="nope")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    basic_only = own_focus.http.post(f"{own_focus.base}/oauth2/access_token", auth=("sandbox-client", "sandbox-secret"),
                                     data={"grant_type": "refresh_token", "refresh_token": token}, timeout=10)
    assert basic_only.status_code == 401  # Focus wants client_id/client_secret in the body
    assert own_focus.refresh(token, grant_type="password").json()["error"] == "unsupported_grant_type"
    as_json = own_focus.http.post(f"{own_focus.base}/oauth2/access_token", json={
        "grant_type": "refresh_token", "refresh_token": token, "client_id": "sandbox-client",
        "client_secret": "sandbox-secret"}, timeout=10)
    assert as_json.status_code == 200  # refused attempts did not use the token up
    assert "sandbox-secret" not in as_json.text


def test_expired_and_revoked_tokens(own_focus):
    assert own_focus.post("departments.list").status_code == 200
    assert own_focus.control("POST", "tokens/expire", {}).status_code == 204
    expired = own_focus.post("departments.list")
    assert expired.status_code == 401 and errors_of(expired)[0]["status"] == 401
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    refresh_token = own_focus.sb.focus.grant_refresh_token()
    assert own_focus.control("POST", "tokens/expire", {"refresh_tokens": True}).status_code == 204
    assert own_focus.refresh(refresh_token).status_code == 400  # only re-authorising helps now
    granted = own_focus.control("POST", "tokens/grant").json()["refresh_token"]
    own_focus.token = own_focus.refresh(granted).json()["access_token"]
    assert own_focus.post("departments.list").status_code == 200


# -- errors -----------------------------------------------------------------------------------------------


def test_error_answers(focus):
    no_token = focus.http.post(f"{focus.base}/invoices.list", json={}, timeout=10)
    assert no_token.status_code == 401 and errors_of(no_token)[0]["status"] == 401
    assert focus.post("invoices.list", token="made-up").status_code == 401
    unknown = focus.post("invoices.info", {"id": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404 and errors_of(unknown)[0]["status"] == 404
    assert focus.post("creditNotes.info", {"id": "nope"}).status_code == 404
    assert focus.post("companies.info", {"id": "nope"}).status_code == 404
    assert focus.post("invoices.info", {}).status_code == 400
    assert focus.post("invoices.frobnicate").status_code == 404
    not_json = focus.http.post(f"{focus.base}/invoices.list", data="{nope", timeout=10,
                               headers={"Authorization": f"Bearer {focus.token}"})
    assert not_json.status_code == 400 and errors_of(not_json)


# -- rate limit -------------------------------------------------------------------------------------------


def test_rate_limit_headers_and_429(make_sandbox):
    focus = Focus(make_sandbox(invoices=20, focus_rate_limit=5))
    remaining = []
    for _ in range(5):
        response = focus.post("departments.list")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = focus.post("departments.list")
    assert refused.status_code == 429 and errors_of(refused)[0]["status"] == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(refused.headers["X-RateLimit-Reset"])
    assert reset.tzinfo is not None
    assert timedelta(seconds=50) < reset - datetime.now(UTC) <= timedelta(seconds=60)
    assert focus.post("invoices.info", {"id": "nope"}).status_code == 429  # refused before anything else
    assert focus.sb.focus.rate_limited == 2
    # control endpoints are not rate limited, and can raise the limit
    assert focus.control("POST", "rate_limit", {"per_minute": 7}).json() == {"per_minute": 7, "used": 5}
    allowed = focus.post("invoices.info", {"id": "nope"})
    assert allowed.status_code == 404 and allowed.headers["X-RateLimit-Remaining"] == "1"


def test_the_window_slides(make_sandbox, monkeypatch):
    import sandbox.focus.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "WINDOW_SECONDS", 1.5)
    focus = Focus(make_sandbox(invoices=20, focus_rate_limit=2))
    assert focus.post("departments.list").status_code == 200
    time.sleep(0.5)
    assert focus.post("departments.list").status_code == 200
    refused = focus.post("departments.list")
    assert refused.status_code == 429
    reset = datetime.fromisoformat(refused.headers["X-RateLimit-Reset"])
    time.sleep(max(0.0, (reset - datetime.now(UTC)).total_seconds()) + 0.05)
    allowed = focus.post("departments.list")  # the first request left the window; the second still counts
    assert allowed.status_code == 200 and allowed.headers["X-RateLimit-Remaining"] == "0"


# -- faults -----------------------------------------------------------------------------------------------


def test_5xx_faults_hit_only_matching_paths_and_only_count_times(own_focus):
    faults = own_focus.sb.focus.faults
    faults.inject("500", count=2, path_contains="invoices.list")
    assert own_focus.post("departments.list").status_code == 200
    assert [own_focus.post("invoices.list").status_code for _ in range(3)] == [500, 500, 200]
    response = own_focus.control("POST", "faults", {"kind": "503", "path_contains": "departments"})
    assert response.status_code == 201 and response.json()["pending"][0]["kind"] == "503"
    unavailable = own_focus.post("departments.list")
    assert unavailable.status_code == 503 and errors_of(unavailable)
    assert own_focus.post("departments.list").status_code == 200
    own_focus.control("POST", "faults", {"kind": "500"})
    assert own_focus.control("DELETE", "faults").status_code == 204
    assert own_focus.control("GET", "faults").json() == {"pending": []}
    assert own_focus.control("POST", "faults", {"kind": "explode"}).status_code == 400


def test_slow_and_dropped_answers(own_focus):
    own_focus.sb.focus.faults.inject("slow", seconds=1.5, path_contains="departments.list")
    with pytest.raises(requests.Timeout):
        own_focus.post("departments.list", timeout=0.5)
    own_focus.sb.focus.faults.inject("drop", path_contains="departments.list")
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        own_focus.post("departments.list")
    assert own_focus.post("departments.list").status_code == 200


@pytest.mark.parametrize("kind", ["500", "drop"])
def test_a_fault_after_apply_loses_the_answer_but_the_payment_stands(own_focus, kind):
    invoice = next(i for i in own_focus.sb.data.invoices if i["status"] == "outstanding" and not i["payments"])
    own_focus.sb.focus.faults.inject(kind, path_contains="registerPayment", after_apply=True)
    try:
        answer = own_focus.post("invoices.registerPayment", {
            "id": invoice["id"], "payment": {"amount": 2, "currency": invoice["currency"]},
            "paid_at": "2026-02-03T10:00:00+00:00"})
        assert answer.status_code == 500
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        assert kind == "drop"
    assert [p["amount"] for p in own_focus.sb.focus.payments(invoice["id"])] == [2]


def test_stats_count_requests(own_focus):
    before = own_focus.sb.focus.request_count
    own_focus.post("departments.list")
    own_focus.post("taxRates.list")
    stats = own_focus.control("GET", "stats").json()
    assert stats["request_count"] == before + 2 and stats["calls"]["taxRates.list"] == 1
