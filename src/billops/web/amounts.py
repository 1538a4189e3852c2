"""Amounts as the staff pages show them, shared by every app's views."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billops.core.currencies import minor_units
from billops.core.money import Money, round_money


@dataclass(frozen=True)
class Shown:
    """An amount as a page shows it: rounded to its currency's minor unit, with that many places."""

    amount: Decimal
    currency: str
    places: str  # the `floatformat` argument: "2g" for EUR, "0g" for JPY

    @classmethod
    def of(cls, amount: Decimal | str, currency: str) -> Shown:
        rounded = round_money(Decimal(amount), currency)
        return cls(rounded.amount, currency, f"{minor_units(currency)}g")

    @classmethod
    def of_money(cls, money: Money) -> Shown:
        return cls.of(money.amount, money.currency)
