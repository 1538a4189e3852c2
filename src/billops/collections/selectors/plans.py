"""Reads of payment plans: who has an active one, a plan's schedule and what has been paid towards it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from billops.collections.models import Instalment, PaymentPlan, PlanItem
from billops.core.errors import NotFound
from billops.invoicing.models import DocumentType, Invoice
from billops.invoicing.selectors import OPEN_STATUSES


def customers_with_active_plans(customer_ids: Iterable[int] | None = None) -> set[int]:
    """The customers (of those given, or all) with an active payment plan: they are not dunned."""
    plans = PaymentPlan.objects.filter(status=PaymentPlan.Status.ACTIVE)
    if customer_ids is not None:
        plans = plans.filter(customer_id__in=list(customer_ids))
    return set(plans.values_list("customer_id", flat=True))


def invoices_for_plan(customer_id: int) -> QuerySet[Invoice]:
    """The customer's open invoices and debit notes a plan may cover (those on no active plan), oldest due
    first."""
    taken = PlanItem.objects.filter(plan__status=PaymentPlan.Status.ACTIVE).values("invoice_id")
    return (
        Invoice.objects.filter(
            customer_id=customer_id,
            document_type__in=(DocumentType.INVOICE, DocumentType.DEBIT_NOTE),
            status__in=OPEN_STATUSES,
            open_amount__gt=0,
        )
        .exclude(pk__in=taken)
        .order_by("due_on", "number")
    )


def list_plans(*, customer_id: int | None = None, status: str = "") -> QuerySet[PaymentPlan]:
    """Payment plans, latest first; each filter left out matches all."""
    plans = PaymentPlan.objects.select_related("customer", "created_by", "charges_note").order_by(
        "-starts_on", "-id"
    )
    if customer_id is not None:
        plans = plans.filter(customer_id=customer_id)
    if status:
        plans = plans.filter(status=status)
    return plans


def get_plan(plan_id: int) -> PaymentPlan:
    """One plan with its items and instalments, or NotFound."""
    found = list_plans().prefetch_related("items__invoice", "instalments").filter(pk=plan_id).first()
    if found is None:
        raise NotFound(f"there is no payment plan {plan_id}", field="plan_id")
    return found


def settled_towards(plan: PaymentPlan) -> Decimal:
    """What the customer has settled of the plan's items since it was agreed (paid, or credited): what they
    had open then less what they have open now; never below zero."""
    settled = sum(
        (item.amount - max(item.invoice.open_amount, Decimal(0)) for item in plan.items.all()), Decimal(0)
    )
    return max(settled, Decimal(0))


def allocate_to_instalments(amounts: list[Decimal], paid: Decimal) -> list[Decimal]:
    """`paid` spread over instalments of `amounts` in the order they fall due, each filled before the next."""
    allocated = []
    for amount in amounts:
        part = min(amount, paid)
        allocated.append(part)
        paid -= part
    return allocated


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    instalment: Instalment
    paid: Decimal  # as of now, from the covered invoices
    left: Decimal
    is_late: bool  # past its due date (and grace) and not paid in full


@dataclass(frozen=True, slots=True)
class Schedule:
    """A plan's instalments with what is paid towards each as of now, and the totals."""

    plan: PaymentPlan
    rows: list[ScheduleRow]
    paid: Decimal
    left: Decimal

    @property
    def next_due(self) -> ScheduleRow | None:
        return next((row for row in self.rows if row.left > 0), None)


def plan_schedule(plan_id: int, *, on: date) -> Schedule:
    """The plan's schedule as of `on`: each instalment, what is paid towards it and whether it is late."""
    plan = get_plan(plan_id)
    instalments = sorted(plan.instalments.all(), key=lambda instalment: instalment.number)
    settled = min(settled_towards(plan), plan.total)
    parts = allocate_to_instalments([instalment.amount for instalment in instalments], settled)
    rows = [
        ScheduleRow(
            instalment=instalment,
            paid=part,
            left=instalment.amount - part,
            is_late=part < instalment.amount and (on - instalment.due_on).days > plan.grace_days,
        )
        for instalment, part in zip(instalments, parts, strict=True)
    ]
    return Schedule(plan=plan, rows=rows, paid=settled, left=plan.total - settled)
