"""Rating: a month's aggregated usage priced by a charge model. Pure functions, no database.

Every model prices nothing for no usage. A tier's `up_to` is inclusive: a tier "up to 1000" holds the
units above the previous tier's bound up to and including the 1000th; the last tier has no bound.

- per_unit: quantity x unit price;
- graduated: each tier prices the units that fall in it at its own unit price, plus its flat fee once
  any unit reaches it;
- volume: the tier the whole quantity falls into prices every unit, plus that tier's flat fee;
- package: whole packages started (ceil(quantity / size)) x package price;
- percentage: rate % of the summed amount, plus the fixed fee for each event.

The amount is rounded once, half up, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from billops.core.money import round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: Decimal | None  # inclusive; None: no bound (the last tier)
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Terms:
    """A charge model and its prices, as `services.charges` validated them."""

    model: str  # per_unit | graduated | volume | package | percentage
    unit_price: Decimal = Decimal(0)
    tiers: Sequence[Tier] = ()
    package_size: Decimal = Decimal(1)
    package_price: Decimal = Decimal(0)
    percentage: Decimal = Decimal(0)
    fixed_fee: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the database sums up of one month's events; the metric's aggregation picks its quantity."""

    events: int
    total: Decimal  # sum of the values
    highest: Decimal  # max of the values
    distinct: int  # distinct unique values
    latest: Decimal  # the value of the last event (by timestamp, then by arrival)


def quantity_of(aggregation: str, figures: Figures) -> Decimal:
    """The month's quantity of a metric: sum, count, unique_count, max or latest."""
    if aggregation == "count":
        return Decimal(figures.events)
    if aggregation == "unique_count":
        return Decimal(figures.distinct)
    if aggregation == "max":
        return figures.highest
    if aggregation == "latest":
        return figures.latest
    return figures.total


def _graduated(tiers: Sequence[Tier], quantity: Decimal) -> Decimal:
    amount, floor = Decimal(0), Decimal(0)
    for tier in tiers:
        units = (quantity if tier.up_to is None else min(quantity, tier.up_to)) - floor
        if units <= 0:
            break
        amount += units * tier.unit_price + tier.flat_fee
        if tier.up_to is None:
            break
        floor = tier.up_to
    return amount


def _volume(tiers: Sequence[Tier], quantity: Decimal) -> Decimal:
    tier = next(tier for tier in tiers if tier.up_to is None or quantity <= tier.up_to)
    return quantity * tier.unit_price + tier.flat_fee


def packages(terms: Terms, quantity: Decimal) -> Decimal:
    """Whole packages started: 1001 calls in packages of 1000 are 2."""
    return (quantity / terms.package_size).to_integral_value(rounding=ROUND_CEILING)


def rate(terms: Terms, quantity: Decimal, events: int, currency: str) -> Decimal:
    """The amount, in the currency's minor unit, that the month's usage costs under the terms."""
    if terms.model == "percentage":
        raw = quantity * terms.percentage / HUNDRED + terms.fixed_fee * events
    elif quantity <= 0:
        raw = Decimal(0)
    elif terms.model == "per_unit":
        raw = quantity * terms.unit_price
    elif terms.model == "graduated":
        raw = _graduated(terms.tiers, quantity)
    elif terms.model == "volume":
        raw = _volume(terms.tiers, quantity)
    elif terms.model == "package":
        raw = packages(terms, quantity) * terms.package_price
    else:
        raise ValueError(f"unknown charge model {terms.model!r}")
    return round_money(raw, currency).amount


def line_figures(terms: Terms, quantity: Decimal, amount: Decimal) -> tuple[Decimal, Decimal] | None:
    """The invoice line's quantity and unit price for usage billed at `amount`, when the model's own
    figures give exactly that amount (a per-unit quantity x price, a count of packages x package price);
    None when the line is one lump sum (tiers, percentages, or figures that would need rounding)."""
    if terms.model == "per_unit" and quantity > 0 and quantity * terms.unit_price == amount:
        return quantity, terms.unit_price
    if terms.model == "package" and terms.package_price > 0 and amount > 0:
        count = amount / terms.package_price
        if count == count.to_integral_value():
            return count, terms.package_price
    return None
