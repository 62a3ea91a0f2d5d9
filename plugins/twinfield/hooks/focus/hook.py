"""TeamleaderFocusHook: the only code that speaks to Teamleader Focus.

Every call is ``POST <host>/<resource>.<action>`` with a JSON body and a Bearer token. The hook owns:

- one ``requests.Session`` for all calls (connection pool kept warm), made by ``get_conn``;
- OAuth2 with single-use refresh tokens, through ``twinfield.state.tokens.TokenStore`` (refreshed 5 minutes
  ahead of expiry and once on a 401; see that module for crash recovery by re-authorising);
- the rate limit: a sliding-window limiter (``rate_limit_per_minute``, default 200) that starts from what
  other hooks of the integration sent or claimed (the state store's ``rate_claims``, written before sending),
  counts what the server's X-RateLimit-Remaining says it does not know of, pauses when that reaches 0, and
  on a 429 waits until X-RateLimit-Reset and sends again;
- retries of reads on 5xx, timeouts and dropped connections (tenacity, exponential backoff); writes are never
  resent blindly (see ``register_payment``);
- typed errors (``twinfield.errors``) from ``errors[].title``, with any secret it knows replaced by ``***``.

Connection: host = API base URL, login = client id, password = client secret; extra: ``refresh_token`` (seeds
the first refresh only), ``token_url``, ``rate_limit_per_minute``, ``timeout`` (seconds per request).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.log import mask_secret
from requests.adapters import HTTPAdapter

from twinfield.domain import exact_json
from twinfield.domain.batching import chunked
from twinfield.domain.focus_model import PaymentsSeen, payment_took_effect, payments_seen
from twinfield.domain.money import to_decimal
from twinfield.errors import FocusApiError, FocusAuthError, FocusRateLimited, FocusUnavailable, FocusUnstableList
from twinfield.hooks.focus.filters import credit_note_filter, invoice_filter
from twinfield.hooks.fields import get_field
from twinfield.hooks.limiter import Clock, RequestStats, SlidingWindowLimiter
from twinfield.hooks.state import secrets_cipher, state_store
from twinfield.state import StateStore, rate_windows
from twinfield.state.tokens import TokenGrant, TokenPair, TokenStore, fingerprint

DEFAULT_HOST = "https://api.focus.teamleader.eu"
DEFAULT_TOKEN_URL = "https://focus.teamleader.eu/oauth2/access_token"
TOKEN_ENDPOINT = "oauth2/access_token"  # its name in errors and stats
PAGE_SIZE = 100  # asked for; Focus documents a maximum (100) for calls.list only
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_RATE_LIMIT = 200
DEFAULT_TIMEOUT = 30.0
# Reads of one day's credit notes (more than a page of them) until two agree: creditNotes.list has no sort.
STABLE_READS = 4
# Requests are recorded in the state store before they leave, claimed ahead in blocks (a tenth of the limit)
# that lapse after a few seconds: one write per block or lease, and a hook killed at any moment leaves a record
# that overcounts it by at most one block, sent at the lease's end.
CLAIM_SHARE = 10
CLAIM_LEASE = 3.0

_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def parse_reset(value: str | None) -> datetime | None:
    """X-RateLimit-Reset: an ISO datetime (e.g. ``2021-06-15T10:51:23.035+0100``), not a number of seconds."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count_header(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


def _loads(content: bytes) -> Any:
    return exact_json.loads(content) if content else None


_CUSTOMER_RESOURCE = {"company": "companies", "contact": "contacts"}
# The OAuth scopes the integration needs, each with the cheapest read that needs it.
SCOPE_PROBES = {
    "departments": ("departments.list", {}),
    "invoices": ("invoices.list", {"page": {"size": 1, "number": 1}}),
    "companies": ("companies.list", {"page": {"size": 1, "number": 1}}),
    "contacts": ("contacts.list", {"page": {"size": 1, "number": 1}}),
    "products": ("productCategories.list", {}),
}


def _all_asked(body: dict, ids: set) -> bool:
    """Whether a list filtered on ids already holds every id asked for (no further page can add one)."""
    asked = (body.get("filter") or {}).get("ids")
    return bool(asked) and ids.issuperset(asked)


class TeamleaderFocusHook(HttpHook):
    """Teamleader Focus API client on the HTTP provider's hook (method POST, JSON bodies).

    :param teamleader_focus_conn_id: the Airflow connection (conn_type ``teamleader_focus``).
    :param state: the state store that keeps the rotating token pair; default ``state_store()``.
    :param clock: time and sleep (tests pass a fake one).
    :param adapter: a ``requests`` transport adapter mounted on the session (default: TCP keep-alive).
    :param read_attempts: attempts of a read on 5xx, timeouts and dropped connections.
    :param rate_limit_attempts: sends of one request that may meet a 429 before FocusRateLimited.
    :param rate_window: seconds of the API's sliding window (Focus: a minute); the limit is the connection's
        ``rate_limit_per_minute`` per window.
    :param page_size: items asked per page of a list.
    """

    conn_name_attr = "teamleader_focus_conn_id"
    default_conn_name = "teamleader_focus_default"
    conn_type = "teamleader_focus"
    hook_name = "Teamleader Focus"
    default_host = DEFAULT_HOST

    def __init__(
        self,
        teamleader_focus_conn_id: str = default_conn_name,
        state: StateStore | None = None,
        *,
        clock: Clock | None = None,
        adapter: HTTPAdapter | None = None,
        read_attempts: int = 5,
        rate_limit_attempts: int = 5,
        rate_window: float = 60.0,
        page_size: int = PAGE_SIZE,
    ):
        super().__init__(method="POST", http_conn_id=teamleader_focus_conn_id, adapter=adapter)
        self.teamleader_focus_conn_id = teamleader_focus_conn_id
        self.clock = clock or Clock()
        self.read_attempts = read_attempts
        self.rate_limit_attempts = rate_limit_attempts
        self.rate_window = rate_window
        self.page_size = page_size
        self._stats = RequestStats()  # requests per endpoint, retries and refreshes included
        self.stats = self._stats.data
        self._state = state
        self._session: requests.Session | None = None
        self._token: TokenPair | None = None
        self._limiter: SlidingWindowLimiter | None = None
        self._limiter_lock = threading.Lock()
        self.holder = uuid.uuid4().hex  # this hook's row in rate_claims
        self._claim_lock = threading.Lock()
        self._claimed = 0  # slots claimed in the state store and not used yet
        self._claimed_until = 0.0  # monotonic end of their lease
        self._session_lock = threading.Lock()
        self._token_lock = threading.Lock()

    # -- connection and session ---------------------------------------------------------------------
    @cached_property
    def connection(self):
        return self.get_connection(self.teamleader_focus_conn_id)

    def _extra(self, name: str, default: Any = None) -> Any:
        return get_field(self.connection, name, default)

    @cached_property
    def api_url(self) -> str:
        """The API's base URL from the connection: host (with or without its scheme), schema, port."""
        host = (self.connection.host or DEFAULT_HOST).rstrip("/")
        if "://" not in host:
            host = f"{self.connection.schema or 'https'}://{host}"
        return f"{host}:{self.connection.port}" if self.connection.port else host

    @cached_property
    def timeout(self) -> float:
        return float(self._extra("timeout", DEFAULT_TIMEOUT))

    @property
    def limiter(self) -> SlidingWindowLimiter:
        """The hook's request budget, shared by its threads (made once, under a lock)."""
        with self._limiter_lock:
            if self._limiter is None:
                limit = int(self._extra("rate_limit_per_minute", DEFAULT_RATE_LIMIT))
                limiter = SlidingWindowLimiter(limit, window=self.rate_window, clock=self.clock)
                since = self.clock.now().timestamp() - self.rate_window - limiter.margin
                limiter.seed(rate_windows.load(self.state, self.integration, newer_than=since))
                self._limiter = limiter
            return self._limiter

    @cached_property
    def integration(self) -> str:
        """The integration this connection acts as (client id and API host), whatever the connection's id:
        Focus counts requests per integration, and the token chain belongs to it."""
        return f"teamleader_focus:{self.connection.login}@{self.connection.host}"

    def _claim(self) -> None:
        """Make sure the state store counts the request about to leave (acquired from the limiter just now),
        before it leaves: use a slot claimed earlier, or record this hook's requests with a new block claimed
        ahead. A new hook (the next task, or this one's re-run after a kill) counts them all."""
        with self._claim_lock:
            now = self.clock.monotonic()
            if self._claimed > 0 and now < self._claimed_until:
                self._claimed -= 1
                return
            block = max(1, self.limiter.limit // CLAIM_SHARE)
            lease_end = self.clock.now().timestamp() + CLAIM_LEASE
            self._record([*self.limiter.sent_at(), *[lease_end] * (block - 1)])
            self._claimed, self._claimed_until = block - 1, now + CLAIM_LEASE

    def save_rate_window(self) -> None:
        """Give back the slots claimed ahead and not used (at the end of a task): the record keeps only the
        requests this hook sent in the window."""
        if self._limiter is not None:
            with self._claim_lock:
                self._record(self._limiter.sent_at())
                self._claimed = 0

    def _record(self, moments: list[float]) -> None:
        older_than = self.clock.now().timestamp() - self.rate_window - self.limiter.margin
        rate_windows.record(self.state, self.integration, self.holder, moments, older_than=older_than)

    @cached_property
    def state(self) -> StateStore:
        return self._state or state_store()

    @cached_property
    def tokens(self) -> TokenStore:
        return TokenStore(self.state, self.token_chain, margin=REFRESH_MARGIN, now=self.clock.now,
                          cipher=secrets_cipher())

    @cached_property
    def token_chain(self) -> str:
        """Name of the stored token chain: the integration (client id), the API and the seed refresh token it
        descends from, not the connection id. The UI tests a connection under a temporary id; keyed by id,
        that test would spend the single-use refresh token outside the DAG's chain. A new seed (the user
        re-authorised) starts a chain of its own."""
        seed = fingerprint(self._extra("refresh_token") or "")[:16]
        return f"{self.integration}:{seed}"

    def get_conn(self, headers: dict | None = None, extra_options: dict | None = None) -> requests.Session:
        """The hook's one session, made on first use (HttpHook would make a new one per call).

        Unlike HttpHook's, it carries no connection extras as headers (they hold the refresh token) and no
        basic auth: every request gets its Bearer token, the token endpoint gets the client credentials.
        """
        with self._session_lock:
            if self._session is None:
                session = requests.Session()
                session.headers["Accept"] = "application/json"
                adapter = self.adapter or self.keep_alive_adapter
                if adapter is not None:
                    session.mount("http://", adapter)
                    session.mount("https://", adapter)
                self._session = session
            return self._session

    # -- secrets ------------------------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        known = [self.connection.password, self._extra("refresh_token")]
        if self._token is not None:
            known += [self._token.access_token, self._token.refresh_token]
        return [s for s in known if s]

    def _redact(self, message: str) -> str:
        for secret in self._secrets():
            message = message.replace(secret, "***")
        return message

    def _error_title(self, response: requests.Response) -> str:
        """``errors[].title`` (or an OAuth ``error_description``), else the HTTP reason; secrets removed."""
        try:
            body = _loads(response.content)
        except ValueError:
            body = None
        title = ""
        if isinstance(body, dict):
            titles = [str(e.get("title")) for e in body.get("errors") or [] if isinstance(e, dict) and e.get("title")]
            title = "; ".join(titles) or str(body.get("error_description") or body.get("error") or "")
        return self._redact(title or response.reason or f"HTTP {response.status_code}")

    # -- tokens -------------------------------------------------------------------------------------
    def _access_token(self, rejected: str | None = None) -> str:
        """A usable access token; ``rejected`` is one the API just refused with 401."""
        with self._token_lock:
            pair = self._token
            if pair is None or pair.access_token == rejected or not pair.fresh_at(self.clock.now(), REFRESH_MARGIN):
                seed = self._extra("refresh_token")
                if not seed:
                    raise FocusAuthError(
                        0, "the connection has no refresh_token in its extra: authorise the integration first"
                    )
                mask_secret(seed)
                pair = self.tokens.get(seed, self._exchange, rejected=rejected)
                mask_secret(pair.access_token)
                mask_secret(pair.refresh_token)
                self._token = pair
            return pair.access_token

    def _exchange(self, refresh_token: str) -> TokenGrant:
        """Spend ``refresh_token`` at the token endpoint (called by TokenStore under the lock)."""
        url = self._extra("token_url", DEFAULT_TOKEN_URL)
        form = {
            "client_id": self.connection.login,
            "client_secret": self.connection.password,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
        }

        def attempt() -> TokenGrant:
            self._count(TOKEN_ENDPOINT)
            try:
                response = self.get_conn().post(url, data=form, timeout=self.timeout)
            except _TRANSPORT_ERRORS as exc:
                raise FocusUnavailable(0, type(exc).__name__, TOKEN_ENDPOINT) from None
            if response.status_code >= 500:
                raise FocusUnavailable(response.status_code, self._error_title(response), TOKEN_ENDPOINT)
            if response.status_code != 200:
                raise FocusAuthError(
                    response.status_code,
                    f"token refresh refused ({self._error_title(response)}); if the refresh token was spent "
                    "or revoked, re-authorise and put the new refresh_token in the connection extra",
                    TOKEN_ENDPOINT,
                )
            body = _loads(response.content)
            return TokenGrant(body["access_token"], body["refresh_token"], int(body.get("expires_in", 3600)))

        grant = self._retrying(TOKEN_ENDPOINT)(attempt)
        self.log.info("Teamleader Focus access token refreshed for connection %s", self.teamleader_focus_conn_id)
        return grant

    # -- requests -----------------------------------------------------------------------------------
    def _count(self, endpoint: str) -> None:
        self._stats.add("requests", endpoint)

    def _send(self, endpoint: str, body: dict, token: str) -> requests.Response:
        """One HTTP request within the rate limit; transport failures become FocusUnavailable."""
        waited = self.limiter.acquire()
        if waited:
            self.log.info("Teamleader Focus rate limit: waited %.1f s before %s", waited, endpoint)
            self._stats.add("waited_seconds", amount=waited)
        self._claim()
        self._count(endpoint)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        session = self.get_conn()
        request = session.prepare_request(
            requests.Request("POST", f"{self.api_url}/{endpoint}", data=exact_json.dumps(body), headers=headers))
        try:
            response = self.run_and_check(session, request, {"timeout": self.timeout, "check_response": False})
        except _TRANSPORT_ERRORS as exc:
            raise FocusUnavailable(0, type(exc).__name__, endpoint) from None
        self._obey_rate_headers(response)
        return response

    def _obey_rate_headers(self, response: requests.Response) -> None:
        remaining = _count_header(response.headers.get("X-RateLimit-Remaining"))
        reset = parse_reset(response.headers.get("X-RateLimit-Reset"))
        if remaining is not None:
            unknown = self.limiter.observe(remaining, reset)
            if unknown:
                self.log.info("Teamleader Focus counts %d request(s) in its window that this hook did not; "
                              "counting them too", unknown)
        if response.status_code == 429:
            if reset is not None:
                self.limiter.pause_until(reset)
            else:
                self.limiter.pause_for(self.limiter.window)
        elif remaining == 0 and reset is not None:
            self.limiter.pause_until(reset)

    def _call(self, endpoint: str, body: dict) -> Any:
        """One request, sent again after a 401 (once, with a refreshed token) and after 429s (until the reset).

        Both answers mean the server did nothing, so this is safe for writes too. 5xx and transport failures
        raise FocusUnavailable: the caller decides whether to retry.
        """
        rejected: str | None = None
        limited = 0
        while True:
            token = self._access_token(rejected=rejected)
            response = self._send(endpoint, body, token)
            status = response.status_code
            if status == 401 and rejected is None:
                rejected = token
                continue
            if status == 429:
                limited += 1
                self._stats.add("rate_limited")
                if limited >= self.rate_limit_attempts:
                    raise FocusRateLimited(status, self._error_title(response), endpoint)
                self.log.warning("Teamleader Focus answered 429 on %s; waiting for the reset", endpoint)
                continue
            if status >= 500:
                raise FocusUnavailable(status, self._error_title(response), endpoint)
            if status == 401:
                raise FocusAuthError(status, self._error_title(response), endpoint)
            if status >= 400:
                raise FocusApiError(status, self._error_title(response), endpoint)
            try:
                return _loads(response.content)
            except ValueError:
                raise FocusApiError(status, "the answer is not JSON", endpoint) from None

    def _retrying(self, endpoint: str) -> tenacity.Retrying:
        def log_retry(state: tenacity.RetryCallState) -> None:
            self._stats.add("retries")
            self.log.warning(
                "Teamleader Focus %s failed (%s); attempt %d of %d in %.1f s",
                endpoint, state.outcome.exception(), state.attempt_number + 1, self.read_attempts,
                state.next_action.sleep,
            )  # fmt: skip

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(FocusUnavailable),
            stop=tenacity.stop_after_attempt(self.read_attempts),
            wait=tenacity.wait_exponential(multiplier=1, min=1, max=30),
            sleep=self.clock.sleep,
            before_sleep=log_retry,
            reraise=True,
        )

    def _read(self, endpoint: str, body: dict) -> Any:
        """A read: retried on 5xx, timeouts and dropped connections."""
        return self._retrying(endpoint)(self._call, endpoint, body)

    def _page(self, endpoint: str, body: dict, number: int) -> list[dict]:
        return self._read(endpoint, {**body, "page": {"size": self.page_size, "number": number}})["data"]

    def _pages(self, endpoint: str, body: dict) -> Iterator[dict]:
        """Every item of a paged list, asked in pages of ``page_size``, until an empty page. There is no total,
        and no maximum page size is documented for these lists: a page shorter than asked may be the server's
        own page size, not the end."""
        number = 1
        seen: set[str] = set()
        while True:
            data = self._page(endpoint, body, number)
            if not data:
                return
            yield from data
            seen.update(item.get("id") for item in data)
            if _all_asked(body, seen):
                return
            number += 1

    # -- the API the pipeline uses ------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """One cheap read per OAuth scope the integration needs; names the scopes the grant lacks (403)."""
        missing = []
        try:
            for scope, (endpoint, body) in SCOPE_PROBES.items():
                try:
                    answer = self._read(endpoint, body)
                except FocusApiError as exc:
                    if exc.status != 403 or isinstance(exc, FocusAuthError):
                        raise
                    missing.append(scope)
                    continue
                if scope == "departments":
                    departments = answer["data"]
        except Exception as exc:  # the UI shows the message; our errors carry no secrets
            return False, self._redact(f"{type(exc).__name__}: {exc}")
        if missing:
            return False, (f"Connected to Teamleader Focus, but the integration was not granted the scope(s) "
                           f"{', '.join(missing)}; needed: {', '.join(SCOPE_PROBES)}. Add them to the "
                           "integration and authorise it again.")
        return True, f"Connected to Teamleader Focus: {len(departments)} department(s); every scope granted"

    def list_invoices(self, **filters: Any) -> Iterator[dict]:
        """invoices.list, every page, sorted by invoice number. Filters as in the API (status: str or list)."""
        body = {"filter": invoice_filter(filters), "sort": [{"field": "invoice_number", "order": "asc"}]}
        return self._pages("invoices.list", body)

    def list_credit_notes(self, **filters: Any) -> Iterator[dict]:
        """creditNotes.list, each credit note once. The list has no sort parameter, so its order may differ
        from one request to the next and paging through it can miss or double items. It is read instead in
        ``credit_note_date`` ranges ([after, before): ``credit_note_date_before`` is exclusive, unlike
        ``invoice_date_before``), split at the middle date seen until each range fits in one page (its second
        page is empty): one answer, so nothing in it can move. A single day of more than a page is read until
        two reads agree (``FocusUnstableList`` when they never do).
        """
        body = credit_note_filter(filters)  # checked now, not when the first item is asked for
        after, before = (date.fromisoformat(body.pop(key)) if body.get(key) else None
                         for key in ("credit_note_date_after", "credit_note_date_before"))

        def each_once() -> Iterator[dict]:
            seen: set[str] = set()
            for item in self._credit_note_range(body, after, before):
                if item["id"] not in seen:
                    seen.add(item["id"])
                    yield item

        return each_once()

    def _credit_note_range(self, base: dict, after: date | None, before: date | None) -> list[dict]:
        """The credit notes dated in [after, before) (None: open), under the other filters ``base``."""
        endpoint = "creditNotes.list"
        bounds = {"credit_note_date_after": after, "credit_note_date_before": before}
        body = {"filter": {**base, **{k: v.isoformat() for k, v in bounds.items() if v is not None}}}
        first = self._page(endpoint, body, 1)
        if not first or _all_asked(body, {item.get("id") for item in first}):
            return first
        second = self._page(endpoint, body, 2)
        if not second:
            return first
        dates = sorted(date.fromisoformat(i["credit_note_date"][:10]) for i in first + second
                       if i.get("credit_note_date"))
        one_day = timedelta(days=1)
        if not dates or (after is not None and before is not None and before - after <= one_day):
            return self._read_until_stable(endpoint, body)
        split = dates[len(dates) // 2]
        if after is not None and split <= after:
            split = after + one_day
        if before is not None and split >= before:
            split = before - one_day
        return self._credit_note_range(base, after, split) + self._credit_note_range(base, split, before)

    def _read_until_stable(self, endpoint: str, body: dict) -> list[dict]:
        """Every page of an unsorted list, read again until two reads give the same items, each once."""
        previous: set[str] | None = None
        for _ in range(STABLE_READS):
            items = list(self._pages(endpoint, body))
            ids = [item["id"] for item in items]
            current = set(ids)
            if len(current) == len(ids) and current == previous:
                return items
            previous = current if len(current) == len(ids) else None
        raise FocusUnstableList(200, f"{STABLE_READS} reads of {body['filter']} gave different answers "
                                f"(the list has no sort and more than a page of items)", endpoint)

    def invoice_info(self, invoice_id: str) -> dict:
        return self._read("invoices.info", {"id": invoice_id})["data"]

    def credit_note_info(self, credit_note_id: str) -> dict:
        """creditNotes.info; the API may answer ``data`` as an array of one."""
        data = self._read("creditNotes.info", {"id": credit_note_id})["data"]
        if isinstance(data, list):
            if not data:
                raise FocusApiError(404, f"credit note {credit_note_id} not found", "creditNotes.info")
            return data[0]
        return data

    def companies(self, ids: Iterable[str]) -> dict[str, dict]:
        """Companies by id: see ``customers``."""
        return self.customers("company", ids)

    def list_companies(self, **filters: Any) -> Iterator[dict]:
        """companies.list, every page (list items: no addresses, only ``primary_address``)."""
        return self._pages("companies.list", {"filter": filters} if filters else {})

    def add_company(self, body: dict) -> str:
        """companies.add once; returns the new company's id.

        After an answer that leaves the outcome unknown (5xx, timeout, dropped connection) Focus is searched
        for a company with exactly this name and VAT number before anything is sent again, so one call never
        makes two companies. (A 401 or 429 means Focus did nothing: ``_call`` sends again by itself.)
        """
        attempt = 1
        while True:
            try:
                return str(self._call("companies.add", body)["data"]["id"])
            except FocusUnavailable as exc:
                if attempt >= self.read_attempts:
                    raise
                self.log.warning("Teamleader Focus companies.add outcome unknown (%s); searching for it", exc)
            self.clock.sleep(min(2**attempt, 30))
            found = self._added_company(body)
            if found is not None:
                return found
            attempt += 1

    def _added_company(self, body: dict) -> str | None:
        term = body.get("vat_number") or body["name"]
        for item in self.list_companies(term=term):
            if item.get("name") == body["name"] and (item.get("vat_number") or None) == body.get("vat_number"):
                return str(item["id"])
        return None

    def register_webhook(self, url: str, types: list[str]) -> None:
        """webhooks.register (204). Registering what is registered changes nothing, so it is retried freely."""
        self._read("webhooks.register", {"url": url, "types": list(types)})

    def list_webhooks(self) -> list[dict]:
        """webhooks.list: ``[{url, types}]`` ordered by URL."""
        return self._read("webhooks.list", {})["data"]

    def unregister_webhook(self, url: str, types: list[str]) -> None:
        """webhooks.unregister (204), with the types it was registered with."""
        self._read("webhooks.unregister", {"url": url, "types": list(types)})

    def contacts(self, ids: Iterable[str]) -> dict[str, dict]:
        """Contacts by id: see ``customers``."""
        return self.customers("contact", ids)

    def customers(self, customer_type: str, ids: Iterable[str]) -> dict[str, dict]:
        """Companies or contacts by id: companies.list / contacts.list, 100 ids per call (list items carry
        ``primary_address`` only, and a contact's no ``vat_number``). An id the list leaves out (a deactivated
        customer may be left out) is read with companies.info / contacts.info; ids Focus does not know at all
        are absent from the answer."""
        endpoint = f"{_CUSTOMER_RESOURCE[customer_type]}.list"
        wanted = list(dict.fromkeys(ids))
        found: dict[str, dict] = {}
        for chunk in chunked(wanted, PAGE_SIZE):
            body = {"filter": {"ids": chunk}, "page": {"size": PAGE_SIZE, "number": 1}}
            found.update((item["id"], item) for item in self._read(endpoint, body)["data"])
        for customer_id in wanted:
            if customer_id not in found:
                info = self.customer_info(customer_type, customer_id)
                if info is not None:
                    found[customer_id] = info
        return found

    def customer_info(self, customer_type: str, customer_id: str) -> dict | None:
        """companies.info / contacts.info (addresses[], VAT number, emails, national identification number);
        None when Focus does not know the id (404, or 400: "references non-existing resources")."""
        endpoint = f"{_CUSTOMER_RESOURCE[customer_type]}.info"
        try:
            return self._read(endpoint, {"id": customer_id})["data"]
        except FocusApiError as exc:
            if exc.status in (400, 404) and not isinstance(exc, FocusAuthError):
                return None
            raise

    def tax_rates(self, department_id: str | None = None) -> list[dict]:
        body = {"filter": {"department_id": department_id}} if department_id else {}
        return list(self._pages("taxRates.list", body))

    def product_categories(self, department_id: str | None = None) -> list[dict]:
        """productCategories.list (not paged), each with ``ledgers[]``: department + ledger_account_number."""
        body = {"filter": {"department_id": department_id}} if department_id else {}
        return self._read("productCategories.list", body)["data"]

    def departments(self) -> list[dict]:
        return self._read("departments.list", {})["data"]

    def payment_methods(self) -> list[dict]:
        return list(self._pages("paymentMethods.list", {}))

    def register_payment(
        self,
        invoice_id: str,
        amount: Decimal,
        currency: str,
        paid_at: datetime,
        payment_method_id: str | None = None,
        *,
        before: PaymentsSeen | None = None,
    ) -> None:
        """Add one payment to an invoice, exactly once.

        invoices.registerPayment adds a payment on every call, and payments carry no id. ``before`` is what the
        invoice showed just before (read here when not given; callers that must survive a crash record it
        first). After an answer that leaves the outcome unknown (5xx, timeout, dropped connection) the invoice
        is read again and compared with ``before`` (count, sum, due, and a payment of this amount on this day:
        by day only, as Focus's echo of ``paid_at`` is not documented); only when it did not take effect is
        the payment sent again. Send ``paid_at`` around noon UTC, so that its day is the same in the account's
        time zone. A second payment of the same amount on the same day is a payment of its own: it is sent.
        """
        if paid_at.tzinfo is None:
            raise ValueError("paid_at needs a time zone")
        amount = to_decimal(amount)
        paid_at = paid_at.replace(microsecond=0)
        if before is None:
            before = payments_seen(self.invoice_info(invoice_id))
        body: dict[str, Any] = {
            "id": invoice_id,
            "payment": {"amount": amount, "currency": currency},
            "paid_at": paid_at.isoformat(),
        }
        if payment_method_id:
            body["payment_method_id"] = payment_method_id

        attempt = 1
        while True:
            try:
                self._call("invoices.registerPayment", body)
                return
            except FocusUnavailable as exc:
                if attempt >= self.read_attempts:
                    raise
                self.log.warning("Teamleader Focus registerPayment outcome unknown (%s); checking the invoice", exc)
            self.clock.sleep(min(2**attempt, 30))
            # Raises when the invoice cannot be read: then nothing is sent again.
            if payment_took_effect(before, self.invoice_info(invoice_id), amount, paid_at.date()):
                return  # it took effect although we never heard so
            attempt += 1
