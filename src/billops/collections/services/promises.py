"""Promises to pay: recorded by the collector, decided by what the customer then paid.

A promise is kept when the customer's payments received from the day it was made until the promised day
plus its grace days add up to the amount; it is broken when that day has passed without them. A broken
promise lets dunning resume and puts the customer back on its collector's worklist the same day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.validation import clean_text
from billops.collections.models import PromiseToPay
from billops.collections.services.accounts import profile_of
from billops.core.errors import Conflict, CurrencyMismatch, InvalidAmount, InvalidInput, NotFound
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import OpenItemMovement
from billops.customers.selectors import get_customer
from billops.invoicing.models import Invoice
from billops.invoicing.selectors import OPEN_STATUSES
from billops.payments.selectors import received_total

MOST_GRACE_DAYS = 30


def default_grace_days() -> int:
    return int(settings.PROMISE_GRACE_DAYS)


def open_balance(customer_id: int, currency: str) -> Decimal:
    """What the customer owes in the currency today: its open items, less its credit notes."""
    movements = OpenItemMovement.objects.filter(customer_id=customer_id, currency=currency)
    return round_money(movements.aggregate(total=Sum("amount"))["total"] or Decimal(0), currency).amount


@transaction.atomic(durable=True)
def record_promise(
    *,
    customer_id: int,
    amount: Money,
    promised_on: date,
    contact: str,
    actor: User,
    note: str = "",
    invoice_ids: Sequence[int] = (),
    grace_days: int | None = None,
) -> PromiseToPay:
    """Record that the customer promised to pay `amount` by `promised_on`; its dunning waits until the
    promise is decided. One promise is open per customer at a time."""
    require_permission(actor, "collections.work")
    customer = get_customer(customer_id, for_update=True)
    today = clock.today()
    if amount.currency != customer.currency:
        raise CurrencyMismatch(
            f"{customer.account_number} is billed in {customer.currency}, not {amount.currency}",
            field="currency",
        )
    amount = round_money(amount, policy=Rounding.EXACT)
    if amount.amount <= 0:
        raise InvalidAmount("a promise is of an amount above zero", field="amount")
    if promised_on < today:
        raise InvalidInput(
            f"a promise is to pay today or later, not on {promised_on.isoformat()}", field="promised_on"
        )
    grace = default_grace_days() if grace_days is None else grace_days
    if not 0 <= grace <= MOST_GRACE_DAYS:
        raise InvalidInput(f"grace days are 0 to {MOST_GRACE_DAYS}, not {grace}", field="grace_days")
    balance = open_balance(customer.pk, customer.currency)
    if amount.amount > balance:
        raise InvalidAmount(
            f"{customer.account_number} owes {balance} {customer.currency}; a promise of {amount} is more",
            field="amount",
        )
    invoices = list(
        Invoice.objects.filter(pk__in=list(invoice_ids), customer=customer, status__in=OPEN_STATUSES)
    )
    missing = sorted(set(invoice_ids) - {invoice.pk for invoice in invoices})
    if missing:
        raise NotFound(f"{customer.account_number} has no open invoice {missing[0]}", field="invoice_ids")
    earlier = PromiseToPay.objects.filter(customer=customer, status=PromiseToPay.Status.OPEN).first()
    if earlier is not None:
        promised = round_money(earlier.amount, earlier.currency)
        raise Conflict(
            f"{customer.account_number} has an open promise of {promised} by "
            f"{earlier.promised_on.isoformat()}; cancel it before recording another",
            field="customer_id",
        )
    promise = PromiseToPay.objects.create(
        customer=customer,
        currency=amount.currency,
        amount=amount.amount,
        made_on=today,
        promised_on=promised_on,
        grace_days=grace,
        contact=clean_text(contact, "contact", limit=200, required=True),
        note=clean_text(note, "note", limit=2000),
        created_by=actor,
    )
    promise.invoices.set(invoices)
    record_event(
        actor=actor,
        action="collections.promise_recorded",
        target=customer,
        after={
            "promise": promise.pk,
            "amount": amount.amount,
            "currency": amount.currency,
            "promised_on": promised_on,
            "grace_days": grace,
            "contact": promise.contact,
            "invoices": [invoice.number for invoice in invoices],
        },
    )
    return promise


def _locked_open(promise_id: int) -> PromiseToPay:
    found = PromiseToPay.objects.filter(pk=promise_id).values_list("customer_id", flat=True).first()
    if found is None:
        raise NotFound(f"there is no promise {promise_id}", field="promise_id")
    get_customer(found, for_update=True)
    promise = PromiseToPay.objects.select_for_update().get(pk=promise_id)
    if promise.status != PromiseToPay.Status.OPEN:
        raise Conflict(
            f"the promise was {promise.status} on {promise.decided_on}; it is decided already", field="status"
        )
    return promise


@transaction.atomic(durable=True)
def cancel_promise(*, promise_id: int, reason: str, actor: User) -> PromiseToPay:
    """Withdraw an open promise (recorded by mistake, or replaced by a payment plan); dunning resumes."""
    require_permission(actor, "collections.work")
    reason = clean_text(reason, "reason", limit=300, required=True)
    promise = _locked_open(promise_id)
    promise.status, promise.decided_on = PromiseToPay.Status.CANCELLED, clock.today()
    promise.save(update_fields=["status", "decided_on"])
    record_event(
        actor=actor,
        action="collections.promise_cancelled",
        target=promise.customer,
        after={"promise": promise.pk, "reason": reason},
    )
    return promise


def paid_towards(promise: PromiseToPay, until: date) -> Decimal:
    """What the customer paid from the day it promised until `until` (at most the last day that counts)."""
    last_day = min(until, promise.promised_on + timedelta(days=promise.grace_days))
    return received_total(
        customer_id=promise.customer_id, currency=promise.currency, start=promise.made_on, end=last_day
    )


@transaction.atomic(durable=True)
def evaluate_promises(*, on: date | None = None, actor: User | None = None) -> dict[str, int]:
    """Decide the open promises as of a day (the daily job): kept once their payments cover them, broken
    once the promised day plus grace has passed without; a broken one puts its customer on the worklist."""
    on = on or clock.today()
    decided = {"kept": 0, "broken": 0}
    for promise_id in PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN).values_list(
        "pk", flat=True
    ):
        promise = _locked_open(promise_id)
        paid = paid_towards(promise, on)
        if paid >= promise.amount:
            status = PromiseToPay.Status.KEPT
        elif on > promise.promised_on + timedelta(days=promise.grace_days):
            status = PromiseToPay.Status.BROKEN
        else:
            continue
        promise.status, promise.decided_on, promise.paid_amount = status, on, paid
        promise.save(update_fields=["status", "decided_on", "paid_amount"])
        if status == PromiseToPay.Status.BROKEN:
            profile = profile_of(promise.customer)
            profile.next_action_on = on
            promised = round_money(promise.amount, promise.currency)
            profile.next_action = f"Promise of {promised} broken: call"[:200]
            profile.save(update_fields=["next_action_on", "next_action"])
        decided[status] += 1
        record_event(
            actor=actor,
            action=f"collections.promise_{status}",
            target=promise.customer,
            after={"promise": promise.pk, "paid": paid, "amount": promise.amount, "on": on},
        )
    return decided
