"""Template filters for catalog figures: `{{ rate|plain }}` gives "19", `{{ price|price:"EUR" }}` "49.90"."""

from __future__ import annotations

from decimal import Decimal

from django import template

from billops.catalog.display import plain_decimal, price_text

register = template.Library()


@register.filter
def plain(value: Decimal | None) -> str:
    return "" if value is None else plain_decimal(value)


@register.filter
def price(value: Decimal | None, currency: str) -> str:
    return "" if value is None else price_text(value, currency)
