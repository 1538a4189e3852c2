"""The checks every entry path shares: VAT and tax IDs, account numbers, endpoints, tags, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.core.errors import DomainError, InvalidAmount, InvalidInput, UnknownCurrency
from billops.customers.errors import HierarchyCycle, InvalidTaxId, InvalidVatId
from billops.customers.taxids import clean_tax_id, clean_vat_id
from billops.customers.validation import (
    NEW_CUSTOMER,
    check_address,
    check_contact,
    check_customer,
    clean_account_number,
    clean_amount,
    clean_einvoice_endpoint,
    clean_phone,
    clean_tags,
)

TODAY = date(2025, 6, 1)
pytestmark = pytest.mark.django_db  # payment terms are looked up in the database


def new(**fields: object) -> tuple[dict, list[DomainError]]:
    raw = {"account_number": "C-1", "legal_name": "Acme GmbH", "currency": "EUR", "country": "DE", **fields}
    return check_customer(raw, base=None, today=TODAY)


def fields_of(errors: list[DomainError]) -> list[str | None]:
    return [error.field for error in errors]


@pytest.mark.parametrize(
    ("given", "country", "stored"),
    [
        ("DE 136 695 976", "DE", "DE136695976"),
        ("de136695976", "DE", "DE136695976"),
        ("136695976", "DE", "DE136695976"),  # no prefix: the customer's country
        ("NL004495445B01", "NL", "NL004495445B01"),
        ("FR 61 954 506 077", "FR", "FR61954506077"),
        ("094259216", "GR", "EL094259216"),  # Greece files VAT under EL
        ("GR094259216", "GR", "EL094259216"),
        ("GB 980 7806 84", "GB", "GB980780684"),
        ("CHE-116.281.710 MWST", "CH", "CHE116281710MWST"),
        ("NO 995 525 828 MVA", "NO", "NO995525828MVA"),
        ("51 824 753 556", "AU", "AU51824753556"),
        ("DE136695976", "AT", "DE136695976"),  # registered in another country than the address
    ],
)
def test_vat_ids_are_compacted_with_their_country_prefix(given: str, country: str, stored: str) -> None:
    assert clean_vat_id(given, country) == stored


@pytest.mark.parametrize(
    ("given", "country", "problem"),
    [
        ("DE136695978", "DE", "check digits are wrong"),
        ("DE13669597", "DE", "wrong length"),
        ("GB980780685", "GB", "check digits are wrong"),
        ("NL004495446B01", "NL", "check digits are wrong"),
    ],
)
def test_invalid_vat_id_names_the_problem_and_the_field(given: str, country: str, problem: str) -> None:
    with pytest.raises(InvalidVatId) as refused:
        clean_vat_id(given, country)
    assert refused.value.field == "vat_id"
    assert refused.value.code == "invalid_vat_id"
    assert problem in refused.value.message


def test_vat_id_of_a_country_python_stdnum_does_not_know_is_kept_compacted() -> None:
    assert clean_vat_id("us 12-34", "US") == "US1234"


def test_tax_id_is_checked_for_the_customers_country() -> None:
    assert clean_tax_id("91-1144442", "US") == "911144442"
    assert clean_tax_id("12/345/67890", "DE") == "1234567890"
    with pytest.raises(InvalidTaxId) as refused:
        clean_tax_id("ABCDE1234F", "IN")
    assert refused.value.field == "tax_id"
    assert clean_tax_id("kvk 1234", "NL") == "KVK1234"  # no rule known: compacted only


@pytest.mark.parametrize("number", ["c-1001", " C-1001 ", "C-1001"])
def test_account_number_is_upper_cased(number: str) -> None:
    assert clean_account_number(number) == "C-1001"


@pytest.mark.parametrize("number", ["", "-C1", "C1-", "C 1", "C_1", "=1+1", "A" * 21, "ÄB"])
def test_account_number_format_is_refused_with_the_rule(number: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_account_number(number)
    assert refused.value.field == "account_number"


def test_einvoice_endpoint_needs_scheme_and_checks_a_gln() -> None:
    assert clean_einvoice_endpoint("0088:5798000000001") == "0088:5798000000001"
    assert clean_einvoice_endpoint("9930:DE136695976") == "9930:DE136695976"
    for bad in ("5798000000001", "0088:5798000000002", "88:123", "0088:"):
        with pytest.raises(InvalidInput) as refused:
            clean_einvoice_endpoint(bad)
        assert refused.value.field == "einvoice_endpoint_id"


def test_tags_are_normalised_deduplicated_and_sorted() -> None:
    assert clean_tags("VIP, Key Account; vip,, key_account") == ["key-account", "vip"]
    assert clean_tags(["Retail "]) == ["retail"]
    with pytest.raises(InvalidInput):
        clean_tags("no/slash")


def test_phone_numbers() -> None:
    assert clean_phone("+44 20 7946 0958") == "+44 20 7946 0958"
    assert clean_phone("(555) 123-4567 ext. 12") == "(555) 123-4567 ext. 12"
    with pytest.raises(InvalidInput):
        clean_phone("=1+2")


def test_amounts_refuse_floats_negatives_and_separators() -> None:
    assert clean_amount("5000.00") == Decimal("5000.00")
    assert clean_amount(12) == Decimal(12)
    assert clean_amount("") == Decimal(0)
    with pytest.raises(InvalidAmount, match="not a float"):
        clean_amount(5000.5)
    with pytest.raises(InvalidAmount, match="must not be negative"):
        clean_amount("-1")
    with pytest.raises(InvalidAmount):
        clean_amount("1,000.00")


def test_new_customer_gets_the_documented_defaults() -> None:
    values, errors = new()
    assert errors == []
    assert values == {
        **NEW_CUSTOMER,
        "account_number": "C-1",
        "legal_name": "Acme GmbH",
        "currency": "EUR",
        "country": "DE",
        "cycle_day": 1,
        "credit_limit": Decimal("0.00"),
    }


def test_every_problem_is_reported_by_its_field_at_once() -> None:
    _, errors = new(
        account_number="bad number",
        currency="XXX",
        country="Germany",
        vat_id="DE136695978",
        status="gone",
        credit_limit="-5",
        cycle_day="40",
        terms="NET99",
        exemption_expires_on="01/02/2026",
    )
    assert sorted(fields_of(errors)) == sorted(
        [
            "account_number",
            "currency",
            "country",
            "status",
            "credit_limit",
            "cycle_day",
            "terms",
            "exemption_expires_on",
        ]
    )
    assert isinstance(next(e for e in errors if e.field == "currency"), UnknownCurrency)


def test_vat_id_is_checked_against_the_country_given() -> None:
    _, errors = new(vat_id="DE136695978")
    assert fields_of(errors) == ["vat_id"]
    assert isinstance(errors[0], InvalidVatId)


def test_exempt_customer_needs_certificate_and_future_expiry() -> None:
    _, errors = new(tax_status="exempt")
    assert fields_of(errors) == ["exemption_certificate", "exemption_expires_on"]
    _, errors = new(tax_status="exempt", exemption_certificate="EX-1", exemption_expires_on="2025-05-31")
    assert fields_of(errors) == ["exemption_expires_on"]
    assert "expired on 2025-05-31" in errors[0].message
    values, errors = new(tax_status="exempt", exemption_certificate="EX-1", exemption_expires_on="2026-01-31")
    assert errors == []
    assert values["exemption_expires_on"] == date(2026, 1, 31)


def test_taxable_customer_given_a_certificate_is_refused() -> None:
    _, errors = new(exemption_certificate="EX-1")
    assert fields_of(errors) == ["exemption_certificate"]


def test_switching_to_taxable_clears_the_old_certificate() -> None:
    base, _ = new(tax_status="exempt", exemption_certificate="EX-1", exemption_expires_on="2026-01-31")
    values, errors = check_customer({"tax_status": "taxable"}, base=base, today=TODAY)
    assert errors == []
    assert (values["exemption_certificate"], values["exemption_expires_on"]) == ("", None)


def test_billing_cycles() -> None:
    values, errors = new(cycle="quarterly", cycle_day="15")
    assert errors == [] and values["cycle_day"] == 15
    _, errors = new(cycle="anniversary")
    assert fields_of(errors) == ["anniversary_on"]
    _, errors = new(cycle="anniversary", anniversary_on="2025-03-01", cycle_day=5)
    assert fields_of(errors) == ["cycle_day"]
    values, errors = new(cycle="anniversary", anniversary_on="2025-03-01")
    assert errors == [] and values["cycle_day"] is None
    base = values
    values, errors = check_customer({"cycle": "monthly"}, base=base, today=TODAY)
    assert errors == [] and (values["cycle_day"], values["anniversary_on"]) == (1, None)


def test_einvoice_delivery_needs_an_endpoint() -> None:
    _, errors = new(delivery_method="einvoice")
    assert fields_of(errors) == ["einvoice_endpoint_id"]
    _, errors = new(delivery_method="einvoice", einvoice_endpoint_id="0088:5798000000001")
    assert errors == []


def test_credit_limit_must_fit_the_currency() -> None:
    values, errors = new(credit_limit="5000.5")
    assert errors == [] and values["credit_limit"] == Decimal("5000.50")
    _, errors = new(credit_limit="10.5", currency="JPY")
    assert fields_of(errors) == ["credit_limit"]
    assert "more decimal places than JPY allows" in errors[0].message


def test_parent_rules_that_need_no_database() -> None:
    _, errors = new(bill_to_parent=True)
    assert fields_of(errors) == ["bill_to_parent"]
    _, errors = new(parent_account_number="c-1")
    assert isinstance(errors[0], HierarchyCycle)


def test_unknown_field_is_refused() -> None:
    _, errors = new(colour="red")
    assert fields_of(errors) == ["colour"]


def test_text_with_control_characters_is_refused_but_formula_text_is_kept() -> None:
    _, errors = new(notes="bell\x07")
    assert fields_of(errors) == ["notes"]
    values, errors = new(legal_name='=HYPERLINK("http://x")', notes="\t=1+1")
    assert errors == []
    assert (values["legal_name"], values["notes"]) == ('=HYPERLINK("http://x")', "\t=1+1")


def test_contacts_and_addresses() -> None:
    values, errors = check_contact({"role": "ap", "email": "ap@example.com"})
    assert errors == [] and values == {
        "role": "ap",
        "name": "",
        "email": "ap@example.com",
        "phone": "",
        "is_primary": False,
    }
    _, errors = check_contact({"role": "boss", "email": "not-an-email"})
    assert fields_of(errors) == ["role", "email"]
    _, errors = check_contact({"role": "ap"})
    assert fields_of(errors) == ["name"]
    _, errors = check_address({"kind": "billing", "lines": "", "city": "Berlin", "country": "XX"})
    assert fields_of(errors) == ["lines", "country"]
