"""Focus webhooks: webhooks.register / webhooks.list / webhooks.unregister (WebHook ``{url, types[]}`` as in
openapi.yaml, 204 / 200 ``{data: [...]}`` ordered by URL), and delivery: each event is POSTed as JSON
``{"type", "subject": {"type", "id"}, "account": {"type", "id"}}`` to every URL registered for its type,
unsigned, from a background thread (Focus delivers after the change, not inside the request that made it).

Registering a URL again adds the types; unregistering removes the given types, and the URL once it has none
left. Only HTTPS URLs are accepted, except on a loopback host (which a real Focus could not reach anyway):
that is how the sandbox delivers to a receiver on this machine.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from urllib.parse import urlsplit

import requests

from sandbox.focus.params import bad_request

# The WebHook.types enum of openapi.yaml v1.112.0.
TYPES = frozenset("""
account.deactivated account.deleted call.added call.completed call.deleted call.updated company.added company.deleted
company.updated contact.added contact.deleted contact.linkedToCompany contact.unlinkedFromCompany
contact.updatedLinkToCompany contact.updated creditNote.booked creditNote.deleted creditNote.peppolSubmissionFailed
creditNote.peppolSubmissionSucceeded creditNote.sent creditNote.updated deal.created deal.deleted deal.lost deal.moved
deal.updated deal.won incomingCreditNote.added incomingCreditNote.approved
incomingCreditNote.bookkeepingSubmissionFailed incomingCreditNote.bookkeepingSubmissionSucceeded
incomingCreditNote.deleted incomingCreditNote.refused incomingCreditNote.updated incomingInvoice.added
incomingInvoice.approved incomingInvoice.bookkeepingSubmissionFailed incomingInvoice.bookkeepingSubmissionSucceeded
incomingInvoice.deleted incomingInvoice.refused incomingInvoice.updated invoice.booked invoice.deleted invoice.drafted
invoice.paymentRegistered invoice.paymentRemoved invoice.peppolSubmissionFailed invoice.peppolSubmissionSucceeded
invoice.sent invoice.updated meeting.created meeting.completed meeting.deleted meeting.updated milestone.created
milestone.updated nextgenProject.created nextgenProject.updated nextgenProject.closed nextgenProject.deleted
nextgenTask.completed nextgenTask.created nextgenTask.deleted nextgenTask.updated product.added product.updated
product.deleted project.created project.deleted project.updated receipt.added receipt.approved
receipt.bookkeepingSubmissionFailed receipt.bookkeepingSubmissionSucceeded receipt.deleted receipt.refused
receipt.updated subscription.added subscription.deactivated subscription.deleted subscription.updated task.completed
task.created task.deleted task.updated ticket.closed ticket.created ticket.deleted ticket.reopened ticket.updated
ticketMessage.added timeTracking.added timeTracking.deleted timeTracking.updated user.deactivated
""".split())
ACCOUNT_ID = "7a0c1b44-1e55-4d0b-9a3e-5f1c0a9e1d01"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _webhook(body: dict) -> tuple[str, set[str]]:
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise bad_request("url is required")
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http") or (
            parts.scheme == "http" and not _loopback(parts.hostname)):
        raise bad_request("url must be a valid HTTPS URL")
    types = body.get("types")
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise bad_request("types is required and must be a non-empty array of event types")
    unknown = sorted(set(types) - TYPES)
    if unknown:
        raise bad_request(f"types contains unknown event types: {', '.join(unknown)}")
    return url, set(types)


class Webhooks:
    """The account's registrations, and the deliveries made (for tests: url, payload, status or error)."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._registered: dict[str, set[str]] = {}
        self.deliveries: list[dict] = []
        self._pending: list[threading.Thread] = []

    # -- the API ------------------------------------------------------------------------------------------
    def register(self, body: dict) -> tuple[int, object]:
        url, types = _webhook(body)
        with self._lock:
            self._registered.setdefault(url, set()).update(types)
        return 204, None

    def list(self, body: dict) -> tuple[int, object]:
        with self._lock:
            data = [{"url": url, "types": sorted(types)} for url, types in sorted(self._registered.items())]
        return 200, {"data": data}

    def unregister(self, body: dict) -> tuple[int, object]:
        url, types = _webhook(body)
        with self._lock:
            left = self._registered.get(url, set()) - types
            if left:
                self._registered[url] = left
            else:
                self._registered.pop(url, None)
        return 204, None

    # -- delivery -----------------------------------------------------------------------------------------
    def emit(self, event_type: str, subject_type: str, subject_id: str) -> None:
        """POST the event to every URL registered for it, in the background."""
        payload = {"type": event_type, "subject": {"type": subject_type, "id": subject_id},
                   "account": {"type": "account", "id": ACCOUNT_ID}}
        with self._lock:
            urls = [url for url, types in sorted(self._registered.items()) if event_type in types]
        for url in urls:
            thread = threading.Thread(target=self._deliver, args=(url, payload), daemon=True,
                                      name="focus-webhook")
            with self._lock:
                self._pending = [t for t in self._pending if t.is_alive()] + [thread]
            thread.start()

    def _deliver(self, url: str, payload: dict) -> None:
        record = {"url": url, "payload": payload}
        try:
            response = requests.post(url, data=json.dumps(payload), timeout=self.timeout,
                                     headers={"Content-Type": "application/json"})
            record["status"] = response.status_code
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
        with self._lock:
            self.deliveries.append(record)

    def wait(self, timeout: float = 10.0) -> None:
        """Until the deliveries under way are done (tests)."""
        with self._lock:
            pending = list(self._pending)
        for thread in pending:
            thread.join(timeout)
