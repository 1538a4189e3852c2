"""Numbers, amounts and dates as a reader in the document's language expects them (babel/CLDR)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

SUPPORTED_LANGUAGES = ("en", "de", "fr")
DEFAULT_LANGUAGE = "en"


def resolve_language(language: str) -> str:
    """The supported language a document prints in: "de-CH" prints in German, "es" in English."""
    primary = language.replace("_", "-").split("-")[0].lower()
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def _plain(value: Decimal) -> Decimal:
    # 12.345600 → 12.3456 and 10.00 → 10, never the exponent form normalize() gives for 10 (1E+1)
    return Decimal(f"{value.normalize():f}")


def format_amount(amount: Decimal, currency: str, language: str) -> str:
    """An amount with its currency sign and the currency's minor unit: "€1,234.50", "1.234,50 €"."""
    return babel_numbers.format_currency(amount, currency, locale=resolve_language(language))


def format_number(value: Decimal, language: str, *, min_places: int = 0) -> str:
    """A quantity or unit price with its significant places only: 1.5, 12.3456, 10.

    `min_places=2` keeps the cents of a unit price (12.50) while still showing 12.3456.
    """
    pattern = "#,##0" + ("." + "0" * min_places if min_places else "")
    return babel_numbers.format_decimal(
        _plain(value), format=pattern, locale=resolve_language(language), decimal_quantization=False
    )


def format_percent(percent: Decimal, language: str) -> str:
    """A rate given in percent (19 means 19 %): "19%", "19 %", "7,7 %"."""
    return babel_numbers.format_percent(
        _plain(percent) / 100, locale=resolve_language(language), decimal_quantization=False
    )


def format_date(day: date, language: str) -> str:
    """A date in the language's medium form: "Nov 23, 2026", "23.11.2026", "23 nov. 2026"."""
    return babel_dates.format_date(day, format="medium", locale=resolve_language(language))


def country_name(code: str, language: str) -> str:
    """The country's name in the document language ("DE" → "Germany", "Deutschland"); the code if unknown."""
    if not code:
        return ""
    return Locale.parse(resolve_language(language)).territories.get(code.upper(), code)
