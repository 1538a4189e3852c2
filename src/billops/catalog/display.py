"""Prices, quantities and rates as text for the API and the pages: exact, without trailing zeros beyond
what the currency shows ("49.90", "0.125", "10", "19")."""

from __future__ import annotations

from decimal import Decimal

from billops.core.currencies import minor_units


def plain_decimal(value: Decimal, places: int = 0) -> str:
    """Decimal text without trailing zeros beyond `places`: 19.0000 -> "19", 49.900000 -> "49.90" (2)."""
    text = f"{value.normalize():f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.ljust(places, "0")
    return f"{whole}.{fraction}" if fraction else whole


def price_text(value: Decimal, currency: str) -> str:
    """A unit price with at least the currency's places and every further place it has: "49.90", "0.125"."""
    return plain_decimal(value, minor_units(currency))
