"""API: dunning under /api/v1/collections/dunning/ (the router is mounted at /collections/): policies and
their levels, a customer's policy and exclusion, the preview and the run, and the notices with their letters.

Amounts travel as decimal strings ("5.00"); rates and percents too ("8", "1.5").
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access.auth import api_actor
from billops.collections.models import DunningLevel, DunningNotice, DunningPolicy, DunningRun, NoticeItem
from billops.collections.selectors import dunning as selectors
from billops.collections.selectors.dunning import DunningPlan, PlannedItem, PlannedNotice
from billops.collections.services import dunning as services
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

# a policy's code in a path: STANDARD-EUR
PolicyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,20}$")]
PDF = "application/pdf"


def _amount(value: Decimal, currency: str) -> Decimal:
    return round_money(value, currency).amount


def _rate(value: Decimal) -> Decimal:
    return Decimal(f"{value.normalize():f}")  # 8.0000 travels as "8"


# --- policies --------------------------------------------------------------------------------------


class LevelIn(StrictIn):
    days_after_due: int
    subject: str  # placeholders: {customer}, {account}, {invoices}, {total}, {fee}, {interest}, …
    body: str
    channel: str = DunningLevel.Channel.EMAIL  # "email" or "letter"
    fee_amount: AmountIn = Decimal(0)  # fixed, in the policy's currency …
    fee_percent: AmountIn = Decimal(0)  # … or a percent of what the notice asks for
    interest_rate: AmountIn = Decimal(0)  # percent a year
    escalation: str = DunningLevel.Escalation.NONE  # "none", "credit_hold" or "collection_agency"

    def data(self) -> services.LevelData:
        return services.LevelData(**self.model_dump())


class DunningPolicyChangeIn(StrictIn):
    name: str
    currency: str
    is_default: bool = False
    minimum_amount: AmountIn = Decimal(0)  # a notice asking for less is not sent
    levels: list[LevelIn]

    def arguments(self) -> dict[str, Any]:
        values = self.model_dump(exclude={"levels"})
        return {**values, "levels": [level.data() for level in self.levels]}


class DunningPolicyIn(DunningPolicyChangeIn):
    code: str


class LevelOut(Schema):
    number: int
    days_after_due: int
    subject: str
    body: str
    channel: str
    fee_amount: AmountOut
    fee_percent: AmountOut
    interest_rate: AmountOut
    escalation: str

    @staticmethod
    def resolve_fee_amount(obj: DunningLevel) -> Decimal:
        return _amount(obj.fee_amount, obj.policy.currency)

    @staticmethod
    def resolve_fee_percent(obj: DunningLevel) -> Decimal:
        return _rate(obj.fee_percent)

    @staticmethod
    def resolve_interest_rate(obj: DunningLevel) -> Decimal:
        return _rate(obj.interest_rate)


class DunningPolicyOut(Schema):
    code: str
    name: str
    currency: str
    is_default: bool
    minimum_amount: AmountOut
    levels: list[LevelOut]
    updated_at: datetime
    updated_by: str

    @staticmethod
    def resolve_minimum_amount(obj: DunningPolicy) -> Decimal:
        return _amount(obj.minimum_amount, obj.currency)

    @staticmethod
    def resolve_levels(obj: DunningPolicy) -> list[DunningLevel]:
        return sorted(obj.levels.all(), key=lambda level: level.number)

    @staticmethod
    def resolve_updated_by(obj: DunningPolicy) -> str:
        return obj.updated_by.username


class PolicyDeletedOut(Schema):
    code: str
    deleted: bool


class ProductsIn(StrictIn):
    tax_code: str = "VAT-EXEMPT"


class ProductsOut(Schema):
    created: list[str]  # the product codes made now; those already there are left as they are


@router.get("/dunning/policies", response={200: list[DunningPolicyOut], **errors()})
def list_policies(request: HttpRequest) -> object:
    return list(selectors.list_policies())


@router.post("/dunning/policies", response={201: DunningPolicyOut, **errors(*WRITE_ERRORS, 404)})
def create_policy(request: HttpRequest, payload: DunningPolicyIn) -> object:
    """A new policy; a code that exists is refused (409: change it with PUT)."""
    policy = services.save_dunning_policy(**payload.arguments(), expect_new=True, actor=api_actor(request))
    return Status(201, selectors.get_policy(policy.code))


@router.get("/dunning/policies/{code}", response={200: DunningPolicyOut, **errors(404, 422)})
def get_policy(request: HttpRequest, code: PolicyCode) -> object:
    return selectors.get_policy(code)


@router.put("/dunning/policies/{code}", response={200: DunningPolicyOut, **errors(*WRITE_ERRORS, 404)})
def change_policy(request: HttpRequest, code: PolicyCode, payload: DunningPolicyChangeIn) -> object:
    """Replace a policy's settings and levels; levels keep their identity by number."""
    policy = services.save_dunning_policy(
        code=code, **payload.arguments(), expect_new=False, actor=api_actor(request)
    )
    return selectors.get_policy(policy.code)


@router.delete("/dunning/policies/{code}", response={200: PolicyDeletedOut, **errors(*WRITE_ERRORS, 404)})
def delete_policy(request: HttpRequest, code: PolicyCode) -> object:
    """Only a policy no customer, run or notice refers to."""
    policy = selectors.get_policy(code)
    services.delete_dunning_policy(code=policy.code, actor=api_actor(request))
    return {"code": policy.code, "deleted": True}


@router.post("/dunning/products", response={200: ProductsOut, **errors(*WRITE_ERRORS, 404)})
def set_up_products(request: HttpRequest, payload: ProductsIn) -> object:
    """Make the catalog products fees and interest are billed as (DUNNING-FEE, LATE-INTEREST) if missing."""
    return {"created": services.ensure_dunning_products(actor=api_actor(request), tax_code=payload.tax_code)}


# --- a customer's dunning --------------------------------------------------------------------------


class CustomerDunningIn(StrictIn):
    policy_code: str | None = None  # None or "": the default policy of the customer's currency
    excluded: bool = False
    reason: str = ""  # required to exclude


class CustomerDunningOut(Schema):
    customer_id: int
    policy_code: str | None
    excluded: bool
    reason: str


@router.put(
    "/dunning/customers/{customer_id}", response={200: CustomerDunningOut, **errors(*WRITE_ERRORS, 404)}
)
def set_customer_dunning(request: HttpRequest, customer_id: RowId, payload: CustomerDunningIn) -> object:
    profile = services.set_customer_dunning(
        customer_id=customer_id, actor=api_actor(request), **payload.model_dump()
    )
    return {
        "customer_id": profile.customer_id,
        "policy_code": profile.dunning_policy.code if profile.dunning_policy else None,
        "excluded": profile.dunning_excluded,
        "reason": profile.dunning_exclusion_reason,
    }


# --- preview and run -------------------------------------------------------------------------------


class RunIn(StrictIn):
    run_on: DateIn | None = None  # today when left out; never later
    policy_code: str = ""  # only this policy's customers; "" = every policy


class PlannedItemOut(Schema):
    invoice_id: int
    number: str
    level: int
    days_overdue: int
    open_amount: AmountOut
    disputed_amount: AmountOut
    amount: AmountOut
    interest: AmountOut


class PlannedNoticeOut(Schema):
    customer_id: int
    account_number: str
    policy: str
    level: int
    channel: str
    currency: str
    overdue_total: AmountOut
    fee: AmountOut
    interest: AmountOut
    escalation: str
    items: list[PlannedItemOut]


class SkippedOut(Schema):
    customer_id: int
    account_number: str
    reason: str


class PreviewOut(Schema):
    run_on: date
    policy: str | None
    notices: list[PlannedNoticeOut]
    skipped: list[SkippedOut]


def _planned_item(item: PlannedItem) -> dict[str, Any]:
    currency = item.invoice.currency
    return {
        "invoice_id": item.invoice.pk, "number": item.invoice.number, "level": item.level.number,
        "days_overdue": item.days_overdue, "open_amount": _amount(item.open_amount, currency),
        "disputed_amount": _amount(item.disputed_amount, currency), "amount": _amount(item.amount, currency),
        "interest": _amount(item.interest, currency),
    }  # fmt: skip


def _planned_notice(notice: PlannedNotice) -> dict[str, Any]:
    currency = notice.currency
    return {
        "customer_id": notice.customer.pk, "account_number": notice.customer.account_number,
        "policy": notice.policy.code, "level": notice.level.number, "channel": notice.channel,
        "currency": currency, "overdue_total": _amount(notice.overdue_total, currency),
        "fee": _amount(notice.fee, currency), "interest": _amount(notice.interest, currency),
        "escalation": notice.escalation, "items": [_planned_item(item) for item in notice.items],
    }  # fmt: skip


def _preview(plan: DunningPlan) -> dict[str, Any]:
    return {
        "run_on": plan.run_on,
        "policy": plan.policy.code if plan.policy else None,
        "notices": [_planned_notice(notice) for notice in plan.notices],
        "skipped": [
            {"customer_id": s.customer.pk, "account_number": s.customer.account_number, "reason": s.reason}
            for s in plan.skipped
        ],
    }


class RunOut(Schema):
    id: int
    run_on: date
    policy: str | None
    started_by: str
    started_at: datetime
    notice_count: int
    item_count: int
    debit_note_count: int
    escalation_count: int
    skipped_count: int

    @staticmethod
    def resolve_policy(obj: DunningRun) -> str | None:
        return obj.policy.code if obj.policy else None

    @staticmethod
    def resolve_started_by(obj: DunningRun) -> str:
        return obj.started_by.username


@router.post("/dunning/preview", response={200: PreviewOut, **errors(*WRITE_ERRORS, 404)})
def preview_run(request: HttpRequest, payload: RunIn) -> object:
    """What a run would send, charge and escalate, and whom it leaves out and why; writes nothing."""
    plan = services.preview_dunning(
        run_on=payload.run_on, policy_code=payload.policy_code, actor=api_actor(request)
    )
    return _preview(plan)


@router.post("/dunning/runs", response={201: RunOut, **errors(*WRITE_ERRORS, 404)})
def start_run(request: HttpRequest, payload: RunIn) -> object:
    """Send what the preview shows. A second run on the same day sends no invoice a level twice."""
    run = services.run_dunning(
        run_on=payload.run_on, policy_code=payload.policy_code, actor=api_actor(request)
    )
    return Status(201, selectors.get_run(run.pk))


@router.get("/dunning/runs", response={200: list[RunOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_runs(request: HttpRequest) -> object:
    return selectors.list_runs()


@router.get("/dunning/runs/{run_id}", response={200: RunOut, **errors(404, 422)})
def get_run(request: HttpRequest, run_id: RowId) -> object:
    return selectors.get_run(run_id)


# --- notices ---------------------------------------------------------------------------------------


class NoticeItemOut(Schema):
    invoice_id: int
    number: str
    level: int
    days_overdue: int
    open_amount: AmountOut
    disputed_amount: AmountOut
    amount: AmountOut
    interest: AmountOut
    interest_from: date | None
    interest_to: date | None

    @staticmethod
    def resolve_number(obj: NoticeItem) -> str:
        return obj.invoice.number or ""

    @staticmethod
    def resolve_level(obj: NoticeItem) -> int:
        return obj.level.number

    @staticmethod
    def resolve_open_amount(obj: NoticeItem) -> Decimal:
        return _amount(obj.open_amount, obj.currency)

    @staticmethod
    def resolve_disputed_amount(obj: NoticeItem) -> Decimal:
        return _amount(obj.disputed_amount, obj.currency)

    @staticmethod
    def resolve_amount(obj: NoticeItem) -> Decimal:
        return _amount(obj.amount, obj.currency)

    @staticmethod
    def resolve_interest(obj: NoticeItem) -> Decimal:
        return _amount(obj.interest, obj.currency)


class NoticeOut(Schema):
    id: int
    run_id: int
    run_on: date
    customer_id: int
    account_number: str
    policy: str
    level: int
    channel: str
    currency: str
    overdue_total: AmountOut
    fee: AmountOut
    interest: AmountOut
    debit_note_id: int | None
    debit_note: str | None  # its number; "draft <id>" while a clerk has to issue it
    escalated: str
    subject: str
    body: str
    delivery_id: str | None  # the e-mail in the delivery log
    delivery_status: str | None
    pdf_sha256: str
    sent_at: datetime

    @staticmethod
    def resolve_run_on(obj: DunningNotice) -> date:
        return obj.run.run_on

    @staticmethod
    def resolve_account_number(obj: DunningNotice) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_policy(obj: DunningNotice) -> str:
        return obj.level.policy.code

    @staticmethod
    def resolve_level(obj: DunningNotice) -> int:
        return obj.level.number

    @staticmethod
    def resolve_overdue_total(obj: DunningNotice) -> Decimal:
        return _amount(obj.overdue_total, obj.currency)

    @staticmethod
    def resolve_fee(obj: DunningNotice) -> Decimal:
        return _amount(obj.fee, obj.currency)

    @staticmethod
    def resolve_interest(obj: DunningNotice) -> Decimal:
        return _amount(obj.interest, obj.currency)

    @staticmethod
    def resolve_debit_note(obj: DunningNotice) -> str | None:
        if obj.debit_note is None:
            return None
        return obj.debit_note.number or f"draft {obj.debit_note.pk}"

    @staticmethod
    def resolve_delivery_id(obj: DunningNotice) -> str | None:
        return str(obj.delivery_id) if obj.delivery_id else None

    @staticmethod
    def resolve_delivery_status(obj: DunningNotice) -> str | None:
        return obj.delivery.status if obj.delivery else None


class NoticeDetailOut(NoticeOut):
    items: list[NoticeItemOut]

    @staticmethod
    def resolve_items(obj: DunningNotice) -> list[NoticeItem]:
        return list(obj.items.all())


class NoticeFilters(Schema):
    customer_id: RowId | None = None
    run_id: RowId | None = None
    level: Annotated[int, Ge(1), Le(services.MOST_LEVELS)] | None = None


@router.get("/dunning/notices", response={200: list[NoticeOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_notices(request: HttpRequest, filters: Query[NoticeFilters]) -> object:
    """Notices latest first."""
    return selectors.list_notices(**filters.model_dump())


@router.get("/dunning/notices/{notice_id}", response={200: NoticeDetailOut, **errors(404, 422)})
def get_notice(request: HttpRequest, notice_id: RowId) -> object:
    return selectors.get_notice(notice_id)


@router.get(
    "/dunning/notices/{notice_id}/pdf",
    url_name="dunning_notice_pdf",
    response={200: None, **errors(404, 422)},
    openapi_extra={"responses": {200: {"description": "OK", "content": {PDF: {"schema": {"type": "string",
                                                                               "format": "binary"}}}}}},
)  # fmt: skip
def notice_pdf(request: HttpRequest, notice_id: RowId) -> HttpResponse:
    """The notice's letter exactly as it was produced (and attached to its e-mail)."""
    notice = selectors.get_notice(notice_id)
    response = HttpResponse(bytes(notice.pdf or b""), content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="notice-{notice.pk}.pdf"'
    response["X-Content-SHA256"] = notice.pdf_sha256
    return response
