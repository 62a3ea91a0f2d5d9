"""``make demo``: the whole job against the sandbox, on a fresh machine, in a few minutes.

1. starts the sandbox (Focus + Twinfield emulators, realistic seeded data, the real rate limits) on 127.0.0.1;
2. makes a throw-away Airflow (``airflow db migrate``) that reaches it through AIRFLOW_CONN_* variables;
3. runs the DAG with ``airflow dags test`` from a starting date: drafts in Twinfield, held-back invoices;
4. acts as the bookkeeper in Twinfield: makes some drafts final and matches payments, fully and partly; and
   changes an invoice in Focus that is still a draft in Twinfield;
5. runs the DAG again: nothing is booked twice, the changed invoice updates its draft in place (same Twinfield
   number, new total: an update carries the draft's number), the payments appear in Focus;
6. prints what happened, and where the reports and logs are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sandbox import airflow_env
from sandbox.server import Sandbox, SandboxConfig

OFFICE = "NLA001"
DAG_ID = "focus_twinfield_sync"
SHOWN = 8  # held-back documents printed (the report has them all)


def say(text: str = "") -> None:
    print(text, flush=True)


def run_dag(home: Path, logical_date: dt.datetime, conf: dict, log_name: str) -> float:
    """``airflow dags test`` in its own process (as a person would run it); its log goes to a file."""
    started = time.monotonic()
    log = home / log_name
    with log.open("w") as out:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "dags", "test", DAG_ID, logical_date.isoformat(),
             "-c", json.dumps(conf)],
            env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT, check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"airflow dags test failed (exit {done.returncode}); see {log}")
    return time.monotonic() - started


def latest_report(home: Path) -> tuple[str, str, dict]:
    from twinfield.state import StateStore, runs  # noqa: PLC0415 - after the environment is set

    found = runs.latest_report(StateStore(f"sqlite:///{home / 'state.db'}"))
    if found is None:
        raise SystemExit(f"the run left no report; see the logs in {home}")
    return found


def summary_table(markdown: str) -> str:
    """The report's first table (counts per stage)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| stage"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def act_as_bookkeeper(sandbox: Sandbox, home: Path) -> list[tuple[str, str, str]]:
    """Finalise eight drafts of invoices nobody paid or credited in Focus yet; match four fully, two partly,
    leave two open. Returns what was done."""
    from twinfield.state import StateStore, postings  # noqa: PLC0415 - after the environment is set

    store = StateStore(f"sqlite:///{home / 'state.db'}")
    booked = {p.invoice_number: p.focus_id for p in postings.postings(store).values()}
    twinfield = sandbox.twinfield
    def untouched_in_focus(invoice_id: str) -> bool:  # no payment, no credit note: all of it still due
        total = sandbox.focus.invoice(invoice_id)["total"]
        return total["due"]["amount"] == total["tax_inclusive"]["amount"]

    drafts = [t for t in twinfield.transactions(OFFICE) if t["status"] == "temporary" and Decimal(t["value"]) > 0
              and untouched_in_focus(booked[t["invoicenumber"]])]
    done = []
    for i, tx in enumerate(drafts[:8]):
        twinfield.finalize(OFFICE, tx["daybook"], tx["number"])
        if i < 4:
            twinfield.match(OFFICE, tx["daybook"], tx["number"])
            done.append((tx["invoicenumber"], "final, paid in full", tx["value"]))
        elif i < 6:
            part = (Decimal(tx["value"]) * Decimal("0.4")).quantize(Decimal("0.01"))
            twinfield.match(OFFICE, tx["daybook"], tx["number"], amount=part)
            done.append((tx["invoicenumber"], f"final, paid {part} of", tx["value"]))
        else:
            done.append((tx["invoicenumber"], "final, not paid yet", tx["value"]))
    return done


def change_a_draft_invoice(sandbox: Sandbox, home: Path, touched: set[str]) -> dict | None:
    """Add one to the first line's quantity of an invoice that is still an untouched draft in Twinfield; returns
    its transaction as it was."""
    from twinfield.state import StateStore, postings  # noqa: PLC0415 - after the environment is set

    booked = {p.invoice_number: p for p in postings.postings(StateStore(f"sqlite:///{home / 'state.db'}")).values()}
    for tx in sandbox.twinfield.transactions(OFFICE):
        posting = booked.get(tx["invoicenumber"])
        if tx["status"] == "temporary" and tx["invoicenumber"] not in touched and posting and posting.kind == "invoice":
            invoice = sandbox.focus.invoice(posting.focus_id)
            if invoice["total"]["due"]["amount"] != invoice["total"]["tax_inclusive"]["amount"]:
                continue  # Focus refuses to change the amounts of an invoice with payments
            first = invoice["grouped_lines"][0]["line_items"][0]
            sandbox.focus.edit_invoice(posting.focus_id, line=0, quantity=first["quantity"] + 1)
            return tx
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=150)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="focus-twinfield-demo-"))
    say(f"Starting the sandbox with {args.invoices} Focus invoices (real rate limits: Focus 200 requests/min, "
        "Twinfield 500 credits/min) ...")
    sandbox = Sandbox(SandboxConfig(invoices=args.invoices, seed=args.seed)).start()
    try:
        say(f"Sandbox on {sandbox.url}; a throw-away Airflow in {home} (airflow db migrate) ...")
        airflow_env.prepare(home, sandbox.connections())
        starting_date = sandbox.focus.data.anchor - dt.timedelta(days=120)
        conf = {"starting_date": starting_date.isoformat()}
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

        say(f"\n== Run 1: airflow dags test {DAG_ID} (starting date {starting_date}) ==")
        seconds = run_dag(home, now - dt.timedelta(minutes=2), conf, "run1.log")
        run_id, markdown, report = latest_report(home)
        say(f"finished in {seconds:.0f} s; run {run_id}\n")
        say(summary_table(markdown))
        drafts = sandbox.twinfield.transactions(OFFICE)
        say(f"\nTwinfield office {OFFICE} now holds {len(drafts)} draft sales transactions, e.g.:")
        for tx in drafts[:5]:
            total = next(line for line in tx["lines"] if line["type"] == "total")
            say(f"  {tx['invoicenumber']:<14} customer {tx['customer']:<6} {tx['value']:>10} {tx['currency']}"
                f"  ({tx['status']}, period {tx['period']}, debtors {total['dim1']}, {len(tx['lines'])} lines)")
        say("  (no period and no debtors account are sent: Twinfield takes the period from the date by the office's\n"
            "   own scheme, 13 four-week periods in this one, and the customer's own collective account)")
        created = sandbox.twinfield.customers(OFFICE)
        say(f"\nTwinfield customers ({len(created)}), with the Focus invoicing address and VAT number, e.g.:")
        for customer in created[:4]:
            address = next(iter(customer["addresses"]), {})
            say(f"  {customer['code']:<6} {customer['name'][:32]:<32} {address.get('field2', '')}, "
                f"{address.get('postcode', '')} {address.get('city', '')} {address.get('country', '')}"
                f"  VAT {customer['vatnumber'] or '-'}")
        say(f"\nHeld back: {len(report['held_back'])} documents. What to fix first:")
        for cause in report["causes"]:
            say(f"  {cause['documents']:>3} x {cause['subject']}")
        say("Each held-back document with every reason and its Focus link, e.g.:")
        for held in report["held_back"][:SHOWN]:
            say(f"  {held['focus_number']}: {'; '.join(held['reasons'])}")
            if held["web_url"]:
                say(f"      {held['web_url']}")
        if len(report["held_back"]) > SHOWN:
            say(f"  ... and {len(report['held_back']) - SHOWN} more in the report")
        if report["waiting"]:
            say(f"Waiting in Focus (not sent yet): {', '.join(w['focus_number'] for w in report['waiting'])}")

        say("\n== The bookkeeper works in Twinfield ==")
        touched = set()
        for number, what, value in act_as_bookkeeper(sandbox, home):
            touched.add(number)
            say(f"  {number:<14} {what} {value}")
        changed = change_a_draft_invoice(sandbox, home, touched)
        if changed:
            say(f"\n== Someone changes invoice {changed['invoicenumber']} in Focus (a draft in Twinfield, "
                f"number {changed['number']}, {changed['value']} {changed['currency']}) ==")

        say(f"\n== Run 2: airflow dags test {DAG_ID} ==")
        seconds = run_dag(home, now - dt.timedelta(minutes=1), conf, "run2.log")
        run_id, markdown, report = latest_report(home)
        say(f"finished in {seconds:.0f} s; run {run_id}\n")
        say(summary_table(markdown))
        if changed:
            after = [t for t in sandbox.twinfield.transactions(OFFICE) if t["invoicenumber"] == changed["invoicenumber"]]
            say(f"\nInvoice {changed['invoicenumber']} in Twinfield now: "
                + ", ".join(f"number {t['number']}, {t['value']} {t['currency']} ({t['status']})" for t in after)
                + " - updated in place, not booked twice")
        say(f"\nPayments registered in Focus ({len(report['payments'])}):")
        focus = sandbox.focus
        numbers = {i["id"]: i["invoice_number"] for i in focus.data.invoices}
        for payment in report["payments"]:
            say(f"  invoice {payment['focus_number']:<12} {payment['amount']:>10} {payment['currency']} "
                f"paid on {payment['paid_at']}")
        say("Focus now shows (payments made through the API):")
        for invoice_id, number in numbers.items():
            via_api = [p for p in focus.payments(invoice_id) if p["via"] == "api"]
            if via_api:
                state = focus.invoice(invoice_id)
                paid = ", ".join(f"{p['amount']} on {p['paid_at'][:10]}" for p in via_api)
                say(f"  invoice {number:<12} status {state['status']:<11} payments: {paid}")

        say(f"\nReports (Markdown and JSON): {home / 'reports'}")
        say(f"Airflow task logs: {home / 'run1.log'}, {home / 'run2.log'}")
        say(f"Demo done in {time.monotonic() - started:.0f} s.")
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
