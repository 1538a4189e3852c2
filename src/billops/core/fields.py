"""The model fields every money column uses, so that precision and currency codes are defined once."""

from __future__ import annotations

from typing import Any

from django.db import models

from billops.core.currencies import CURRENCY_CHOICES
from billops.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


class AmountField(models.DecimalField):
    """A money amount; the currency sits in a `currency` column on the same row."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_DIGITS)
        kwargs.setdefault("decimal_places", AMOUNT_PLACES)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    """An ISO 4217 code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("choices", CURRENCY_CHOICES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        # the code list is data of `core.currencies`; keep it out of every migration
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("choices", None)
        return name, path, args, kwargs
