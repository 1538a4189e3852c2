"""The tax decision of a line: VAT at the seller's rate, EU reverse charge, exports, exemptions, and US
sales tax at the ship-to state and ZIP code, each on the right side of a rate change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.catalog import services
from billops.catalog.display import plain_decimal
from billops.catalog.models import TaxCode
from billops.catalog.tax import (
    EXPORT_NOTE,
    REVERSE_CHARGE_NOTE,
    Exemption,
    TaxDecision,
    TaxParty,
    Treatment,
    decide_tax,
)
from billops.core.errors import NotFound
from tests.catalog.factories import SINCE, TaxCodeFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 1)
SELLER = TaxParty(country="DE", vat_id="DE136695976")
FRENCH_BUSINESS = TaxParty(country="FR", vat_id="FR40303265045")


@pytest.fixture
def vat() -> TaxCode:
    """VAT-STD with the German and French standard rates."""
    code = TaxCodeFactory.create(code="VAT-STD", kind=TaxCode.Kind.STANDARD)
    TaxRateFactory.create(tax_code=code, country="DE", rate=Decimal("19"))
    TaxRateFactory.create(tax_code=code, country="FR", rate=Decimal("20"))
    return code


@pytest.fixture
def sales_tax() -> TaxCode:
    code = TaxCodeFactory.create(code="US-SALES", name="US sales tax", kind=TaxCode.Kind.SALES_TAX)
    TaxRateFactory.create(tax_code=code, country="US", region="CA", rate=Decimal("7.25"))
    TaxRateFactory.create(tax_code=code, country="US", region="CA", locality="94103", rate=Decimal("1.375"))
    return code


def decide(
    tax_code: TaxCode, buyer: TaxParty, *, seller: TaxParty = SELLER, exemption: Exemption | None = None
) -> TaxDecision:
    return decide_tax(tax_code=tax_code, seller=seller, buyer=buyer, on=ON, exemption=exemption)


def test_a_german_sale_in_germany_is_taxed_at_19_percent(vat: TaxCode) -> None:
    decision = decide(vat, TaxParty(country="DE", vat_id="DE136695976"))
    assert decision == TaxDecision("VAT-STD", Decimal("19.0000"), Treatment.TAXED, "VAT 19%", "", "")


def test_business_to_business_inside_the_eu_is_reverse_charged_with_the_note(vat: TaxCode) -> None:
    decision = decide(vat, FRENCH_BUSINESS)
    assert (decision.rate, decision.treatment, decision.label) == (
        Decimal(0),
        Treatment.REVERSE_CHARGE,
        "Reverse charge",
    )
    assert decision.note == REVERSE_CHARGE_NOTE
    assert "Article 196, Directive 2006/112/EC" in decision.note


@pytest.mark.parametrize("buyer_vat_id", ["", "FR40303265046"])  # none, or one that fails its check digits
def test_without_a_valid_buyer_vat_id_the_sellers_rate_applies(vat: TaxCode, buyer_vat_id: str) -> None:
    decision = decide(vat, TaxParty(country="FR", vat_id=buyer_vat_id))
    assert (decision.rate, decision.treatment, decision.label) == (Decimal(19), Treatment.TAXED, "VAT 19%")


def test_reverse_charge_needs_the_sellers_vat_id_too(vat: TaxCode) -> None:
    decision = decide(vat, FRENCH_BUSINESS, seller=TaxParty(country="DE"))
    assert decision.treatment == Treatment.TAXED


def test_other_valid_eu_vat_ids_reverse_charge_too(vat: TaxCode) -> None:
    for country, vat_id in (("NL", "NL004495445B01"), ("BE", "BE0403170701")):
        assert decide(vat, TaxParty(country=country, vat_id=vat_id)).treatment == Treatment.REVERSE_CHARGE


def test_a_sale_from_germany_to_the_us_is_an_export_outside_the_scope(vat: TaxCode) -> None:
    decision = decide(vat, TaxParty(country="US", region="CA", postal_code="94103"))
    assert (decision.rate, decision.treatment, decision.label, decision.note) == (
        Decimal(0),
        Treatment.OUTSIDE_SCOPE,
        "No VAT",
        EXPORT_NOTE,
    )


def test_an_exempt_code_is_exempt_with_its_legal_note(vat: TaxCode) -> None:
    exempt = TaxCodeFactory.create(
        code="VAT-EXEMPT", kind=TaxCode.Kind.EXEMPT, legal_note="Exempt under § 4 Nr. 21 UStG"
    )
    decision = decide(exempt, TaxParty(country="DE"))
    assert decision == TaxDecision(
        "VAT-EXEMPT", Decimal(0), Treatment.EXEMPT, "Exempt", "Exempt under § 4 Nr. 21 UStG", ""
    )


def test_a_zero_rated_code_is_zero_rated(vat: TaxCode) -> None:
    zero = TaxCodeFactory.create(code="VAT-ZERO", kind=TaxCode.Kind.ZERO)
    assert decide(zero, TaxParty(country="DE")).treatment == Treatment.ZERO_RATED


def test_a_valid_exemption_certificate_exempts_the_line(sales_tax: TaxCode) -> None:
    buyer = TaxParty(country="US", region="CA", postal_code="94103")
    decision = decide(sales_tax, buyer, exemption=Exemption("CA-RESALE-1", date(2026, 12, 31)))
    assert (decision.rate, decision.treatment) == (Decimal(0), Treatment.EXEMPT)
    assert decision.note == "Exempt: certificate CA-RESALE-1, valid until 2026-12-31"
    assert decision.warning == ""


def test_an_expired_certificate_is_taxed_with_a_warning_for_the_clerk(sales_tax: TaxCode) -> None:
    buyer = TaxParty(country="US", region="CA", postal_code="94103")
    decision = decide(sales_tax, buyer, exemption=Exemption("CA-RESALE-1", date(2026, 2, 28)))
    assert (decision.rate, decision.treatment) == (Decimal("8.625"), Treatment.TAXED)
    assert decision.warning == "exemption certificate CA-RESALE-1 expired on 2026-02-28: the line is taxed"


def test_us_sales_tax_adds_the_state_and_zip_code_rates(sales_tax: TaxCode) -> None:
    decision = decide(sales_tax, TaxParty(country="US", region="CA", postal_code="94103-1234"))
    assert (decision.rate, decision.treatment, decision.label) == (
        Decimal("8.625"),
        Treatment.TAXED,
        "Sales tax CA 8.625%",
    )
    elsewhere = decide(sales_tax, TaxParty(country="US", region="CA", postal_code="95814"))
    assert elsewhere.rate == Decimal("7.25")  # no local row for that ZIP code: the state rate alone


def test_a_state_without_a_rate_is_an_error_naming_the_state_and_date(sales_tax: TaxCode) -> None:
    with pytest.raises(NotFound) as missing:
        decide(sales_tax, TaxParty(country="US", region="NV", postal_code="89101"))
    assert missing.value.message == "no sales tax rate for NV on 2026-03-01 in the rate table of US-SALES"
    assert missing.value.field == "tax_code"


def test_a_country_without_a_vat_rate_is_an_error_naming_it(vat: TaxCode) -> None:
    with pytest.raises(NotFound) as missing:
        decide(vat, TaxParty(country="AT"), seller=TaxParty(country="AT"))
    assert missing.value.message == "no rate for tax code VAT-STD in AT on 2026-03-01"


def test_a_rate_change_applies_from_its_first_day(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    services.add_tax_rate(tax_code="VAT-STD", country="DE", rate="19", valid_from=SINCE, actor=supervisor)
    services.add_tax_rate(
        tax_code="VAT-STD", country="DE", rate="21", valid_from=date(2026, 7, 1), actor=supervisor
    )
    code = TaxCode.objects.get(code="VAT-STD")
    buyer = TaxParty(country="DE")
    before = decide_tax(tax_code=code, seller=SELLER, buyer=buyer, on=date(2026, 6, 30))
    after = decide_tax(tax_code=code, seller=SELLER, buyer=buyer, on=date(2026, 7, 1))
    assert (before.rate, before.label) == (Decimal(19), "VAT 19%")
    assert (after.rate, after.label) == (Decimal(21), "VAT 21%")


def test_the_shipped_eu_table_gives_each_member_states_rates(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    content = dict(services.shipped_rate_files())["eu_vat_rates_2026.csv"]
    assert services.import_tax_rates(content=content, filename="eu.csv", actor=supervisor).created == 53
    standard, reduced = TaxCode.objects.get(code="VAT-STD"), TaxCode.objects.get(code="VAT-RED")
    for country, expected in (
        ("DE", ("19", "7")),
        ("FR", ("20", "5.5")),
        ("AT", ("20", "10")),
        ("NL", ("21", "9")),
    ):
        seller = TaxParty(country=country)
        rates = tuple(
            plain_decimal(decide_tax(tax_code=code, seller=seller, buyer=seller, on=ON).rate)
            for code in (standard, reduced)
        )
        assert rates == expected, country
