"""Money: a Decimal amount with its ISO 4217 currency, and the one place amounts are rounded and split.

Amounts are never floats. Rounding to the currency's minor unit happens only through `round_money`,
by a named policy; unit prices and quantities may carry more places until a policy rounds them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from billops.core.currencies import minor_units, validate_currency
from billops.core.errors import CurrencyMismatch, InvalidAmount

# Precision of every money column: 18 digits with 6 places leave room for unit prices and
# 999 billion in any currency. Columns use `billops.core.fields.AmountField`, which reads these.
AMOUNT_DIGITS = 18
AMOUNT_PLACES = 6


class Rounding(enum.StrEnum):
    """Named rounding policies. HALF_UP per line is the default of the whole system."""

    HALF_UP = "half_up"  # 0.125 -> 0.13; commercial rounding
    HALF_EVEN = "half_even"  # 0.125 -> 0.12; banker's rounding
    DOWN = "down"  # towards zero: 0.129 -> 0.12
    UP = "up"  # away from zero: 0.121 -> 0.13
    EXACT = "exact"  # refuse an amount with more places than the currency has


_DECIMAL_ROUNDING = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
}


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217

    def __post_init__(self) -> None:
        if type(self.amount) is not Decimal:
            raise TypeError(f"Money needs a Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise InvalidAmount(f"{self.amount} is not a finite amount", field="amount")
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: Any) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}", field="currency")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other).amount

    def __eq__(self, other: object) -> bool:
        # 1.0 EUR equals 1.00 EUR; Money never equals a bare number
        return isinstance(other, Money) and self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount.normalize(), self.currency))

    def times(self, factor: Decimal) -> Money:
        """The unrounded product; round it with `round_money` where the policy says."""
        if type(factor) is not Decimal:
            raise TypeError(f"Money.times needs a Decimal, got {type(factor).__name__}")
        return Money(self.amount * factor, self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# plain decimal text: an optional sign, ASCII digits, an optional point and places; no exponent, no
# separators (`\d` would also let through Arabic-Indic or full-width digits, which Decimal happily reads)
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# the most integer digits an amount column holds (999 billion and change)
_MAX_INTEGER_DIGITS = AMOUNT_DIGITS - AMOUNT_PLACES


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Read an amount from a Decimal, int or decimal text ('1234.50'); floats and other text are refused."""
    if isinstance(value, bool | float):
        raise InvalidAmount(
            f"{field} must be given as a decimal string, not a float ({value!r})", field=field
        )
    if isinstance(value, Decimal | int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidAmount(f"{field} {value!r} is not a number like 1234.50", field=field)
        result = Decimal(text)
    else:
        raise InvalidAmount(f"{field} must be a decimal number, got {type(value).__name__}", field=field)
    if not result.is_finite():
        raise InvalidAmount(f"{field} {value!r} is not a finite number", field=field)
    return result


def money(value: object, currency: str, *, field: str = "amount") -> Money:
    """Build Money from an API or file value; the amount must already fit the currency's minor unit."""
    validate_currency(currency, field="currency")
    amount = to_decimal(value, field=field)
    if amount != 0 and amount.adjusted() >= _MAX_INTEGER_DIGITS:
        limit = f"at most {_MAX_INTEGER_DIGITS} digits before the point"
        raise InvalidAmount(f"{field} {value!r} is too large ({limit})", field=field)
    return round_money(amount, currency, Rounding.EXACT, field=field)


def round_money(
    value: Decimal | Money,
    currency: str | None = None,
    policy: Rounding = Rounding.HALF_UP,
    *,
    field: str = "amount",
) -> Money:
    """Quantize an amount to its currency's minor unit by a named policy (idempotent)."""
    if isinstance(value, Money):
        if currency is not None and currency != value.currency:
            raise CurrencyMismatch(f"cannot round {value.currency} as {currency}", field="currency")
        amount, currency = value.amount, value.currency
    else:
        if currency is None:
            raise TypeError("round_money needs a currency for a bare Decimal")
        amount = value
    if type(amount) is not Decimal:
        raise TypeError(f"round_money needs a Decimal, got {type(amount).__name__}")
    policy = Rounding(policy)  # a plain "half_up" from a setting or a column names the same policy
    exponent = Decimal(1).scaleb(-minor_units(currency))
    try:
        rounded = amount.quantize(exponent, rounding=_DECIMAL_ROUNDING.get(policy, ROUND_HALF_UP))
    except InvalidOperation:  # more digits than the decimal context carries
        raise InvalidAmount(f"{field} {amount} is too large to round", field=field) from None
    if policy is Rounding.EXACT and rounded != amount:
        raise InvalidAmount(
            f"{field} {amount} has more decimal places than {currency} allows ({minor_units(currency)})",
            field=field,
        )
    return Money(rounded, currency)


def amount_rounder(currency: str) -> Callable[[Decimal | None], Decimal]:
    """`round_money(value, currency).amount` (half up) for many amounts of one currency, the currency looked
    up once: a report of 100 000 rows rounds half a million figures. None counts as zero."""
    exponent = Decimal(1).scaleb(-minor_units(currency))

    def rounded(value: Decimal | None) -> Decimal:
        return (value or Decimal(0)).quantize(exponent, rounding=ROUND_HALF_UP)

    return rounded


def sum_money(amounts: Iterable[Money], currency: str | None = None) -> Money:
    """Add amounts of one currency; an empty sum needs the currency to be named."""
    total: Money | None = Money.zero(currency) if currency else None
    for item in amounts:
        total = item if total is None else total + item
    if total is None:
        raise ValueError("sum_money of nothing needs a currency")
    return total


def split(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """Split an amount in proportion to weights; the parts always add up to the total.

    Each part is first rounded towards zero to the minor unit; the minor units left over go one each
    to the parts with the largest remainders, and among equal remainders to the earliest part.
    `split(100.00 EUR, [1, 1, 1])` gives 33.34, 33.33, 33.33.
    """
    if not weights:
        raise ValueError("split needs at least one weight")
    if any(type(w) not in (int, Decimal) or not Decimal(w).is_finite() or w < 0 for w in weights):
        raise ValueError("split weights must be non-negative ints or Decimals")
    # exact fractions: Decimal division rounds every share (and a sum of long weights) at 28 digits
    fractions = [Fraction(w) for w in weights]
    weight_sum = sum(fractions, Fraction(0))
    if weight_sum == 0:
        raise ValueError("split weights must not all be zero")
    whole = round_money(total, policy=Rounding.EXACT)
    places = minor_units(total.currency)
    sign = -1 if whole.amount < 0 else 1
    units_total = int(abs(whole.amount).scaleb(places))
    exact_shares = [units_total * w / weight_sum for w in fractions]
    floors = [int(share) for share in exact_shares]  # towards zero; shares are never negative
    leftover = units_total - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact_shares[i] - floors[i]), i))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return [Money(Decimal(sign * units).scaleb(-places), total.currency) for units in floors]
