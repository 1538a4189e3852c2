"""The write-off tolerance: how much of an invoice a payment may leave unpaid and still close it.

A customer's bank takes a fee off the transfer, or the customer pays 0.37 less than it owes: chasing the
difference costs more than it is worth. Within the tolerance of the invoice's currency the difference is
written off to payment differences with the payment (automatically when a bank line names the invoice,
or when a clerk applies cash); beyond it only a supervisor writes it off. Without a tolerance for the
currency, nothing is written off by itself.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.currencies import validate_currency
from billops.core.errors import InvalidAmount
from billops.core.money import Money, Rounding, round_money
from billops.payments.models import WriteOffTolerance


def write_off_limit(tolerance: WriteOffTolerance | None, total: Decimal) -> Decimal:
    """What may be written off an invoice of `total` in the tolerance's currency: the lower of its amount
    and its percent of the total, rounded down to the currency; 0 without a tolerance."""
    if tolerance is None:
        return Decimal(0)
    currency = tolerance.currency
    share = round_money(Money(total * tolerance.max_percent / 100, currency), policy=Rounding.DOWN)
    return round_money(Money(min(tolerance.max_amount, share.amount), currency)).amount


def _number(value: object, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidAmount(f"{field} must be a number, got {value!r}", field=field) from None
    if not number.is_finite() or number < 0:
        raise InvalidAmount(f"{field} must be 0 or more, got {value}", field=field)
    return number


@transaction.atomic(durable=True)
def set_write_off_tolerance(
    *, currency: str, max_amount: object, max_percent: object, actor: User
) -> WriteOffTolerance:
    """Set the currency's tolerance (0 and 0 writes nothing off by itself); audited with before and after."""
    require_permission(actor, "payments.set_tolerance")
    currency = validate_currency(currency.strip().upper())
    amount = round_money(
        Money(_number(max_amount, "max_amount"), currency), policy=Rounding.EXACT, field="max_amount"
    ).amount
    percent = _number(max_percent, "max_percent")
    if percent > 100 or percent != percent.quantize(Decimal("0.01")):
        raise InvalidAmount(
            f"max_percent is 0 to 100 with two places at most, got {percent}", field="max_percent"
        )
    percent = percent.quantize(Decimal("0.01"))  # as it is stored: 1 → 1.00
    tolerance = WriteOffTolerance.objects.select_for_update().filter(currency=currency).first()
    before = (
        None
        if tolerance is None
        else {"max_amount": tolerance.max_amount, "max_percent": tolerance.max_percent}
    )
    if tolerance is None:
        tolerance = WriteOffTolerance(currency=currency)
    tolerance.max_amount, tolerance.max_percent, tolerance.updated_by = amount, percent, actor
    tolerance.save()
    record_event(
        actor=actor, action="payments.tolerance_set", target=tolerance, before=before,
        after={"currency": currency, "max_amount": amount, "max_percent": percent},
    )  # fmt: skip
    return tolerance
