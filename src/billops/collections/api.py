"""API: collections under /api/v1/collections/: aging as of any day and its items, the worklist, and the
collector's work on a customer (activities, next action, promises to pay, the collector assigned).

Amounts travel as decimal strings ("250.00"); dates as "YYYY-MM-DD".
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time

from dataclasses import asdict
from datetime import date
from decimal import Decimal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from billops.access import clock
from billops.access.auth import api_actor
from billops.collections.api_dunning import router as dunning_router
from billops.collections.api_plans import router as plans_router
from billops.collections.labels import item_names, row_names
from billops.collections.models import Activity, PromiseToPay
from billops.collections.selectors import accounts as selectors
from billops.collections.selectors import promises as promise_selectors
from billops.collections.selectors.aging import AgingRow, aged_items, aging, parse_buckets
from billops.collections.selectors.worklist import worklist
from billops.collections.services import accounts, promises
from billops.core.money import Money, round_money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    DateIn,
    RowId,
    StrictIn,
    errors,
)

router = Router()
router.add_router("", dunning_router)  # /dunning/…: policies, preview, runs, notices (api_dunning.py)
router.add_router("", plans_router)  # /plans…: payment plans (api_plans.py)


class AgingFilters(Schema):
    as_of: DateIn | None = None  # left out: today
    basis: str = "due"  # or "invoice"
    buckets: str = ""  # "30,60,90" (the default)
    group: str = "customer"  # customer, collector, entity or currency
    currency: str = ""
    collector_id: RowId | None = None
    entity_id: RowId | None = None
    customer_id: RowId | None = None


class AgingRowOut(Schema):
    key: int | None  # the customer's, collector's or entity's id; null for a currency row or nobody
    name: str
    currency: str
    buckets: list[AmountOut]
    total: AmountOut


class AgingOut(Schema):
    as_of: date
    basis: str
    group: str
    labels: list[str]
    rows: list[AgingRowOut]
    totals: list[AgingRowOut]  # per currency


@router.get("/aging", response={200: AgingOut, **errors(*QUERY_ERRORS)})
def get_aging(request: HttpRequest, filters: Query[AgingFilters]) -> object:
    """What was open on the day, per group and currency, in buckets by age; reproduced from the
    receivables history for a past day."""
    buckets = parse_buckets(filters.buckets or None, filters.basis)
    report = aging(
        as_of=filters.as_of or clock.today(), group=filters.group, buckets=buckets,
        currency=filters.currency.upper() or None, collector_id=filters.collector_id,
        entity_id=filters.entity_id, customer_id=filters.customer_id,
    )  # fmt: skip
    names = row_names(report)
    return {
        "as_of": report.as_of, "basis": buckets.basis, "group": report.group, "labels": buckets.labels,
        "rows": [_row(row, names.get(row.key, "")) for row in report.rows],
        "totals": [_row(total, "Total") for total in report.totals()],
    }  # fmt: skip


def _row(row: AgingRow, name: str) -> dict[str, object]:
    return {
        "key": row.key,
        "name": name,
        "currency": row.currency,
        "buckets": row.buckets,
        "total": row.total,
    }


class ItemFilters(Schema):
    as_of: DateIn | None = None
    basis: str = "due"
    buckets: str = ""
    customer_id: RowId | None = None
    currency: str = ""
    bucket: int | None = None  # 0 = the first bucket
    limit: int = 1000


class AgedItemOut(Schema):
    kind: str  # "document" or "opening_balance"
    item_id: int
    number: str  # the document's number, or the opening balance's reference
    customer_id: int
    currency: str
    document_on: date
    due_on: date
    days_overdue: int
    bucket: int
    open_amount: AmountOut  # what it had open on the day


@router.get("/aging/items", response={200: list[AgedItemOut], **errors(*QUERY_ERRORS)})
def get_aged_items(request: HttpRequest, filters: Query[ItemFilters]) -> object:
    """The items behind the aging's figures, oldest due first (at most `limit`, up to 10 000)."""
    items = aged_items(
        as_of=filters.as_of or clock.today(), buckets=parse_buckets(filters.buckets or None, filters.basis),
        customer_id=filters.customer_id, currency=filters.currency.upper() or None, bucket=filters.bucket,
        limit=max(1, min(filters.limit, 10_000)),
    )  # fmt: skip
    names = item_names(items)
    return [{**asdict(item), "number": names.get((item.kind, item.item_id), ("", ""))[0]} for item in items]


class WorkItemOut(Schema):
    customer_id: int
    account_number: str
    name: str
    currency: str
    priority: int
    reasons: list[str]
    overdue: AmountOut
    open_amount: AmountOut
    next_action_on: date | None
    next_action: str
    collector_id: int | None
    promised_on: date | None  # of the open promise, if any


class WorklistFilters(Schema):
    collector_id: RowId | None = None
    due_only: bool = True  # today's list; false: everything overdue
    currency: str = ""


@router.get("/worklist", response={200: list[WorkItemOut], **errors(*QUERY_ERRORS)})
def get_worklist(request: HttpRequest, filters: Query[WorklistFilters]) -> object:
    """Customers with something overdue, most urgent first, with the reasons for their priority."""
    items = worklist(
        today=clock.today(), collector_id=filters.collector_id, due_only=filters.due_only,
        currency=filters.currency.upper() or None,
    )  # fmt: skip
    return [
        {
            "customer_id": item.customer.pk, "account_number": item.customer.account_number,
            "name": item.customer.legal_name, "currency": item.currency, "priority": item.priority,
            "reasons": item.reasons, "overdue": item.overdue, "open_amount": item.open_amount,
            "next_action_on": item.next_action_on, "next_action": item.next_action,
            "collector_id": item.collector_id,
            "promised_on": item.open_promise.promised_on if item.open_promise else None,
        }
        for item in items
    ]  # fmt: skip


class ActivityIn(StrictIn):
    kind: str  # call, email, letter, note
    text: str
    outcome: str = "none"
    contact: str = ""
    happened_on: DateIn | None = None  # left out: today
    next_action_on: DateIn | None = None
    next_action: str = ""


class ActivityOut(Schema):
    id: int
    customer_id: int
    kind: str
    outcome: str
    contact: str
    text: str
    happened_on: date
    created_by: str

    @staticmethod
    def resolve_created_by(obj: Activity) -> str:
        return obj.created_by.username


@router.post("/customers/{customer_id}/activities", response={201: ActivityOut, **errors(*WRITE_ERRORS, 404)})
def record_activity(request: HttpRequest, customer_id: RowId, payload: ActivityIn) -> object:
    return Status(
        201,
        accounts.record_activity(customer_id=customer_id, actor=api_actor(request), **payload.model_dump()),
    )


@router.get("/customers/{customer_id}/activities", response={200: list[ActivityOut], **errors(404, 422)})
def list_activities(request: HttpRequest, customer_id: RowId) -> object:
    return list(selectors.list_activities(customer_id))


class NextActionIn(StrictIn):
    on: DateIn | None  # null: nothing planned
    action: str = ""


class ProfileOut(Schema):
    customer_id: int
    collector_id: int | None
    next_action_on: date | None
    next_action: str
    dunning_excluded: bool
    with_agency_on: date | None


@router.put("/customers/{customer_id}/next-action", response={200: ProfileOut, **errors(*WRITE_ERRORS, 404)})
def plan_next_action(request: HttpRequest, customer_id: RowId, payload: NextActionIn) -> object:
    return accounts.plan_next_action(
        customer_id=customer_id, actor=api_actor(request), **payload.model_dump()
    )


class CollectorIn(StrictIn):
    collector_id: RowId | None  # null: nobody


@router.put("/customers/{customer_id}/collector", response={200: ProfileOut, **errors(*WRITE_ERRORS, 404)})
def assign_collector(request: HttpRequest, customer_id: RowId, payload: CollectorIn) -> object:
    return accounts.assign_collector(
        customer_id=customer_id, collector_id=payload.collector_id, actor=api_actor(request)
    )


@router.get("/customers/{customer_id}/profile", response={200: ProfileOut, **errors(404, 422)})
def get_profile(request: HttpRequest, customer_id: RowId) -> object:
    return selectors.get_profile(customer_id)


class PromiseIn(StrictIn):
    amount: AmountIn
    currency: str
    promised_on: DateIn
    contact: str
    grace_days: int | None = None  # left out: the setting BILLOPS_PROMISE_GRACE_DAYS (3)
    invoice_ids: list[RowId] = []
    note: str = ""


class PromiseOut(Schema):
    id: int
    customer_id: int
    amount: AmountOut
    currency: str
    made_on: date
    promised_on: date
    grace_days: int
    contact: str
    status: str  # open, kept, broken, cancelled
    paid_amount: AmountOut
    decided_on: date | None

    @staticmethod
    def resolve_amount(obj: PromiseToPay) -> Decimal:
        return round_money(obj.amount, obj.currency).amount

    @staticmethod
    def resolve_paid_amount(obj: PromiseToPay) -> Decimal:
        return round_money(obj.paid_amount, obj.currency).amount


@router.post("/customers/{customer_id}/promises", response={201: PromiseOut, **errors(*WRITE_ERRORS, 404)})
def record_promise(request: HttpRequest, customer_id: RowId, payload: PromiseIn) -> object:
    """A promise dated in the past, above what the customer owes, or while another is open is refused."""
    values = payload.model_dump()
    amount = Money(values.pop("amount"), values.pop("currency").upper())
    return Status(
        201,
        promises.record_promise(customer_id=customer_id, amount=amount, actor=api_actor(request), **values),
    )


@router.get("/promises", response={200: list[PromiseOut], **errors(*QUERY_ERRORS)})
def list_promises(request: HttpRequest, customer_id: RowId | None = None, status: str = "") -> object:
    return list(promise_selectors.list_promises(customer_id=customer_id, status=status)[:1000])


class CancelPromiseIn(StrictIn):
    reason: str


@router.post("/promises/{promise_id}/cancel", response={200: PromiseOut, **errors(*WRITE_ERRORS, 404)})
def cancel_promise(request: HttpRequest, promise_id: RowId, payload: CancelPromiseIn) -> object:
    return promises.cancel_promise(promise_id=promise_id, reason=payload.reason, actor=api_actor(request))
