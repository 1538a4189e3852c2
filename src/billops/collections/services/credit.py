"""The daily credit review: a customer whose credit use (open receivables plus unbilled work) exceeds its
limit, or with an item more than BILLOPS_CREDIT_HOLD_DAYS_PAST_DUE days past due, is put on credit hold;
its invoices then wait for a supervisor. Releasing a hold stays a supervisor's decision
(`customers.services.release_credit_hold`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.collections.selectors.credit import credit_position, hold_days_past_due, oldest_open_due_days
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.customers.services import put_on_credit_hold


@dataclass(frozen=True, slots=True)
class Hold:
    customer: Customer
    reason: str


def hold_reason(
    customer: Customer, *, on: date, actor: User, oldest_due_on: date | None, days: int | None = None
) -> str:
    """Why the customer should be on hold on the day, or "" when it should not; `days` past due holds it
    (None: the setting; 0: never)."""
    days = hold_days_past_due() if days is None else days
    if days and oldest_due_on is not None and (on - oldest_due_on).days > days:
        return f"an item {(on - oldest_due_on).days} days past due (more than {days})"
    if customer.credit_limit > 0:
        position = credit_position(customer, on=on, actor=actor)
        if position.over_limit:
            used, limit = (
                round_money(amount, customer.currency) for amount in (position.used, customer.credit_limit)
            )
            return f"credit limit exceeded: {used} used of {limit}"
    return ""


@transaction.atomic(durable=True)
def review_credit_holds(
    *, actor: User, on: date | None = None, days_past_due: int | None = None
) -> list[Hold]:
    """Put on credit hold every customer the review finds over its limit or too late (`days_past_due`; None:
    BILLOPS_CREDIT_HOLD_DAYS_PAST_DUE, 0: the limit only); audited per customer
    (`customers.credit_hold_placed`). Customers on hold already are left as they are."""
    require_permission(actor, "customers.place_credit_hold")
    on = on or clock.today()
    candidates = Customer.objects.filter(credit_hold=False, status=Customer.Status.ACTIVE).order_by("pk")
    currencies = dict(candidates.values_list("pk", "currency"))
    oldest = oldest_open_due_days(list(currencies), currencies)
    limited = set(candidates.filter(credit_limit__gt=0).values_list("pk", flat=True))
    held = []
    for customer in candidates.filter(pk__in=set(oldest) | limited).select_for_update(of=("self",)):
        reason = hold_reason(
            customer, on=on, actor=actor, oldest_due_on=oldest.get(customer.pk), days=days_past_due
        )
        if reason:
            put_on_credit_hold(
                customer, reason=f"Credit review {on.isoformat()}: {reason}"[:200], actor=actor
            )
            held.append(Hold(customer, reason))
    return held
