"""TeamleaderFocusHook with HTTP faked at the transport (a requests adapter mounted on the hook's session)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from twinfield.errors import FocusApiError, FocusAuthError, FocusRateLimited, FocusUnavailable
from twinfield.hooks.focus import TeamleaderFocusHook
from twinfield.hooks.limiter import Clock, SlidingWindowLimiter
from twinfield.state import StateStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
API = "https://api.focus.test"
TOKEN_URL = "https://auth.focus.test/oauth2/access_token"
CLIENT_SECRET = "client-secret-5up3r"
SEED = "seed-refresh-token-0000"


class FakeClock(Clock):
    """Time that moves only when someone sleeps."""

    def __init__(self):
        self.t = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += seconds


Handler = Callable[[dict, requests.PreparedRequest], Any]


@dataclass
class Sent:
    endpoint: str
    body: dict
    headers: dict
    raw: str
    at: float  # the fake clock's time


class FakeFocus(BaseAdapter):
    """Teamleader Focus at the transport: single-use refresh tokens, Bearer checks, scripted answers.

    A handler returns a body (200 JSON), a ``(status, body[, headers])`` tuple, or raises a requests exception.
    ``script(endpoint, *answers)`` makes the next calls of an endpoint answer those first.
    """

    def __init__(self, clock: FakeClock):
        super().__init__()
        self.clock = clock
        self.requests: list[Sent] = []
        self.handlers: dict[str, Handler] = {}
        self.scripted: dict[str, list] = {}
        self.valid_refresh = {SEED}
        self.valid_access: set[str] = set()
        self.issued = 0
        self.token_delay = 0.0
        self._lock = threading.Lock()

    def script(self, endpoint: str, *answers) -> None:
        self.scripted.setdefault(endpoint, []).extend(answers)

    def calls(self, endpoint: str) -> list[dict]:
        return [sent.body for sent in self.requests if sent.endpoint == endpoint]

    def send(self, request, **kwargs):
        endpoint = request.url.split(".test/", 1)[1]
        if endpoint == "oauth2/access_token":
            body = dict(pair.split("=", 1) for pair in request.body.split("&"))
        else:
            body = json.loads(request.body) if request.body else {}
        with self._lock:
            self.requests.append(Sent(endpoint, body, dict(request.headers), request.body or "", self.clock.t))
            scripted = self.scripted.get(endpoint)
            answer = scripted.pop(0) if scripted else None
        if answer is None:
            answer = self._token(body) if endpoint == "oauth2/access_token" else self._api(endpoint, body, request)
        elif callable(answer):
            answer = answer(body, request)
        return self._response(request, answer)

    def close(self):
        pass

    def _token(self, form: dict):
        time.sleep(self.token_delay)
        with self._lock:
            if form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client"}
            if form.get("refresh_token") not in self.valid_refresh:
                return 400, {"error": "invalid_grant", "error_description": "The refresh token is invalid."}
            self.valid_refresh.discard(form["refresh_token"])
            self.issued += 1
            access, refresh = f"access-{self.issued:04d}-xyz", f"refresh-{self.issued:04d}-xyz"
            self.valid_access.add(access)
            self.valid_refresh.add(refresh)
        return {"token_type": "Bearer", "expires_in": 3600, "access_token": access, "refresh_token": refresh}

    def _api(self, endpoint: str, body: dict, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_access:
            return 401, {"errors": [{"title": "Invalid access token", "status": 401}]}
        handler = self.handlers.get(endpoint)
        if handler is None:
            return 404, {"errors": [{"title": f"Unknown endpoint {endpoint}", "status": 404}]}
        return handler(body, request)

    @staticmethod
    def _response(request, answer) -> requests.Response:
        status, payload, headers = 200, answer, {}
        if isinstance(answer, tuple):
            status, payload, *rest = answer
            headers = rest[0] if rest else {}
        response = requests.Response()
        response.status_code = status
        response.reason = {200: "OK", 204: "No Content", 401: "Unauthorized", 429: "Too Many Requests"}.get(
            status, "Error"
        )
        response._content = b"" if payload is None else json.dumps(payload).encode()
        response.headers.update({"Content-Type": "application/json", **headers})
        response.url = request.url
        response.request = request
        return response


@pytest.fixture
def conn_env(monkeypatch):
    def set_conn(**extra):
        conn = {
            "conn_type": "teamleader_focus",
            "host": API,
            "login": "client-id",
            "password": CLIENT_SECRET,
            "extra": {"refresh_token": SEED, "token_url": TOKEN_URL, **extra},
        }
        monkeypatch.setenv("AIRFLOW_CONN_TEAMLEADER_FOCUS_DEFAULT", json.dumps(conn))

    set_conn()
    return set_conn


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    s.ensure_schema()
    return s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock) -> FakeFocus:
    f = FakeFocus(clock)
    f.handlers["departments.list"] = lambda body, req: {"data": [{"id": "d1", "name": "Acme"}]}
    return f


@pytest.fixture
def hook(conn_env, store, clock, fake) -> TeamleaderFocusHook:
    return TeamleaderFocusHook(state=store, clock=clock, adapter=fake)


def invoices(n: int) -> list[dict]:
    return [{"id": f"inv-{i:05d}", "invoice_number": f"2026 / {i}"} for i in range(1, n + 1)]


def paged(items: list[dict]) -> Handler:
    def handler(body, request):
        size, number = body["page"]["size"], body["page"]["number"]
        return {"data": items[(number - 1) * size : number * size]}

    return handler


# -- filters ---------------------------------------------------------------------------------------
def test_unknown_invoice_filter_key_is_refused_before_any_request(hook, fake):
    with pytest.raises(ValueError, match="'updated_sinse'"):
        hook.list_invoices(updated_sinse="2026-01-01T00:00:00+00:00")
    assert fake.requests == []


def test_credit_notes_have_no_status_filter(hook):
    with pytest.raises(ValueError, match="'status'"):
        hook.list_credit_notes(status=["booked"])


def test_invoice_status_must_be_a_known_status(hook):
    with pytest.raises(ValueError, match="'paid'"):
        hook.list_invoices(status=["outstanding", "paid"])


def test_customer_filter_shape_is_checked(hook):
    with pytest.raises(ValueError, match="customer"):
        hook.list_invoices(customer={"id": "c1"})


def test_naive_datetime_filter_is_refused(hook):
    with pytest.raises(ValueError, match="time zone"):
        hook.list_invoices(updated_since=datetime(2026, 1, 1))


def test_filters_are_sent_as_the_api_expects(hook, fake):
    fake.handlers["invoices.list"] = paged(invoices(3))
    list(
        hook.list_invoices(
            status="outstanding",
            updated_since=datetime(2026, 1, 1, 8, 30, tzinfo=UTC),
            invoice_date_after=datetime(2026, 1, 1, tzinfo=UTC).date(),
            department_id="d1",
        )
    )
    body, _ = fake.calls("invoices.list")  # the page, and the empty one that ends the list
    assert body == {
        "filter": {
            "status": ["outstanding"],
            "updated_since": "2026-01-01T08:30:00+00:00",
            "invoice_date_after": "2026-01-01",
            "department_id": "d1",
        },
        "sort": [{"field": "invoice_number", "order": "asc"}],
        "page": {"size": 100, "number": 1},
    }


# -- paging ----------------------------------------------------------------------------------------
def test_paging_goes_on_until_an_empty_page(hook, fake):
    fake.handlers["invoices.list"] = paged(invoices(250))
    got = list(hook.list_invoices())
    assert [i["id"] for i in got] == [i["id"] for i in invoices(250)]
    assert [b["page"]["number"] for b in fake.calls("invoices.list")] == [1, 2, 3, 4]


def test_a_server_with_smaller_pages_than_asked_loses_nothing(hook, fake):
    """No maximum page size is documented for invoices.list: a server that serves 30 per page whatever is
    asked gives short pages long before the end."""
    everything = invoices(95)

    def thirty_per_page(body, request):
        number = body["page"]["number"]
        return {"data": everything[(number - 1) * 30 : number * 30]}

    fake.handlers["invoices.list"] = thirty_per_page
    assert [i["id"] for i in hook.list_invoices()] == [i["id"] for i in everything]
    assert len(fake.calls("invoices.list")) == 5


def test_a_full_last_page_costs_one_empty_page(hook, fake):
    fake.handlers["invoices.list"] = paged(invoices(200))
    assert len(list(hook.list_invoices(invoice_date_before="2026-02-01"))) == 200
    assert len(fake.calls("invoices.list")) == 3
    assert fake.calls("invoices.list")[0]["filter"] == {"invoice_date_before": "2026-02-01"}


def test_credit_notes_are_read_in_date_ranges_that_fit_in_a_page(hook, fake):
    """creditNotes.list has no sort: a range whose second page is not empty is split at its middle date."""
    notes = [{"id": f"cn{i}", "credit_note_date": f"2026-01-{1 + i % 20:02d}"} for i in range(250)]

    def by_date(body, request):
        f = body["filter"]
        found = [n for n in notes if f.get("credit_note_date_after", "") <= n["credit_note_date"]
                 and n["credit_note_date"] < f.get("credit_note_date_before", "9999")]
        number = body["page"]["number"]
        return {"data": found[::-1][(number - 1) * 100 : number * 100]}  # any order

    fake.handlers["creditNotes.list"] = by_date
    got = [n["id"] for n in hook.list_credit_notes(credit_note_date_before="2026-01-18")]
    assert sorted(got) == sorted(n["id"] for n in notes if n["credit_note_date"] < "2026-01-18")
    calls = fake.calls("creditNotes.list")
    assert calls[0]["filter"] == {"credit_note_date_before": "2026-01-18"}
    assert len(got) == len(set(got))
    # Every item came from a range answered in one page (its second page empty); the first range was split.
    ranges = {tuple(sorted(c["filter"].items())) for c in calls}
    whole = {r for r in ranges if not by_date({"filter": dict(r), "page": {"number": 2}}, None)["data"]}
    assert len(ranges) > 1 and all(c["page"]["number"] <= 2 for c in calls)
    assert sum(len(by_date({"filter": dict(r), "page": {"number": 1}}, None)["data"]) for r in whole) == len(got)


def test_customers_are_resolved_in_bulk_100_at_a_time(hook, fake):
    def companies(body, request):
        return {"data": [{"id": i, "name": f"Company {i}"} for i in body["filter"]["ids"] if i != "gone"]}

    fake.handlers["companies.list"] = companies
    ids = [f"c{i}" for i in range(230)] + ["c5", "gone"]  # a duplicate and one Focus does not know
    got = hook.companies(ids)
    assert set(got) == {f"c{i}" for i in range(230)}
    sent = [b["filter"]["ids"] for b in fake.calls("companies.list")]
    assert [len(s) for s in sent] == [100, 100, 31]
    assert all(b["page"] == {"size": 100, "number": 1} for b in fake.calls("companies.list"))


def test_lists_and_details_parse_money_as_decimal(hook, fake):
    fake.handlers["invoices.info"] = lambda body, req: {
        "data": {"id": body["id"], "total": {"payable": {"amount": 121.1, "currency": "EUR"}}}
    }
    fake.handlers["taxRates.list"] = paged([{"id": "t1", "rate": 0.21}])
    info = hook.invoice_info("inv-1")
    assert info["total"]["payable"]["amount"] == Decimal("121.1")
    assert hook.tax_rates(department_id="d1")[0]["rate"] == Decimal("0.21")
    assert fake.calls("taxRates.list")[0]["filter"] == {"department_id": "d1"}


def test_credit_note_info_accepts_the_array_shaped_answer(hook, fake):
    fake.handlers["creditNotes.info"] = lambda body, req: {"data": [{"id": body["id"], "status": "booked"}]}
    assert hook.credit_note_info("cn-1") == {"id": "cn-1", "status": "booked"}
    fake.handlers["creditNotes.info"] = lambda body, req: {"data": {"id": body["id"]}}
    assert hook.credit_note_info("cn-2") == {"id": "cn-2"}


# -- errors ----------------------------------------------------------------------------------------
def test_error_titles_become_typed_errors(hook, fake):
    fake.script("invoices.info", (404, {"errors": [{"title": "Invoice not found", "status": 404}]}))
    with pytest.raises(FocusApiError) as err:
        hook.invoice_info("missing")
    assert (err.value.status, err.value.title, err.value.endpoint) == (404, "Invoice not found", "invoices.info")
    assert "Invoice not found" in str(err.value)
    assert len(fake.calls("invoices.info")) == 1  # a 4xx is not retried


def test_5xx_on_a_read_is_retried_with_backoff(hook, fake, clock):
    fake.handlers["departments.list"] = lambda body, req: {"data": []}
    fake.script("departments.list", (500, {"errors": [{"title": "Oops"}]}), (503, None))
    assert hook.departments() == []
    assert len(fake.calls("departments.list")) == 3
    assert clock.sleeps == [1, 2]


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("connection reset"), requests.ReadTimeout("read timed out"),
     requests.exceptions.ChunkedEncodingError("IncompleteRead")],
)  # fmt: skip
def test_timeouts_and_dropped_connections_on_a_read_are_retried(hook, fake, failure):
    def fail(body, request):
        raise failure

    fake.script("departments.list", fail)
    assert hook.departments() == [{"id": "d1", "name": "Acme"}]
    assert len(fake.calls("departments.list")) == 2


def test_a_read_that_keeps_failing_raises_focus_unavailable(hook, fake, clock):
    fake.script("departments.list", *[(502, None)] * 5)
    with pytest.raises(FocusUnavailable) as err:
        hook.departments()
    assert err.value.status == 502
    assert len(fake.calls("departments.list")) == 5
    assert clock.sleeps == [1, 2, 4, 8]


# -- tokens ----------------------------------------------------------------------------------------
def test_refreshes_once_on_401_and_sends_again(hook, fake):
    hook.departments()
    fake.valid_access.clear()  # revoked server-side, though not expired
    assert hook.departments() == [{"id": "d1", "name": "Acme"}]
    assert [b["refresh_token"] for b in fake.calls("oauth2/access_token")] == [SEED, "refresh-0001-xyz"]


def test_a_second_401_is_an_auth_error(hook, fake):
    hook.departments()
    fake.script("departments.list", *[(401, {"errors": [{"title": "Invalid access token"}]})] * 2)
    with pytest.raises(FocusAuthError) as err:
        hook.departments()
    assert err.value.status == 401


def test_refreshes_ahead_of_expiry(hook, fake, clock):
    hook.departments()
    clock.t += 54 * 60  # 6 minutes left
    hook.departments()
    assert len(fake.calls("oauth2/access_token")) == 1
    clock.t += 2 * 60  # 4 minutes left: inside the 5-minute margin
    hook.departments()
    assert len(fake.calls("oauth2/access_token")) == 2
    assert fake.requests[-1].headers["Authorization"] == "Bearer access-0002-xyz"


def test_the_stored_pair_survives_a_new_hook(conn_env, store, clock, fake):
    TeamleaderFocusHook(state=store, clock=clock, adapter=fake).departments()
    TeamleaderFocusHook(state=store, clock=clock, adapter=fake).departments()  # next task, same store
    assert len(fake.calls("oauth2/access_token")) == 1


def test_a_spent_seed_is_an_auth_error_that_says_to_reauthorise(hook, fake):
    fake.valid_refresh.clear()
    with pytest.raises(FocusAuthError, match="re-authorise") as err:
        hook.departments()
    assert err.value.status == 400
    assert fake.calls("departments.list") == []


def test_two_hooks_refreshing_at_once_spend_the_refresh_token_once(conn_env, tmp_path, fake):
    fake.token_delay = 0.3
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    barrier = threading.Barrier(2)
    tokens: list[str] = []

    def task():
        hook = TeamleaderFocusHook(state=StateStore(url), adapter=fake)
        barrier.wait()
        hook.departments()
        tokens.append(hook._token.access_token)

    threads = [threading.Thread(target=task) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(fake.calls("oauth2/access_token")) == 1
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0] in fake.valid_access


# -- secrets ---------------------------------------------------------------------------------------
def test_secrets_never_in_errors_logs_or_headers(conn_env, store, clock, fake, caplog):
    caplog.set_level(logging.DEBUG)
    hook = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)
    errors: list[Exception] = []

    hook.departments()
    access = hook._token.access_token
    # An API error whose title echoes the token, then a persistent 5xx, then a 401 pair.
    fake.script("invoices.info", (400, {"errors": [{"title": f"Bad token {access} for {CLIENT_SECRET}"}]}))
    fake.script("departments.list", *[(500, {"errors": [{"title": f"trace: Bearer {access}"}]})] * 5)
    fake.script("taxRates.list", (401, {}), (401, {"errors": [{"title": "nope"}]}))
    for call in (lambda: hook.invoice_info("x"), hook.departments, hook.tax_rates):
        with pytest.raises(FocusApiError) as err:
            call()
        errors.append(err.value)
    # A refused refresh whose description echoes the refresh token.
    fresh = TeamleaderFocusHook(state=StateStore(f"sqlite:///{store.url.split(':///')[1]}.other"), adapter=fake)
    fake.script("oauth2/access_token", (400, {"error": "invalid_grant", "error_description": f"{SEED} is spent"}))
    with pytest.raises(FocusAuthError) as err:
        fresh.departments()
    errors.append(err.value)
    ok, message = fresh.test_connection()

    secrets = [SEED, CLIENT_SECRET, access, hook._token.refresh_token, *fake.valid_access, *fake.valid_refresh]
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [e.title for e in errors]
    texts += [caplog.text, message, repr(hook._token)]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    assert not ok
    # HttpHook would copy the connection extras (the refresh token!) into the session headers; ours does not.
    for sent in fake.requests:
        assert SEED not in json.dumps(sent.headers)
        assert "Basic" not in sent.headers.get("Authorization", "")


def test_one_session_for_all_calls(hook, fake):
    first = hook.get_conn()
    hook.departments()
    hook.departments()
    assert hook.get_conn() is first


# -- rate limits -----------------------------------------------------------------------------------
def test_limiter_holds_the_request_that_would_exceed_the_window():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, window=60, clock=clock, margin=0.5)
    for _ in range(3):
        assert limiter.acquire() == 0
        clock.t += 10
    # The first request leaves the window at t=60; its slot is reused half a second later (the margin
    # for the server, which counted it on arrival).
    assert limiter.acquire() == pytest.approx(30.5)
    assert clock.t == pytest.approx(60.5)
    assert limiter.acquire() == pytest.approx(10)  # the second one's slot: 10 + 60 + 0.5


def test_limiter_is_thread_safe():
    limiter = SlidingWindowLimiter(5, window=0.2, margin=0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    stamps.sort()
    assert len(stamps) == 30
    # No sliding window of 0.2 s ever holds more than 5 requests (a small tolerance for timer granularity).
    for i, start in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < start + 0.195) <= 5


def test_the_configured_rate_limit_is_kept(conn_env, store, clock, fake):
    conn_env(rate_limit_per_minute=10)
    hook = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)
    for _ in range(25):
        hook.departments()
    times = [sent.at for sent in fake.requests if sent.endpoint == "departments.list"]
    assert all(sum(1 for t in times if start <= t < start + 60) <= 10 for start in times)
    assert times[10] == pytest.approx(61) and times[20] == pytest.approx(122)  # a 1-second margin per window


def test_remaining_zero_pauses_until_the_reset(hook, fake, clock):
    reset = (T0 + timedelta(seconds=42)).isoformat(timespec="milliseconds")
    fake.script("departments.list", (200, {"data": []}, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))
    hook.departments()
    assert clock.t == 0
    hook.departments()
    assert clock.t == pytest.approx(43)  # the reset, plus the limiter's 1-second margin


def test_429_waits_until_the_reset_then_sends_again(hook, fake, clock):
    hook.departments()
    reset = (clock.now() + timedelta(seconds=17.5)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    fake.script("departments.list", (429, {"errors": [{"title": "Too many requests"}]},
                                     {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))  # fmt: skip
    before = clock.t
    assert hook.departments() == [{"id": "d1", "name": "Acme"}]
    assert clock.t - before == pytest.approx(18.5)
    assert hook.stats["requests"]["departments.list"] == 3


def test_429_is_also_resent_for_writes(hook, fake, clock):
    registered: list[dict] = []
    fake.handlers["invoices.info"] = lambda body, req: {"data": {"id": body["id"], "payments": []}}
    fake.handlers["invoices.registerPayment"] = lambda body, req: registered.append(body) or (204, None)
    fake.script("invoices.registerPayment", (429, {}, {"X-RateLimit-Reset": (T0 + timedelta(seconds=5)).isoformat()}))
    hook.register_payment("inv-1", Decimal("10.00"), "EUR", T0)
    assert len(registered) == 1


def test_persistent_429_raises_rate_limited(hook, fake):
    fake.script("departments.list", *[(429, {"errors": [{"title": "Too many requests"}]})] * 5)
    with pytest.raises(FocusRateLimited) as err:
        hook.departments()
    assert err.value.status == 429
    assert len(fake.calls("departments.list")) == 5


# -- payments --------------------------------------------------------------------------------------
class PaymentsFake:
    """invoices.info + invoices.registerPayment over one invoice of 500.00, with faults around the write. Like
    the sandbox, it writes paid_at back as a bare date (how Focus echoes it is not documented)."""

    def __init__(self, fake: FakeFocus):
        self.payments: list[dict] = []
        self.due = Decimal("500.00")
        fake.handlers["invoices.info"] = lambda body, req: {"data": {
            "id": body["id"], "payments": self.payments,
            "total": {"due": {"amount": float(self.due), "currency": "EUR"}}}}
        fake.handlers["invoices.registerPayment"] = self.register

    def register(self, body, request):
        day = datetime.fromisoformat(body["paid_at"]).date().isoformat()
        self.payments.append({"paid_at": day, "payment": body["payment"]})
        self.due -= Decimal(str(body["payment"]["amount"]))
        return 204, None


def test_register_payment_sends_exact_amounts(hook, fake):
    PaymentsFake(fake)
    paid_at = datetime(2026, 2, 3, 10, 15, 30, 123456, tzinfo=UTC)
    assert hook.register_payment("inv-1", Decimal("1234.50"), "EUR", paid_at, payment_method_id="pm1") is None
    (sent,) = [r for r in fake.requests if r.endpoint == "invoices.registerPayment"]
    assert json.loads(sent.raw, parse_float=Decimal) == {
        "id": "inv-1",
        "payment": {"amount": Decimal("1234.50"), "currency": "EUR"},
        "paid_at": "2026-02-03T10:15:30+00:00",
        "payment_method_id": "pm1",
    }
    assert '"amount":1234.50' in sent.raw  # an exact JSON number, never through float


def test_a_second_payment_of_the_same_amount_on_the_same_day_is_registered(hook, fake):
    payments = PaymentsFake(fake)
    paid_at = datetime(2026, 2, 3, 12, tzinfo=UTC)
    hook.register_payment("inv-1", Decimal("99.90"), "EUR", paid_at)
    hook.register_payment("inv-1", Decimal("99.90"), "EUR", paid_at)
    assert [p["payment"]["amount"] for p in payments.payments] == [99.9, 99.9]
    assert len(fake.calls("invoices.registerPayment")) == 2


@pytest.mark.parametrize("failure", [requests.ReadTimeout("read timed out"), requests.ConnectionError("reset")])
def test_register_payment_is_not_resent_after_an_unknown_outcome_that_took_effect(hook, fake, failure):
    """Focus writes paid_at back as a date: the check compares count, sum, due and the day, not the string."""
    payments = PaymentsFake(fake)
    payments.payments.append({"paid_at": "2026-03-01", "payment": {"amount": 50, "currency": "EUR"}})
    payments.due -= 50  # an earlier instalment of the same amount, the same day

    def applied_then_dropped(body, request):
        payments.register(body, request)
        raise failure

    fake.script("invoices.registerPayment", applied_then_dropped)
    hook.register_payment("inv-1", Decimal("50"), "EUR", T0)
    assert len(payments.payments) == 2
    assert len(fake.calls("invoices.registerPayment")) == 1


def test_register_payment_is_resent_when_the_invoice_shows_it_did_not_take_effect(hook, fake):
    payments = PaymentsFake(fake)
    payments.payments.append({"paid_at": "2026-03-01", "payment": {"amount": 50, "currency": "EUR"}})
    payments.due -= 50  # the same amount the same day, before: not a sign that this one took effect
    fake.script("invoices.registerPayment", (503, {"errors": [{"title": "Service unavailable"}]}))
    hook.register_payment("inv-1", Decimal("50"), "EUR", T0)
    assert len(payments.payments) == 2
    assert len(fake.calls("invoices.registerPayment")) == 2
    assert len(fake.calls("invoices.info")) == 2  # before the first send, and after the 503


def test_register_payment_checks_against_what_the_caller_recorded(hook, fake):
    from twinfield.domain.focus_model import payments_seen

    payments = PaymentsFake(fake)
    before = payments_seen(hook.invoice_info("inv-1"))
    fake.script("invoices.registerPayment", (502, {"errors": [{"title": "Bad gateway"}]}))
    hook.register_payment("inv-1", Decimal("20.00"), "EUR", T0, before=before)
    assert len(payments.payments) == 1
    assert len(fake.calls("invoices.info")) == 2  # the caller's read, and the check after the 502


def test_register_payment_sends_nothing_more_when_the_check_fails(hook, fake):
    payments = PaymentsFake(fake)

    def applied_then_dropped(body, request):
        payments.register(body, request)
        raise requests.ConnectionError("connection reset")

    fake.script("invoices.registerPayment", applied_then_dropped)
    fake.script("invoices.info", {"data": {"id": "inv-1", "payments": []}}, *[(500, None)] * 5)
    with pytest.raises(FocusUnavailable):
        hook.register_payment("inv-1", Decimal("50"), "EUR", T0)
    assert len(fake.calls("invoices.registerPayment")) == 1


def test_register_payment_refuses_floats_and_naive_dates(hook):
    with pytest.raises(TypeError):
        hook.register_payment("inv-1", 10.5, "EUR", T0)
    with pytest.raises(ValueError):
        hook.register_payment("inv-1", Decimal("10.5"), "EUR", datetime(2026, 1, 1))


# -- the rest --------------------------------------------------------------------------------------
def test_test_connection_reads_once_per_scope_and_names_what_is_missing(hook, fake):
    for endpoint in ("invoices.list", "companies.list", "contacts.list", "productCategories.list"):
        fake.handlers[endpoint] = lambda body, req: {"data": []}
    assert hook.test_connection() == (True, "Connected to Teamleader Focus: 1 department(s); every scope granted")
    assert all(len(fake.calls(e)) == 1 for e in ("departments.list", "invoices.list", "contacts.list"))
    forbidden = (403, {"errors": [{"title": "Forbidden", "status": 403}]})
    fake.script("companies.list", forbidden)
    fake.script("productCategories.list", forbidden)
    ok, message = hook.test_connection()
    assert not ok and "not granted the scope(s) companies, products;" in message
    fake.script("departments.list", (500, {"errors": [{"title": "Internal Server Error"}]}), *[(500, None)] * 4)
    ok, message = hook.test_connection()
    assert not ok and "FocusUnavailable" in message


def test_stats_count_requests_per_endpoint(hook, fake):
    fake.handlers["invoices.list"] = paged(invoices(120))
    list(hook.list_invoices())
    hook.departments()
    assert hook.stats["requests"] == {"oauth2/access_token": 1, "invoices.list": 3, "departments.list": 1}


def test_reference_data_lists(hook, fake):
    ledgers = [{"department": {"id": "d1"}, "ledger_account_number": "8000"}]
    fake.handlers["productCategories.list"] = lambda body, req: {
        "data": [{"id": "pc1", "name": "Hardware", "ledgers": ledgers}]
    }
    methods = [{"id": f"pm{i}", "name": "Bank", "status": "active"} for i in range(3)]
    fake.handlers["paymentMethods.list"] = paged(methods)
    assert hook.product_categories()[0]["ledgers"][0]["ledger_account_number"] == "8000"
    assert [m["id"] for m in hook.payment_methods()] == ["pm0", "pm1", "pm2"]
    assert hook.departments() == [{"id": "d1", "name": "Acme"}]


def test_a_limiter_seeded_with_another_hooks_requests_counts_them():
    from twinfield.hooks.limiter import SlidingWindowLimiter

    clock = FakeClock()
    first = SlidingWindowLimiter(3, window=60, clock=clock, margin=0)
    for _ in range(3):
        assert first.acquire() == 0
    handed_over = first.sent_at()
    assert len(handed_over) == 3

    clock.sleep(10)
    second = SlidingWindowLimiter(3, window=60, clock=clock, margin=0)
    second.seed(handed_over)
    assert second.acquire() == pytest.approx(50)  # waits until the first request leaves the window


def test_every_request_is_in_the_state_store_before_it_leaves(conn_env, store, clock, fake):
    """A hook killed at any moment (SIGKILL skips every ``finally``) has recorded all it sent: the server sees no
    request that the state store does not count, whatever the threads do."""
    from twinfield.state import rate_windows

    conn_env(rate_limit_per_minute=50)
    recorded_on_arrival = []
    arrival = threading.Lock()  # reading the count and noting it is one step, so notes keep the arrival order

    def departments(body, request):
        with arrival:
            recorded_on_arrival.append(len(rate_windows.load(store, hook.integration, newer_than=-1e12)))
        return {"data": []}

    fake.handlers["departments.list"] = departments
    hook = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)

    def worker():
        for _ in range(10):
            hook.departments()
            clock.sleep(0.5)  # a little time passes: some claims lapse, others are used

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(recorded_on_arrival) == 30
    assert all(count >= arrived for arrived, count in enumerate(recorded_on_arrival, start=1))
    # Claimed ahead in blocks, not one write per request (a tenth of the limit: 5 per block).
    writes_needed = sum(1 for arrived, count in enumerate(recorded_on_arrival, start=1) if count == arrived)
    assert writes_needed < 30

    # The hook is gone without giving anything back; the next one counts at least all 30 and at most the claims.
    following = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)
    assert 30 <= len(following.limiter._counted) <= 30 + 4
    # At the end of a task the unused claims are given back: exactly what was sent stays.
    hook.save_rate_window()
    assert len(rate_windows.load(store, hook.integration, newer_than=-1e12)) == 30


def test_a_killed_hooks_requests_hold_back_the_next_one(conn_env, store, clock, fake):
    conn_env(rate_limit_per_minute=10)
    killed = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)
    for _ in range(8):
        killed.departments()  # and then SIGKILL: no save_rate_window
    clock.sleep(5)
    fresh = TeamleaderFocusHook(state=store, clock=clock, adapter=fake)
    fresh.departments()
    fresh.departments()
    assert clock.t == 5  # two slots were left
    fresh.departments()
    # The killed hook's first request leaves the window at 60 (plus the 1-second margin) ...
    assert clock.t == pytest.approx(61) and fresh.stats["waited_seconds"] == pytest.approx(56)
    sent = [s.at for s in fake.requests if s.endpoint == "departments.list"]
    assert all(sum(1 for t in sent if start <= t < start + 60) <= 10 for start in sent)


def test_claims_that_left_the_window_are_cleared(conn_env, store, clock, fake):
    from sqlalchemy import text

    for _ in range(3):
        TeamleaderFocusHook(state=store, clock=clock, adapter=fake).departments()  # three killed hooks
    clock.sleep(120)
    TeamleaderFocusHook(state=store, clock=clock, adapter=fake).departments()
    with store.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_claims")).scalar() == 1


def test_the_limiter_counts_what_the_server_counts_and_it_does_not():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, window=60, clock=clock, margin=1)
    limiter.acquire()
    clock.sleep(5)
    assert limiter.observe(9, None) == 0  # the server knows of nothing else
    # Someone else sent 6: the server has 3 left where the limiter believes 9.
    reset = clock.now() + timedelta(seconds=40)  # the oldest of them leaves the server's window then
    assert limiter.observe(3, reset) == 6
    assert limiter.sent_at() == [T0.timestamp()]  # only its own are handed on
    for _ in range(3):
        assert limiter.acquire() == 0
    # Full: the next slot is the oldest unknown one's (the reset, plus the margin).
    assert limiter.acquire() == pytest.approx(41)
    assert limiter.acquire() == pytest.approx(15)  # then its own first request (t=0) leaves, at 61
    # The other unknown ones count as sent when the server spoke (t=5): they leave at 66.
    assert limiter.acquire() == pytest.approx(5)
