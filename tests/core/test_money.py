"""Money: construction, arithmetic, parsing, rounding by named policy and splitting."""

from decimal import Decimal

import pytest

from billops.core.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from billops.core.money import Money, Rounding, money, round_money, split, sum_money, to_decimal


def eur(text):
    return Money(Decimal(text), "EUR")


def amounts(parts):
    return [str(part.amount) for part in parts]


# construction


@pytest.mark.parametrize("amount", [1.5, 0.0, 1, "1.00", None])
def test_money_refuses_an_amount_that_is_not_a_decimal(amount):
    with pytest.raises(TypeError, match="Money needs a Decimal"):
        Money(amount, "EUR")


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_money_refuses_nan_and_infinity(text):
    with pytest.raises(InvalidAmount) as refused:
        Money(Decimal(text), "EUR")
    assert refused.value.field == "amount"
    assert refused.value.code == "invalid_amount"


@pytest.mark.parametrize("code", ["XYZ", "eur", "EURO", "", None])
def test_money_refuses_an_unknown_currency(code):
    with pytest.raises(UnknownCurrency) as refused:
        Money(Decimal("1.00"), code)
    assert refused.value.field == "currency"


def test_money_keeps_the_amount_it_was_given():
    price = Money(Decimal("12.345678"), "EUR")
    assert str(price.amount) == "12.345678"
    assert str(price) == "12.345678 EUR"


# arithmetic and comparison


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_arithmetic_across_currencies_raises_currency_mismatch(combine):
    with pytest.raises(CurrencyMismatch) as refused:
        combine(eur("1.00"), Money(Decimal("1.00"), "USD"))
    assert refused.value.field == "currency"
    assert refused.value.http_status == 400


def test_money_does_not_mix_with_bare_numbers():
    with pytest.raises(TypeError):
        eur("1.00") + Decimal("1.00")
    with pytest.raises(TypeError):
        _ = eur("1.00") < 2


def test_adding_and_subtracting_in_one_currency():
    assert eur("10.10") + eur("0.95") == eur("11.05")
    assert eur("10.10") - eur("10.20") == eur("-0.10")
    assert -eur("3.50") == eur("-3.50")
    assert eur("1.00") < eur("1.01") <= eur("1.01")
    assert eur("2.00") > eur("1.99") >= eur("1.99")


def test_equal_amounts_with_different_places_are_equal_and_hash_alike():
    assert Money(Decimal("1.0"), "EUR") == Money(Decimal("1.00"), "EUR")
    assert hash(Money(Decimal("1.0"), "EUR")) == hash(Money(Decimal("1.00"), "EUR"))
    assert (
        len({Money(Decimal("1"), "EUR"), Money(Decimal("1.0"), "EUR"), Money(Decimal("1.000"), "EUR")}) == 1
    )


def test_money_equals_neither_another_currency_nor_a_number():
    assert Money(Decimal("1.00"), "EUR") != Money(Decimal("1.00"), "USD")
    assert Money(Decimal("1.00"), "EUR") != Decimal("1.00")
    assert Money(Decimal("1.00"), "EUR") != 1


def test_times_keeps_every_place_until_rounded():
    assert str(eur("10.00").times(Decimal("0.075")).amount) == "0.75000"
    with pytest.raises(TypeError, match="needs a Decimal"):
        eur("10.00").times(0.075)


def test_sum_money_adds_one_currency_and_refuses_mixing():
    assert sum_money([eur("0.10"), eur("0.20"), eur("0.30")]) == eur("0.60")
    assert sum_money([], "JPY") == Money(Decimal(0), "JPY")
    with pytest.raises(ValueError, match="needs a currency"):
        sum_money([])
    with pytest.raises(CurrencyMismatch):
        sum_money([eur("1.00"), Money(Decimal("1.00"), "USD")])
    with pytest.raises(CurrencyMismatch):
        sum_money([eur("1.00")], "USD")


# parsing


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1234.50", "1234.50"),
        (" 12.30 ", "12.30"),
        ("-0.5", "-0.5"),
        ("+3", "3"),
        (".25", "0.25"),
        ("7.", "7"),
        (7, "7"),
        (Decimal("1.10"), "1.10"),
    ],
)
def test_to_decimal_reads_plain_decimal_text_ints_and_decimals(given, expected):
    assert to_decimal(given) == Decimal(expected)
    assert str(to_decimal(given)) == str(Decimal(expected))


@pytest.mark.parametrize(
    "given",
    [
        1.5,
        0.1,
        True,
        False,
        "1,5",
        "1e3",
        "1E3",
        "",
        "   ",
        "abc",
        "NaN",
        "Infinity",
        "1 000",
        "1.2.3",
        "--1",
        "\u0661\u0662\u0663",
        "\uff11\uff12",
        Decimal("NaN"),
        None,
        [1],
    ],
)
def test_to_decimal_refuses_floats_bools_and_anything_but_decimal_text(given):
    with pytest.raises(InvalidAmount) as refused:
        to_decimal(given, field="unit_price")
    assert refused.value.field == "unit_price"
    assert "unit_price" in refused.value.message


def test_money_builds_an_amount_that_fits_the_currency():
    assert money("12.30", "EUR") == eur("12.30")
    assert str(money("12.3", "EUR").amount) == "12.30"
    assert str(money("12.300000", "EUR").amount) == "12.30"
    assert money(500, "JPY") == Money(Decimal(500), "JPY")
    assert str(money("1.250", "KWD").amount) == "1.250"
    assert money("999999999999.99", "EUR") == eur("999999999999.99")


@pytest.mark.parametrize("given", [1.5, "1,5", "1e3", "", "abc", True])
def test_money_refuses_what_to_decimal_refuses(given):
    with pytest.raises(InvalidAmount) as refused:
        money(given, "EUR", field="lines.0.amount")
    assert refused.value.field == "lines.0.amount"


def test_money_refuses_more_places_than_the_currency_has():
    with pytest.raises(InvalidAmount) as refused:
        money("12.345", "EUR", field="total")
    assert refused.value.field == "total"
    assert refused.value.message == "total 12.345 has more decimal places than EUR allows (2)"
    with pytest.raises(InvalidAmount):
        money("100.5", "JPY")


def test_money_refuses_an_unknown_currency_naming_the_currency_field():
    with pytest.raises(UnknownCurrency) as refused:
        money("1.00", "ABC", field="amount")
    assert refused.value.field == "currency"


@pytest.mark.parametrize("given", ["1000000000000", "1" * 40])
def test_money_refuses_an_amount_too_large_for_an_amount_column(given):
    with pytest.raises(InvalidAmount, match="too large") as refused:
        money(given, "EUR")
    assert refused.value.field == "amount"


# rounding


@pytest.mark.parametrize(
    ("policy", "value", "currency", "expected"),
    [
        (Rounding.HALF_UP, "0.125", "EUR", "0.13"),
        (Rounding.HALF_UP, "-0.125", "EUR", "-0.13"),
        (Rounding.HALF_UP, "2.674999", "EUR", "2.67"),
        (Rounding.HALF_UP, "1.004", "EUR", "1.00"),
        (Rounding.HALF_EVEN, "0.125", "EUR", "0.12"),
        (Rounding.HALF_EVEN, "0.135", "EUR", "0.14"),
        (Rounding.HALF_EVEN, "-0.125", "EUR", "-0.12"),
        (Rounding.HALF_EVEN, "0.1251", "EUR", "0.13"),
        (Rounding.DOWN, "0.129", "EUR", "0.12"),
        (Rounding.DOWN, "-0.129", "EUR", "-0.12"),
        (Rounding.UP, "0.121", "EUR", "0.13"),
        (Rounding.UP, "-0.121", "EUR", "-0.13"),
        (Rounding.UP, "0.120", "EUR", "0.12"),
        (Rounding.EXACT, "0.120000", "EUR", "0.12"),
        (Rounding.HALF_UP, "2.5", "JPY", "3"),
        (Rounding.HALF_UP, "1234.49", "JPY", "1234"),
        (Rounding.HALF_EVEN, "2.5", "JPY", "2"),
        (Rounding.HALF_EVEN, "3.5", "JPY", "4"),
        (Rounding.DOWN, "2.99", "JPY", "2"),
        (Rounding.UP, "2.01", "JPY", "3"),
        (Rounding.EXACT, "2.000", "JPY", "2"),
        (Rounding.HALF_UP, "1.2345", "KWD", "1.235"),
        (Rounding.HALF_EVEN, "1.2345", "KWD", "1.234"),
        (Rounding.DOWN, "1.2349", "KWD", "1.234"),
        (Rounding.UP, "1.2341", "KWD", "1.235"),
        (Rounding.EXACT, "1.230", "KWD", "1.230"),
        (Rounding.HALF_UP, "7", "KWD", "7.000"),
    ],
)
def test_round_money_by_each_policy(policy, value, currency, expected):
    rounded = round_money(Decimal(value), currency, policy)
    assert rounded.currency == currency
    assert str(rounded.amount) == expected


def test_round_money_defaults_to_half_up_and_accepts_money():
    assert str(round_money(eur("0.125")).amount) == "0.13"
    assert str(round_money(eur("0.125"), "EUR", Rounding.HALF_EVEN).amount) == "0.12"
    with pytest.raises(CurrencyMismatch):
        round_money(eur("0.125"), "USD")


def test_round_money_accepts_a_policy_by_its_name():
    assert str(round_money(Decimal("0.125"), "EUR", "half_even").amount) == "0.12"
    with pytest.raises(InvalidAmount):
        round_money(Decimal("0.125"), "EUR", "exact")
    with pytest.raises(ValueError, match="not a valid Rounding"):
        round_money(Decimal("0.125"), "EUR", "bankers")


@pytest.mark.parametrize(("value", "currency"), [("0.125", "EUR"), ("2.5", "JPY"), ("1.2345", "KWD")])
def test_exact_rounding_refuses_extra_places_naming_the_field(value, currency):
    with pytest.raises(InvalidAmount) as refused:
        round_money(Decimal(value), currency, Rounding.EXACT, field="lines.2.unit_price")
    assert refused.value.field == "lines.2.unit_price"
    assert refused.value.message.startswith(
        f"lines.2.unit_price {value} has more decimal places than {currency}"
    )


def test_round_money_needs_a_currency_and_a_decimal():
    with pytest.raises(TypeError, match="needs a currency"):
        round_money(Decimal("1.00"))
    with pytest.raises(TypeError, match="needs a Decimal"):
        round_money(1.005, "EUR")  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrency):
        round_money(Decimal("1.00"), "XYZ")


def test_round_money_refuses_an_amount_beyond_decimal_precision():
    with pytest.raises(InvalidAmount, match="too large") as refused:
        round_money(Decimal("1e30"), "EUR", field="total")
    assert refused.value.field == "total"


# splitting


def test_split_gives_the_leftover_cent_to_the_earliest_of_equal_parts():
    assert amounts(split(eur("100.00"), [1, 1, 1])) == ["33.34", "33.33", "33.33"]
    assert amounts(split(eur("0.05"), [1, 1, 1, 1])) == ["0.02", "0.01", "0.01", "0.01"]


def test_split_gives_leftover_cents_to_the_largest_remainders():
    assert amounts(split(eur("1.00"), [1, 2])) == ["0.33", "0.67"]
    # exact shares 14.2857…, 28.5714…, 57.1428…: remainders .57, .14, .29 in minor units
    assert amounts(split(eur("100.00"), [1, 2, 4])) == ["14.29", "28.57", "57.14"]


def test_split_of_a_negative_total_mirrors_the_positive_split():
    assert amounts(split(eur("-100.00"), [1, 1, 1])) == ["-33.34", "-33.33", "-33.33"]
    assert sum_money(split(eur("-0.07"), [3, 1])) == eur("-0.07")
    assert amounts(split(eur("-0.07"), [3, 1])) == ["-0.05", "-0.02"]


def test_split_gives_nothing_to_a_zero_weight():
    assert amounts(split(eur("10.00"), [0, 1, 1])) == ["0.00", "5.00", "5.00"]
    assert amounts(split(eur("0.01"), [0, 1, 1])) == ["0.00", "0.01", "0.00"]


def test_split_of_zero_gives_zero_parts():
    assert amounts(split(eur("0.00"), [1, 2, 3])) == ["0.00", "0.00", "0.00"]


def test_split_in_yen_works_in_whole_yen():
    parts = split(Money(Decimal("100"), "JPY"), [1, 1, 1])
    assert amounts(parts) == ["34", "33", "33"]
    assert all(part.currency == "JPY" for part in parts)
    assert amounts(split(Money(Decimal("1000"), "JPY"), [1, 2, 3, 4])) == ["100", "200", "300", "400"]


def test_split_in_dinar_works_in_fils():
    assert amounts(split(Money(Decimal("1.000"), "KWD"), [1, 1, 1])) == ["0.334", "0.333", "0.333"]


def test_split_by_decimal_weights():
    assert amounts(split(eur("10.00"), [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")])) == [
        "5.00",
        "2.50",
        "2.50",
    ]


@pytest.mark.parametrize(
    "weights",
    [[], [0, 0], [1, -1], [1.5, 1], [True, 1], ["1"], [Decimal("NaN")], [Decimal("Infinity"), 1]],
)
def test_split_refuses_weights_that_cannot_share_an_amount(weights):
    with pytest.raises(ValueError, match="weight"):
        split(eur("10.00"), weights)


def test_split_refuses_a_total_with_more_places_than_the_currency():
    with pytest.raises(InvalidAmount):
        split(eur("10.005"), [1, 1])
