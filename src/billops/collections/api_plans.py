"""API: payment plans under /api/v1/collections/plans (the router is mounted at /collections/): agree one,
read its schedule with what is paid, cancel it, and evaluate the active plans (the daily job).

Amounts travel as decimal strings ("333.33").
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le, Len
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from billops.access import clock
from billops.access.auth import api_actor
from billops.collections.models import PaymentPlan, PlanItem
from billops.collections.selectors import plans as selectors
from billops.collections.services import plans as services
from billops.core.errors import InvalidInput
from billops.core.money import round_money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    DateIn,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)

router = Router()

Count = Annotated[int, Ge(0), Le(1000)]


def _amount(value: Decimal, currency: str) -> Decimal:
    return round_money(value, currency).amount


class EqualIn(StrictIn):
    count: Count
    first_due_on: DateIn
    every: Count = 1
    unit: str = "months"  # or "days"


class CustomIn(StrictIn):
    due_on: DateIn
    amount: AmountIn | None = None  # the amounts add up to what the invoices have open …
    percent: AmountIn | None = None  # … or the percents to 100


class PaymentPlanIn(StrictIn):
    customer_id: RowId
    invoice_ids: Annotated[list[RowId], Len(0, 500)]
    equal: EqualIn | None = None  # one of these two
    custom: list[CustomIn] | None = None
    fee: AmountIn | None = None
    interest_rate: AmountIn | None = None  # percent a year
    grace_days: Count = 0
    missed_to_default: Count = 1

    def schedule(self) -> services.Schedule:
        if (self.equal is None) == (self.custom is None):
            raise InvalidInput(
                "give the instalments as `equal` or as `custom`, one of them", field="instalments"
            )
        if self.equal is not None:
            return services.EqualInstalments(**self.equal.model_dump())
        return [services.CustomInstalment(**part.model_dump()) for part in self.custom or []]


class CancelIn(StrictIn):
    reason: str


class EvaluateIn(StrictIn):
    on: DateIn | None = None  # today when left out


class EvaluatedOut(Schema):
    evaluated: int
    paid: int
    missed: int
    completed: int
    defaulted: int


class InstalmentOut(Schema):
    number: int
    due_on: date
    amount: AmountOut
    paid: AmountOut  # as of now, from the covered invoices
    left: AmountOut
    status: str  # as of the last evaluation: due, paid or missed
    is_late: bool


class PlanItemOut(Schema):
    invoice_id: int
    number: str
    amount: AmountOut  # open when the plan was agreed
    open_amount: AmountOut  # open now

    @staticmethod
    def resolve_number(obj: PlanItem) -> str:
        return obj.invoice.number or ""

    @staticmethod
    def resolve_amount(obj: PlanItem) -> Decimal:
        return _amount(obj.amount, obj.currency)

    @staticmethod
    def resolve_open_amount(obj: PlanItem) -> Decimal:
        return _amount(obj.invoice.open_amount, obj.currency)


class PaymentPlanOut(Schema):
    id: int
    customer_id: int
    account_number: str
    currency: str
    status: str
    total: AmountOut
    fee: AmountOut
    interest_rate: AmountOut
    interest: AmountOut
    charges_note: str | None
    starts_on: date
    grace_days: int
    missed_to_default: int
    decided_on: date | None
    cancel_reason: str
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_account_number(obj: PaymentPlan) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_total(obj: PaymentPlan) -> Decimal:
        return _amount(obj.total, obj.currency)

    @staticmethod
    def resolve_fee(obj: PaymentPlan) -> Decimal:
        return _amount(obj.fee, obj.currency)

    @staticmethod
    def resolve_interest_rate(obj: PaymentPlan) -> Decimal:
        return Decimal(f"{obj.interest_rate.normalize():f}")

    @staticmethod
    def resolve_interest(obj: PaymentPlan) -> Decimal:
        return _amount(obj.interest, obj.currency)

    @staticmethod
    def resolve_charges_note(obj: PaymentPlan) -> str | None:
        return obj.charges_note.number if obj.charges_note else None

    @staticmethod
    def resolve_created_by(obj: PaymentPlan) -> str:
        return obj.created_by.username


class PlanDetailOut(PaymentPlanOut):
    paid: AmountOut  # settled on the covered invoices since the plan was agreed
    left: AmountOut
    items: list[PlanItemOut]
    instalments: list[InstalmentOut]

    @staticmethod
    def resolve_paid(obj: PaymentPlan) -> Decimal:
        return _amount(_schedule(obj).paid, obj.currency)

    @staticmethod
    def resolve_left(obj: PaymentPlan) -> Decimal:
        return _amount(_schedule(obj).left, obj.currency)

    @staticmethod
    def resolve_items(obj: PaymentPlan) -> list[PlanItem]:
        return list(obj.items.all())

    @staticmethod
    def resolve_instalments(obj: PaymentPlan) -> list[dict[str, Any]]:
        currency = obj.currency
        return [
            {
                "number": row.instalment.number, "due_on": row.instalment.due_on,
                "amount": _amount(row.instalment.amount, currency), "paid": _amount(row.paid, currency),
                "left": _amount(row.left, currency), "status": row.instalment.status, "is_late": row.is_late,
            }
            for row in _schedule(obj).rows
        ]  # fmt: skip


class PlanFilters(Schema):
    customer_id: RowId | None = None
    status: str = ""


def _schedule(plan: PaymentPlan) -> selectors.Schedule:
    return getattr(plan, "schedule")  # noqa: B009 - set by `_detail`, not a model field


def _detail(plan_id: int) -> PaymentPlan:
    """The plan with its schedule as of today, for `PlanDetailOut`."""
    schedule = selectors.plan_schedule(plan_id, on=clock.today())
    plan = schedule.plan
    plan.schedule = schedule  # type: ignore[attr-defined]  # read by PlanDetailOut's resolvers
    return plan


@router.post("/plans", response={201: PlanDetailOut, **errors(*WRITE_ERRORS, 404)})
def create_plan(request: HttpRequest, payload: PaymentPlanIn) -> object:
    """Agree a plan for some of a customer's open invoices; the instalments always add up to its total."""
    plan = services.create_payment_plan(
        customer_id=payload.customer_id, invoice_ids=payload.invoice_ids, instalments=payload.schedule(),
        fee=payload.fee, interest_rate=payload.interest_rate, grace_days=payload.grace_days,
        missed_to_default=payload.missed_to_default, actor=api_actor(request),
    )  # fmt: skip
    return Status(201, _detail(plan.pk))


@router.get("/plans", response={200: list[PaymentPlanOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_plans(request: HttpRequest, filters: Query[PlanFilters]) -> object:
    """Plans latest first."""
    return selectors.list_plans(**filters.model_dump())


# before `/plans/{plan_id}`: that pattern would take this path first and answer 405
@router.post("/plans/evaluate", response={200: EvaluatedOut, **errors(*WRITE_ERRORS)})
def evaluate_plans(request: HttpRequest, payload: EvaluateIn) -> object:
    """Mark instalments paid or missed, and complete or default the active plans, as of a day."""
    return services.evaluate_payment_plans(on=payload.on, actor=api_actor(request))


@router.get("/plans/{plan_id}", response={200: PlanDetailOut, **errors(404, 422)})
def get_plan(request: HttpRequest, plan_id: RowId) -> object:
    """The plan with its schedule: each instalment, what is paid towards it now and whether it is late."""
    return _detail(plan_id)


@router.post("/plans/{plan_id}/cancel", response={200: PlanDetailOut, **errors(*WRITE_ERRORS, 404)})
def cancel_plan(request: HttpRequest, plan_id: RowId, payload: CancelIn) -> object:
    services.cancel_payment_plan(plan_id=plan_id, reason=payload.reason, actor=api_actor(request))
    return _detail(plan_id)
