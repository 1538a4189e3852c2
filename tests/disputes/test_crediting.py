"""The credit note a resolution plans: per line, the net whose net plus rounded tax is the line's share of
the disputed amount; never more than disputed, at most one minor unit less, and only when tax rounding
leaves no other way."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billops.core.money import Rounding, round_money
from billops.disputes.crediting import LineLeft, plan_credit, spread
from billops.invoicing.models import InvoiceLine

CENT = Decimal("0.01")
cents = st.integers(min_value=1, max_value=1_000_000).map(lambda n: Decimal(n) * CENT)
rates = st.sampled_from([Decimal(0), Decimal(7), Decimal("7.25"), Decimal(19), Decimal(20)])
PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def left_of(line_no: int, net: Decimal, rate: Decimal) -> LineLeft:
    tax = round_money(net * rate / 100, "EUR", Rounding.HALF_UP).amount
    return LineLeft(InvoiceLine(line_no=line_no, net=net, tax_amount=tax), net, tax)


@PROPERTY
@given(net=cents, rate=rates, share=st.fractions(min_value=0, max_value=1))
def test_one_line_is_credited_exactly_or_one_cent_short(net, rate, share):
    left = left_of(1, net, rate)
    target = max(round_money(left.gross * Decimal(share.numerator) / share.denominator, "EUR").amount, CENT)
    plan = plan_credit("EUR", [(left, target)])
    [line] = plan.lines
    assert 0 < line.net <= left.net
    assert line.tax == left.tax_on(line.net, "EUR")
    assert Decimal(0) <= plan.short_by <= CENT
    if target == left.gross:
        assert line.is_whole and plan.short_by == 0


@PROPERTY
@given(lines=st.lists(st.tuples(cents, rates), min_size=1, max_size=6), data=st.data())
def test_a_spread_amount_adds_up_and_is_never_exceeded(lines, data):
    lefts = [left_of(number, net, rate) for number, (net, rate) in enumerate(lines, start=1)]
    creditable = sum((left.gross for left in lefts), Decimal(0))
    amount = Decimal(data.draw(st.integers(min_value=1, max_value=int(creditable / CENT)))) * CENT
    targets = spread(amount, "EUR", lefts)
    assert sum(target for _, target in targets) == amount
    plan = plan_credit("EUR", targets)
    assert Decimal(0) <= plan.short_by <= CENT
    assert all(0 < line.net <= line.left.net for line in plan.lines)
    assert len({line.line_no for line in plan.lines}) == len(plan.lines)


def test_the_unreachable_cent_moves_to_another_line():
    service, travel = left_of(1, Decimal("100.00"), Decimal(19)), left_of(2, Decimal("50.00"), Decimal(19))
    alone = plan_credit("EUR", [(service, Decimal("100.18"))])
    assert (alone.total, alone.short_by) == (Decimal("100.17"), CENT)
    both = plan_credit("EUR", [(service, Decimal("100.18")), (travel, Decimal("10.00"))])
    assert (both.total, both.short_by) == (Decimal("110.18"), 0)
    # 100.17 on the first line, 10.01 on the second
    assert [(line.net, line.tax) for line in both.lines] == [
        (Decimal("84.18"), Decimal("15.99")), (Decimal("8.41"), Decimal("1.60")),
    ]  # fmt: skip
