"""A local emulator of Twinfield: OAuth2 login, the Session, ProcessXml and Finder SOAP services, fair-use limits.

``TwinfieldSandbox(...).app()`` is a FastAPI app meant to be mounted at ``/twinfield``; a zeep client built from
Twinfield's WSDLs works against it with only the service address changed. The modules:
office (state), transactions / dimensions / reads / browse (ProcessXml request types), processxml (dispatch),
finder, currencies (kept currencies, rates), auth, soap (envelopes, faults), services (the SOAP operations), limits,
bookkeeper, seed, app; fault injection is sandbox.faults, shared with the Focus emulator.

The Python control surface mirrors the JSON one under ``/twinfield/_sandbox/``:
``faults.inject(kind, count=1, path_contains=None, after_apply=False, seconds=2.0)`` / ``faults.clear()``,
``limits.configure(credits_per_minute=None, max_concurrent=None)`` / ``limits.reset()``, ``expire_tokens()``,
``add_user(user, password, status="Ok", language="nl")``, ``session_company(session_id)``, ``finalize(office, daybook, number)``,
``match(office, daybook, number, amount=None, date=None)``, ``close_periods(office, through)``,
``add_customer(office, name, vatnumber, ...)``, ``transactions(office=None)``, ``customers(office=None)``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import FastAPI

from sandbox import chart
from sandbox.faults import Faults
from sandbox.twinfield import bookkeeper, seed
from sandbox.twinfield.app import build_app
from sandbox.twinfield.auth import DEFAULT_PASSWORD, DEFAULT_USER, Auth
from sandbox.twinfield.limits import Limits
from sandbox.twinfield.office import World
from sandbox.twinfield.services import Services

__all__ = ["TwinfieldSandbox"]


class TwinfieldSandbox:
    def __init__(self, client_id: str, client_secret: str, initial_refresh_token: str, credits_per_minute: int = 500,
                 max_concurrent: int = 10, user: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD):
        self.client_id = client_id
        self.initial_refresh_token = initial_refresh_token
        self.default_office = chart.DEFAULT_OFFICE
        self.user = user
        self.password = password
        self.world = World()
        self.auth = Auth(client_id, client_secret, initial_refresh_token, user, password)
        self.organisation = self.auth.organisation
        self.limits = Limits(credits_per_minute, max_concurrent)
        self.faults = Faults()
        self.services = Services(self.world, self.auth, self.limits, self.default_office)
        self._app: FastAPI | None = None
        self.wsdl_downloads = 0  # GET ...asmx?wsdl served

    def app(self) -> FastAPI:
        if self._app is None:
            self._app = build_app(self)
        return self._app

    def seed_customers_from_focus(self, focus_data) -> dict[str, str]:
        """Existing customers matching some Focus companies (see seed.py); returns {company id: customer code}."""
        return seed.seed(self.world, list(focus_data.companies))

    # -- auth control ------------------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        self.auth.expire_tokens()

    def add_user(self, user: str, password: str, status: str = "Ok", language: str = "nl") -> None:
        self.auth.add_user(user, password, status, language)

    def session_company(self, session_id: str) -> str | None:
        """The office a session works in (SelectCompany), None for an ended session."""
        return self.auth.session_company(session_id)

    # -- the bookkeeper ----------------------------------------------------------------------------------------
    def finalize(self, office: str, daybook: str, number: str) -> dict:
        return bookkeeper.finalize(self.world, office, daybook, number)

    def match(self, office: str, daybook: str, number: str, amount: Decimal | str | None = None,
              date: dt.date | str | None = None) -> dict:
        return bookkeeper.match(self.world, office, daybook, number, amount, date)

    def close_periods(self, office: str, through: str) -> None:
        bookkeeper.close_periods(self.world, office, through)

    def add_customer(self, office: str, name: str, vatnumber: str = "", *, street: str = "", postcode: str = "",
                     city: str = "", country: str = "", email: str = "") -> str:
        """A customer the bookkeeper made in Twinfield itself (next free code); returns its code."""
        return seed.add_customer(self.world, office, name, vatnumber, street=street, postcode=postcode, city=city,
                                 country=country, email=email)

    def transactions(self, office: str | None = None) -> list[dict]:
        return bookkeeper.transactions(self.world, office)

    def customers(self, office: str | None = None) -> list[dict]:
        return bookkeeper.customers(self.world, office)
