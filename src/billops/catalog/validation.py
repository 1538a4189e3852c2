"""The rules of catalog input, shared by the services, the rate-table import and the staff pages.

Each cleaner takes a value as typed (text, Decimal, int or date) and returns it normalised, or raises a
DomainError naming the field. Numbers are read with `core.money.to_decimal`, so a float never gets in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from billops.catalog.errors import raise_errors
from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES, RATE_PLACES, TaxCode
from billops.core.errors import DomainError, InvalidAmount, InvalidInput
from billops.core.money import AMOUNT_DIGITS, AMOUNT_PLACES, to_decimal
from billops.customers.countries import COUNTRY_CODES

PRICE_PLACES = AMOUNT_PLACES  # unit prices keep 6 places; amounts are rounded on the invoice
_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?")
_REGION = re.compile(r"[A-Z0-9]{1,10}")
_LOCALITY = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]{0,18}[A-Z0-9])?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

T = TypeVar("T")


class Problems:
    """Collects the errors of several fields, so that a form or an API reply shows them all at once."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def check(self, clean: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The cleaned value; after an error, None, which `raise_any` stops before anyone uses it."""
        try:
            return clean(*args, **kwargs)
        except DomainError as exc:
            self.errors.append(exc)
            return cast(T, None)

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def raise_any(self) -> None:
        raise_errors(self.errors)


def clean_text(value: Any, field: str, *, limit: int, required: bool = False) -> str:
    """Text without surrounding blanks; NUL characters are refused (PostgreSQL cannot store them)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    if "\x00" in text:
        raise InvalidInput(f"{field} holds a NUL character", field=field)
    return text


def clean_code(value: Any, field: str, *, limit: int) -> str:
    """A code as people type it in any case ("consult-hr"), stored in capitals ("CONSULT-HR")."""
    code = clean_text(value, field, limit=limit, required=True).upper()
    if not _CODE.fullmatch(code):
        raise InvalidInput(
            f"{field} {code!r} may hold only letters, digits, '.', '_' and '-', starting and ending with "
            "a letter or digit",
            field=field,
        )
    return code


def _number(value: Any, field: str, *, places: int, digits: int, what: str) -> Decimal:
    number = to_decimal(value, field=field)
    if number != 0 and number.adjusted() >= digits - places:
        raise InvalidAmount(
            f"{what} {value} is too large (at most {digits - places} digits before the point)", field=field
        )
    exponent = number.normalize().as_tuple().exponent  # trailing zeros are not places: 19.50000 is 19.5
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidAmount(f"{what} {value} has more than {places} decimal places", field=field)
    return number


def clean_price(value: Any, field: str = "unit_price") -> Decimal:
    """A unit price: zero or more, up to 6 decimal places."""
    price = _number(value, field, places=PRICE_PLACES, digits=AMOUNT_DIGITS, what="unit price")
    if price < 0:
        raise InvalidAmount(f"unit price must not be negative, got {value}", field=field)
    return price


def clean_quantity(value: Any, field: str = "min_quantity", *, positive: bool = False) -> Decimal:
    """A quantity with up to 4 decimal places: more than zero on a line, zero or more for a volume break."""
    quantity = _number(value, field, places=QUANTITY_PLACES, digits=QUANTITY_DIGITS, what="quantity")
    if quantity < 0 or (positive and quantity == 0):
        limit = "more than zero" if positive else "zero or more"
        raise InvalidAmount(f"{field} must be {limit}, got {value}", field=field)
    return quantity


def clean_rate(value: Any, field: str = "rate") -> Decimal:
    """A tax rate in percent: at least 0 and below 100, up to 4 decimal places."""
    rate = _number(value, field, places=RATE_PLACES, digits=3 + RATE_PLACES, what="rate")
    if not 0 <= rate < 100:
        raise InvalidAmount(f"rate must be at least 0 and below 100 (percent), got {value}", field=field)
    return rate


def clean_date(value: Any, field: str) -> date:
    """A date, or ISO text "2026-01-31"."""
    found = clean_optional_date(value, field)
    if found is None:
        raise InvalidInput(f"{field} is required", field=field)
    return found


def clean_optional_date(value: Any, field: str) -> date | None:
    """A date, ISO text "2026-01-31", or None for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"{field} {value!r} is not a date like 2026-01-31", field=field)


def clean_period(valid_from: date | None, valid_to: date | None, field: str = "valid_to") -> None:
    """A span of dates runs forward: the last day is not before the first."""
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise InvalidInput(
            f"{field} {valid_to.isoformat()} is before valid_from {valid_from.isoformat()}", field=field
        )


def clean_country(value: Any, field: str = "country") -> str:
    country = clean_text(value, field, limit=2, required=True).upper()
    if country not in COUNTRY_CODES:
        raise InvalidInput(f"{field} {country!r} is not an ISO 3166 country code like DE", field=field)
    return country


def clean_region(value: Any, field: str = "region") -> str:
    """A state or province code ("CA"); empty for a whole country."""
    region = clean_text(value, field, limit=10).upper()
    if region and not _REGION.fullmatch(region):
        raise InvalidInput(f"{field} {region!r} is not a region code like CA", field=field)
    return region


def clean_locality(value: Any, region: str | None, field: str = "locality") -> str:
    """A postal (ZIP) code inside a region; empty for the whole region."""
    locality = clean_text(value, field, limit=20).upper()
    if locality and not _LOCALITY.fullmatch(locality):
        raise InvalidInput(f"{field} {locality!r} is not a postal code like 94103", field=field)
    if locality and region == "":
        raise InvalidInput(f"{field} {locality} needs a region (the state it is in)", field=field)
    return locality


# --- how a new tax rate fits next to the rates already there ---------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A rate over its dates; `pk` is None for a row not yet stored (one of an import file)."""

    pk: int | None
    rate: Decimal
    valid_from: date
    valid_to: date | None  # inclusive; None = until further notice

    def overlaps(self, other: Span) -> bool:
        return (other.valid_to is None or self.valid_from <= other.valid_to) and (
            self.valid_to is None or other.valid_from <= self.valid_to
        )

    def describe(self) -> str:
        until = f"to {self.valid_to.isoformat()}" if self.valid_to else "until further notice"
        return f"{self.rate.normalize():f}% from {self.valid_from.isoformat()} {until}"


@dataclass(frozen=True, slots=True)
class Fit:
    """Where a new rate goes: `same` is an identical rate already there, `close` an open-ended rate that
    ends the day before the new one starts, `clash` a rate it overlaps otherwise (a refusal)."""

    same: Span | None = None
    close: Span | None = None
    clash: Span | None = None


def fit_rate(existing: Sequence[Span], new: Span) -> Fit:
    """How `new` fits among the rates of the same code and place: a rate change that starts later closes
    the open-ended rate before it, as anyone entering next year's rate expects; any other overlap clashes."""
    overlapping = [span for span in existing if span.overlaps(new)]
    for span in overlapping:
        if (span.rate, span.valid_from, span.valid_to) == (new.rate, new.valid_from, new.valid_to):
            return Fit(same=span)
    if len(overlapping) == 1:
        previous = overlapping[0]
        if previous.valid_to is None and previous.valid_from < new.valid_from:
            return Fit(close=previous)
    return Fit(clash=overlapping[0]) if overlapping else Fit()


def day_before(day: date) -> date:
    return day - timedelta(days=1)


def place_problems(kind: str, country: str, region: str, locality: str) -> list[DomainError]:
    """Where a rate of this kind can apply: VAT per country, US sales tax per state and ZIP code."""
    if kind in (TaxCode.Kind.EXEMPT, TaxCode.Kind.ZERO):
        return [
            InvalidInput(f"a tax code of kind {kind} has no rates: its rate is always 0", field="tax_code")
        ]
    if kind == TaxCode.Kind.SALES_TAX:
        problems: list[DomainError] = []
        if country != "US":
            problems.append(
                InvalidInput(f"US sales tax applies in the US, not in {country}", field="country")
            )
        if not region:
            problems.append(InvalidInput("a US sales tax rate needs the state, e.g. CA", field="region"))
        return problems
    return [
        InvalidInput(f"a VAT rate applies to a whole country; leave {name} empty", field=name)
        for name, value in (("region", region), ("locality", locality))
        if value
    ]
