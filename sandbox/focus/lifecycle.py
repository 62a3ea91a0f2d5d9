"""Deleting invoices and credit notes as a user would in Focus, through control endpoints, and the webhooks
those changes (and booking or editing a document, see ``sandbox.focus.editing``) fire.

- ``POST /_sandbox/invoices/{id}/send``: a booked invoice sent to its customer from Focus -> ``invoice.sent``;
  updated_at stays (whether Focus moves it on sending is not documented: the stricter reading for clients);
- ``DELETE /_sandbox/invoices/{id}``: a draft, or the last booked invoice of its department and book year
  (Focus allows no other) -> ``invoice.deleted``;
- ``DELETE /_sandbox/credit_notes/{id}`` -> ``creditNote.deleted``;
- ``GET /_sandbox/webhooks/deliveries``: what was POSTed where, with the answer's status.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import Response

from sandbox.focus import jsonio
from sandbox.focus.data import number_key

if TYPE_CHECKING:
    from sandbox.focus.emulator import FocusSandbox


def delete_invoice(focus: FocusSandbox, invoice_id: str) -> None:

    with focus._lock:
        invoice = focus._invoice(invoice_id)
        number = invoice["invoice_number"]
        if number is not None:
            year = number_key(number)[1]
            department = invoice["department"]["id"]
            later = [i for i in focus._invoices.values() if i["invoice_number"] and i["department"]["id"] == department
                     and number_key(i["invoice_number"])[1] == year
                     and number_key(i["invoice_number"]) > number_key(number)]
            if later:
                raise ValueError("only a draft or the last booked invoice of its book year can be deleted")
            if invoice["payments"]:
                raise ValueError("an invoice with payments cannot be deleted")
        del focus._invoices[invoice_id]
        focus._order_invoices()
    focus.webhooks.emit("invoice.deleted", "invoice", invoice_id)


def send_invoice(focus: FocusSandbox, invoice_id: str) -> dict:
    with focus._lock:
        invoice = focus._writable_invoice(invoice_id)
        if invoice["status"] == "draft":
            raise ValueError("a draft invoice must be booked before it is sent")
        invoice["sent"] = True
        answer = copy.deepcopy(invoice)
    focus.webhooks.emit("invoice.sent", "invoice", invoice_id)
    return answer


def delete_credit_note(focus: FocusSandbox, note_id: str) -> None:
    with focus._lock:
        focus._credit_note(note_id)
        del focus._credit_notes[note_id]
        focus._credit_note_order.remove(note_id)
    focus.webhooks.emit("creditNote.deleted", "creditNote", note_id)


def add_routes(app: FastAPI, focus: FocusSandbox) -> None:
    def ok(payload: object) -> Response:
        return Response(jsonio.dumps(payload).encode(), media_type="application/json")

    @app.post("/_sandbox/invoices/{invoice_id}/send")
    def invoice_send(invoice_id: str) -> Response:
        return ok({"data": send_invoice(focus, invoice_id)})

    @app.delete("/_sandbox/invoices/{invoice_id}")
    def invoice_delete(invoice_id: str) -> Response:
        delete_invoice(focus, invoice_id)
        return Response(status_code=204)

    @app.delete("/_sandbox/credit_notes/{note_id}")
    def credit_note_delete(note_id: str) -> Response:
        delete_credit_note(focus, note_id)
        return Response(status_code=204)

    @app.get("/_sandbox/webhooks/deliveries")
    def deliveries() -> Response:
        return ok({"data": focus.webhooks.deliveries})
