"""Rating rules of every charge model, with exact amounts at the tier boundaries and the rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billops.usage.rating import Figures, Terms, Tier, line_figures, quantity_of, rate

D = Decimal
TIERS = (Tier(D(1000), D("0.01"), D(0)), Tier(D(10000), D("0.008"), D(5)), Tier(None, D("0.005"), D(20)))
FIGURES = Figures(events=7, total=D("12.5"), highest=D(9), distinct=3, latest=D(4))


@pytest.mark.parametrize(
    ("aggregation", "quantity"),
    [("sum", "12.5"), ("count", "7"), ("unique_count", "3"), ("max", "9"), ("latest", "4")],
)
def test_each_aggregation_picks_its_quantity(aggregation: str, quantity: str) -> None:
    assert quantity_of(aggregation, FIGURES) == D(quantity)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [("0", "0.00"), ("1", "0.00"), ("12345", "14.81"), ("12346", "14.82"), ("0.5", "0.00"), ("5", "0.01")],
)
def test_per_unit_is_quantity_times_price_rounded_half_up(quantity: str, amount: str) -> None:
    # 12345 x 0.0012 = 14.814; 12346 x 0.0012 = 14.8152; 5 x 0.0012 = 0.006
    assert rate(Terms("per_unit", unit_price=D("0.0012")), D(quantity), 1, "EUR") == D(amount)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        ("0", "0.00"),  # no usage, no tier reached: not even a flat fee
        ("1", "0.01"),
        ("1000", "10.00"),  # the boundary is inclusive: all in the first tier
        ("1001", "15.01"),  # one unit into the second tier brings its flat fee: 10 + 0.008 + 5
        ("10000", "87.00"),  # 10 + 9000 x 0.008 + 5
        ("10001", "107.01"),  # 87 + 0.005 + 20
        ("25000", "182.00"),  # 87 + 15000 x 0.005 + 20
    ],
)
def test_graduated_prices_each_tier_at_its_own_rate_plus_its_flat_fee(quantity: str, amount: str) -> None:
    assert rate(Terms("graduated", tiers=TIERS), D(quantity), 1, "EUR") == D(amount)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        ("0", "0.00"),
        ("1000", "10.00"),  # 1000 x 0.01
        ("1001", "13.01"),  # all 1001 at 0.008, + 5: 8.008 + 5
        ("10000", "85.00"),  # 80 + 5
        ("10001", "70.01"),  # cheaper: all at 0.005 = 50.005, + 20
        ("1000.5", "13.00"),  # 8.004 + 5
    ],
)
def test_volume_prices_all_units_at_the_tier_the_total_falls_into(quantity: str, amount: str) -> None:
    assert rate(Terms("volume", tiers=TIERS), D(quantity), 1, "EUR") == D(amount)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [("0", "0.00"), ("1", "9.90"), ("1000", "9.90"), ("1001", "19.80"), ("2000", "19.80")],
)
def test_package_bills_every_package_started(quantity: str, amount: str) -> None:
    terms = Terms("package", package_size=D(1000), package_price=D("9.90"))
    assert rate(terms, D(quantity), 1, "EUR") == D(amount)


def test_percentage_is_the_rate_of_the_sum_plus_a_fee_per_event() -> None:
    terms = Terms("percentage", percentage=D("2.9"), fixed_fee=D("0.30"))
    assert rate(terms, D("1234.56"), 10, "EUR") == D("38.80")  # 35.80224 + 3.00
    assert rate(terms, D("0"), 2, "EUR") == D("0.60")  # events of nothing still cost their fee
    assert rate(terms, D("0"), 0, "EUR") == D("0.00")
    assert rate(Terms("percentage", percentage=D("1.5")), D("0.33"), 1, "EUR") == D("0.00")  # 0.00495


def test_amounts_round_to_the_currency_minor_unit() -> None:
    terms = Terms("per_unit", unit_price=D("0.0015"))
    assert rate(terms, D(3), 1, "JPY") == D(0)  # 0.0045 yen
    assert rate(terms, D(1000), 1, "JPY") == D(2)  # 1.5 rounds half up
    assert rate(terms, D(1000), 1, "KWD") == D("1.500")


def test_a_line_shows_quantity_times_price_only_when_that_is_the_exact_amount() -> None:
    per_unit = Terms("per_unit", unit_price=D("0.05"))
    assert line_figures(per_unit, D(3), D("0.15")) == (D(3), D("0.05"))
    assert line_figures(Terms("per_unit", unit_price=D("0.0012")), D(12345), D("14.81")) is None
    package = Terms("package", package_size=D(1000), package_price=D("9.90"))
    assert line_figures(package, D(1001), D("19.80")) == (D(2), D("9.90"))
    assert line_figures(Terms("graduated", tiers=TIERS), D(1001), D("15.01")) is None
    assert line_figures(per_unit, D(0), D(0)) is None
