"""Register, list and remove the Focus webhook that starts a sync within minutes of a change.

    python -m twinfield.webhooks register --base-url https://airflow.example.com
    python -m twinfield.webhooks list
    python -m twinfield.webhooks unregister --base-url https://airflow.example.com

The webhook URL is ``<base-url>/focus-twinfield-webhooks/focus/<FOCUS_TWINFIELD_WEBHOOK_SECRET>`` (the same
secret the API server's receiver checks); its types are ``TYPES``. It speaks to Focus through the Teamleader
Focus connection (``--conn-id``, default ``teamleader_focus_default``), so run it where Airflow's connections
are (e.g. ``docker compose exec airflow-scheduler python -m twinfield.webhooks list``). Listed URLs show the
secret as ``***``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from twinfield.hooks.focus import TeamleaderFocusHook

# invoice.sent too: with only_sent (the default) an invoice booked but not yet sent waits, and being sent
# is the change that lets it book.
TYPES = ("invoice.booked", "invoice.sent", "invoice.updated", "invoice.deleted",
         "creditNote.booked", "creditNote.updated", "creditNote.deleted")
SECRET_ENV = "FOCUS_TWINFIELD_WEBHOOK_SECRET"
RECEIVER_PATH = "/focus-twinfield-webhooks/focus/"


def webhook_url(base_url: str, secret: str) -> str:
    parts = urlsplit(base_url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError("--base-url must be https:// (Focus delivers to HTTPS URLs only)")
    if len(secret) < 32:
        raise ValueError(f"{SECRET_ENV} must be set to the receiver's secret (32+ characters)")
    return base_url.rstrip("/") + RECEIVER_PATH + secret


def masked(url: str, secret: str) -> str:
    return url.replace(secret, "***") if secret else url


def main(argv: Sequence[str] | None = None, out=sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m twinfield.webhooks", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("register", "list", "unregister"))
    parser.add_argument("--base-url", help="the Airflow API server's public base URL (register, unregister)")
    parser.add_argument("--conn-id", default="teamleader_focus_default")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_ENV, "").strip()

    hook = TeamleaderFocusHook(args.conn_id)
    if args.command == "list":
        for webhook in hook.list_webhooks():
            print(f"{masked(webhook['url'], secret)}  {', '.join(webhook['types'])}", file=out)
        return 0
    if not args.base_url:
        parser.error(f"{args.command} needs --base-url")
    try:
        url = webhook_url(args.base_url, secret)
    except ValueError as exc:
        parser.error(str(exc))
    if args.command == "register":
        hook.register_webhook(url, list(TYPES))
        print(f"registered {masked(url, secret)} for {', '.join(TYPES)}", file=out)
        return 0
    registered = [w for w in hook.list_webhooks() if w["url"] == url]
    for webhook in registered:
        hook.unregister_webhook(url, webhook["types"])
    print(f"unregistered {masked(url, secret)}" if registered else "no such webhook registered", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
