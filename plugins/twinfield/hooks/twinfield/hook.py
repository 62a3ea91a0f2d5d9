"""TwinfieldHook: the Airflow entry point to Twinfield. It reads the connection and hands out one
:class:`TwinfieldClient` (login, credits, transport, retries) through a connector per entity:
``customers``, ``transactions``, ``matching`` (payment state from browses) and ``reference`` (offices,
ledger accounts, VAT codes, currencies). Each connector's module lists what its calls cost."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from twinfield.errors import TwinfieldError
from twinfield.hooks.fields import get_field
from twinfield.hooks.limiter import Clock
from twinfield.hooks.twinfield.client import TwinfieldClient
from twinfield.hooks.twinfield.connectors import Customers, Matching, Reference, Transactions
from twinfield.state import StateStore

CONNECTION_ADVICE = ("Use a Twinfield user of its own for this integration, not a level-1 (administrator) user: "
                     "it holds a session, and a second logon of the same user ends the first.")


class TwinfieldHook(BaseHook):
    """Twinfield through its SOAP services (ProcessXml, Finder; Session for the legacy logon).

    Connection: host = login base URL (https://login.twinfield.com); extra ``auth_mode`` "oauth2" (login =
    client id, password = client secret, extra ``refresh_token``) or "session" (login = user, password,
    extra ``organisation``); extra ``office`` (default office), ``credits_per_minute`` (500),
    ``max_concurrent`` (10), ``timeout`` (seconds, 60).

    Safe to share between the threads of one task; the connection is read when first needed. ``stats`` are
    the client's (see :class:`TwinfieldClient`). ``clock`` (time and sleeping) exists for tests. With a ``state``
    store, an OAuth2 access token is kept there (encrypted) and used by every hook until it expires.
    """

    conn_name_attr = "twinfield_conn_id"
    default_conn_name = "twinfield_default"
    conn_type = "twinfield"
    hook_name = "Twinfield"

    def __init__(
        self,
        twinfield_conn_id: str = default_conn_name,
        *,
        clock: Clock | None = None,
        state: StateStore | None = None,
    ):
        super().__init__()
        self.twinfield_conn_id = twinfield_conn_id
        self.client = TwinfieldClient(lambda: self.connection, self._get_field, conn_id=twinfield_conn_id,
                                      clock=clock, state=state, log=self.log)
        self.customers = Customers(self.client)
        self.reference = Reference(self.client)
        self.matching = Matching(self.client)
        self.transactions = Transactions(self.client, self.matching)

    @cached_property
    def connection(self):
        return self.get_connection(self.twinfield_conn_id)

    def _get_field(self, name: str, default: Any = None) -> Any:
        return get_field(self.connection, name, default)

    @property
    def default_office(self) -> str | None:
        return self.client.default_office

    @property
    def stats(self) -> dict[str, Any]:
        return self.client.stats

    def test_connection(self) -> tuple[bool, str]:
        """One cheap read: the offices this login can see."""
        try:
            offices = self.reference.offices()
        except TwinfieldError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the UI wants an answer; other messages may hold a URL
            return False, f"{type(exc).__name__} while connecting to Twinfield"
        return True, f"Connected to Twinfield: {len(offices)} office(s) available. {CONNECTION_ADVICE}"
