"""Plans and subscriptions: a supervisor sets up a plan (a product every interval, in phases); a clerk
subscribes a customer to it and cancels it at the end of a term. Bill runs bill each period once. Every
write is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import Plan, PlanPhase, Subscription
from billops.billing.periods import Phase, periods
from billops.billing.services.common import customer_taking_work
from billops.catalog.selectors import get_product
from billops.core.currencies import validate_currency
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidInput, NotFound
from billops.invoicing.errors import WrongStatus
from billops.invoicing.services.lines import clean_document_date, clean_price, clean_quantity, clean_text

INTERVALS = {"month": Plan.Interval.MONTH, "quarter": Plan.Interval.QUARTER, "year": Plan.Interval.YEAR}


@dataclass(frozen=True, slots=True)
class PhaseData:
    kind: str
    unit_price: Any
    periods: int | None = None  # None: the last phase, which lasts


def phases_of(plan: Plan) -> list[Phase]:
    return [Phase(phase.kind, phase.periods, phase.unit_price) for phase in plan.phases.order_by("position")]


def _clean_phases(phases: Sequence[PhaseData]) -> list[Phase]:
    if not phases:
        raise InvalidInput("a plan needs at least one phase", field="phases")
    cleaned = []
    for index, phase in enumerate(phases):
        field, last = f"phases.{index}", index == len(phases) - 1
        if phase.kind not in PlanPhase.Kind.values:
            raise InvalidInput(
                f"a phase is one of {', '.join(PlanPhase.Kind.values)}, not {phase.kind!r}",
                field=f"{field}.kind",
            )
        if last != (phase.periods is None):
            what = (
                "the last phase lasts: leave its periods out"
                if last
                else "only the last phase lasts: give its periods"
            )
            raise InvalidInput(what, field=f"{field}.periods")
        if phase.periods is not None and not 1 <= phase.periods <= 120:
            raise InvalidInput("a phase lasts 1 to 120 periods", field=f"{field}.periods")
        price = clean_price(phase.unit_price, f"{field}.unit_price")
        if (phase.kind == PlanPhase.Kind.TRIAL) != (price == 0):
            raise InvalidInput("a trial is free, and only a trial is", field=f"{field}.unit_price")
        cleaned.append(Phase(phase.kind, phase.periods, price))
    return cleaned


@transaction.atomic(durable=True)
def create_plan(
    *,
    code: str,
    name: str,
    product_code: str,
    currency: str,
    interval: str,
    timing: str,
    phases: Sequence[PhaseData],
    actor: User,
) -> Plan:
    """A plan selling the product every interval (month, quarter, year), billed in advance or in arrears."""
    require_permission(actor, "catalog.manage")
    code = clean_text(code, "code", limit=30, required=True).upper()
    if interval not in INTERVALS:
        raise InvalidInput(f"the interval is month, quarter or year, not {interval!r}", field="interval")
    if timing not in Plan.Timing.values:
        raise InvalidInput(f"a plan bills in advance or in arrears, not {timing!r}", field="timing")
    cleaned = _clean_phases(phases)
    product = get_product(product_code)
    plan = Plan(
        code=code, name=clean_text(name, "name", limit=200, required=True), product=product,
        currency=validate_currency(currency), interval_months=INTERVALS[interval], timing=timing,
        created_by=actor,
    )  # fmt: skip
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise Duplicate(f"there is a plan {code} already", field="code") from None
    PlanPhase.objects.bulk_create(
        PlanPhase(
            plan=plan, position=position, kind=phase.kind, periods=phase.periods, unit_price=phase.unit_price
        )
        for position, phase in enumerate(cleaned, start=1)
    )
    record_event(
        actor=actor,
        action="plan.created",
        target=plan,
        after={
            "code": code, "product": product.code, "currency": plan.currency, "interval": interval,
            "timing": timing, "phases": [[p.kind, p.periods, p.unit_price] for p in cleaned],
        },
    )  # fmt: skip
    return plan


@transaction.atomic(durable=True)
def subscribe(
    *,
    customer_id: int,
    plan_code: str,
    quantity: Any,
    actor: User,
    start_date: date | None = None,
    po_number: str = "",
) -> Subscription:
    """Subscribe the customer to the plan from `start_date` (left out: today); periods run from that day."""
    require_permission(actor, "billing.capture")
    customer = customer_taking_work(customer_id)
    plan = Plan.objects.filter(code=plan_code.strip().upper()).first()
    if plan is None:
        raise NotFound(f"there is no plan {plan_code!r}", field="plan_code")
    if not plan.is_active:
        raise InvalidInput(f"{plan} takes no new subscriptions", field="plan_code")
    if plan.currency != customer.currency:
        raise CurrencyMismatch(
            f"{plan} is in {plan.currency}, {customer.account_number} is billed in {customer.currency}",
            field="plan_code",
        )
    subscription = Subscription.objects.create(
        customer=customer, plan=plan, quantity=clean_quantity(quantity), created_by=actor,
        start_date=clean_document_date(start_date, "start_date") or clock.today(),
        po_number=clean_text(po_number, "po_number", limit=60),
    )  # fmt: skip
    record_event(
        actor=actor,
        action="subscription.created",
        target=subscription,
        after={
            "customer": customer.account_number, "plan": plan.code, "quantity": subscription.quantity,
            "start_date": subscription.start_date,
        },
    )  # fmt: skip
    return subscription


@transaction.atomic(durable=True)
def cancel_at_term_end(
    *, subscription_id: int, reason: str, actor: User, on: date | None = None
) -> Subscription:
    """End the subscription with the period that holds `on` (left out: today): it is billed to then."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        raise NotFound(f"there is no subscription {subscription_id}", field="subscription_id")
    if subscription.status != Subscription.Status.ACTIVE:
        raise WrongStatus(f"{subscription} is {subscription.status} already", field="status")
    day = clean_document_date(on, "on") or clock.today()
    held = list(
        periods(
            start=subscription.start_date, interval_months=subscription.plan.interval_months,
            phases=phases_of(subscription.plan), until=day,
        )
    )  # fmt: skip
    end = held[-1].end if held else None  # cancelled before it started: never billed
    subscription.status, subscription.end_date, subscription.cancel_reason = (
        Subscription.Status.CANCELLED,
        end,
        reason,
    )
    subscription.cancelled_by, subscription.cancelled_at = actor, timezone.now()
    subscription.save(update_fields=["status", "end_date", "cancel_reason", "cancelled_by", "cancelled_at"])
    record_event(
        actor=actor,
        action="subscription.cancelled",
        target=subscription,
        before={"status": "active"},
        after={"status": subscription.status, "end_date": end, "reason": reason},
    )
    return subscription
