"""Invariants of rounding and splitting, over many generated amounts."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billops.core.currencies import minor_units
from billops.core.money import Money, Rounding, amount_rounder, round_money, split, sum_money

CURRENCIES = ["EUR", "JPY", "KWD", "USD", "CLP", "BHD"]
MANY = settings(max_examples=600, deadline=None)


@st.composite
def totals(draw):
    """An amount that fits its currency's minor unit, up to a billion either way."""
    currency = draw(st.sampled_from(CURRENCIES))
    bound = 10**9 * 10 ** minor_units(currency)
    units = draw(st.integers(min_value=-bound, max_value=bound))
    return Money(Decimal(units).scaleb(-minor_units(currency)), currency)


@st.composite
def unrounded(draw):
    """An amount with up to 8 places, as unit price times quantity leaves it."""
    currency = draw(st.sampled_from(CURRENCIES))
    amount = draw(
        st.decimals(min_value=-(10**9), max_value=10**9, places=8, allow_nan=False, allow_infinity=False)
    )
    return amount, currency


int_weights = st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any)
decimal_weights = st.lists(
    st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=12,
).filter(any)


def unit_of(currency):
    return Fraction(1, 10 ** minor_units(currency))


@MANY
@given(total=totals(), weights=st.one_of(int_weights, decimal_weights))
def test_split_parts_add_up_to_the_total(total, weights):
    parts = split(total, weights)
    assert len(parts) == len(weights)
    assert sum_money(parts, total.currency) == total
    assert all(part.currency == total.currency for part in parts)


@MANY
@given(total=totals(), weights=st.one_of(int_weights, decimal_weights))
def test_each_split_part_is_within_one_minor_unit_of_its_exact_share(total, weights):
    weight_sum = sum(Fraction(w) for w in weights)
    for part, weight in zip(split(total, weights), weights, strict=True):
        exact_share = Fraction(total.amount) * Fraction(weight) / weight_sum
        assert abs(Fraction(part.amount) - exact_share) < unit_of(total.currency)
        assert part.amount.as_tuple().exponent == -minor_units(total.currency)


@MANY
@given(total=totals(), weights=int_weights)
def test_a_zero_weight_always_gets_zero(total, weights):
    for part, weight in zip(split(total, weights), weights, strict=True):
        if weight == 0:
            assert part.is_zero()


@MANY
@given(value=unrounded(), policy=st.sampled_from([p for p in Rounding if p is not Rounding.EXACT]))
def test_round_money_is_idempotent_for_every_policy(value, policy):
    amount, currency = value
    once = round_money(amount, currency, policy)
    assert round_money(once, policy=policy) == once
    assert round_money(once, policy=Rounding.EXACT) == once
    assert str(round_money(once, policy=policy).amount) == str(once.amount)


@MANY
@given(value=unrounded(), policy=st.sampled_from([p for p in Rounding if p is not Rounding.EXACT]))
def test_rounding_never_moves_an_amount_by_a_minor_unit_or_more(value, policy):
    amount, currency = value
    moved = abs(Fraction(round_money(amount, currency, policy).amount) - Fraction(amount))
    assert moved < unit_of(currency)
    if policy in (Rounding.HALF_UP, Rounding.HALF_EVEN):
        assert moved <= unit_of(currency) / 2


@MANY
@given(value=unrounded())
def test_down_moves_towards_zero_and_up_away_from_it(value):
    amount, currency = value
    assert abs(round_money(amount, currency, Rounding.DOWN).amount) <= abs(amount)
    assert abs(round_money(amount, currency, Rounding.UP).amount) >= abs(amount)


@MANY
@given(total=totals())
def test_exact_rounding_accepts_every_amount_that_fits_its_currency(total):
    assert round_money(total, policy=Rounding.EXACT) == total


@given(
    value=st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False, allow_infinity=False),
    currency=st.sampled_from(["EUR", "JPY", "BHD", "USD"]),
)
def test_the_amount_rounder_rounds_as_round_money(value: Decimal, currency: str) -> None:
    assert amount_rounder(currency)(value) == round_money(value, currency).amount
