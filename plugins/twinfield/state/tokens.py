"""OAuth2 token pairs with single-use refresh tokens, kept in the state store (table ``oauth_tokens``).

A refresh token can be spent once: every refresh returns a new access token *and* a new refresh token, and the
old refresh token is dead. Two tasks that refresh at the same time with the same refresh token would leave one
of them (and, once its pair is stored, everyone) without access. So a refresh always goes like this:

1. take the lock ``oauth:<name>`` (``StateStore.locked``: one holder across processes and machines);
2. re-read the stored pair: if another process refreshed meanwhile, use its pair and stop;
3. spend the stored refresh token (or the connection's one, see below) at the token endpoint;
4. store the new pair in the same transaction, which commits as the lock is released.

The Airflow connection only *seeds* the chain: its ``refresh_token`` is used when nothing is stored yet, or when
it differs from the one the stored chain started from (its SHA-256 is stored as ``seed_fingerprint``): that means
the user re-authorised and put a new refresh token in the connection, so the chain restarts from it.

Recovering from a crash between the token endpoint's reply and the commit (or from any refused refresh token,
e.g. "invalid_grant" after the integration was uninstalled): the refresh token that was spent is gone and the new
one was never stored, so no process can refresh any more. Re-authorise: run the authorization-code flow (open
``/oauth2/authorize?client_id=...&response_type=code&redirect_uri=...``, approve, then POST the returned ``code``
to the token endpoint with ``grant_type=authorization_code``), and put the new ``refresh_token`` in the
connection's extra. The next task sees a new seed and starts from it; nothing needs deleting in the database.

Both tokens are stored encrypted (``Cipher``: Airflow's Fernet key, see ``twinfield.hooks.state``) and marked
``fernet:``; a row written before encryption was configured is read as it is and encrypted on its next write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, text

from twinfield.state.db import StateStore


def fingerprint(refresh_token: str) -> str:
    """SHA-256 (hex) of a refresh token: lets us recognise the seed without storing it twice."""
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint answered."""

    access_token: str
    refresh_token: str
    expires_in: int  # seconds

    def __repr__(self) -> str:
        return f"TokenGrant(expires_in={self.expires_in})"


@dataclass(frozen=True)
class TokenPair:
    """A stored pair: the access token with its expiry, and the refresh token that replaces it."""

    access_token: str
    expires_at: datetime
    refresh_token: str
    seed_fingerprint: str

    def __repr__(self) -> str:  # never the tokens
        return f"TokenPair(expires_at={self.expires_at.isoformat()}, seed={self.seed_fingerprint[:8]})"

    def fresh_at(self, now: datetime, margin: timedelta) -> bool:
        """Whether the access token is still valid for at least ``margin`` after ``now``."""
        return self.expires_at - margin > now


Exchange = Callable[[str], TokenGrant]
"""Spends a refresh token at the token endpoint and returns the new grant (raises when refused)."""

ENCRYPTED = "fernet:"


class Cipher(Protocol):
    def encrypt(self, msg: bytes) -> bytes: ...
    def decrypt(self, msg: bytes | str, ttl: int | None = None) -> bytes: ...


class TokensUnreadable(RuntimeError):
    """The stored tokens are encrypted and this process has no key (or another key) to read them."""


class TokenStore:
    """The token pairs of one name (usually the Airflow connection id)."""

    def __init__(
        self,
        store: StateStore,
        name: str,
        *,
        margin: timedelta = timedelta(minutes=5),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        cipher: Cipher | None = None,
    ):
        self.store = store
        self.name = name
        self.margin = margin
        self._now = now
        self.cipher = cipher

    @property
    def lock_name(self) -> str:
        return f"oauth:{self.name}"

    def load(self) -> TokenPair | None:
        """The stored pair, if any (no lock: a pair is written in one statement)."""
        with self.store.locked(self.lock_name) as conn:
            return self._read(conn)

    def get(self, seed_refresh_token: str, exchange: Exchange, *, rejected: str | None = None) -> TokenPair:
        """A pair whose access token is usable for at least ``margin``; refreshes (under the lock) if needed.

        ``rejected``: an access token the API just refused (401); a pair holding it is not reused.
        """
        seed = fingerprint(seed_refresh_token)
        pair = self.load()
        if self._usable(pair, seed, rejected):
            return pair
        with self.store.locked(self.lock_name) as conn:
            pair = self._read(conn)
            if self._usable(pair, seed, rejected):  # another process refreshed while we waited
                return pair
            spend = pair.refresh_token if pair is not None and pair.seed_fingerprint == seed else seed_refresh_token
            grant = exchange(spend)
            new = TokenPair(
                access_token=grant.access_token,
                expires_at=self._now() + timedelta(seconds=grant.expires_in),
                refresh_token=grant.refresh_token,
                seed_fingerprint=seed,
            )
            self._write(conn, new)
        return new

    def _usable(self, pair: TokenPair | None, seed: str, rejected: str | None) -> bool:
        return (
            pair is not None
            and pair.seed_fingerprint == seed
            and pair.access_token != rejected
            and pair.fresh_at(self._now(), self.margin)
        )

    def _read(self, conn: Connection) -> TokenPair | None:
        row = conn.execute(
            text(
                "SELECT access_token, expires_at, refresh_token, seed_fingerprint FROM oauth_tokens WHERE name = :n"
            ),
            {"n": self.name},
        ).one_or_none()
        if row is None:
            return None
        return TokenPair(
            access_token=self._reveal(row.access_token),
            expires_at=datetime.fromisoformat(row.expires_at),
            refresh_token=self._reveal(row.refresh_token),
            seed_fingerprint=row.seed_fingerprint,
        )

    def _hide(self, value: str) -> str:
        return hide(self.cipher, value)

    def _reveal(self, stored: str) -> str:
        return reveal(self.cipher, self.name, stored)

    def _write(self, conn: Connection, pair: TokenPair) -> None:
        conn.execute(
            text(
                "INSERT INTO oauth_tokens (name, access_token, expires_at, refresh_token, seed_fingerprint, updated_at)"
                " VALUES (:n, :a, :e, :r, :s, :u)"
                " ON CONFLICT (name) DO UPDATE SET access_token = excluded.access_token,"
                " expires_at = excluded.expires_at, refresh_token = excluded.refresh_token,"
                " seed_fingerprint = excluded.seed_fingerprint, updated_at = excluded.updated_at"
            ),
            {
                "n": self.name,
                "a": self._hide(pair.access_token),
                "e": pair.expires_at.astimezone(UTC).isoformat(),
                "r": self._hide(pair.refresh_token),
                "s": pair.seed_fingerprint,
                "u": self._now().astimezone(UTC).isoformat(),
            },
        )


def hide(cipher: Cipher | None, value: str) -> str:
    if cipher is None:
        return value
    return ENCRYPTED + cipher.encrypt(value.encode("utf-8")).decode("ascii")


def reveal(cipher: Cipher | None, name: str, stored: str) -> str:
    if not stored.startswith(ENCRYPTED):
        return stored
    if cipher is None:
        raise TokensUnreadable(
            f"the stored tokens of {name!r} are encrypted, but no Fernet key is configured here: give every "
            "Airflow component the same [core] fernet_key")
    try:
        return cipher.decrypt(stored[len(ENCRYPTED):].encode("ascii")).decode("utf-8")
    except Exception as exc:  # cryptography's InvalidToken: another key
        raise TokensUnreadable(
            f"the stored tokens of {name!r} were encrypted with another Fernet key: give every Airflow "
            "component the same [core] fernet_key (list the old key after the new one while rotating)") from exc


@dataclass(frozen=True)
class AccessToken:
    """A stored access token (Twinfield's: no refresh token to rotate) with the cluster it works on."""

    access_token: str
    cluster: str
    expires_at: datetime
    now: Callable[[], datetime]

    def __repr__(self) -> str:  # never the token
        return f"AccessToken(expires_at={self.expires_at.isoformat()})"

    def seconds_left(self) -> float:
        return (self.expires_at - self.now()).total_seconds()


class AccessTokens:
    """Access tokens that every task may use until they expire (table ``twinfield_access_tokens``), one per
    name (the Airflow connection id), stored encrypted like the token pairs. ``seed`` identifies the
    credentials a token was got with: a token of other credentials is not handed out."""

    def __init__(self, store: StateStore, name: str, *, cipher: Cipher | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.name = name
        self.cipher = cipher
        self._now = now

    def load(self, seed: str) -> AccessToken | None:
        with self.store.begin() as conn:
            row = conn.execute(
                text("SELECT access_token, cluster, expires_at, seed_fingerprint FROM twinfield_access_tokens"
                     " WHERE name = :n"), {"n": self.name}).one_or_none()
        if row is None or row.seed_fingerprint != fingerprint(seed):
            return None
        return AccessToken(reveal(self.cipher, self.name, row.access_token), row.cluster,
                           datetime.fromisoformat(row.expires_at), self._now)

    def save(self, seed: str, access_token: str, cluster: str, seconds_left: float) -> None:
        now = self._now()
        with self.store.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO twinfield_access_tokens (name, access_token, cluster, expires_at, seed_fingerprint,"
                    " updated_at) VALUES (:n, :a, :c, :e, :s, :u)"
                    " ON CONFLICT (name) DO UPDATE SET access_token = excluded.access_token,"
                    " cluster = excluded.cluster, expires_at = excluded.expires_at,"
                    " seed_fingerprint = excluded.seed_fingerprint, updated_at = excluded.updated_at"
                ),
                {"n": self.name, "a": hide(self.cipher, access_token), "c": cluster,
                 "e": (now + timedelta(seconds=seconds_left)).astimezone(UTC).isoformat(),
                 "s": fingerprint(seed), "u": now.astimezone(UTC).isoformat()},
            )
