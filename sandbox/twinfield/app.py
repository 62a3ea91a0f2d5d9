"""HTTP routes of the Twinfield sandbox (mounted at /twinfield by sandbox/server.py).

Real paths, below the mount:
- ``POST webservices/{session,processxml,finder}.asmx`` SOAP 1.1/1.2; ``GET ...asmx?wsdl`` the WSDL (wsdl/),
  whose soap:address is the request's own URL, charged 1 credit and counted (``wsdl_downloads``);
- ``GET auth/authentication/connect/authorize`` (auto-approved; 302 to redirect_uri with code and state),
  ``POST .../connect/token``, ``GET .../connect/accesstokenvalidation?token=``.
Control endpoints (JSON), under ``_sandbox/``: faults, limits, expire_tokens, users, finalize, match,
close_periods, transactions, customers (see TwinfieldSandbox for the Python equivalents).
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote_plus, urlencode
from xml.sax.saxutils import quoteattr

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sandbox.faults import FaultMiddleware, Wire
from sandbox.twinfield import bookkeeper
from sandbox.twinfield.auth import OAuthError
from sandbox.twinfield.limits import ConcurrencyMiddleware, RateLimited
from sandbox.twinfield.processxml import READ_COST

WSDL_DIR = Path(__file__).parent / "wsdl"
SERVICES = ("session", "processxml", "finder")
CONNECT = "/auth/authentication/connect"


def _error_page(status: int, reason: str) -> bytes:
    return (f"<html><head><title>{reason}</title></head><body><h1>{status} {reason}</h1><hr><p>Please try again "
            "later.</body></html>").encode()


# Injected 500s and 503s as a gateway or web server writes them: HTML, not a SOAP fault (nor well-formed XML), so
# SOAP clients see a transport error; 503 with Retry-After. A dropped answer is cut inside its XML. A slow
# request whose client gave up is not handled.
FAULT_WIRE = Wire(
    error_type=b"text/html; charset=utf-8",
    error_bodies={500: _error_page(500, "Internal Server Error"), 503: _error_page(503, "Service Unavailable")},
    answer_type=b"text/xml; charset=utf-8", answer_start=b'<?xml version="1.0"', answer_length=4096,
    retry_after=b"1")


def cluster_url(request: Request) -> str:
    """This sandbox's /twinfield base URL, as the caller reached it."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def build_app(sandbox) -> FastAPI:
    app = FastAPI(title="Twinfield sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    wsdls = {name: (WSDL_DIR / f"{name}.wsdl").read_text(encoding="utf-8") for name in SERVICES}

    @app.get("/webservices/{service}.asmx")
    def service_description(service: str, request: Request) -> Response:
        if service not in SERVICES:
            return Response("Not Found", 404, media_type="text/plain")
        if "wsdl" not in {key.lower() for key in request.query_params}:
            return Response(f"<html><body><h1>{service}.asmx</h1><p>Add ?wsdl for the service description.</p>"
                            "</body></html>", media_type="text/html")
        try:
            headers = sandbox.limits.charge(READ_COST)  # every GET costs a credit, service descriptions too
        except RateLimited as limited:
            return Response(f"Too Many Requests: fair-use limit reached, retry after {limited.retry_after}s", 429,
                            headers={"Retry-After": str(limited.retry_after), **limited.headers},
                            media_type="text/plain")
        sandbox.wsdl_downloads += 1
        address = quoteattr(f"{cluster_url(request)}/webservices/{service}.asmx")[1:-1]
        return Response(wsdls[service].replace("{address}", address), headers=headers,
                        media_type="text/xml; charset=utf-8")

    @app.post("/webservices/{service}.asmx")
    async def soap_call(service: str, request: Request) -> Response:
        if service not in SERVICES:
            return Response("Not Found", 404, media_type="text/plain")
        data = await request.body()
        return await run_in_threadpool(
            sandbox.services.handle, service, data, request.headers.get("content-type", ""),
            request.headers.get("soapaction"), cluster_url(request),
        )

    # -- OAuth2 / OpenID Connect ------------------------------------------------------------------------------
    @app.get(CONNECT + "/authorize")
    def authorize(request: Request) -> Response:
        params = request.query_params
        try:
            code = sandbox.auth.authorize(params.get("client_id", ""), params.get("redirect_uri", ""))
        except OAuthError as error:
            return JSONResponse(error.body(), error.status)
        if params.get("response_type", "code") != "code":
            query = {"error": "unsupported_response_type", "state": params.get("state", "")}
        else:
            query = {"code": code, "scope": params.get("scope", ""), "state": params.get("state", "")}
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return RedirectResponse(params["redirect_uri"] + separator + urlencode(query), status_code=302)

    @app.post(CONNECT + "/token")
    async def token(request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        try:
            body = sandbox.auth.token(form, _basic_credentials(request.headers.get("authorization", "")))
        except OAuthError as error:
            return JSONResponse(error.body(), error.status, headers={"Cache-Control": "no-store"})
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    @app.get(CONNECT + "/accesstokenvalidation")
    def accesstokenvalidation(request: Request, token: str = "") -> Response:
        claims = sandbox.auth.validation(token, cluster_url(request))
        if claims is None:
            return JSONResponse({"Message": "invalid_token", "error": "invalid_token"}, 400)
        return JSONResponse(claims)

    # -- control ------------------------------------------------------------------------------------------------
    @app.exception_handler(bookkeeper.BookkeeperError)
    async def bookkeeper_error(_: Request, error: bookkeeper.BookkeeperError) -> Response:
        return JSONResponse({"error": str(error)}, error.status)

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, error: ValueError) -> Response:
        return JSONResponse({"error": str(error)}, 400)

    @app.get("/_sandbox/faults")
    def faults() -> dict:
        return {"pending": sandbox.faults.pending()}

    @app.post("/_sandbox/faults")
    def inject_fault(body: dict) -> dict:
        sandbox.faults.inject(**body)
        return {"pending": sandbox.faults.pending()}

    @app.delete("/_sandbox/faults")
    def clear_faults() -> dict:
        sandbox.faults.clear()
        return {"pending": []}

    @app.post("/_sandbox/limits")
    def limits(body: dict) -> dict:
        sandbox.limits.configure(body.get("credits_per_minute"), body.get("max_concurrent"))
        if body.get("reset"):
            sandbox.limits.reset()
        return {"credits_per_minute": sandbox.limits.credits_per_minute,
                "max_concurrent": sandbox.limits.max_concurrent}

    @app.post("/_sandbox/expire_tokens")
    def expire_tokens() -> dict:
        sandbox.expire_tokens()
        return {"expired": True}

    @app.post("/_sandbox/users")
    def add_user(body: dict) -> dict:
        sandbox.add_user(body["user"], body["password"], body.get("status", "Ok"), body.get("language", "nl"))
        return {"user": body["user"], "status": body.get("status", "Ok")}

    @app.post("/_sandbox/finalize")
    def finalize(body: dict) -> dict:
        return sandbox.finalize(body["office"], body["daybook"], str(body["number"]))

    @app.post("/_sandbox/match")
    def match(body: dict) -> dict:
        amount = body.get("amount")
        return sandbox.match(body["office"], body["daybook"], str(body["number"]),
                             Decimal(str(amount)) if amount is not None else None, body.get("date"))

    @app.post("/_sandbox/close_periods")
    def close_periods(body: dict) -> dict:
        sandbox.close_periods(body["office"], body["through"])
        return {"office": body["office"], "closed_through": body["through"]}

    @app.get("/_sandbox/transactions")
    def transactions(office: str | None = None) -> list[dict]:
        return sandbox.transactions(office)

    @app.get("/_sandbox/customers")
    def customers(office: str | None = None) -> list[dict]:
        return sandbox.customers(office)

    app.add_middleware(FaultMiddleware, faults=sandbox.faults, wire=FAULT_WIRE)
    app.add_middleware(ConcurrencyMiddleware, limits=sandbox.limits)
    return app


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)  # RFC 6749 2.3.1: form-encoded before base64
