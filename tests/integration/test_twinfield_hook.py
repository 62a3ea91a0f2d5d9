"""TwinfieldHook against the running sandbox (tests/conftest.py's session ``sandbox`` on 127.0.0.1): auth,
reads, drafts, the bookkeeper's matching seen through browse and read, rejections, and the hook's conduct
under the sandbox's injected faults and fair-use limits.

The sandbox is shared with other tests: every test uses invoice numbers and names of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from sandbox import chart
from twinfield.domain.twinfield_model import Address, Customer, DebitCredit, SalesTransaction, TransactionLine
from twinfield.errors import TwinfieldAuthError
from twinfield.hooks.limiter import Clock
from twinfield.hooks.twinfield import TwinfieldHook

pytestmark = pytest.mark.integration
D, C = DebitCredit.DEBIT, DebitCredit.CREDIT
OFFICE, DAYBOOK = chart.DEFAULT_OFFICE, chart.SALES_DAYBOOK


@pytest.fixture
def twinfield(sandbox):
    """The sandbox's Twinfield, with faults and limits put back after each test."""
    yield sandbox.twinfield
    sandbox.twinfield.faults.clear()
    sandbox.twinfield.limits.configure(credits_per_minute=100_000, max_concurrent=10)
    sandbox.twinfield.limits.reset()


@pytest.fixture
def make_hook(sandbox, monkeypatch):
    def make(conn_id: str = "twinfield_it", sleep=None, **extra) -> TwinfieldHook:
        conn = json.loads(sandbox.connections()["AIRFLOW_CONN_TWINFIELD_DEFAULT"])
        conn["extra"].update(extra)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        if sleep is None:
            return TwinfieldHook(conn_id)
        clock = Clock()
        clock.sleep = sleep  # waits and backoffs, without waiting
        return TwinfieldHook(conn_id, clock=clock)

    return make


@pytest.fixture
def hook(make_hook, twinfield):
    return make_hook()


@pytest.fixture
def tag():
    return uuid.uuid4().hex[:6].upper()


@pytest.fixture(scope="module")
def customer_code(sandbox):
    return sandbox.twinfield.customers(OFFICE)[0]["code"]


def invoice(number: str, customer: str, net: str = "100.00", vat: str = "21.00", *, credit_note: bool = False,
            account: str = "8000", vatcode: str = "VH", twinfield_number: str | None = None,
            details: int = 1) -> SalesTransaction:
    """As the mapping builds it: no period, no debtors account (the customer's own), every line described."""
    total, detail = (C, D) if credit_note else (D, C)
    net_value, vat_value = Decimal(net), Decimal(vat)
    lines = [TransactionLine("detail", account, net_value / details, detail, vatcode=vatcode,
                             vat_value=vat_value / details, description="Consultancy") for _ in range(details)]
    return SalesTransaction(
        office=OFFICE, daybook=DAYBOOK, currency="EUR", date=dt.date(2024, 3, 5),
        invoice_number=number, due_date=dt.date(2024, 4, 4), number=twinfield_number,
        lines=(TransactionLine("total", "", net_value + vat_value, total, dim2=customer, description=number), *lines),
    )


def stored(twinfield, invoice_number: str) -> list[dict]:
    return [t for t in twinfield.transactions(OFFICE) if t["invoicenumber"] == invoice_number]


# -- auth and reads ----------------------------------------------------------------------------------------------------
def test_connection_offices_and_reference_data(hook, twinfield):
    ok, message = hook.test_connection()
    assert ok, message
    assert {o.code: o.name for o in hook.reference.offices()} == chart.OFFICES
    accounts = {(a.code, a.dimtype) for a in hook.reference.ledger_accounts()}
    assert accounts == {(code, dimtype) for code, _, dimtype in chart.LEDGER_ACCOUNTS}
    vat = {v.code: (v.type, v.percentage) for v in hook.reference.vat_codes()}
    assert vat == {code: (kind, pct) for code, _, kind, pct, _ in chart.VAT_CODES}
    assert hook.reference.currencies() == sorted(chart.OFFICE_CURRENCIES[OFFICE]) == ["EUR", "GBP", "USD"]
    assert hook.reference.currencies("NLA002") == ["EUR"]


def test_list_customers_with_vat_numbers(hook, twinfield):
    expected = {c["code"]: c for c in twinfield.customers(OFFICE) if c["status"] != "hide"}
    customers = hook.customers.list()
    assert {c.code for c in customers} == set(expected)  # hidden (archived) customers left out
    for customer in customers:
        assert customer.name == expected[customer.code]["name"]
        assert customer.vat_number == (expected[customer.code]["vatnumber"]
                                       or next((a.get("field4", "") for a in expected[customer.code]["addresses"]), ""))
    assert any(c.vat_number for c in customers)
    pages = -(-len(customers) // 25)
    assert hook.stats["requests"]["read"] == pages + len(customers)


def test_expired_token_is_renewed_and_the_call_resent(hook, twinfield):
    hook.reference.offices()
    twinfield.expire_tokens()
    assert hook.reference.offices()
    assert hook.stats["logons"] == 2


def test_session_logon_and_relogon_after_another_logon_ends_it(make_hook, twinfield, tag, monkeypatch):
    from twinfield.hooks.twinfield import auth

    user = f"API-{tag}"
    twinfield.add_user(user, "pw-" + tag)
    first = make_hook("twinfield_s1", auth_mode="session", organisation=twinfield.organisation)
    first.connection.login, first.connection.password = user, "pw-" + tag
    assert first.reference.offices()
    monkeypatch.setattr(auth, "_SESSIONS", {})  # the second hook as if in another process: its own session
    second = make_hook("twinfield_s2", auth_mode="session", organisation=twinfield.organisation)
    second.connection.login, second.connection.password = user, "pw-" + tag
    assert second.reference.offices()  # this logon ends the first hook's session
    assert first.reference.ledger_accounts()  # the Finder, with the SessionID header, after logging on again
    assert first.stats["logons"] == 2


def test_session_logon_refused_with_its_logon_result(make_hook, twinfield, tag):
    user = f"BLOCKED-{tag}"
    twinfield.add_user(user, "pw-" + tag, status="Blocked")
    hook = make_hook("twinfield_blocked", auth_mode="session", organisation=twinfield.organisation)
    hook.connection.login, hook.connection.password = user, "pw-" + tag
    with pytest.raises(TwinfieldAuthError) as raised:
        hook.reference.offices()
    assert raised.value.result == "Blocked" and "pw-" + tag not in str(raised.value)
    assert hook.test_connection()[0] is False


def test_refresh_token_refused(make_hook, twinfield):
    hook = make_hook("twinfield_bad", refresh_token="not-a-token")
    with pytest.raises(TwinfieldAuthError) as raised:
        hook.reference.offices()
    assert raised.value.result == "invalid_grant" and "not-a-token" not in str(raised.value)


# -- drafts -------------------------------------------------------------------------------------------------------------
def test_post_invoices_and_credit_notes_as_drafts_in_batches_of_25(hook, twinfield, tag, customer_code):
    documents = [invoice(f"IT{tag}-{i:03d}", customer_code, credit_note=(i % 10 == 9)) for i in range(30)]
    results = hook.transactions.post(documents)
    assert [(r.index, r.ok, r.location) for r in results] == [(i, True, "temporary") for i in range(30)]
    assert hook.stats["requests"]["write"] == 2
    note = stored(twinfield, f"IT{tag}-009")[0]
    assert (note["status"], note["value"], note["number"]) == ("temporary", "-121.00", results[9].number)
    assert [(ln["type"], ln["debitcredit"]) for ln in note["lines"] if ln["type"] != "vat"] == [
        ("total", "credit"), ("detail", "debit")]
    assert [ln["vatvalue"] for ln in note["lines"] if ln["type"] == "detail"] == ["21.00"]


def test_a_usd_invoice_is_booked_and_read_back_in_usd(hook, twinfield, tag, customer_code):
    sent = replace(invoice(f"IT{tag}-USD", customer_code, net="1000.01", vat="210.00"), currency="USD")
    [result] = hook.transactions.post([sent])
    assert result.ok, result.messages
    read = hook.transactions.read(OFFICE, DAYBOOK, result.number)
    assert read.transaction.currency == "USD" and read.open_value == Decimal("1210.01")
    assert [(ln.type, ln.value) for ln in read.transaction.lines] == [
        ("total", Decimal("1210.01")), ("detail", Decimal("1000.01")), ("vat", Decimal("210.00"))]
    [status] = hook.matching.statuses(OFFICE, DAYBOOK, [f"IT{tag}-USD"])
    assert (status.currency, status.value) == ("USD", Decimal("1210.01"))
    [booked] = stored(twinfield, f"IT{tag}-USD")  # in euro at the sandbox's 2024 rate, 1 EUR = 1.0850 USD
    assert Decimal(booked["basevalue"]) == (Decimal("1210.01") / Decimal("1.0850")).quantize(Decimal("0.01"))

    [refused] = hook.transactions.post([replace(sent, invoice_number=f"IT{tag}-JPY", currency="JPY")])
    assert not refused.ok and [m.element for m in refused.messages if m.type == "error"] == ["currency"]


def test_rejections_are_returned_per_document_with_where(hook, twinfield, tag, customer_code):
    unbalanced = invoice(f"IT{tag}-UNB", customer_code)
    unbalanced = SalesTransaction(**{**unbalanced.__dict__, "lines": (
        unbalanced.lines[0], TransactionLine("detail", "8000", Decimal("50.00"), C, vatcode="VH",
                                             description="Half"))})
    undescribed = invoice(f"IT{tag}-DSC", customer_code)
    undescribed = replace(undescribed, lines=(undescribed.lines[0], replace(undescribed.lines[1], description="")))
    documents = [
        invoice(f"IT{tag}-OK", customer_code),
        invoice(f"IT{tag}-ACC", customer_code, account="8999"),
        invoice(f"IT{tag}-VAT", customer_code, vatcode="XX"),
        invoice(f"IT{tag}-CUS", "NO-SUCH-CUSTOMER"),
        unbalanced,
        undescribed,
    ]
    ok, account, vatcode, customer, balance, description = hook.transactions.post(documents)
    # NLA001's VRK makes descriptions mandatory, as a daybook can
    assert [(m.element, m.line_id) for m in description.messages] == [("line", "2")]
    assert ok.ok and not any(r.ok for r in (account, vatcode, customer, balance))
    assert [(m.element, m.line_id) for m in account.messages if m.type == "error"] == [("dim1", "2")]
    assert [(m.element, m.line_id) for m in vatcode.messages if m.type == "error"] == [("vatcode", "2")]
    assert [(m.element, m.line_id) for m in customer.messages if m.type == "error"] == [("dim2", "1")]
    assert balance.error_messages and all(m.element == "transaction" for m in balance.messages if m.type == "error")
    assert stored(twinfield, f"IT{tag}-ACC") == []


def test_a_draft_is_updated_by_its_number_and_never_doubled_by_its_invoice_number(hook, twinfield, tag,
                                                                                   customer_code):
    [first] = hook.transactions.post([invoice(f"IT{tag}-UPD", customer_code)])
    assert first.ok and first.period == "2024/03"  # as Twinfield booked it (NLA001: four-week periods)
    # The same invoice number again without the number: a second transaction, which Twinfield refuses.
    [again] = hook.transactions.post([invoice(f"IT{tag}-UPD", customer_code, net="200.00", vat="42.00")])
    assert not again.ok and again.double_invoice_number
    assert [d["value"] for d in stored(twinfield, f"IT{tag}-UPD")] == ["121.00"]
    # With the draft's number: that draft, updated in place.
    [second] = hook.transactions.post([invoice(f"IT{tag}-UPD", customer_code, net="200.00", vat="42.00",
                                                     twinfield_number=first.number)])
    assert second.ok and second.number == first.number
    [draft] = stored(twinfield, f"IT{tag}-UPD")
    assert draft["value"] == "242.00"
    # A final transaction is not rewritten, not even by its number.
    twinfield.finalize(OFFICE, DAYBOOK, first.number)
    [refused] = hook.transactions.post([invoice(f"IT{tag}-UPD", customer_code, twinfield_number=first.number)])
    assert not refused.ok and not refused.double_invoice_number
    assert [(d["status"], d["value"]) for d in stored(twinfield, f"IT{tag}-UPD")] == [("final", "242.00")]


def test_the_total_line_books_on_the_customers_collective_account(hook, twinfield, tag):
    foreign = next(c for c in twinfield.customers(OFFICE) if c["collective_account"] == chart.FOREIGN_DEBTORS_ACCOUNT)
    home = next(c for c in twinfield.customers(OFFICE) if c["collective_account"] == chart.DEBTORS_ACCOUNT)
    results = hook.transactions.post([invoice(f"IT{tag}-COL1", foreign["code"]),
                                            invoice(f"IT{tag}-COL2", home["code"])])
    assert all(r.ok for r in results)
    totals = [next(ln["dim1"] for ln in stored(twinfield, f"IT{tag}-COL{i}")[0]["lines"] if ln["type"] == "total")
              for i in (1, 2)]
    assert totals == ["1310", "1300"]
    [status] = hook.matching.statuses(OFFICE, DAYBOOK, [f"IT{tag}-COL1"])  # matched on it like any debtors line
    assert status.customer_code == foreign["code"]


def test_a_transaction_of_more_than_1000_lines_is_refused_alone(hook, twinfield, tag, customer_code):
    documents = [invoice(f"IT{tag}-BIG0", customer_code),
                 invoice(f"IT{tag}-BIG1", customer_code, net="1000.00", vat="210.00", details=1000),
                 invoice(f"IT{tag}-BIG2", customer_code)]
    writes = hook.stats["requests"]["write"]
    before, big, after = hook.transactions.post(documents)
    assert before.ok and after.ok and not big.ok
    assert "HTTP 400" in big.error_messages[0]
    assert stored(twinfield, f"IT{tag}-BIG1") == [] and len(stored(twinfield, f"IT{tag}-BIG2")) == 1
    assert hook.stats["requests"]["write"] - writes == 5  # the batch of 3, then halves: 1 | 2 -> 1 | 1

def test_match_status_read_and_browse_follow_the_bookkeeper(hook, twinfield, tag, customer_code):
    numbers = [f"IT{tag}-M{i}" for i in range(3)]
    posted = hook.transactions.post([invoice(n, customer_code) for n in numbers])
    draft, partly, fully = (r.number for r in posted)
    for number in (partly, fully):
        twinfield.finalize(OFFICE, DAYBOOK, number)
    twinfield.match(OFFICE, DAYBOOK, partly, amount="21.00")
    twinfield.match(OFFICE, DAYBOOK, fully, date="2024-04-01")

    statuses = {s.invoice_number: s for s in hook.matching.statuses(invoice_numbers=numbers + [f"IT{tag}-NONE"])}
    assert set(statuses) == set(numbers)
    assert (statuses[numbers[0]].status, statuses[numbers[0]].match_status) == ("temporary", "available")
    assert (statuses[numbers[1]].status, statuses[numbers[1]].paid_amount) == ("final", Decimal("21.00"))
    assert statuses[numbers[1]].match_status == "available"
    assert (statuses[numbers[2]].match_status, statuses[numbers[2]].match_date) == ("matched", dt.date(2024, 4, 1))
    assert statuses[numbers[2]].open_value == 0

    read = hook.transactions.read(OFFICE, DAYBOOK, fully)
    assert (read.location, read.match_status, read.open_value, read.match_date) == (
        "final", "matched", Decimal("0.00"), dt.date(2024, 4, 1))
    assert read.transaction.invoice_number == numbers[2]
    assert hook.transactions.read(OFFICE, DAYBOOK, "999999999") is None

    period = posted[0].period  # Twinfield's own period, from its reply
    in_period = hook.matching.statuses(from_period=period, to_period=period)
    assert set(numbers) <= {s.invoice_number for s in in_period}
    assert {s.period for s in in_period} == {period}


def test_delete_draft_but_not_a_final_transaction(hook, twinfield, tag, customer_code):
    draft, final = hook.transactions.post([invoice(f"IT{tag}-D1", customer_code),
                                                 invoice(f"IT{tag}-D2", customer_code)])
    twinfield.finalize(OFFICE, DAYBOOK, final.number)
    deleted = hook.transactions.delete_draft(OFFICE, DAYBOOK, draft.number, "Focus invoice deleted")
    assert deleted.ok and stored(twinfield, f"IT{tag}-D1") == []
    refused = hook.transactions.delete_draft(OFFICE, DAYBOOK, final.number, "try")
    assert not refused.ok and refused.error_messages
    assert stored(twinfield, f"IT{tag}-D2")[0]["status"] == "final"


def test_create_customers_gets_codes_from_twinfield_within_the_mask(hook, twinfield, tag):
    hidden = [c for c in twinfield.customers(OFFICE) if c["status"] == "hide"]
    results = hook.customers.create([
        Customer(None, f"Nieuw {tag} & Co", vat_number="NL123456789B01", due_days=14,
                 address=Address(name=f"Nieuw {tag}", city="Delft", country="NL"), iban="NL91ABNA0417164300"),
        Customer(None, f"Export {tag}", office="NLA002"),
    ])
    assert all(r.ok and r.number == r.key for r in results)
    assert re.fullmatch(r"1\d{3,5}", results[0].number) and re.fullmatch(r"\d{4}", results[1].number)
    created = hook.customers.read(results[0].number)
    assert (created.name, created.vat_number, created.due_days) == (f"Nieuw {tag} & Co", "NL123456789B01", 14)
    assert [c for c in twinfield.customers(OFFICE) if c["status"] == "hide"] == hidden  # untouched
    rejected = hook.customers.create([Customer(None, ""), Customer(None, f"Fout {tag}", vat_number="NL123")])
    assert [m.element for m in rejected[0].messages] == ["name"]
    assert not rejected[1].ok and "vatnumber" in [m.element for m in rejected[1].messages]


def test_a_created_customer_has_one_address_and_one_bank(hook, twinfield, tag):
    [result] = hook.customers.create([Customer(None, f"Eén Adres {tag}", vat_number="BE0477472701",
                                               address=Address(city="Gent", country="BE"), iban="BE68539007547034")])
    [stored] = [c for c in twinfield.customers(OFFICE) if c["code"] == result.number]
    assert len(stored["addresses"]) == 1 and len(stored["banks"]) == 1


# -- faults and limits ---------------------------------------------------------------------------------------------------
def test_reads_ride_out_500_503_drops_and_slow_answers(make_hook, twinfield):
    hook = make_hook(timeout=1, sleep=lambda s: None)
    hook.reference.offices()
    for kind in ("500", "503", "drop"):
        twinfield.faults.inject(kind, path_contains="processxml")
    twinfield.faults.inject("slow", path_contains="processxml", seconds=2)
    assert hook.reference.offices()
    assert hook.stats["retries"] == 4


@pytest.mark.parametrize("kind", ["500", "drop", "slow"])
def test_transactions_applied_before_the_fault_are_not_sent_twice(make_hook, twinfield, tag, customer_code, kind):
    hook = make_hook(timeout=1, sleep=lambda s: None)
    hook.reference.offices()
    twinfield.faults.inject(kind, path_contains="processxml", after_apply=True, seconds=2)
    numbers = [f"IT{tag}-F{i}" for i in range(3)]
    results = hook.transactions.post([invoice(n, customer_code) for n in numbers])
    assert all(r.ok and r.number for r in results)
    assert [r.number for r in results] == [stored(twinfield, n)[0]["number"] for n in numbers]
    assert hook.stats["requests"]["write"] == 1  # checked with a browse, not resent


def test_transactions_lost_before_applying_are_sent_again(make_hook, twinfield, tag, customer_code):
    hook = make_hook(timeout=1, sleep=lambda s: None)
    hook.reference.offices()
    twinfield.faults.inject("slow", path_contains="processxml", seconds=2)  # times out before applying
    [result] = hook.transactions.post([invoice(f"IT{tag}-L", customer_code)])
    assert result.ok and len(stored(twinfield, f"IT{tag}-L")) == 1
    assert hook.stats["requests"]["write"] == 2


def test_new_customer_applied_before_a_drop_is_not_created_twice(make_hook, twinfield, tag):
    hook = make_hook(sleep=lambda s: None)
    hook.reference.offices()
    twinfield.faults.inject("drop", path_contains="processxml", after_apply=True)
    [result] = hook.customers.create([Customer(None, f"Eenmalig {tag}", vat_number="BE0477472701")])
    assert result.ok
    same_name = [c for c in twinfield.customers(OFFICE) if c["name"] == f"Eenmalig {tag}"]
    assert [c["code"] for c in same_name] == [result.number]
    assert hook.stats["requests"]["write"] == 1


def test_429_for_too_many_concurrent_requests_is_waited_out(make_hook, twinfield):
    hook = make_hook(max_concurrent=4)
    hook.reference.offices()
    twinfield.limits.configure(max_concurrent=1)
    twinfield.faults.inject("slow", path_contains="processxml", seconds=0.5)
    errors = []

    def read():
        try:
            hook.reference.offices()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and hook.stats["rate_limited"] >= 1


def test_the_hook_holds_back_before_the_credit_budget_is_spent(make_hook, twinfield, tag, customer_code):
    twinfield.limits.configure(credits_per_minute=10)
    twinfield.limits.reset()
    waits = []

    class Held(Exception):
        pass

    def sleep(seconds):
        waits.append(seconds)
        raise Held()

    hook = make_hook(credits_per_minute=11, sleep=sleep)  # the logon's token validation (a GET) counts 1 here
    hook.transactions.post([invoice(f"IT{tag}-B{i}", customer_code) for i in range(1)])  # 3 credits
    for _ in range(7):
        hook.reference.offices()  # 10 credits in this minute at Twinfield
    with pytest.raises(Held):
        hook.reference.offices()
    assert hook.stats["rate_limited"] == 0 and 50 < waits[0] <= 60


def test_an_access_token_is_used_by_every_task_until_it_expires(make_hook, twinfield, tmp_path, monkeypatch):
    """Hooks of later tasks (other processes: nothing shared but the state store) use the stored access token;
    it rests encrypted, and a new one is asked for once it expired or Twinfield refused it."""
    from cryptography.fernet import Fernet
    from sqlalchemy import text

    from twinfield.state import StateStore

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.ensure_schema()
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())

    def hook():
        made = make_hook("twinfield_shared")
        made.client.state = store
        return made

    first = hook()
    assert first.reference.offices() and first.stats["logons"] == 1
    with store.begin() as conn:
        [stored] = conn.execute(text("SELECT access_token FROM twinfield_access_tokens")).scalars().all()
    assert stored.startswith("fernet:")
    second = hook()
    assert second.reference.offices() and second.stats["logons"] == 0  # the first task's token

    twinfield.expire_tokens()  # refused: the task asks for a new one and stores it for the next
    third = hook()
    assert third.reference.offices() and third.stats["logons"] == 1
    fourth = hook()
    assert fourth.reference.offices() and fourth.stats["logons"] == 0

    with store.begin() as conn:  # the stored token's lifetime is over
        conn.execute(text("UPDATE twinfield_access_tokens SET expires_at = '2020-01-01T00:00:00+00:00'"))
    fifth = hook()
    assert fifth.reference.offices() and fifth.stats["logons"] == 1
