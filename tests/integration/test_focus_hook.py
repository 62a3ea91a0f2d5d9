"""TeamleaderFocusHook against the running Focus sandbox (sandbox/focus, served on 127.0.0.1)."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from twinfield.errors import FocusApiError, FocusAuthError, FocusUnavailable, FocusUnstableList
from twinfield.hooks.focus import TeamleaderFocusHook
from twinfield.state import StateStore

pytestmark = pytest.mark.integration

CONN_ENV = "AIRFLOW_CONN_TEAMLEADER_FOCUS_DEFAULT"


def connection(sb, refresh_token: str | None = None, **extra) -> str:
    """The sandbox's Focus connection (JSON), with its own refresh token and extras."""
    conn = json.loads(sb.connections()[CONN_ENV])
    conn["extra"]["refresh_token"] = refresh_token or sb.focus.grant_refresh_token()
    conn["extra"].update(extra)
    return json.dumps(conn)


@pytest.fixture
def connect(monkeypatch, tmp_path):
    """A hook on a sandbox, with a fresh refresh token (as if just authorised) and its own state store."""

    def _connect(sb, *, refresh_token: str | None = None, store: StateStore | None = None, **kwargs):
        extra = {k: kwargs.pop(k) for k in ("rate_limit_per_minute", "timeout") if k in kwargs}
        monkeypatch.setenv(CONN_ENV, connection(sb, refresh_token, **extra))
        store = store or StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        return TeamleaderFocusHook(state=store, **kwargs)

    return _connect


@pytest.fixture
def short_window(monkeypatch):
    """A sliding window of a few seconds on the sandbox's side (the hook takes its window as a parameter),
    so that rate-limit tests need not wait whole minutes."""
    import sandbox.focus.ratelimit as sandbox_ratelimit

    def _set(seconds: float) -> float:
        monkeypatch.setattr(sandbox_ratelimit, "WINDOW_SECONDS", seconds)
        return seconds

    return _set


def test_test_connection(sandbox, connect):
    hook = connect(sandbox)
    ok, message = hook.test_connection()
    assert ok, message
    assert "department" in message


def test_test_connection_names_the_scopes_the_grant_lacks(sandbox, connect):
    hook = connect(sandbox, refresh_token=sandbox.focus.grant_refresh_token(["invoices", "departments", "products"]))
    ok, message = hook.test_connection()
    assert not ok and "not granted the scope(s) companies, contacts;" in message
    with pytest.raises(FocusApiError) as err:  # the sandbox's 403, in Focus's error shape
        hook.companies(["x"])
    assert err.value.status == 403 and "companies" in err.value.title
    assert hook.departments() and hook.product_categories()


def test_full_paging_of_3000_invoices_without_loss_or_duplicates(make_sandbox, connect):
    sb = make_sandbox(invoices=3000, focus_rate_limit=100_000)
    hook = connect(sb)
    listed = list(hook.list_invoices())
    ids = [i["id"] for i in listed]
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {i["id"] for i in sb.data.invoices}
    assert hook.stats["requests"]["invoices.list"] == 31  # 30 full pages and an empty one
    numbered = [i["invoice_number"] for i in listed if i["invoice_number"]]
    keys = [tuple(int(p) for p in n.replace(" ", "").split("/")) for n in numbered]
    assert keys == sorted(keys)

    outstanding = list(hook.list_invoices(status=["outstanding"]))
    assert {i["id"] for i in outstanding} == {i["id"] for i in sb.data.invoices if i["status"] == "outstanding"}

    notes = [n["id"] for n in hook.list_credit_notes()]
    assert len(notes) == len(set(notes)) == len(sb.data.credit_notes)


def test_credit_notes_in_a_new_order_on_every_request_are_read_each_once(make_sandbox, connect):
    sb = make_sandbox(invoices=600, focus_rate_limit=100_000)
    sb.focus.set_credit_note_order("shuffled")
    notes = sb.data.credit_notes
    assert len(notes) > 20
    hook = connect(sb, page_size=5)  # many ranges with few credit notes
    ids = [n["id"] for n in hook.list_credit_notes()]
    assert len(ids) == len(set(ids)) and set(ids) == {n["id"] for n in notes}
    # Date bounds: after inclusive, before exclusive, as Focus reads them.
    days = sorted({n["credit_note_date"] for n in notes})
    after, before = days[len(days) // 4], days[3 * len(days) // 4]
    bounded = [n["id"] for n in hook.list_credit_notes(credit_note_date_after=after, credit_note_date_before=before)]
    assert sorted(bounded) == sorted(n["id"] for n in notes if after <= n["credit_note_date"] < before)
    # What plain paging would have done: pages of a new order each time lose some and double others.
    plain = [n["id"] for n in hook._pages("creditNotes.list", {"filter": {}})]
    assert len(plain) != len(set(plain)) or set(plain) != set(ids)

    # A run's window that fits in a page costs two requests: the page and an empty second one.
    hook = connect(sb)
    before_calls = sb.focus.calls["creditNotes.list"]
    assert {n["id"] for n in hook.list_credit_notes()} == {n["id"] for n in notes}
    assert sb.focus.calls["creditNotes.list"] - before_calls == 2 and len(notes) <= 100


def test_one_day_of_more_credit_notes_than_a_page_is_read_until_two_reads_agree(make_sandbox, connect):
    sb = make_sandbox(invoices=600, focus_rate_limit=100_000)
    by_day: dict[str, list[str]] = {}
    for note in sb.data.credit_notes:
        by_day.setdefault(note["credit_note_date"], []).append(note["id"])
    day, expected = max(by_day.items(), key=lambda item: len(item[1]))
    assert len(expected) >= 2
    hook = connect(sb, page_size=1)
    following = (datetime.fromisoformat(day) + timedelta(days=1)).date()
    found = [n["id"] for n in hook.list_credit_notes(credit_note_date_after=day, credit_note_date_before=following)]
    assert sorted(found) == sorted(expected)  # a stable order: the second read agrees with the first

    sb.focus.set_credit_note_order("shuffled")
    try:  # shuffled anew for every page: either two reads happened to agree (then all of them), or it says so
        found = [n["id"] for n in hook.list_credit_notes(credit_note_date_after=day, credit_note_date_before=following)]
        assert sorted(found) == sorted(expected)
    except FocusUnstableList as exc:
        assert "different answers" in exc.title


def test_details_customers_and_reference_lists(sandbox, connect):
    hook = connect(sandbox)
    invoice = next(i for i in sandbox.data.invoices if i["status"] == "outstanding")
    info = hook.invoice_info(invoice["id"])
    assert info["id"] == invoice["id"]
    assert isinstance(info["total"]["payable"]["amount"], Decimal)
    note = hook.credit_note_info(sandbox.data.credit_notes[0]["id"])
    assert note["id"] == sandbox.data.credit_notes[0]["id"]

    company_ids = [c["id"] for c in sandbox.data.companies][:150]
    assert set(hook.companies(company_ids + ["00000000-0000-0000-0000-000000000000"])) == set(company_ids)
    contact_ids = [c["id"] for c in sandbox.data.contacts]
    assert set(hook.contacts(contact_ids)) == set(contact_ids)

    departments = hook.departments()
    assert departments
    assert all(r["department"]["id"] == departments[0]["id"] for r in hook.tax_rates(departments[0]["id"]))
    assert any(c["ledgers"] for c in hook.product_categories())
    assert hook.payment_methods()


def test_customer_lists_carry_the_primary_address_only_and_info_the_rest(sandbox, connect):
    """What resolve_customers reads: list items (matching) have primary_address and no addresses[], a contact's
    no VAT number; companies.info / contacts.info have the invoicing address, VAT and registration number."""
    from twinfield.domain.focus_model import parse_customer

    hook = connect(sandbox)
    data = sandbox.focus.data
    company = next(c for c in data.companies if c["status"] == "active" and len(c["addresses"]) == 2
                   and c.get("national_identification_number"))
    primary, invoicing = (next(a["address"] for a in company["addresses"] if a["type"] == kind)
                          for kind in ("primary", "invoicing"))
    item = hook.companies([company["id"]])[company["id"]]
    assert "addresses" not in item and item["primary_address"]["line_1"] == primary["line_1"]
    from_list = parse_customer("company", item)
    assert (from_list.street, from_list.city, from_list.country) == (primary["line_1"], primary["city"],
                                                                     primary["country"])
    full = parse_customer("company", hook.customer_info("company", company["id"]))
    assert (full.street, full.postcode, full.city, full.country, full.addressee) == (
        invoicing["line_1"], invoicing["postal_code"], invoicing["city"], invoicing["country"],
        "Crediteurenadministratie")
    assert full.national_identification_number == company["national_identification_number"]

    contact = next(c for c in data.contacts if c["vat_number"])
    item = hook.contacts([contact["id"]])[contact["id"]]
    assert "vat_number" not in item and "addresses" not in item
    assert parse_customer("contact", item).vat_number == ""
    info = parse_customer("contact", hook.customer_info("contact", contact["id"]))
    assert info.vat_number == contact["vat_number"] and info.street and info.postcode and info.city
    assert hook.customer_info("contact", "00000000-0000-0000-0000-000000000000") is None


def test_a_customer_the_list_leaves_out_is_read_with_info(make_sandbox, connect):
    """Deactivated customers are left out of list answers; the hook reads them with .info before anyone
    concludes that Focus does not know them."""
    sb = make_sandbox(invoices=40, focus_rate_limit=100_000)
    hook = connect(sb)
    deactivated = next(c for c in sb.focus.data.companies if c["status"] == "deactivated")
    active = [c["id"] for c in sb.focus.data.companies if c["status"] == "active"][:3]
    contact = sb.focus.data.contacts[0]["id"]
    sb.focus.deactivate_customer("contact", contact)
    unknown = "00000000-0000-0000-0000-000000000000"
    listed = hook._read("companies.list", {"filter": {"ids": [deactivated["id"], *active]}})["data"]
    assert {c["id"] for c in listed} == set(active)  # the list leaves it out

    found = hook.companies([deactivated["id"], *active, unknown])
    assert set(found) == {deactivated["id"], *active}
    assert found[deactivated["id"]]["status"] == "deactivated"
    assert set(hook.contacts([contact])) == {contact}
    assert hook.stats["requests"]["companies.info"] == 2 and hook.stats["requests"]["contacts.info"] == 1  # the missing ones only


# -- tokens ----------------------------------------------------------------------------------------
def test_token_rotation_and_a_reused_refresh_token_refused(sandbox, connect, tmp_path):
    seed = sandbox.focus.grant_refresh_token()
    hook = connect(sandbox, refresh_token=seed)
    hook.departments()
    grants = sandbox.focus.tokens.grants
    refreshed = grants["refresh_token"]

    sandbox.focus.expire_access_tokens()  # every access token dies: the next call gets a 401
    hook.departments()
    assert grants["refresh_token"] == refreshed + 1
    assert hook.stats["requests"]["departments.list"] == 3  # ok, 401, ok after the refresh

    # Another state store (another deployment) starting from the same, already spent, seed is refused.
    refused = grants["invalid_grant"]
    other = connect(sandbox, refresh_token=seed, store=StateStore(f"sqlite:///{tmp_path / 'other.db'}"))
    with pytest.raises(FocusAuthError, match="re-authorise") as err:
        other.departments()
    assert err.value.status == 400
    assert grants["invalid_grant"] == refused + 1
    assert seed not in str(err.value)

    # Re-authorising (a new refresh token in the connection) restarts that store's chain.
    again = connect(sandbox, store=StateStore(f"sqlite:///{tmp_path / 'other.db'}"))
    assert again.departments()


def _refresh_in_process(conn_json: str, url: str, start_at: float, out) -> None:
    """A task in its own process: its own hook, the shared state store."""
    import os

    os.environ[CONN_ENV] = conn_json
    from twinfield.hooks.focus import TeamleaderFocusHook
    from twinfield.state import StateStore

    hook = TeamleaderFocusHook(state=StateStore(url))
    time.sleep(max(0.0, start_at - time.time()))
    hook.departments()
    out.put(hook._token.access_token)


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(sandbox, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    StateStore(url).ensure_schema()
    conn_json = connection(sandbox)
    before = dict(sandbox.focus.tokens.grants)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 8  # after both have imported Airflow
    procs = [ctx.Process(target=_refresh_in_process, args=(conn_json, url, start_at, out)) for _ in range(2)]
    for p in procs:
        p.start()
    tokens = [out.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    grants = sandbox.focus.tokens.grants
    assert grants["refresh_token"] - before.get("refresh_token", 0) == 1
    assert grants["invalid_grant"] == before.get("invalid_grant", 0)
    assert tokens[0] == tokens[1]
    assert sandbox.focus.tokens.access_valid(tokens[0])


def test_two_threads_refreshing_at_once_spend_the_refresh_token_once(sandbox, connect, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = connect(sandbox, store=StateStore(url))
    second = TeamleaderFocusHook(state=StateStore(url))  # same connection, its own engine
    before = sandbox.focus.tokens.grants["refresh_token"]
    barrier = threading.Barrier(2)

    def task(hook):
        barrier.wait()
        hook.departments()

    threads = [threading.Thread(target=task, args=(h,)) for h in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sandbox.focus.tokens.grants["refresh_token"] == before + 1
    assert first._token.access_token == second._token.access_token


# -- rate limits -----------------------------------------------------------------------------------
def test_no_429_in_a_normal_run_with_a_low_limit_on_both_sides(make_sandbox, connect, short_window):
    window = short_window(4.0)
    sb = make_sandbox(invoices=50, focus_rate_limit=10)
    hook = connect(sb, rate_limit_per_minute=10, rate_window=window)
    started = time.monotonic()

    def worker():
        for _ in range(8):
            hook.departments()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert hook.stats["requests"]["departments.list"] == 32
    assert sb.focus.rate_limited == 0
    assert time.monotonic() - started >= 3 * window  # 32 requests at 10 per window


def test_the_servers_headers_keep_a_hook_with_a_higher_limit_out_of_429s(make_sandbox, connect, short_window):
    window = short_window(4.0)
    sb = make_sandbox(invoices=50, focus_rate_limit=10)
    hook = connect(sb, rate_limit_per_minute=200, rate_window=window)  # the connection overstates the budget
    for _ in range(25):
        hook.departments()
    assert sb.focus.rate_limited == 0  # X-RateLimit-Remaining 0 paused it until X-RateLimit-Reset


def test_recovers_from_a_429(make_sandbox, connect, short_window):
    window = short_window(4.0)
    sb = make_sandbox(invoices=50, focus_rate_limit=100)
    hook = connect(sb, rate_window=window)
    for _ in range(6):
        hook.departments()
    sb.focus.set_rate_limit(per_minute=3)  # someone else used the budget: the window is over-full
    started = time.monotonic()
    assert hook.departments()
    assert sb.focus.rate_limited >= 1
    assert time.monotonic() - started < 2 * window


# -- faults ----------------------------------------------------------------------------------------
def test_5xx_and_dropped_connections_while_paging_lose_nothing(make_sandbox, connect):
    sb = make_sandbox(invoices=450, focus_rate_limit=100_000)
    hook = connect(sb)
    hook.departments()
    sb.focus.faults.inject("500", count=1, path_contains="invoices.list")
    sb.focus.faults.inject("503", count=1, path_contains="invoices.list")
    sb.focus.faults.inject("drop", count=1, path_contains="invoices.list")
    ids = [i["id"] for i in hook.list_invoices()]
    assert len(ids) == len(set(ids)) == 450
    assert hook.stats["requests"]["invoices.list"] == 6 + 3  # 5 pages, the empty one that ends the list, 3 faults


def test_a_slow_answer_times_out_and_is_read_again(make_sandbox, connect):
    sb = make_sandbox(invoices=50, focus_rate_limit=100_000)
    hook = connect(sb, timeout=1)
    hook.departments()
    sb.focus.faults.inject("slow", count=1, path_contains="departments.list", seconds=3)
    assert hook.departments()
    assert hook.stats["requests"]["departments.list"] == 3


def test_a_read_that_keeps_failing_raises_focus_unavailable(make_sandbox, connect):
    sb = make_sandbox(invoices=50, focus_rate_limit=100_000)
    hook = connect(sb, read_attempts=2)
    hook.departments()
    sb.focus.faults.inject("503", count=2, path_contains="departments.list")
    with pytest.raises(FocusUnavailable) as err:
        hook.departments()
    assert err.value.status == 503


# -- payments --------------------------------------------------------------------------------------
def _unpaid_invoice(sb) -> dict:
    return next(i for i in sb.data.invoices if i["status"] == "outstanding" and not i["payments"])


@pytest.mark.parametrize("kind", ["drop", "500", "slow"])
def test_a_payment_is_never_registered_twice_when_the_answer_is_lost(make_sandbox, connect, kind):
    sb = make_sandbox(invoices=50, focus_rate_limit=100_000)
    hook = connect(sb, timeout=1)
    invoice = _unpaid_invoice(sb)
    paid_at = datetime(2026, 2, 3, 10, 15, 30, tzinfo=UTC)
    amount = Decimal("12.34")
    sb.focus.faults.inject(kind, count=1, path_contains="registerPayment", after_apply=True, seconds=3)
    hook.register_payment(invoice["id"], amount, invoice["currency"], paid_at)
    payments = sb.focus.payments(invoice["id"])
    # Focus wrote paid_at back as a bare date: the check after the lost answer compared count, sum and due.
    assert [(p["amount"], p["paid_at"], p["via"]) for p in payments] == [(amount, "2026-02-03", "api")]
    assert hook.stats["requests"]["invoices.registerPayment"] == 1

    # A real second instalment of the same amount on the same day is a payment of its own.
    hook.register_payment(invoice["id"], amount, invoice["currency"], paid_at)
    assert [p["amount"] for p in sb.focus.payments(invoice["id"])] == [amount, amount]


def test_a_payment_refused_before_it_applied_is_sent_again(make_sandbox, connect):
    sb = make_sandbox(invoices=50, focus_rate_limit=100_000)
    hook = connect(sb)
    invoice = _unpaid_invoice(sb)
    paid_at = datetime(2026, 2, 3, 10, 15, 30, tzinfo=UTC)
    sb.focus.faults.inject("503", count=1, path_contains="registerPayment")
    hook.register_payment(invoice["id"], Decimal("1.00"), invoice["currency"], paid_at)
    assert len(sb.focus.payments(invoice["id"])) == 1
    assert hook.stats["requests"]["invoices.registerPayment"] == 2
    info = hook.invoice_info(invoice["id"])
    assert info["payments"][0]["payment"]["amount"] == Decimal("1.00")


def test_full_payment_marks_the_invoice_matched(make_sandbox, connect):
    sb = make_sandbox(invoices=50, focus_rate_limit=100_000)
    hook = connect(sb)
    invoice = _unpaid_invoice(sb)
    due = hook.invoice_info(invoice["id"])["total"]["due"]["amount"]
    hook.register_payment(invoice["id"], due, invoice["currency"], datetime(2026, 2, 3, tzinfo=UTC))
    info = hook.invoice_info(invoice["id"])
    assert info["status"] == "matched" and info["paid"] is True


def test_a_connection_tested_under_another_id_shares_the_dags_token_chain(sandbox, monkeypatch, tmp_path):
    """The UI tests a connection under a temporary id: it must use (and rotate) the same stored chain as the
    DAG's connection, never spend the seed refresh token a second time."""
    value = connection(sandbox)
    monkeypatch.setenv(CONN_ENV, value)
    monkeypatch.setenv("AIRFLOW_CONN_UI_TEST_TEMPORARY_ID", value)
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    before = sandbox.focus.tokens.grants["refresh_token"]

    ok, message = TeamleaderFocusHook(teamleader_focus_conn_id="ui_test_temporary_id", state=store).test_connection()
    assert ok, message
    dag_hook = TeamleaderFocusHook(state=store)
    assert dag_hook.departments()
    assert sandbox.focus.tokens.grants["refresh_token"] == before + 1  # one refresh, shared


def test_the_next_tasks_hook_starts_from_the_rate_window_the_last_one_used(make_sandbox, connect, short_window):
    """Tasks run in separate processes, one after the other: a new hook must count what the previous one sent
    in the window, or it runs straight into a 429 after a busy stage."""
    window = short_window(4.0)
    sb = make_sandbox(invoices=50, focus_rate_limit=10)
    busy = connect(sb, rate_limit_per_minute=10, rate_window=window)
    for _ in range(10):
        busy.departments()
    busy.save_rate_window()  # as at the end of every stage: gives back unused claims (each request was recorded)

    following = TeamleaderFocusHook(state=busy.state, rate_window=window)
    started = time.monotonic()
    for _ in range(5):
        following.departments()
    assert sb.focus.rate_limited == 0
    assert time.monotonic() - started >= window / 2  # it waited for the window instead of being refused
