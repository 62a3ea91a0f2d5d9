"""The import plan (Twinfield customers -> Focus companies) and the companies.add body, pure."""

from __future__ import annotations

from twinfield.domain.customer_import import (
    CREATE,
    LINKED,
    MATCHED_NAME,
    MATCHED_VAT,
    SKIP,
    FocusCompany,
    company_to_add,
    plan_import,
    planned,
    report_markdown,
    summary,
)
from twinfield.domain.twinfield_model import Address, Customer


def tw(code, name, vat="", country="NL", **address):
    return Customer(code=code, name=name, vat_number=vat, address=Address(name=address.pop("addressee", name),
                                                                          country=country, **address))


def actions(decisions):
    return {d.customer.code: (d.action, d.focus_id) for d in decisions}


def test_each_customer_is_linked_matched_created_or_skipped_with_a_reason():
    focus = [FocusCompany("f-vat", "Other Name BV", "NL 8123.45.678.B01", "NL"),
             FocusCompany("f-name", "Bakkerij De Korrel B.V.", "", "NL"),
             FocusCompany("f-linked", "Linked BV", "", "NL"),
             FocusCompany("twin-1", "Namesake BV"), FocusCompany("twin-2", "Namesake BV")]
    customers = [tw("1001", "Acme", "NL812345678B01"), tw("1002", "bakkerij de korrel BV"),
                 tw("1003", "Linked BV (old)"), tw("1004", "Namesake BV"), tw("1005", "Brand New BV", "NL001"),
                 tw("1006", "Gone BV")]
    links = {"1003": ("company", "f-linked"), "1006": ("company", "f-deleted")}
    decisions = plan_import(customers, focus, links)
    assert actions(decisions) == {"1001": (MATCHED_VAT, "f-vat"), "1002": (MATCHED_NAME, "f-name"),
                                  "1003": (LINKED, "f-linked"), "1004": (SKIP, None), "1005": (CREATE, None),
                                  "1006": (SKIP, None)}
    reasons = {d.customer.code: d.reason for d in decisions}
    assert "same VAT number NL812345678B01" in reasons["1001"]
    assert "2 Focus companies are named 'Namesake BV'" in reasons["1004"]
    assert "no longer lists" in reasons["1006"]


def test_a_vat_match_beats_an_earlier_name_match_and_a_company_is_matched_once():
    focus = [FocusCompany("f1", "Acme BV", "BE0899623035", "BE")]
    # 1001 has Acme's name but no VAT number; 1002 has its VAT number: the VAT number wins.
    decisions = plan_import([tw("1001", "Acme BV"), tw("1002", "Acme Belgium", "0899.623.035", "BE")], focus, {})
    assert actions(decisions) == {"1001": (SKIP, None), "1002": (MATCHED_VAT, "f1")}
    assert "linked to Twinfield customer 1002 already" in decisions[0].reason


def test_a_company_linked_before_is_not_matched_to_another_customer():
    focus = [FocusCompany("f1", "Acme BV", "NL812345678B01", "NL")]
    decisions = plan_import([tw("1009", "Acme BV", "NL812345678B01")], focus, {"1001": ("company", "f1")})
    assert actions(decisions) == {"1009": (SKIP, None)}


def test_a_name_match_with_a_different_vat_number_is_no_match():
    focus = [FocusCompany("f1", "Acme BV", "NL812345678B01", "NL")]
    assert actions(plan_import([tw("1001", "Acme BV", "NL999999999B01")], focus, {})) == {"1001": (CREATE, None)}


def test_twinfield_duplicates_create_one_company():
    decisions = plan_import([tw("1001", "Dup BV", "NL812345678B01"), tw("1002", "Dup B.V.")], [], {})
    assert actions(decisions) == {"1001": (CREATE, None), "1002": (SKIP, None)}
    assert "Twinfield customer 1001" in decisions[1].reason


def test_several_vat_matches_pick_the_namesake_else_skip():
    focus = [FocusCompany("f1", "Acme BV", "NL812345678B01"), FocusCompany("f2", "Acme Gent", "NL812345678B01")]
    assert actions(plan_import([tw("1", "Acme Gent", "NL812345678B01")], focus, {})) == {"1": (MATCHED_VAT, "f2")}
    assert actions(plan_import([tw("1", "Acme X", "NL812345678B01")], focus, {})) == {"1": (SKIP, None)}


def test_companies_add_body_has_address_vat_and_invoicing_email():
    customer = tw("1005", "Zeilmakerij Noordenwind B.V.", "nl 8123.45.678.b01", street="Havenstraat 12",
                  postcode="1791 AB", city="Den Burg", email="boekhouding@noordenwind.example",
                  addressee="Crediteuren")
    body = company_to_add(customer, "NLA001")
    address = {"line_1": "Havenstraat 12", "postal_code": "1791 AB", "city": "Den Burg", "country": "NL"}
    assert body == {
        "name": "Zeilmakerij Noordenwind B.V.",
        "remarks": "Imported from Twinfield customer 1005 (office NLA001)",
        "vat_number": "NL812345678B01",
        "emails": [{"type": "invoicing", "email": "boekhouding@noordenwind.example"}],
        "addresses": [{"type": "primary", "address": address},
                      {"type": "invoicing", "address": {**address, "addressee": "Crediteuren"}}],
    }
    bare = company_to_add(Customer(code="9", name="Bare"), "NLA001")
    assert set(bare) == {"name", "remarks"}


def test_report_lists_every_customer_and_the_summary_the_skipped():
    decisions = plan_import([tw("1001", "A | B"), tw("1002", "A | B")], [], {})
    outcomes = planned(decisions)
    text = report_markdown("NLA001", outcomes, dry_run=True)
    assert "dry run: nothing written" in text and "| 1001 | A \\| B | created in Focus |" in text
    counts = summary(outcomes, dry_run=True)
    assert counts[CREATE] == 1 and counts[SKIP] == 1 and counts["skipped"][0]["code"] == "1002"


def test_namesakes_with_contradicting_vat_numbers_are_two_companies_in_every_run():
    # Step 3 never matches a namesake whose VAT number contradicts; step 4 must not call it a twin either, or a
    # re-run (the first one linked now) would create what the first run skipped.
    customers = [tw("1002", "Van Dijk BV", "NL812345678B01"), tw("1005", "Van Dijk B.V.", "NL999999990B01")]
    first = plan_import(customers, [], {})
    assert actions(first) == {"1002": (CREATE, None), "1005": (CREATE, None)}
    focus = [FocusCompany("f-2", "Van Dijk BV", "NL812345678B01", "NL"), FocusCompany("f-5", "Van Dijk B.V.",
                                                                                     "NL999999990B01", "NL")]
    again = plan_import(customers, focus, {"1002": ("company", "f-2"), "1005": ("company", "f-5")})
    assert actions(again) == {"1002": (LINKED, "f-2"), "1005": (LINKED, "f-5")}
