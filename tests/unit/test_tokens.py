"""The OAuth token store: rotation of single-use refresh tokens under the cross-process lock."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twinfield.state import StateStore
from twinfield.state.tokens import TokenGrant, TokenPair, TokenStore, TokensUnreadable, fingerprint

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeTokenEndpoint:
    """Single-use refresh tokens, like the real one: each refresh token works once."""

    def __init__(self, valid: set[str], delay: float = 0.0):
        self.valid = set(valid)
        self.calls: list[str] = []
        self.delay = delay
        self._n = 0
        self._lock = threading.Lock()

    def __call__(self, refresh_token: str) -> TokenGrant:
        time.sleep(self.delay)  # widen the window in which a second refresher could slip in
        with self._lock:
            self.calls.append(refresh_token)
            if refresh_token not in self.valid:
                raise PermissionError("invalid_grant")
            self.valid.discard(refresh_token)
            self._n += 1
            new_rt = f"rt-{self._n}"
            self.valid.add(new_rt)
            return TokenGrant(access_token=f"at-{self._n}", refresh_token=new_rt, expires_in=3600)


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    s.ensure_schema()
    return s


class Clock:
    def __init__(self, at: datetime = T0):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_first_use_spends_the_seed_and_stores_the_pair(store):
    endpoint = FakeTokenEndpoint({"seed"})
    tokens = TokenStore(store, "focus", now=Clock())
    pair = tokens.get("seed", endpoint)
    assert (pair.access_token, pair.refresh_token) == ("at-1", "rt-1")
    assert pair.expires_at == T0 + timedelta(hours=1)
    assert pair.seed_fingerprint == fingerprint("seed")
    assert TokenStore(store, "focus").load() == pair  # durable: another store object reads it back


def test_a_fresh_pair_is_reused_without_refreshing(store):
    endpoint = FakeTokenEndpoint({"seed"})
    clock = Clock()
    tokens = TokenStore(store, "focus", now=clock)
    first = tokens.get("seed", endpoint)
    clock.at = T0 + timedelta(minutes=54)  # 6 minutes left: more than the 5-minute margin
    assert tokens.get("seed", endpoint) == first
    assert endpoint.calls == ["seed"]


def test_refreshes_ahead_of_expiry_with_the_stored_refresh_token(store):
    endpoint = FakeTokenEndpoint({"seed"})
    clock = Clock()
    tokens = TokenStore(store, "focus", now=clock)
    tokens.get("seed", endpoint)
    clock.at = T0 + timedelta(minutes=56)  # 4 minutes left
    pair = tokens.get("seed", endpoint)
    assert endpoint.calls == ["seed", "rt-1"]
    assert pair.access_token == "at-2"
    assert pair.expires_at == clock.at + timedelta(hours=1)


def test_a_rejected_access_token_is_refreshed_even_when_not_expired(store):
    endpoint = FakeTokenEndpoint({"seed"})
    tokens = TokenStore(store, "focus", now=Clock())
    first = tokens.get("seed", endpoint)
    second = tokens.get("seed", endpoint, rejected=first.access_token)
    assert second.access_token == "at-2"
    assert endpoint.calls == ["seed", "rt-1"]


def test_a_pair_refreshed_by_someone_else_is_used_instead_of_refreshing_again(store):
    endpoint = FakeTokenEndpoint({"seed"})
    mine = TokenStore(store, "focus", now=Clock())
    theirs = TokenStore(store, "focus", now=Clock())
    stale = mine.get("seed", endpoint)
    newer = theirs.get("seed", endpoint, rejected=stale.access_token)  # they got the 401 first
    # I now get a 401 with my stale token too: the stored pair is newer than what was rejected.
    assert mine.get("seed", endpoint, rejected=stale.access_token) == newer
    assert endpoint.calls == ["seed", "rt-1"]


def test_a_new_seed_in_the_connection_restarts_the_chain(store):
    endpoint = FakeTokenEndpoint({"seed", "reauthorised"})
    tokens = TokenStore(store, "focus", now=Clock())
    tokens.get("seed", endpoint)
    pair = tokens.get("reauthorised", endpoint)  # the user re-authorised; the stored pair is still fresh
    assert endpoint.calls == ["seed", "reauthorised"]
    assert pair.seed_fingerprint == fingerprint("reauthorised")


def test_a_refused_refresh_stores_nothing(store):
    endpoint = FakeTokenEndpoint(set())
    tokens = TokenStore(store, "focus", now=Clock())
    with pytest.raises(PermissionError):
        tokens.get("spent", endpoint)
    assert tokens.load() is None


def test_names_are_independent(store):
    endpoint = FakeTokenEndpoint({"a", "b"})
    TokenStore(store, "focus_a", now=Clock()).get("a", endpoint)
    TokenStore(store, "focus_b", now=Clock()).get("b", endpoint)
    assert TokenStore(store, "focus_a").load().access_token != TokenStore(store, "focus_b").load().access_token


def test_repr_never_shows_tokens():
    pair = TokenPair("secret-access", T0, "secret-refresh", fingerprint("seed"))
    grant = TokenGrant("secret-access", "secret-refresh", 3600)
    for text in (repr(pair), str(pair), repr(grant), str(grant)):
        assert "secret" not in text


def test_two_threads_refreshing_at_once_spend_the_refresh_token_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    endpoint = FakeTokenEndpoint({"seed"}, delay=0.3)
    results: list[TokenPair] = []
    barrier = threading.Barrier(2)

    def task():
        store = StateStore(url)  # each task has its own engine, as separate workers would
        barrier.wait()
        results.append(TokenStore(store, "focus").get("seed", endpoint))

    threads = [threading.Thread(target=task) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert endpoint.calls == ["seed"]
    assert len(results) == 2 and results[0] == results[1]
    assert results[0].refresh_token in endpoint.valid


def _refresh_in_process(url: str, calls_file: str, start_at: float, out) -> None:
    """Runs in a child process: refresh with a token endpoint that logs each spend to a shared file."""

    def exchange(refresh_token: str) -> TokenGrant:
        with open(calls_file, "a", encoding="utf-8") as f:
            f.write(refresh_token + "\n")
        time.sleep(0.3)
        return TokenGrant(access_token="at-from-child", refresh_token="rt-from-child", expires_in=3600)

    store = StateStore(url)
    store.ensure_schema()
    time.sleep(max(0.0, start_at - time.time()))
    pair = TokenStore(store, "focus").get("seed", exchange)
    out.put((pair.access_token, pair.refresh_token))


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore(url).ensure_schema()
    calls_file = tmp_path / "calls.txt"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3  # both children start refreshing at the same moment, after importing
    procs = [ctx.Process(target=_refresh_in_process, args=(url, str(calls_file), start_at, out)) for _ in range(2)]
    for p in procs:
        p.start()
    answers = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert calls_file.read_text().splitlines() == ["seed"]
    assert answers[0] == answers[1] == ("at-from-child", "rt-from-child")


# -- where the store lives (twinfield.hooks.state) ----------------------------------------------------
def test_state_store_defaults_to_a_sqlite_file_in_airflow_home(tmp_path, monkeypatch):
    from twinfield.hooks.state import state_store

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", raising=False)
    store = state_store()
    assert store.url == f"sqlite:///{tmp_path / 'focus_twinfield_state.db'}"
    assert TokenStore(store, "focus").load() is None  # the schema is there
    assert (tmp_path / "focus_twinfield_state.db").exists()


def test_state_store_url_from_the_connection(tmp_path, monkeypatch):
    import json

    from twinfield.hooks.state import state_store, state_store_url

    explicit = f"sqlite:///{tmp_path / 'explicit.db'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_FOCUS_TWINFIELD_STATE",
        json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": explicit}}),
    )
    assert state_store().url == explicit
    monkeypatch.setenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", "postgresql://sync:pw@db:5432/state")
    assert state_store_url() == "postgresql://sync:pw@db:5432/state"
    monkeypatch.setenv("AIRFLOW_CONN_MY_STATE", f"sqlite:///{tmp_path / 'uri.db'}")
    assert state_store_url("my_state") == f"sqlite:///{tmp_path / 'uri.db'}"


def test_state_store_hook_tests_its_connection_with_one_read_and_never_shows_the_url(tmp_path, monkeypatch):
    import json

    from twinfield.hooks.state import StateStoreHook
    from twinfield.state import schema

    def connect(url: str) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE",
                           json.dumps({"conn_type": "focus_twinfield_state", "extra": {"sqlalchemy_url": url}}))

    connect(f"sqlite:///{tmp_path / 'state.db'}")
    assert StateStoreHook().test_connection() == (
        True, f"Connected to the state store: no schema yet (the first task creates {schema.head()})")
    hook = StateStoreHook()
    assert hook.store.url == f"sqlite:///{tmp_path / 'state.db'}"  # migrated on first use
    assert hook.test_connection() == (
        True, f"Connected to the state store: schema revision {schema.head()} (newest: {schema.head()})")
    connect("postgresql+nosuchdriver://sync:s3cret@db:5432/state")
    ok, message = StateStoreHook().test_connection()
    assert not ok and "s3cret" not in message
    monkeypatch.setenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", json.dumps({"conn_type": "focus_twinfield_state"}))
    ok, message = StateStoreHook().test_connection()
    assert not ok and "no SQLAlchemy URL" in message


def _raw_row(store) -> dict:
    from sqlalchemy import text

    with store.begin() as conn:
        return dict(conn.execute(text("SELECT access_token, refresh_token FROM oauth_tokens")).mappings().one())


def test_tokens_are_stored_encrypted_with_airflows_fernet_key(store):
    from cryptography.fernet import Fernet, MultiFernet

    key = Fernet(Fernet.generate_key())
    tokens = TokenStore(store, "focus", now=Clock(), cipher=MultiFernet([key]))
    pair = tokens.get("seed", FakeTokenEndpoint({"seed"}))
    raw = _raw_row(store)
    assert raw["access_token"].startswith("fernet:") and raw["refresh_token"].startswith("fernet:")
    assert "rt-1" not in raw["refresh_token"] and "at-1" not in raw["access_token"]
    assert TokenStore(store, "focus", cipher=MultiFernet([key])).load() == pair
    # Rotation: the new key first, the old one still listed, as Airflow's fernet_key "new,old".
    assert TokenStore(store, "focus", cipher=MultiFernet([Fernet(Fernet.generate_key()), key])).load() == pair


def test_encrypted_tokens_without_the_key_are_a_clear_error(store):
    from cryptography.fernet import Fernet

    TokenStore(store, "focus", now=Clock(), cipher=Fernet(Fernet.generate_key())).get("seed", FakeTokenEndpoint({"seed"}))
    with pytest.raises(TokensUnreadable, match="no Fernet key is configured"):
        TokenStore(store, "focus").load()
    with pytest.raises(TokensUnreadable, match="another Fernet key"):
        TokenStore(store, "focus", cipher=Fernet(Fernet.generate_key())).load()


def test_a_plain_row_from_before_encryption_is_read_and_encrypted_on_its_next_write(store):
    from cryptography.fernet import Fernet

    clock = Clock()
    TokenStore(store, "focus", now=clock).get("seed", FakeTokenEndpoint({"seed"}))
    assert _raw_row(store)["refresh_token"] == "rt-1"
    key = Fernet(Fernet.generate_key())
    tokens = TokenStore(store, "focus", now=clock, cipher=key)
    assert tokens.load().refresh_token == "rt-1"
    clock.at += timedelta(hours=2)
    endpoint = FakeTokenEndpoint({"rt-1"})
    new = tokens.get("seed", endpoint)
    assert endpoint.calls == ["rt-1"]  # the plain stored refresh token was spent
    assert _raw_row(store)["refresh_token"].startswith("fernet:") and tokens.load() == new


def test_the_hook_side_takes_airflows_fernet_key(monkeypatch):
    from cryptography.fernet import Fernet
    from airflow.sdk.crypto import get_fernet

    from twinfield.hooks.state import secrets_cipher

    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())
    get_fernet.cache_clear()
    try:
        cipher = secrets_cipher()
        assert cipher is not None and cipher.decrypt(cipher.encrypt(b"x")) == b"x"
        monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
        get_fernet.cache_clear()
        assert secrets_cipher() is None
        monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "{FERNET_KEY}")  # a component without airflow.cfg
        get_fernet.cache_clear()
        assert secrets_cipher() is None
    finally:
        get_fernet.cache_clear()


@pytest.mark.parametrize("executor", ["CeleryExecutor", "KubernetesExecutor", "LocalExecutor,CeleryExecutor",
                                      "airflow.providers.edge3.executors.EdgeExecutor"])
def test_without_a_state_connection_a_remote_executor_fails_at_once(tmp_path, monkeypatch, executor):
    from airflow.sdk.exceptions import AirflowFailException

    from twinfield.hooks.state import state_store_url

    monkeypatch.delenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    with pytest.raises(AirflowFailException, match="tasks run on other machines") as failed:
        state_store_url()
    assert "AIRFLOW_CONN_FOCUS_TWINFIELD_STATE" in str(failed.value)
    monkeypatch.setenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", "postgresql://sync:pw@db:5432/state")
    assert state_store_url() == "postgresql://sync:pw@db:5432/state"


def test_without_a_state_connection_a_local_executor_keeps_the_local_file(tmp_path, monkeypatch):
    from twinfield.hooks.state import state_store_url

    monkeypatch.delenv("AIRFLOW_CONN_FOCUS_TWINFIELD_STATE", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert state_store_url() == f"sqlite:///{tmp_path / 'focus_twinfield_state.db'}"
