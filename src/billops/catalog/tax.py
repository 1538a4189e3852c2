"""Which tax applies to a line: the rate and treatment for a tax code between a seller and a buyer on a date.

The rules, in order:
1. a code of kind `exempt` is exempt; a buyer with an exemption certificate valid on the date is exempt
   (an expired certificate is taxed, with a warning for the clerk);
2. a `zero` code is zero-rated;
3. VAT between two EU countries, business to business with both VAT IDs valid, is reverse charged;
   VAT from the EU to a buyer outside it is an export, outside the scope of EU VAT;
4. otherwise VAT is charged at the rate of the seller's country;
5. US sales tax is charged at the destination: the state rate plus the local rate of the ship-to ZIP code.
A rate missing from the tables is an error naming the code, the place and the date, never a silent zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from stdnum.eu import vat as eu_vat

from billops.catalog.models import TaxCode, TaxRate
from billops.core.errors import NotFound
from billops.core.memo import cached

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)"
)
EXPORT_NOTE = "Supply outside the EU: not subject to EU VAT"


class Treatment(enum.StrEnum):
    TAXED = "taxed"
    ZERO_RATED = "zero_rated"
    EXEMPT = "exempt"
    REVERSE_CHARGE = "reverse_charge"
    OUTSIDE_SCOPE = "outside_scope"


@dataclass(frozen=True, slots=True)
class TaxParty:
    """The tax facts of a seller or buyer: where it is and whether it is a VAT-registered business."""

    country: str
    region: str = ""  # a US state
    postal_code: str = ""
    vat_id: str = ""


@dataclass(frozen=True, slots=True)
class Exemption:
    certificate: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class TaxDecision:
    tax_code: str
    rate: Decimal  # percent
    treatment: Treatment
    label: str  # "VAT 19%", "Sales tax CA 8.875%", "Reverse charge"
    note: str = ""  # printed on the document
    warning: str = ""  # shown to the clerk on the draft


def _valid_vat_id(vat_id: str) -> bool:
    return bool(vat_id) and eu_vat.is_valid(vat_id)


def _rate(
    tax_code: TaxCode, *, country: str, region: str = "", locality: str = "", on: date
) -> Decimal | None:
    def latest() -> Decimal | None:
        return (
            TaxRate.objects.filter(
                tax_code=tax_code, country=country, region=region, locality=locality, valid_from__lte=on
            )
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
            .order_by("-valid_from")
            .values_list("rate", flat=True)
            .first()
        )

    return cached(("tax_rate", tax_code.pk, country, region, locality, on), latest)


def _percent(rate: Decimal) -> str:
    text = f"{rate.normalize():f}"
    return text


def _sales_tax(tax_code: TaxCode, buyer: TaxParty, on: date) -> TaxDecision:
    if buyer.country != "US" or not buyer.region:
        raise NotFound(
            f"tax code {tax_code.code} is US sales tax, but the ship-to address is not in a US state",
            field="tax_code",
        )
    state = _rate(tax_code, country="US", region=buyer.region, on=on)
    if state is None:
        raise NotFound(
            f"no sales tax rate for {buyer.region} on {on.isoformat()} in the rate table of {tax_code.code}",
            field="tax_code",
        )
    local = Decimal(0)
    if buyer.postal_code:
        zip5 = buyer.postal_code.strip()[:5]
        local = _rate(tax_code, country="US", region=buyer.region, locality=zip5, on=on) or Decimal(0)
    rate = state + local
    return TaxDecision(tax_code.code, rate, Treatment.TAXED, f"Sales tax {buyer.region} {_percent(rate)}%")


def decide_tax(
    *, tax_code: TaxCode, seller: TaxParty, buyer: TaxParty, on: date, exemption: Exemption | None = None
) -> TaxDecision:
    """The tax treatment and rate of a line with this tax code, sold by `seller` to `buyer` on `on`."""
    code = tax_code.code
    if tax_code.kind == TaxCode.Kind.EXEMPT:
        return TaxDecision(code, Decimal(0), Treatment.EXEMPT, "Exempt", tax_code.legal_note)
    warning = ""
    if exemption is not None:
        if exemption.expires_on >= on:
            note = (
                f"Exempt: certificate {exemption.certificate}, valid until {exemption.expires_on.isoformat()}"
            )
            return TaxDecision(code, Decimal(0), Treatment.EXEMPT, "Exempt", note)
        warning = (
            f"exemption certificate {exemption.certificate} expired on {exemption.expires_on.isoformat()}: "
            "the line is taxed"
        )
    if tax_code.kind == TaxCode.Kind.ZERO:
        return TaxDecision(code, Decimal(0), Treatment.ZERO_RATED, "VAT 0%", tax_code.legal_note, warning)
    if tax_code.kind == TaxCode.Kind.SALES_TAX:
        decision = _sales_tax(tax_code, buyer, on)
        return TaxDecision(decision.tax_code, decision.rate, decision.treatment, decision.label, "", warning)
    if seller.country in EU_COUNTRIES and buyer.country != seller.country:
        if buyer.country not in EU_COUNTRIES:
            return TaxDecision(code, Decimal(0), Treatment.OUTSIDE_SCOPE, "No VAT", EXPORT_NOTE, warning)
        if _valid_vat_id(seller.vat_id) and _valid_vat_id(buyer.vat_id):
            return TaxDecision(
                code, Decimal(0), Treatment.REVERSE_CHARGE, "Reverse charge", REVERSE_CHARGE_NOTE, warning
            )
    rate = _rate(tax_code, country=seller.country, on=on)
    if rate is None:
        raise NotFound(
            f"no rate for tax code {code} in {seller.country} on {on.isoformat()}", field="tax_code"
        )
    return TaxDecision(code, rate, Treatment.TAXED, f"VAT {_percent(rate)}%", "", warning)
