"""twinfield.domain.customers: link, then VAT number, then exact name; never two customers for one."""

from __future__ import annotations

import pytest

from twinfield.domain.customers import (
    CREATE, LINKED, MATCHED_NAME, MATCHED_VAT, UNRESOLVED, match_customers, normalise_name, normalise_vat,
    to_twinfield_customer, vat_number_problem,
)
from twinfield.domain.focus_model import CustomerRef, FocusCustomer
from twinfield.domain.twinfield_model import Address, Customer


def focus(id_: str, name: str, vat: str = "", country: str = "NL", type_: str = "company") -> FocusCustomer:
    return FocusCustomer(ref=CustomerRef(type_, id_), name=name, vat_number=vat, country=country)


TWINFIELD = [
    Customer("1001", "Jansen & Zonen B.V.", vat_number="NL123456789B01"),
    Customer("1002", "Jansen & Zonen B.V."),
    Customer("1003", "De Boer Techniek BV", vat_number="NL999999999B01"),
    Customer("1004", "Atelier Élodie", vat_number="0477472701", address=Address(country="BE")),
    Customer("1005", "Twin", vat_number="DE111111111"),
    Customer("1006", "Twin GmbH", vat_number="DE 111 111 111"),
    Customer("1007", "Anna de Vries"),
]


def decide(customer: FocusCustomer, links=None):
    [decision] = match_customers([customer], TWINFIELD, links or {})
    return decision.action, decision.code


@pytest.mark.parametrize("raw, country, normal", [
    ("be 0477.472.701", "", "BE0477472701"), ("0477472701", "BE", "BE0477472701"), ("NL 1234-56789 B01", "",
                                                                                     "NL123456789B01"),
    ("GR123456789", "", "EL123456789"), ("", "NL", ""), ("123", "", "123"),
])
def test_normalise_vat(raw, country, normal):
    assert normalise_vat(raw, country) == normal


def test_normalise_name_keeps_legal_forms_but_not_their_punctuation():
    assert normalise_name("  Jansen &  Zonen B.V. ") == normalise_name("JANSEN & ZONEN BV") == "jansen & zonen bv"
    assert normalise_name("Acme BV") != normalise_name("Acme NV") != normalise_name("Acme")


def test_stored_link_wins_and_a_stale_link_is_left_for_a_person():
    customer = focus("c1", "Jansen & Zonen B.V.", "NL123456789B01")
    assert decide(customer, {customer.ref: "1002"}) == (LINKED, "1002")
    action, code = decide(customer, {customer.ref: "0999"})
    assert (action, code) == (UNRESOLVED, None)


def test_vat_number_match_is_normalised_and_uses_the_address_country():
    assert decide(focus("c1", "Jansen en Zonen", "nl 123456789 b01")) == (MATCHED_VAT, "1001")
    assert decide(focus("c2", "L'Atelier d'Élodie SPRL", "BE 0477.472.701", "BE")) == (MATCHED_VAT, "1004")


def test_several_customers_with_one_vat_number_need_the_name_or_a_person():
    assert decide(focus("c1", "Twin GmbH", "DE111111111", "DE")) == (MATCHED_VAT, "1006")
    assert decide(focus("c2", "Twin AG", "DE111111111", "DE")) == (UNRESOLVED, None)


def test_exact_normalised_name_match():
    assert decide(focus("c1", "de boer techniek b.v.")) == (MATCHED_NAME, "1003")
    assert decide(focus("p1", "Anna  de Vries", type_="contact")) == (MATCHED_NAME, "1007")


def test_name_match_refused_when_vat_numbers_differ():
    assert decide(focus("c1", "De Boer Techniek BV", "NL888888888B01")) == (CREATE, None)


def test_ambiguous_name_creates_a_new_customer():
    [decision] = match_customers([focus("c1", "Jansen & Zonen B.V.")], TWINFIELD, {})  # 1001 and 1002
    assert (decision.action, decision.code) == (CREATE, None)
    assert "several Twinfield customers are named" in decision.reason


def test_unknown_customer_is_created():
    assert decide(focus("c1", "Nieuwe Klant BV")) == (CREATE, None)


def test_one_decision_per_focus_customer():
    same = focus("c1", "Nieuwe Klant BV")
    decisions = match_customers([same, same, focus("c2", "Nieuwe Klant BV")], TWINFIELD, {})
    assert [(d.ref.id, d.action) for d in decisions] == [("c1", CREATE), ("c2", CREATE)]


def test_to_twinfield_customer():
    fc = FocusCustomer(ref=CustomerRef("company", "c1"), name="L'Atelier d'Élodie SPRL", vat_number="BE 0477.472.701",
                       email="factures@atelier.example", iban="be68 5390 0754 7034", street="Dok Noord 3A",
                       postcode="9000", city="Gent", country="be", addressee="Boekhouding", payment_days=14)
    customer, note = to_twinfield_customer(fc, payment_days=30, office="NLA001")
    assert note is None
    assert customer == Customer(
        code=None, name="L'Atelier d'Élodie SPRL", vat_number="BE0477472701", due_days=14,
        address=Address(name="Boekhouding", street="Dok Noord 3A", postcode="9000", city="Gent", country="BE",
                        email="factures@atelier.example"),
        iban="BE68539007547034", office="NLA001")
    plain, note = to_twinfield_customer(focus("p1", "Anna de Vries", type_="contact"), payment_days=21)
    assert (plain.code, plain.due_days, plain.address.name, plain.vat_number, note) == (
        None, 21, "Anna de Vries", "", None)


@pytest.mark.parametrize("raw, country", [
    ("NL 8625.12345.B01", ""), ("nl862512345b01", ""), ("BE 0477.472.701", ""), ("0477472701", "BE"),
    ("DE123456789", ""), ("FR4A123456789", ""), ("GB123456789", ""), ("GB123456789012", ""), ("GBGD123", ""),
    ("ATU12345678", ""), ("GR123456789", ""), ("ESX1234567Z", ""), ("IE1234567FA", ""), ("IE1A23456W", ""),
    ("CHE-123.456.789 MWST", ""), ("CHE123456789", ""), ("NO 123 456 789 MVA", ""), ("SE123456789001", ""),
    ("IT12345678901", ""), ("PL1234567890", ""), ("XI123456789", ""),
])
def test_valid_vat_numbers(raw, country):
    assert vat_number_problem(normalise_vat(raw, country)) is None


@pytest.mark.parametrize("raw, country, problem", [
    ("123456789", "", "no country prefix"), ("NL123456789", "", "form of a NL"), ("NL123456789B1", "", "form of a NL"),
    ("BE477472701", "", "form of a BE"), ("BE2477472701", "", "form of a BE"), ("DE12345678", "", "form of a DE"),
    ("US123456789", "", "US is not a country"), ("ATX12345678", "", "form of a AT"), ("NL12345678OB01", "", "form"),
    ("CHE12345678", "", "form of a CH"),
])
def test_invalid_vat_numbers(raw, country, problem):
    assert problem in vat_number_problem(normalise_vat(raw, country))


def test_an_invalid_vat_number_is_left_out_with_a_note():
    customer, note = to_twinfield_customer(focus("c9", "Odd BV", vat="NL 1234 5678"))
    assert customer.vat_number == "" and customer.code is None
    assert note == "VAT number 'NL 1234 5678' left out of the new Twinfield customer: it does not have the form of a NL VAT number"
    customer, note = to_twinfield_customer(focus("c9", "Even BV", vat="1234.56.789.B01"))
    assert (customer.vat_number, note) == ("NL123456789B01", None)
