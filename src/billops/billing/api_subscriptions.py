"""API: plans, subscriptions and their changes, and contracts, under /api/v1/billing/ (mounted by
`billing.api`). Clerks and supervisors (`billing.capture`) change, pause, resume and cancel subscriptions
and record contracts; every authenticated user reads them.

Quantities and prices travel as decimal strings ("2", "49.90"); errors come back as {code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access.auth import api_actor
from billops.billing import selectors
from billops.billing.models import Contract, ContractPrice, Plan, PlanPhase, Subscription, SubscriptionChange
from billops.billing.services import contracts, subscriptions
from billops.catalog.display import plain_decimal, price_text
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    DateIn,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)

router = Router()


class CancelIn(StrictIn):
    reason: str


PlanCode = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9._-]+$")]


class PhaseIn(StrictIn):
    kind: Literal["trial", "introductory", "evergreen"]
    unit_price: AmountIn  # per interval and unit; 0 in a trial, and only there
    periods: int | None = None  # how many intervals; left out on the last phase, which lasts


class PlanIn(StrictIn):
    code: str
    name: str
    product_code: str  # its revenue account and tax code bill the plan
    currency: str
    interval: Literal["month", "quarter", "year"]
    timing: Literal["advance", "arrears"]
    phases: list[PhaseIn]


class SubscriptionIn(StrictIn):
    customer_id: RowId
    plan_code: str
    quantity: AmountIn = Decimal(1)  # seats or units, more than zero
    start_date: DateIn | None = None  # left out: today; the periods run from this day
    po_number: str = ""  # left out on a contract: the contract's
    contract_number: str = ""  # the contract it belongs to: its prices, escalation and term apply


class SubscriptionFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "active", "paused", "cancelled"] = ""


class PhaseOut(Schema):
    position: int
    kind: str
    periods: int | None
    unit_price: str

    @staticmethod
    def resolve_unit_price(obj: PlanPhase) -> str:
        return price_text(obj.unit_price, obj.plan.currency)


class PlanOut(Schema):
    code: str
    name: str
    product_code: str
    currency: str
    interval: str
    timing: str
    is_active: bool
    phases: list[PhaseOut]

    @staticmethod
    def resolve_product_code(obj: Plan) -> str:
        return obj.product.code

    @staticmethod
    def resolve_interval(obj: Plan) -> str:
        return next(name for name, months in subscriptions.INTERVALS.items() if months == obj.interval_months)

    @staticmethod
    def resolve_phases(obj: Plan) -> list[PlanPhase]:
        return list(obj.phases.all())


class SubscriptionOut(Schema):
    id: int
    customer_id: int
    customer_account_number: str
    plan_code: str
    quantity: str
    start_date: date
    end_date: date | None
    po_number: str
    contract_number: str | None
    status: str
    created_by: str
    created_at: datetime
    cancel_reason: str

    @staticmethod
    def resolve_customer_account_number(obj: Subscription) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_contract_number(obj: Subscription) -> str | None:
        return obj.contract.number if obj.contract else None

    @staticmethod
    def resolve_plan_code(obj: Subscription) -> str:
        return obj.plan.code

    @staticmethod
    def resolve_quantity(obj: Subscription) -> str:
        return plain_decimal(obj.quantity)

    @staticmethod
    def resolve_created_by(obj: Subscription) -> str:
        return obj.created_by.get_username()


@router.post("/plans", response={201: PlanOut, **errors(*WRITE_ERRORS, 404)})
def create_plan(request: HttpRequest, payload: PlanIn) -> object:
    phases = [subscriptions.PhaseData(**phase.model_dump()) for phase in payload.phases]
    values = payload.model_dump(exclude={"phases"})
    plan = subscriptions.create_plan(actor=api_actor(request), phases=phases, **values)
    return Status(201, selectors.get_plan(plan.code))


@router.get("/plans", response={200: list[PlanOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_plans(request: HttpRequest) -> object:
    return selectors.list_plans()


@router.get("/plans/{code}", response={200: PlanOut, **errors(404, 422)})
def get_plan(request: HttpRequest, code: PlanCode) -> object:
    return selectors.get_plan(code)


@router.post("/subscriptions", response={201: SubscriptionOut, **errors(*WRITE_ERRORS, 404)})
def subscribe(request: HttpRequest, payload: SubscriptionIn) -> object:
    subscription = subscriptions.subscribe(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_subscription(subscription.pk))


@router.get("/subscriptions", response={200: list[SubscriptionOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_subscriptions(request: HttpRequest, filters: Query[SubscriptionFilters]) -> object:
    return selectors.list_subscriptions(**filters.model_dump())


@router.get("/subscriptions/{subscription_id}", response={200: SubscriptionOut, **errors(404, 422)})
def get_subscription(request: HttpRequest, subscription_id: RowId) -> object:
    return selectors.get_subscription(subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/cancel", response={200: SubscriptionOut, **errors(*WRITE_ERRORS, 404)}
)
def cancel_subscription(request: HttpRequest, subscription_id: RowId, payload: CancelIn) -> object:
    """At the end of the term that holds today: it is billed to then, and not after."""
    subscriptions.cancel_at_term_end(
        subscription_id=subscription_id, reason=payload.reason, actor=api_actor(request)
    )
    return selectors.get_subscription(subscription_id)


# --- changes from a date ---------------------------------------------------------------------------------


class ChangeIn(StrictIn):
    quantity: AmountIn | None = None  # the new quantity; left out: unchanged
    plan_code: str = ""  # the new plan: same currency, interval and timing; left out: unchanged
    effective_on: DateIn | None = None  # the first day at the new terms; left out: today; may be back-dated
    reason: str = ""


class PauseIn(StrictIn):
    effective_on: DateIn | None = None  # the first day paused (or billed again, to resume); left out: today
    reason: str = ""


class CancelNowIn(StrictIn):
    reason: str
    on: DateIn | None = None  # the last day of service; left out: today


class ChangeOut(Schema):
    id: int
    subscription_id: int
    kind: str
    effective_on: date
    old_plan_code: str
    new_plan_code: str
    old_quantity: str
    new_quantity: str
    reason: str
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_old_plan_code(obj: SubscriptionChange) -> str:
        return obj.old_plan.code

    @staticmethod
    def resolve_new_plan_code(obj: SubscriptionChange) -> str:
        return obj.new_plan.code

    @staticmethod
    def resolve_old_quantity(obj: SubscriptionChange) -> str:
        return plain_decimal(obj.old_quantity)

    @staticmethod
    def resolve_new_quantity(obj: SubscriptionChange) -> str:
        return plain_decimal(obj.new_quantity)

    @staticmethod
    def resolve_created_by(obj: SubscriptionChange) -> str:
        return obj.created_by.get_username()


def _change_out(change: SubscriptionChange) -> object:
    return Status(201, selectors.list_changes(change.subscription_id).get(pk=change.pk))


@router.post(
    "/subscriptions/{subscription_id}/changes", response={201: ChangeOut, **errors(*WRITE_ERRORS, 404)}
)
def change_subscription(request: HttpRequest, subscription_id: RowId, payload: ChangeIn) -> object:
    """A new quantity and/or plan from a date; an invoiced period it reaches is credited by a credit note
    and charged anew by the next run."""
    change = subscriptions.change_subscription(
        subscription_id=subscription_id, actor=api_actor(request), **payload.model_dump()
    )
    return _change_out(change)


@router.get(
    "/subscriptions/{subscription_id}/changes", response={200: list[ChangeOut], **errors(*QUERY_ERRORS, 404)}
)
@paginate(LimitOffset)
def list_changes(request: HttpRequest, subscription_id: RowId) -> object:
    selectors.get_subscription(subscription_id)  # NotFound for an unknown subscription
    return selectors.list_changes(subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/pause", response={201: ChangeOut, **errors(*WRITE_ERRORS, 404)}
)
def pause_subscription(request: HttpRequest, subscription_id: RowId, payload: PauseIn) -> object:
    """Not billed from the day on until resumed; what was invoiced for the paused days is credited."""
    change = subscriptions.pause_subscription(
        subscription_id=subscription_id, actor=api_actor(request), **payload.model_dump()
    )
    return _change_out(change)


@router.post(
    "/subscriptions/{subscription_id}/resume", response={201: ChangeOut, **errors(*WRITE_ERRORS, 404)}
)
def resume_subscription(request: HttpRequest, subscription_id: RowId, payload: PauseIn) -> object:
    """Billed again from the day on; the periods keep their dates, the one holding the day is prorated."""
    change = subscriptions.resume_subscription(
        subscription_id=subscription_id, actor=api_actor(request), **payload.model_dump()
    )
    return _change_out(change)


@router.post(
    "/subscriptions/{subscription_id}/cancel-now", response={201: ChangeOut, **errors(*WRITE_ERRORS, 404)}
)
def cancel_immediately(request: HttpRequest, subscription_id: RowId, payload: CancelNowIn) -> object:
    """Ends on the day; what was invoiced for the days after it is credited at once."""
    change = subscriptions.cancel_immediately(
        subscription_id=subscription_id, actor=api_actor(request), **payload.model_dump()
    )
    return _change_out(change)


# --- contracts -----------------------------------------------------------------------------------------

ContractNumber = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9./_-]+$")]


class ContractPriceIn(StrictIn):
    plan_code: str
    unit_price: AmountIn  # per interval and unit, before escalation


class ContractIn(StrictIn):
    customer_id: RowId
    number: str
    start_date: DateIn | None = None  # left out: today
    term_months: int  # a whole number of billing periods
    frequency: Literal["month", "quarter", "year"]
    po_number: str = ""
    auto_renew: bool = False
    renewal_term_months: int | None = None  # left out: the term
    notice_days: int = 0
    minimum_amount: AmountIn = Decimal(0)  # net per billing period, in the customer's currency
    commitment_product_code: str = ""  # what a true-up line sells; required with a minimum
    escalation_percent: AmountIn = Decimal(0)  # on each anniversary of the start
    prices: list[ContractPriceIn] = []


class ContractCancelIn(StrictIn):
    reason: str
    on: DateIn | None = None  # the last day; left out: today
    at_term_end: bool = False  # give notice instead: it ends with its term and does not renew


class ContractFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "active", "ended", "cancelled"] = ""


class ContractPriceOut(Schema):
    plan_code: str
    unit_price: str

    @staticmethod
    def resolve_plan_code(obj: ContractPrice) -> str:
        return obj.plan.code

    @staticmethod
    def resolve_unit_price(obj: ContractPrice) -> str:
        return price_text(obj.unit_price, obj.contract.currency)


class ContractOut(Schema):
    number: str
    customer_id: int
    customer_account_number: str
    start_date: date
    end_date: date
    term_months: int
    frequency: str
    po_number: str
    auto_renew: bool
    renewal_term_months: int
    notice_days: int
    currency: str
    minimum_amount: str
    commitment_product_code: str
    escalation_percent: str
    status: str
    cancel_reason: str
    prices: list[ContractPriceOut]
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_customer_account_number(obj: Contract) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_frequency(obj: Contract) -> str:
        return next(
            name for name, months in subscriptions.INTERVALS.items() if months == obj.frequency_months
        )

    @staticmethod
    def resolve_minimum_amount(obj: Contract) -> str:
        return price_text(obj.minimum_amount, obj.currency)

    @staticmethod
    def resolve_commitment_product_code(obj: Contract) -> str:
        return obj.commitment_product.code if obj.commitment_product else ""

    @staticmethod
    def resolve_escalation_percent(obj: Contract) -> str:
        return plain_decimal(obj.escalation_percent)

    @staticmethod
    def resolve_prices(obj: Contract) -> list[ContractPrice]:
        return list(obj.prices.all())

    @staticmethod
    def resolve_created_by(obj: Contract) -> str:
        return obj.created_by.get_username()


@router.post("/contracts", response={201: ContractOut, **errors(*WRITE_ERRORS, 404)})
def create_contract(request: HttpRequest, payload: ContractIn) -> object:
    prices = [contracts.ContractPriceData(**price.model_dump()) for price in payload.prices]
    contract = contracts.create_contract(
        actor=api_actor(request), prices=prices, **payload.model_dump(exclude={"prices"})
    )
    return Status(201, selectors.get_contract(contract.number))


@router.get("/contracts", response={200: list[ContractOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_contracts(request: HttpRequest, filters: Query[ContractFilters]) -> object:
    return selectors.list_contracts(**filters.model_dump())


@router.get("/contracts/{number}", response={200: ContractOut, **errors(404, 422)})
def get_contract(request: HttpRequest, number: ContractNumber) -> object:
    return selectors.get_contract(number)


@router.post("/contracts/{number}/renew", response={200: ContractOut, **errors(*WRITE_ERRORS, 404)})
def renew_contract(request: HttpRequest, number: ContractNumber) -> object:
    """For its renewal term from its end, now."""
    contracts.renew_contract(number=number, actor=api_actor(request))
    return selectors.get_contract(number)


@router.post("/contracts/{number}/cancel", response={200: ContractOut, **errors(*WRITE_ERRORS, 404)})
def cancel_contract(request: HttpRequest, number: ContractNumber, payload: ContractCancelIn) -> object:
    """Ends it and its subscriptions on the day (what was invoiced after is credited), or at the end of
    its term without renewal."""
    contracts.cancel_contract(number=number, actor=api_actor(request), **payload.model_dump())
    return selectors.get_contract(number)
