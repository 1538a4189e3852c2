"""Request and reply schemas of the time and expense API. Hours, rates and amounts travel as decimal
strings ("1.5", "250.00")."""

# no `from __future__ import annotations` here: Ninja resolves the annotations at run time

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema

from billops.catalog.display import plain_decimal, price_text
from billops.core.schemas import AmountIn, DateIn, RowId, StrictIn
from billops.timekeeping.models import Expense, Matter, Rate, TimeEntry, Timekeeper
from billops.timekeeping.pricing import expense_amount
from billops.timekeeping.selectors import Proforma, ProformaLine

RoleIn = Literal["partner", "counsel", "associate", "paralegal", "other"]
WorkStatusIn = Literal["", "draft", "submitted", "approved", "billed"]


def _user(user: object) -> str | None:
    return user.get_username() if user is not None else None  # type: ignore[attr-defined]


def _price(value: Decimal | None, currency: str) -> str | None:
    return price_text(value, currency) if value is not None else None


class TimekeeperIn(StrictIn):
    code: str  # initials, letters and digits: "JD"
    name: str
    role: RoleIn
    username: str | None = None  # their login: they may not approve their own time


class TimekeeperChangeIn(StrictIn):
    name: str | None = None
    role: RoleIn | None = None
    username: str | None = None  # "" unlinks the login
    is_active: bool | None = None


class TimekeeperOut(Schema):
    code: str
    name: str
    role: str
    username: str | None
    is_active: bool

    @staticmethod
    def resolve_username(obj: Timekeeper) -> str | None:
        return _user(obj.user)


class MatterIn(StrictIn):
    customer_id: RowId
    number: str  # unique, stored in capitals: "M-2026-001"
    name: str
    fee_product_code: str  # the product that bills its time: tax code and revenue account
    expense_product_code: str  # the product that bills its expenses
    opened_on: DateIn | None = None  # left out: today; no time before it
    utbms_required: bool = False  # every entry needs a task and an activity code, every expense a code
    po_number: str = ""


class MatterOut(Schema):
    id: int
    number: str
    name: str
    customer_id: int
    customer_account_number: str
    status: str
    opened_on: date
    closed_on: date | None
    utbms_required: bool
    fee_product_code: str
    expense_product_code: str
    po_number: str

    @staticmethod
    def resolve_customer_account_number(obj: Matter) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_fee_product_code(obj: Matter) -> str:
        return obj.fee_product.code

    @staticmethod
    def resolve_expense_product_code(obj: Matter) -> str:
        return obj.expense_product.code


class RateIn(StrictIn):
    """For a timekeeper or a role; by default, or for a customer or one matter."""

    hourly_rate: AmountIn
    currency: str
    valid_from: DateIn
    valid_to: DateIn | None = None
    timekeeper_code: str = ""
    role: RoleIn | Literal[""] = ""
    customer_id: RowId | None = None
    matter_id: RowId | None = None


class RateOut(Schema):
    id: int
    timekeeper_code: str | None
    role: str
    customer_id: int | None
    matter_id: int | None
    hourly_rate: str
    currency: str
    valid_from: date
    valid_to: date | None

    @staticmethod
    def resolve_timekeeper_code(obj: Rate) -> str | None:
        return obj.timekeeper.code if obj.timekeeper else None

    @staticmethod
    def resolve_hourly_rate(obj: Rate) -> str:
        return price_text(obj.hourly_rate, obj.currency)


class UtbmsCodeOut(Schema):
    code: str
    code_set: str
    phase: str
    description: str


class TimeEntryIn(StrictIn):
    timekeeper_code: str
    matter_id: RowId
    worked_on: DateIn
    hours: AmountIn  # in tenths: "1.5"
    narrative: str
    task_code: str = ""  # UTBMS: "L110"
    activity_code: str = ""  # UTBMS: "A104"


class TimeEntryChangeIn(StrictIn):
    worked_on: DateIn | None = None
    hours: AmountIn | None = None
    narrative: str | None = None
    task_code: str | None = None  # "" removes it
    activity_code: str | None = None


class ReasonIn(StrictIn):
    reason: str


class AdjustIn(StrictIn):
    """A write-down or write-up: the hours to bill at the rate, or the amount to bill; one of them."""

    reason: str
    billed_hours: AmountIn | None = None
    billed_amount: AmountIn | None = None


class WorkFlowOut(Schema):
    status: str
    currency: str
    created_by: str | None
    created_at: datetime
    submitted_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    rejection_reason: str

    @staticmethod
    def resolve_created_by(obj: TimeEntry | Expense) -> str | None:
        return _user(obj.created_by)

    @staticmethod
    def resolve_submitted_by(obj: TimeEntry | Expense) -> str | None:
        return _user(obj.submitted_by)

    @staticmethod
    def resolve_approved_by(obj: TimeEntry | Expense) -> str | None:
        return _user(obj.approved_by)


class TimeEntryOut(WorkFlowOut):
    id: int
    timekeeper_code: str
    matter_id: int
    matter_number: str
    customer_id: int
    worked_on: date
    hours: str
    narrative: str
    task_code: str | None
    activity_code: str | None
    billed_hours: str | None
    billed_amount: str | None
    adjustment_reason: str
    adjusted_by: str | None
    billed_rate: str | None

    @staticmethod
    def resolve_timekeeper_code(obj: TimeEntry) -> str:
        return obj.timekeeper.code

    @staticmethod
    def resolve_matter_number(obj: TimeEntry) -> str:
        return obj.matter.number

    @staticmethod
    def resolve_hours(obj: TimeEntry) -> str:
        return plain_decimal(obj.hours, 1)

    @staticmethod
    def resolve_task_code(obj: TimeEntry) -> str | None:
        return obj.task_code.code if obj.task_code else None

    @staticmethod
    def resolve_activity_code(obj: TimeEntry) -> str | None:
        return obj.activity_code.code if obj.activity_code else None

    @staticmethod
    def resolve_billed_hours(obj: TimeEntry) -> str | None:
        return plain_decimal(obj.billed_hours, 1) if obj.billed_hours is not None else None

    @staticmethod
    def resolve_billed_amount(obj: TimeEntry) -> str | None:
        return _price(obj.billed_amount, obj.currency)

    @staticmethod
    def resolve_adjusted_by(obj: TimeEntry) -> str | None:
        return _user(obj.adjusted_by)

    @staticmethod
    def resolve_billed_rate(obj: TimeEntry) -> str | None:
        return _price(obj.billed_rate, obj.currency)


class TimeEntryFilters(Schema):
    matter_id: RowId | None = None
    customer_id: RowId | None = None
    timekeeper_code: str = ""
    status: WorkStatusIn = ""
    worked_from: DateIn | None = None
    worked_to: DateIn | None = None


class ExpenseIn(StrictIn):
    matter_id: RowId
    incurred_on: DateIn
    description: str
    quantity: AmountIn  # more than zero, up to 4 places
    unit_cost: AmountIn  # in the customer's currency, up to 6 places
    markup_percent: AmountIn = Decimal(0)  # 0 to 100
    expense_code: str = ""  # UTBMS: "E101"


class ExpenseChangeIn(StrictIn):
    incurred_on: DateIn | None = None
    description: str | None = None
    quantity: AmountIn | None = None
    unit_cost: AmountIn | None = None
    markup_percent: AmountIn | None = None
    expense_code: str | None = None


class ExpenseOut(WorkFlowOut):
    id: int
    matter_id: int
    matter_number: str
    customer_id: int
    incurred_on: date
    expense_code: str | None
    description: str
    quantity: str
    unit_cost: str
    markup_percent: str
    amount: str  # cost plus markup, at the currency's minor unit: what is billed

    @staticmethod
    def resolve_matter_number(obj: Expense) -> str:
        return obj.matter.number

    @staticmethod
    def resolve_expense_code(obj: Expense) -> str | None:
        return obj.expense_code.code if obj.expense_code else None

    @staticmethod
    def resolve_quantity(obj: Expense) -> str:
        return plain_decimal(obj.quantity)

    @staticmethod
    def resolve_unit_cost(obj: Expense) -> str:
        return price_text(obj.unit_cost, obj.currency)

    @staticmethod
    def resolve_markup_percent(obj: Expense) -> str:
        return plain_decimal(obj.markup_percent)

    @staticmethod
    def resolve_amount(obj: Expense) -> str:
        return price_text(expense_amount(obj), obj.currency)


class ExpenseFilters(Schema):
    matter_id: RowId | None = None
    customer_id: RowId | None = None
    status: WorkStatusIn = ""


class ProformaLineOut(Schema):
    kind: str
    id: int
    on: date
    matter_number: str
    timekeeper: str
    description: str
    hours: str | None
    rate: str | None
    standard: str | None
    quantity: str
    unit_price: str | None
    amount: str | None
    adjustment_reason: str
    problem: str


class ProformaOut(Schema):
    currency: str
    up_to: date
    lines: list[ProformaLineOut]
    time_standard: str
    adjustments: str  # write-ups less write-downs
    time_total: str
    expense_total: str
    total: str  # net: the invoice adds the tax of its date
    problems: list[str]


def proforma_out(proforma: Proforma) -> ProformaOut:
    currency = proforma.currency

    def line(item: ProformaLine) -> ProformaLineOut:
        return ProformaLineOut(
            kind=item.kind, id=item.id, on=item.on, matter_number=item.matter_number,
            timekeeper=item.timekeeper, description=item.description,
            hours=plain_decimal(item.hours, 1) if item.hours is not None else None,
            rate=_price(item.rate, currency), standard=_price(item.standard, currency),
            quantity=plain_decimal(item.quantity), unit_price=_price(item.unit_price, currency),
            amount=_price(item.amount, currency), adjustment_reason=item.adjustment_reason,
            problem=item.problem,
        )  # fmt: skip

    return ProformaOut(
        currency=currency, up_to=proforma.up_to, lines=[line(item) for item in proforma.lines],
        time_standard=price_text(proforma.time_standard, currency),
        adjustments=price_text(proforma.adjustments, currency),
        time_total=price_text(proforma.time_total, currency),
        expense_total=price_text(proforma.expense_total, currency),
        total=price_text(proforma.total, currency), problems=proforma.problems,
    )  # fmt: skip
