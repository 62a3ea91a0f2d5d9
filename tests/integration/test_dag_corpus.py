"""A corpus of bad and unusual documents, built through the Focus sandbox's control endpoints, through the DAG
(``dag.test()``, ``group_lines: per_line``) in one run: each one is booked with its totals, per-account revenue
and VAT to the cent and its text as XML can carry it, or held back with a reason that names the problem and
its Focus link; every valid document of the same run is booked; no stage fails.

What each case should do is written beside it, from Focus's data and plain rules, not from the pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import defaultdict
from decimal import Decimal

import pendulum
import pytest
import requests

from sandbox import airflow_env, chart
from sandbox.focus.data import stable_id
from sandbox.server import Sandbox, SandboxConfig
from tests.integration.world import DEFAULTS, OFFICE, booked_number, expected_outcomes
from twinfield.domain.xml_text import xml_safe
from twinfield.state import StateStore, runs

pytestmark = pytest.mark.integration

ZERO = Decimal("0")
CODE_OF_RATE = {Decimal("0.21"): "VH", Decimal("0.09"): "VL"}  # the VAT map for the rates that carry VAT
LEDGER = dict(chart.PRODUCT_CATEGORIES)
CATEGORY_NAMES = {stable_id("product_category", name): name for name in LEDGER}  # ids are stable across seeds
HOSTILE = [
    "Bell \x07 ring", "Start \x01 of heading", "Escape \x1b[31m red", "NUL \x00 byte", "Non-char \ufffe here",
    "Non-char \uffff there", "All \x07\x01\x1b\x00\ufffe\uffff at once", "<script>alert('x')</script>",
    "Switch 24 ports <PoE>", "pipes | in | text", "&amp; entity &lt; and ]]> end", "emoji 😀 and 🇳🇱 flag",
    "עברית RTL ‏mark", "zero\u200bwidth\u200djoiner", "tab\tand\nnewline\r\nin it", "   padded   ",
    "**bold** _under_ [link](http://evil.example)", "'; DROP TABLE postings; --", "back\\slash \\n",
    "Cafe\u0301 decomposed", "長い説明文" * 10, "x" * 250, "Ünïcödé Ærø Straße", "quote \"double\" 'single'",
]


def _loads(response: requests.Response) -> dict:
    assert response.status_code < 300, response.text
    return json.loads(response.text, parse_float=Decimal) if response.text else {}


class Corpus:
    """The cases: Focus id -> (kind, expectation). Expectation: "booked" or the words the reasons contain."""

    def __init__(self, sb: Sandbox):
        self.sb = sb
        self.http = requests.Session()
        self.base = f"{sb.url}/focus/_sandbox"
        self.cases: dict[str, tuple[str, str, object]] = {}  # id -> (case name, kind, "booked" | [words])
        self.notes: dict[str, list[str]] = defaultdict(list)  # id -> words a report note on it contains

    def post(self, path: str, body: dict) -> dict:
        return _loads(self.http.post(f"{self.base}/{path}", json=body, timeout=30))

    def edit(self, invoice: dict, name: str, body: dict, expect, kind: str = "invoices") -> None:
        self.post(f"{kind}/{invoice['id']}/edit", body)
        self.cases[invoice["id"]] = (name, "invoice" if kind == "invoices" else "credit_note", expect)


def build(sb: Sandbox) -> Corpus:
    corpus = Corpus(sb)
    data = sb.focus.data
    expected = expected_outcomes(sb)
    category = {c["name"]: c["id"] for c in data.product_categories}
    nl = next(d["id"] for d in data.departments if d["name"] == "Acme Nederland")
    rate_id = {t["description"]: t["id"] for t in data.tax_rates if t["department"]["id"] == nl}
    noted = {n["invoice"]["id"] for n in data.credit_notes}
    # Invoices every rule says are fine, unpaid, uncredited, in EUR, of the Dutch department, one rate (21%)
    plain = [i for i in data.invoices if i["status"] == "outstanding" and not i["payments"]
             and booked_number(i, {d["id"]: d["name"] for d in data.departments}) in expected.booked
             and i["id"] not in noted and i["currency"] == "EUR" and i["department"]["id"] == nl]
    pool = iter(plain)
    taken: set[str] = set()

    def take(source=pool) -> dict:
        for invoice in source:
            if invoice["id"] not in taken:
                taken.add(invoice["id"])
                return invoice
        raise AssertionError("the generated data has too few plain invoices for the corpus")

    line = {"quantity": "1", "unit_price": "100.00", "tax_rate_id": rate_id["21%"],
            "product_category_id": category["Hardware"]}

    # -- customers: companies invoiced least, each with every document of theirs that would be booked
    names = {d["id"]: d["name"] for d in data.departments}
    of_company = defaultdict(list)
    for doc in data.invoices + data.credit_notes:
        if doc["invoicee"]["customer"]["type"] == "company" and (
                doc.get("status") != "draft" and booked_number(doc, names) in expected.booked):
            of_company[doc["invoicee"]["customer"]["id"]].append(doc)
    companies = iter(sorted(of_company, key=lambda c: (len(of_company[c]), c)))
    for name, body, expect in [
        ("company name with BEL", {"name": "Bell\x07 & Söhne B.V."}, "booked"),
        ("company name of 250 characters", {"name": "Lange Naam " + "x" * 239}, "booked"),
        ("lowercase VAT number", {"vat_number": "nl123456789b01"}, "booked"),
        ("malformed VAT number", {"vat_number": "XX-12"}, "booked"),
        ("no address fields", {"address": {"line_1": None, "postal_code": None, "city": None}}, "booked"),
        ("no address at all", {"address": None}, "booked"),
        ("street with ESC and NUL", {"address": {"line_1": "Straat\x1b 1\x00"}}, "booked"),
        ("deleted company", None, ["has no Twinfield customer"]),
    ]:
        company = next(companies)
        if body is None:
            _loads(corpus.http.delete(f"{corpus.base}/customers/company/{company}", timeout=30))
        else:
            corpus.post(f"customers/company/{company}/edit", body)
        for doc in of_company[company]:
            taken.add(doc["id"])
            corpus.cases[doc["id"]] = (name, "invoice" if "invoice_number" in doc else "credit_note", expect)
    # -- hostile text in line descriptions (sent per line): booked, cleaned, noted when characters went
    for text in HOSTILE:
        invoice = take()
        corpus.edit(invoice, f"description {text[:20]!r}", {"line": 0, "description": text}, "booked")
        if xml_safe(text) != text:
            corpus.notes[invoice["id"]].append("line 1 description: removed")
    corpus.edit(take(), "unknown company id", {"invoicee": {"customer": {"type": "company", "id": "no-such-company"}}},
                ["has no Twinfield customer"])
    corpus.edit(take(), "invoicee is an unknown contact", {"invoicee": {"customer": {"type": "contact",
                                                                                      "id": "no-such-contact"}}},
                ["has no Twinfield customer"])
    corpus.edit(take(), "invoicee without a name", {"invoicee": {"name": ""}}, "booked")
    # -- amounts
    discounted = take()
    corpus.post(f"invoices/{discounted['id']}/lines", {"lines": [line]})
    corpus.edit(discounted, "100% discount on a line", {"line": 0, "discount": "100"}, "booked")
    free = take()
    corpus.post(f"invoices/{free['id']}/lines", {"lines": [line]})
    corpus.edit(free, "every line free", {"line": 0, "discount": "100"}, "booked")
    corpus.post(f"invoices/{free['id']}/edit", {"line": len(_lines(free)), "discount": "100"})
    for name, extra, expect in [
        ("a line cancelling another at 21%", {**line, "unit_price": "-100.00",
                                              "product_category_id": category["Consulting"]}, "booked"),
        ("a trade-in (negative) line", {**line, "unit_price": "-12.34"}, "booked"),
        ("a fractional quantity", {**line, "quantity": "0.333", "unit_price": "3.33"}, "booked"),
        ("a huge amount", {**line, "quantity": "1000", "unit_price": "9999.99"}, "booked"),
        ("a unit price with 4 decimals", {**line, "quantity": "3", "unit_price": "0.3333"}, "booked"),
        ("a line at 9% too", {**line, "tax_rate_id": rate_id["9%"], "product_category_id": category["Training"]},
         "booked"),
        ("a negative line at 9% (negative base)", {**line, "tax_rate_id": rate_id["9%"], "unit_price": "-40.00"},
         "booked"),
        ("a line without product category", {**line, "product_category_id": None}, ["no product category"]),
        ("a line on ledger 8999", {**line, "product_category_id": category["Legacy services"]}, ["8999"]),
        ("a services line on an ICP rate (performance date)",
         {**line, "tax_rate_id": rate_id["0% intracommunautair"], "product_category_id": category["Training"]},
         "booked"),
        ("a goods line on an ICP rate", {**line, "tax_rate_id": rate_id["0% intracommunautair"],
                                         "product_category_id": category["Intra-EU deliveries"]}, "booked"),
        ("an export line", {**line, "tax_rate_id": rate_id["0% export"],
                            "product_category_id": category["Export"]}, "booked"),
        ("a 0% domestic line", {**line, "tax_rate_id": rate_id["0%"]}, "booked"),
        ("a negative quantity", {**line, "quantity": "-2", "unit_price": "15.00"}, "booked"),
        ("a zero quantity", {**line, "quantity": "0"}, "booked"),
        ("hostile text in an added line", {**line, "description": "Added \x07\x00 <b>line</b> | x"}, "booked"),
    ]:
        invoice = take()
        corpus.post(f"invoices/{invoice['id']}/lines", {"lines": [extra]})
        corpus.cases[invoice["id"]] = (name, "invoice", expect)
    zero = take()  # a line cancelling all the others: total 0, lines not
    current = _loads(corpus.http.get(f"{corpus.base}/invoices/{zero['id']}", timeout=30))["data"]
    net = current["total"]["tax_exclusive"]["amount"]
    corpus.post(f"invoices/{zero['id']}/lines", {"lines": [{**line, "unit_price": str(-net),
                                                              "product_category_id": category["Consulting"]}]})
    corpus.cases[zero["id"]] = ("total zero, lines not", "invoice", "booked")
    corpus.notes[zero["id"]].append("its total is 0.00")
    whole = take()
    for index in range(len(_lines(whole))):
        corpus.post(f"invoices/{whole['id']}/edit", {"line": index, "unit_price": "-25.00"})
    corpus.cases[whole["id"]] = ("a negative invoice", "invoice", "booked")
    for name, count, expect in [("999 more lines (1000 in Focus)", 999, ["at most 1000"]),
                                ("1000 more lines (1001+ in Focus)", 1000, ["at most 1000"]),
                                ("997 lines: 1000 in Twinfield", None, "booked")]:
        invoice = take()
        lines = _lines(invoice)
        codes = len({ln["tax"]["id"] for ln in lines} | {rate_id["21%"]})  # one VAT line per rate's VAT code
        repeat = count if count is not None else 1000 - 1 - codes - len(lines)  # + the total line
        corpus.post(f"invoices/{invoice['id']}/lines", {"lines": [line], "repeat": repeat})
        corpus.cases[invoice["id"]] = (name, "invoice", expect)
    # -- VAT
    reverse = corpus.post("tax_rates", {"department_id": nl, "description": "0% BTW verlegd", "rate": "0"})["data"]
    corpus.edit(take(), "reverse-charge tax rate", {"line": 0, "tax_rate_id": reverse["id"]}, ["0% BTW verlegd"])
    corpus.edit(take(), "unknown tax rate id", {"line": 0, "tax_rate_id": "tax-rate-deleted-since"},
                ["tax-rate-deleted-since is unknown in Focus"])
    corpus.edit(take(), "withheld tax", {"line": 0, "withheld_tax": "0.15"}, ["withholds"])
    corpus.edit(take(), "Belgian 6% on a Dutch invoice", {"line": 0, "tax_rate_id": next(
        t["id"] for t in data.tax_rates if t["description"] == "6%")}, ["'6%'"])
    # -- dates
    # Twinfield refuses a date in a year it has no periods for, naming the period ("Periode '1999/06' bestaat niet")
    corpus.edit(take(), "dated 1999", {"date": "1999-06-15"}, ["Periode", "1999/"])
    corpus.edit(take(), "dated 2014", {"date": "2014-12-31"}, ["Periode", "2014/"])
    corpus.edit(take(), "due before its date", {"due_on": "2001-01-01"}, "booked")
    corpus.edit(take(), "no due date", {"due_on": None}, "booked")
    corpus.edit(take(), "dated on a leap day", {"date": "2024-02-29"}, "booked")
    corpus.edit(take(), "dated on new year's eve", {"date": "2025-12-31"}, "booked")
    corpus.edit(take(), "dated 2040", {"date": "2040-01-02"}, ["Periode", "2040/"])
    # -- numbering
    for name, number, expect in [("number without spaces", "2025/9101", "booked"),
                                 ("number with a letter", "2025 / 91a", ["not of the form"]),
                                 ("number of another form", "INV-0042", ["not of the form"]),
                                 ("markup in the number", "<script>1</script>", ["not of the form"]),
                                 ("a very long number", "2025 / 123456789012345678901234567890", ["longer than"]),
                                 ("a long but fitting number", "2025 / 12345678901234", "booked"),
                                 ("sequence zero", "2025 / 0", "booked"),
                                 ("no number at all", "", ["no number"])]:
        corpus.edit(take(), name, {"number": number}, expect)
    # -- currencies
    corpus.edit(take(), "a currency the office lacks", {"currency": "CHF"}, ["currency CHF"])
    corpus.edit(take(), "a currency Twinfield does not know", {"currency": "MAD"}, ["currency MAD"])
    corpus.edit(take(), "switched to USD", {"currency": "USD"}, "booked")
    # -- credit notes
    notes = [n for n in data.credit_notes if booked_number(n, {d["id"]: d["name"] for d in data.departments})
             in expected.booked]
    for note, (name, body, extra) in zip(notes, [
        ("a positive line on a credit note", {}, {**line, "unit_price": "-30.00"}),
        ("credit note description with BEL", {"line": 0, "description": "Credit \x07 bell"}, None),
        ("credit note with an extra line", {}, {**line, "tax_rate_id": rate_id["9%"]}),
    ]):
        if extra is not None:
            corpus.post(f"credit_notes/{note['id']}/lines", {"lines": [extra]})
        if body:
            corpus.post(f"credit_notes/{note['id']}/edit", body)
        corpus.cases[note["id"]] = (name, "credit_note", "booked")
    return corpus


def _lines(document: dict) -> list[dict]:
    return [item for group in document["grouped_lines"] for item in group["line_items"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("corpus")
    mappings = home / "mappings"
    shutil.copytree(airflow_env.CONFIG.parent, mappings)
    config = mappings / "sync.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("group_lines: per_account", "group_lines: per_line"),
                      encoding="utf-8")
    sb = Sandbox(SandboxConfig(invoices=420, seed=23, focus_rate_limit=100_000,
                               twinfield_credits_per_minute=100_000)).start()
    airflow_env.prepare(home / "airflow", sb.connections(), config=config)
    os.environ["AIRFLOW_CONN_FOCUS_TWINFIELD_STATE"] = f'{{"conn_type": "sqlite", "host": "{home / "state.db"}"}}'
    yield sb, airflow_env.load_dag(), StateStore(f"sqlite:///{home / 'state.db'}")
    sb.stop()
    os.environ.clear()
    os.environ.update(saved)


def test_corpus_of_bad_documents_in_one_run(world):
    sb, dag, store = world
    baseline = expected_outcomes(sb)  # the generated documents' own fates, before the corpus edits them
    corpus = build(sb)
    assert len(corpus.cases) >= 80, len(corpus.cases)
    started = time.monotonic()
    # From 1990: a run from a later starting date would not even list the documents dated 1999 and 2014.
    dagrun = dag.test(logical_date=pendulum.datetime(2030, 1, 1, tz="UTC"),
                      run_conf={**DEFAULTS, "starting_date": "1990-01-01"})
    elapsed = time.monotonic() - started
    markdown, report = runs.get_report(store, dagrun.run_id)
    states = {ti.task_id: str(ti.state) for ti in dagrun.get_task_instances()}
    assert set(states.values()) == {"success"}, (states, report.get("stages"))

    departments = {d["id"]: d["name"] for d in sb.focus.data.departments}
    transactions = {t["invoicenumber"]: t for t in sb.twinfield.transactions(OFFICE)}
    held = {(h["kind"], h["focus_id"]): h for h in report["held_back"]}
    outcome = {"booked": 0, "held back": 0}
    wrong = []  # every case that did not go as expected, said at once
    for focus_id, (name, kind, expect) in corpus.cases.items():
        doc = sb.focus.invoice(focus_id) if kind == "invoice" else sb.focus.credit_note(focus_id)
        entry = held.get((kind, focus_id))
        try:
            if expect == "booked":
                number = booked_number(doc, departments)
                assert number in transactions, f"not booked: {entry and entry['reasons']}"
                check_booked(name, doc, kind, transactions[number])
                for words in corpus.notes.get(focus_id, []):
                    assert any(words in n and doc["invoice_number"] in n for n in report["notes"]), "no note"
                outcome["booked"] += 1
            else:
                assert entry is not None, "not held back"
                reasons = " ".join(entry["reasons"])
                assert all(word in reasons for word in expect), reasons
                link = f"https://focus.teamleader.eu/invoice_detail.php?id={focus_id}"
                assert kind != "invoice" or entry["web_url"] == link, entry["web_url"]
                outcome["held back"] += 1
        except (AssertionError, KeyError) as exc:
            wrong.append(f"{name}: {exc!r}"[:400])
    assert not wrong, "\n".join(wrong)
    # The documents the corpus did not touch: every valid one booked, the rest as test_dag_sync expects.
    for number, doc in baseline.booked.items():
        if doc["id"] not in corpus.cases:
            assert number in transactions, number
    assert "<script>" not in markdown and "<PoE>" not in markdown and "\x07" not in markdown
    print(f"\ncorpus: {len(corpus.cases)} documents, {outcome['booked']} booked, {outcome['held back']} held back; "
          f"dag.test {elapsed:.0f} s; {len(transactions)} transactions in Twinfield")


def check_booked(name: str, doc: dict, kind: str, tx: dict) -> None:
    """Total, revenue per account and VAT per code to the cent; each line's description as XML carries it."""
    sign = 1 if kind == "invoice" else -1  # Twinfield's natural side: credit revenue for an invoice
    total = doc["total"]["tax_inclusive"]["amount"]
    assert Decimal(tx["value"]) == sign * total, name
    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    vat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    descriptions = []
    for ln in tx["lines"]:
        signed = Decimal(ln["value"]) * (1 if ln["debitcredit"] == "credit" else -1) * sign
        if ln["type"] == "detail":
            revenue[ln["dim1"]] += signed
            descriptions.append(ln["description"])
        elif ln["type"] == "vat":
            vat[ln["vatcode"]] += signed
    expected_revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    expected_descriptions = []
    for line in _lines(doc):
        net = line["total"]["tax_exclusive"]["amount"]
        if net == 0:
            continue
        expected_revenue[LEDGER[CATEGORY_NAMES[line["product_category"]["id"]]]] += net
        expected_descriptions.append(" ".join(xml_safe(line["description"]).split())[:40].rstrip(" ,")
                                     or None)
    assert {k: v for k, v in revenue.items() if v} == {k: v for k, v in expected_revenue.items() if v}, name
    expected_vat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for tax in doc["total"]["taxes"]:
        if tax["tax"]["amount"]:
            expected_vat[CODE_OF_RATE[tax["rate"]]] += tax["tax"]["amount"]
    assert {k: v for k, v in vat.items() if v} == dict(expected_vat), name
    assert sum(revenue.values(), ZERO) + sum(vat.values(), ZERO) == total, name
    assert [d for d, e in zip(descriptions, expected_descriptions) if e] == [e for e in expected_descriptions if e], \
        name
