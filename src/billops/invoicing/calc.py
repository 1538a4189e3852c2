"""Document totals: line nets, tax per line or per rate, and the totals, by the core rounding policy.

Pure arithmetic on Decimals, no database, so the rules can be read in one place and tested with
Hypothesis:
- a line's list value is quantity times unit price; its line discount percent, then its fixed discount,
  then the invoice discount percent come off; the net is rounded once, half up by default;
- per-line tax rounding rounds each line's tax; per-invoice rounding rounds each rate group's tax once
  and splits it over the group's lines (largest remainder), so line taxes always add up to the total;
- total = sum of nets + sum of taxes, exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from billops.core.errors import InvalidAmount
from billops.core.money import Money, Rounding, round_money, split

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    tax_rate: Decimal  # percent
    tax_group: tuple[int, str]  # lines with the same group share one rounded tax under per-invoice rounding


@dataclass(frozen=True, slots=True)
class LineResult:
    list_value: Decimal  # quantity times unit price, rounded, before any discount
    net: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class GroupResult:
    group: tuple[int, str]  # the lines' tax_group
    rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[LineResult, ...]
    groups: tuple[GroupResult, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def line_net(
    line: LineInput, *, invoice_discount_percent: Decimal, currency: str, rounding: Rounding
) -> Decimal:
    """The line's rounded net; refuses a fixed discount larger than what is left to discount."""
    value = line.quantity * line.unit_price * (1 - line.discount_percent / HUNDRED)
    if line.discount_amount > value:
        raise InvalidAmount(
            f"the discount of {line.discount_amount} is more than the line's value of "
            f"{round_money(value, currency, rounding).amount}",
            field="discount_amount",
        )
    value = (value - line.discount_amount) * (1 - invoice_discount_percent / HUNDRED)
    return round_money(value, currency, rounding, field="net").amount


def compute_totals(
    lines: Sequence[LineInput],
    *,
    currency: str,
    invoice_discount_percent: Decimal = Decimal(0),
    per_invoice_tax: bool = False,
    rounding: Rounding = Rounding.HALF_UP,
) -> Totals:
    """Nets, taxes and totals of a document's lines."""
    nets = [
        line_net(
            line, invoice_discount_percent=invoice_discount_percent, currency=currency, rounding=rounding
        )
        for line in lines
    ]
    list_values = [round_money(line.quantity * line.unit_price, currency, rounding).amount for line in lines]
    members: dict[tuple[tuple[int, str], Decimal], list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        members[(line.tax_group, line.tax_rate)].append(index)
    taxes = [Decimal(0)] * len(lines)
    groups = []
    for (group, rate), indexes in members.items():
        taxable = sum((nets[i] for i in indexes), Decimal(0))
        if per_invoice_tax:
            tax = round_money(taxable * rate / HUNDRED, currency, rounding).amount
            weights = [nets[i] for i in indexes]
            shares = (
                split(Money(tax, currency), weights)
                if any(weights)
                else [Money.zero(currency)] * len(indexes)
            )
            for i, share in zip(indexes, shares, strict=True):
                taxes[i] = share.amount
        else:
            for i in indexes:
                taxes[i] = round_money(nets[i] * rate / HUNDRED, currency, rounding).amount
            tax = sum((taxes[i] for i in indexes), Decimal(0))
        groups.append(GroupResult(group=group, rate=rate, taxable=taxable, tax=tax))
    subtotal = sum(nets, Decimal(0))
    tax_total = sum(taxes, Decimal(0))
    return Totals(
        lines=tuple(
            LineResult(list_value=value, net=net, tax=tax)
            for value, net, tax in zip(list_values, nets, taxes, strict=True)
        ),
        groups=tuple(groups),
        subtotal=subtotal,
        discount_total=sum(list_values, Decimal(0)) - subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
    )
