"""The payment terms every installation starts with, put in place after each `migrate` (and `flush`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps as global_apps

# code, name, kind, days, day_of_month, discount_percent, discount_days
DEFAULT_TERMS = [
    ("DUE", "Due on receipt", "net_days", 0, None, Decimal("0"), 0),
    ("NET15", "Net 15", "net_days", 15, None, Decimal("0"), 0),
    ("NET30", "Net 30", "net_days", 30, None, Decimal("0"), 0),
    ("NET45", "Net 45", "net_days", 45, None, Decimal("0"), 0),
    ("NET60", "Net 60", "net_days", 60, None, Decimal("0"), 0),
    ("2/10NET30", "2 % 10 days, net 30", "net_days", 30, None, Decimal("2.00"), 10),
    ("15NEXT", "Due on the 15th of the following month", "day_of_month", 0, 15, Decimal("0"), 0),
]


def ensure_default_terms(sender: Any, *, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """Create the default terms that are missing; terms already there are left as they are."""
    try:
        terms = (apps or global_apps).get_model("customers", "PaymentTerms")
    except LookupError:  # migrated back to before the customers tables existed
        return
    for code, name, kind, days, day, percent, discount_days in DEFAULT_TERMS:
        terms.objects.using(using).get_or_create(
            code=code,
            defaults={"name": name, "kind": kind, "days": days, "day_of_month": day,
                      "discount_percent": percent, "discount_days": discount_days},
        )  # fmt: skip
