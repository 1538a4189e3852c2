"""Credit management: how much of its credit limit a customer uses (open receivables plus work done and
not billed yet) and how late its oldest item is, the two reasons a customer is put on credit hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from billops.access.models import User
from billops.billing.selectors import unbilled_work
from billops.core.money import AMOUNT_PLACES, round_money
from billops.customers.models import Customer, OpenItemMovement

HALF_A_STORED_UNIT = Decimal(5).scaleb(-AMOUNT_PLACES - 1)


def hold_days_past_due() -> int:
    """BILLOPS_CREDIT_HOLD_DAYS_PAST_DUE: an item this many days past due puts its customer on hold (0:
    never)."""
    return int(settings.CREDIT_HOLD_DAYS_PAST_DUE)


@dataclass(frozen=True, slots=True)
class CreditPosition:
    customer: Customer
    open_amount: Decimal  # its open items less its credit notes, in its currency
    unbilled: Decimal  # work done, priced as the next run would bill it
    unpriced_items: int  # pending work that cannot be priced yet, not counted
    limit: Decimal  # 0: no credit extended, nothing to exceed
    oldest_due_on: date | None  # of the items still open in its currency
    days_past_due: int

    @property
    def used(self) -> Decimal:
        return self.open_amount + self.unbilled

    @property
    def available(self) -> Decimal:
        return self.limit - self.used

    @property
    def percent_used(self) -> Decimal | None:
        return (
            round_money(100 * self.used / self.limit, self.customer.currency).amount if self.limit else None
        )

    @property
    def over_limit(self) -> bool:
        return self.limit > 0 and self.used > self.limit


def oldest_open_due_days(customer_ids: list[int], currency_of: dict[int, str]) -> dict[int, date]:
    """Per customer, the due date of its oldest item still owed in its currency."""
    open_items = (
        OpenItemMovement.objects.filter(customer_id__in=customer_ids)
        .values("customer_id", "currency", "item_kind", "item_id", "due_on")
        .annotate(open=Sum("amount"))
        .filter(open__gte=HALF_A_STORED_UNIT)  # SQLite sums in floating point: 1e-13 is nothing owed
        .order_by()
    )
    oldest: dict[int, date] = {}
    for item in open_items.values_list("customer_id", "currency", "due_on"):
        customer_id, currency, due_on = item
        if currency_of.get(customer_id) == currency and (
            customer_id not in oldest or due_on < oldest[customer_id]
        ):
            oldest[customer_id] = due_on
    return oldest


def credit_position(customer: Customer, *, on: date, actor: User) -> CreditPosition:
    """The customer's credit use on a day: open receivables, unbilled work, limit, and how late it is."""
    movements = OpenItemMovement.objects.filter(customer=customer, currency=customer.currency)
    open_amount = round_money(
        movements.aggregate(total=Sum("amount"))["total"] or Decimal(0), customer.currency
    )
    unbilled = unbilled_work(customer, on, actor)
    oldest = oldest_open_due_days([customer.pk], {customer.pk: customer.currency}).get(customer.pk)
    return CreditPosition(
        customer=customer, open_amount=open_amount.amount,
        unbilled=round_money(unbilled.amount, customer.currency).amount, unpriced_items=unbilled.unpriced,
        limit=customer.credit_limit, oldest_due_on=oldest,
        days_past_due=max((on - oldest).days, 0) if oldest else 0,
    )  # fmt: skip
