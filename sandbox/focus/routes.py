"""The HTTP face of the Focus emulator (mounted at /focus by sandbox.server).

Focus' own endpoints:
- ``GET /oauth2/authorize?client_id&response_type=code&redirect_uri&state``: auto-approved, 302 to
  ``redirect_uri?code=...&state=...`` (codes are single-use, 10 minutes);
- ``POST /oauth2/access_token``: grants ``authorization_code`` and ``refresh_token``, form-encoded or JSON,
  client_id/client_secret in the body; answers ``{token_type, expires_in, access_token, refresh_token}``;
- ``POST /<resource>.<action>``: the API, JSON in and out, ``Authorization: Bearer``, rate limited, with
  ``X-RateLimit-Limit/-Remaining/-Reset`` on every answer.

Control and inspection for tests (JSON; never rate limited, never faulted; errors as 400/404 with Focus'
error shape):
- ``POST /_sandbox/faults`` ``{kind, count?, path_contains?, after_apply?, seconds?}``; ``GET`` lists the
  pending ones; ``DELETE`` clears them;
- ``GET|POST /_sandbox/rate_limit`` ``{per_minute?, reset?}`` -> ``{per_minute, used}``;
- ``POST /_sandbox/tokens/expire`` ``{refresh_tokens?: bool}``: every access token (and refresh token) dies;
- ``POST /_sandbox/tokens/grant`` ``{scopes?: [...]}`` -> ``{refresh_token}``: re-authorising in one step,
  granting those scopes (default: all the integration needs; a call outside them answers 403);
- ``POST /_sandbox/config`` ``{credit_note_info_shape?: "array"|"object"|"mixed", credit_note_order?:
  "number"|"shuffled"}`` (shuffled: creditNotes.list in a new order on every request);
- ``GET /_sandbox/stats`` -> ``{request_count, calls, rate_limited, grants, rate_limit_per_minute, ...}``;
- ``GET /_sandbox/invoices/{id}``: the invoice now;
- ``POST /_sandbox/invoices|credit_notes/{id}/edit|lines``, customers' ``edit`` and ``DELETE``,
  ``POST /_sandbox/tax_rates``: documents, customers and tax rates as any case needs them
  (``sandbox.focus.editing``); updated_at moves on;
- ``POST /_sandbox/invoices/{id}/book`` ``{on?}``: a draft gets its number;
- ``POST /_sandbox/invoices/{id}/delete``, ``POST /_sandbox/credit_notes/{id}/delete``: deleted as Focus
  allows (a draft, or the last booked one of its department; else 400); its info then answers 404;
- ``POST /_sandbox/customers/{company|contact}/{id}/deactivate``: lists leave it out, its info still answers;
- ``POST /_sandbox/invoices/{id}/send``, ``DELETE /_sandbox/invoices/{id}``, ``/_sandbox/credit_notes/{id}/edit|delete``,
  webhook deliveries:
  ``sandbox.focus.lifecycle``; each change POSTs its webhook (``sandbox.focus.webhooks``);
- ``GET /_sandbox/invoices/{id}/payments``; ``POST`` ``{amount, paid_at?, payment_method_id?}``: a payment
  registered in Focus itself.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from sandbox.faults import FaultMiddleware, Wire
from sandbox.focus import editing, jsonio, lifecycle
from sandbox.focus.oauth import OAuthError
from sandbox.focus.params import ApiError, bad_request

if TYPE_CHECKING:
    from sandbox.focus.emulator import FocusSandbox

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The blueprint's "Required scopes" per resource (taxRates and paymentMethods name none).
SCOPE_OF = {"invoices": "invoices", "creditNotes": "invoices", "companies": "companies", "contacts": "contacts",
            "productCategories": "products", "departments": "departments"}

# Injected faults as Focus would fail: its JSON error shape; a dropped answer is cut inside its JSON. A slow
# request is handled after the delay even when its client gave up waiting.
FAULT_WIRE = Wire(
    error_type=b"application/json",
    error_bodies={500: b'{"errors":[{"title":"Internal Server Error","status":500}]}',
                  503: b'{"errors":[{"title":"Service Unavailable","status":503}]}'},
    answer_type=b"application/json", answer_start=b'{"data": [', answer_length=1000, handle_abandoned=True)


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    return Response(content=jsonio.dumps(payload).encode(), status_code=status, media_type="application/json",
                    headers=headers)


def _error(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return _json(error.status, error.body(), headers)


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = jsonio.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


async def _token_request(request: Request) -> dict:
    """The token endpoint's parameters, form-encoded (usual) or JSON (also accepted by Focus)."""
    raw = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = jsonio.loads(raw)
        except ValueError:
            body = None
        return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return dict(parse_qsl(raw))


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise bad_request(f"{name} must be a number") from None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def build_app(focus: FocusSandbox) -> FastAPI:
    app = FastAPI(title="Teamleader Focus sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(FaultMiddleware, faults=focus.faults, wire=FAULT_WIRE)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return _error(error)

    @app.exception_handler(ValueError)
    async def control_error(request: Request, error: ValueError) -> Response:
        return _error(bad_request(str(error)))

    # -- OAuth2 -----------------------------------------------------------------------------------------
    @app.get("/oauth2/authorize")
    def authorize(client_id: str = "", response_type: str = "", redirect_uri: str = "", state: str | None = None):
        if client_id != focus.tokens.client_id:
            return _json(400, OAuthError(400, "invalid_client", "Client authentication failed").body())
        if not redirect_uri:
            return _json(400, OAuthError(400, "invalid_request", "The request is missing a required parameter",
                                         "Check the `redirect_uri` parameter").body())
        if response_type != "code":
            query = {"error": "unsupported_response_type"}
        else:
            query = {"code": focus.tokens.issue_code(redirect_uri)}
        if state is not None:
            query["state"] = state
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + separator + urlencode(query), status_code=302)

    @app.post("/oauth2/access_token")
    async def access_token(request: Request) -> Response:
        form = await _token_request(request)
        grant_type = form.get("grant_type")
        try:
            if not grant_type:
                raise OAuthError(400, "invalid_request", "The request is missing a required parameter",
                                 "Check the `grant_type` parameter")
            if grant_type not in ("refresh_token", "authorization_code"):
                raise OAuthError(400, "unsupported_grant_type",
                                 "The authorization grant type is not supported by the authorization server.")
            focus.tokens.check_client(form.get("client_id"), form.get("client_secret"))
            if grant_type == "refresh_token":
                pair = focus.tokens.refresh(form.get("refresh_token"))
            else:
                pair = focus.tokens.exchange_code(form.get("code"), form.get("redirect_uri"))
        except OAuthError as error:
            return _json(error.status, error.body(), NO_STORE)
        return _json(200, pair, NO_STORE)

    # -- control ----------------------------------------------------------------------------------------
    @app.get("/_sandbox/faults")
    def faults_pending() -> Response:
        return _json(200, {"pending": focus.faults.pending()})

    @app.post("/_sandbox/faults")
    async def faults_inject(request: Request) -> Response:
        body = await _body(request)
        focus.faults.inject(
            str(body.get("kind")), int(body.get("count", 1)), body.get("path_contains"),
            bool(body.get("after_apply", False)), float(body.get("seconds", 3.0)))
        return _json(201, {"pending": focus.faults.pending()})

    @app.delete("/_sandbox/faults")
    def faults_clear() -> Response:
        focus.faults.clear()
        return Response(status_code=204)

    @app.get("/_sandbox/rate_limit")
    def rate_limit() -> Response:
        return _json(200, {"per_minute": focus.limiter.per_minute, "used": focus.limiter.used()})

    @app.post("/_sandbox/rate_limit")
    async def rate_limit_configure(request: Request) -> Response:
        body = await _body(request)
        per_minute = body.get("per_minute")
        focus.set_rate_limit(int(per_minute) if per_minute is not None else None, bool(body.get("reset", False)))
        return _json(200, {"per_minute": focus.limiter.per_minute, "used": focus.limiter.used()})

    @app.post("/_sandbox/tokens/expire")
    async def tokens_expire(request: Request) -> Response:
        body = await _body(request)
        focus.expire_access_tokens()
        if body.get("refresh_tokens"):
            focus.revoke_refresh_tokens()
        return Response(status_code=204)

    @app.post("/_sandbox/tokens/grant")
    async def tokens_grant(request: Request) -> Response:
        scopes = (await _body(request)).get("scopes")
        return _json(201, {"refresh_token": focus.grant_refresh_token(scopes)}, NO_STORE)

    @app.post("/_sandbox/config")
    async def configure(request: Request) -> Response:
        body = await _body(request)
        if "credit_note_info_shape" in body:
            focus.set_credit_note_info_shape(str(body["credit_note_info_shape"]))
        if "credit_note_order" in body:
            focus.set_credit_note_order(str(body["credit_note_order"]))
        return _json(200, {"credit_note_info_shape": focus.credit_note_info_shape,
                           "credit_note_order": focus.credit_note_order})

    @app.get("/_sandbox/stats")
    def stats() -> Response:
        return _json(200, focus.stats())

    @app.get("/_sandbox/invoices/{invoice_id}")
    def invoice(invoice_id: str) -> Response:
        return _json(200, {"data": focus.invoice(invoice_id)})

    @app.post("/_sandbox/invoices/{invoice_id}/book")
    async def invoice_book(invoice_id: str, request: Request) -> Response:
        body = await _body(request)
        on = date.fromisoformat(body["on"]) if body.get("on") else None
        return _json(200, {"data": focus.book_invoice(invoice_id, on)})

    @app.post("/_sandbox/invoices/{invoice_id}/delete")
    def invoice_delete(invoice_id: str) -> Response:
        focus.delete_invoice(invoice_id)
        return Response(status_code=204)

    @app.post("/_sandbox/credit_notes/{credit_note_id}/delete")
    def credit_note_delete(credit_note_id: str) -> Response:
        focus.delete_credit_note(credit_note_id)
        return Response(status_code=204)

    @app.post("/_sandbox/customers/{customer_type}/{customer_id}/deactivate")
    def customer_deactivate(customer_type: str, customer_id: str) -> Response:
        focus.deactivate_customer(customer_type, customer_id)
        return Response(status_code=204)

    @app.get("/_sandbox/invoices/{invoice_id}/payments")
    def invoice_payments(invoice_id: str) -> Response:
        return _json(200, {"data": focus.payments(invoice_id)})

    @app.post("/_sandbox/invoices/{invoice_id}/payments")
    async def invoice_pay(invoice_id: str, request: Request) -> Response:
        body = await _body(request)
        if "amount" not in body:
            raise bad_request("amount is required")
        paid_at = datetime.fromisoformat(body["paid_at"]) if body.get("paid_at") else None
        if paid_at is not None and paid_at.tzinfo is None:
            raise bad_request("paid_at needs a time zone")
        invoice = focus.add_payment(invoice_id, _decimal(body["amount"], "amount"), paid_at,
                                    body.get("payment_method_id"))
        return _json(201, {"data": invoice})

    lifecycle.add_routes(app, focus)  # delete invoices and credit notes; webhook deliveries
    editing.add_routes(app, focus)  # edit documents, customers, tax rates

    # -- the API --------------------------------------------------------------------------------------------
    @app.post("/{method}")
    async def call(method: str, request: Request) -> Response:
        focus.calls[method] += 1
        if not focus.tokens.access_valid(_bearer(request)):
            headers = {**focus.limiter.peek().headers(), "WWW-Authenticate": 'Bearer error="invalid_token"'}
            return _error(ApiError(401, "Unauthorized: the access token is missing, invalid or expired"), headers)
        verdict = focus.limiter.hit()
        headers = verdict.headers()
        if not verdict.allowed:
            focus.rate_limited += 1
            return _error(ApiError(429, "Too Many Requests"), headers)
        handler = focus.handlers.get(method)
        if handler is None:
            return _error(ApiError(404, f"Method {method} does not exist"), headers)
        scope = SCOPE_OF.get(method.partition(".")[0])
        if scope is not None and scope not in focus.tokens.scopes(_bearer(request)):
            return _error(ApiError(403, f"Forbidden: the integration was not granted the scope '{scope}'"), headers)
        try:
            status, payload = handler(await _body(request))
        except ApiError as error:
            return _error(error, headers)
        if payload is None:
            return Response(status_code=status, headers=headers)
        return _json(status, payload, headers)

    return app
