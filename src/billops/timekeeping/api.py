"""API: time and expense under /api/v1/timekeeping/: timekeepers, rates, matters and their pre-bill
review, time entries and expenses with their approval, and the UTBMS codes.

Hours, rates and amounts travel as decimal strings ("1.5", "250.00"); errors come back as
{code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access.auth import api_actor
from billops.core.schemas import QUERY_ERRORS, WRITE_ERRORS, DateIn, LimitOffset, RowId, errors
from billops.invoicing.schemas import DeletedOut
from billops.timekeeping import selectors
from billops.timekeeping.schemas import (
    AdjustIn,
    ExpenseChangeIn,
    ExpenseFilters,
    ExpenseIn,
    ExpenseOut,
    MatterIn,
    MatterOut,
    ProformaOut,
    RateIn,
    RateOut,
    ReasonIn,
    TimeEntryChangeIn,
    TimeEntryFilters,
    TimeEntryIn,
    TimeEntryOut,
    TimekeeperChangeIn,
    TimekeeperIn,
    TimekeeperOut,
    UtbmsCodeOut,
    proforma_out,
)
from billops.timekeeping.services import approval, entries, setup

router = Router()

TimekeeperCode = Annotated[str, StringConstraints(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9]+$")]


class TimekeeperFilters(Schema):
    active: bool | None = None


class MatterFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "open", "closed"] = ""


class RateFilters(Schema):
    timekeeper_code: str = ""
    customer_id: RowId | None = None
    matter_id: RowId | None = None


class CodeFilters(Schema):
    code_set: Literal["", "task", "activity", "expense"] = ""


class PrebillFilters(Schema):
    up_to: DateIn | None = None  # left out: today


class CustomerPrebillFilters(PrebillFilters):
    customer_id: RowId


# --- timekeepers and rates ------------------------------------------------------------------------


@router.post("/timekeepers", response={201: TimekeeperOut, **errors(*WRITE_ERRORS, 404)})
def create_timekeeper(request: HttpRequest, payload: TimekeeperIn) -> object:
    return Status(201, setup.create_timekeeper(actor=api_actor(request), **payload.model_dump()))


@router.get("/timekeepers", response={200: list[TimekeeperOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_timekeepers(request: HttpRequest, filters: Query[TimekeeperFilters]) -> object:
    return selectors.list_timekeepers(**filters.model_dump())


@router.get("/timekeepers/{code}", response={200: TimekeeperOut, **errors(404, 422)})
def get_timekeeper(request: HttpRequest, code: TimekeeperCode) -> object:
    return selectors.get_timekeeper(code)


@router.patch("/timekeepers/{code}", response={200: TimekeeperOut, **errors(*WRITE_ERRORS, 404)})
def change_timekeeper(request: HttpRequest, code: TimekeeperCode, payload: TimekeeperChangeIn) -> object:
    return setup.change_timekeeper(code=code, actor=api_actor(request), **payload.model_dump())


@router.post("/rates", response={201: RateOut, **errors(*WRITE_ERRORS, 404)})
def set_rate(request: HttpRequest, payload: RateIn) -> object:
    """A rate change: a new open-ended rate ends the open-ended one of the same scope the day before."""
    return Status(201, setup.set_rate(actor=api_actor(request), **payload.model_dump()))


@router.get("/rates", response={200: list[RateOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_rates(request: HttpRequest, filters: Query[RateFilters]) -> object:
    return selectors.list_rates(**filters.model_dump())


@router.get("/utbms-codes", response={200: list[UtbmsCodeOut], **errors(*QUERY_ERRORS)})
def list_utbms_codes(request: HttpRequest, filters: Query[CodeFilters]) -> object:
    return selectors.list_utbms_codes(**filters.model_dump())


# --- matters --------------------------------------------------------------------------------------


@router.post("/matters", response={201: MatterOut, **errors(*WRITE_ERRORS, 404)})
def open_matter(request: HttpRequest, payload: MatterIn) -> object:
    matter = setup.open_matter(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_matter(matter.pk))


@router.get("/matters", response={200: list[MatterOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_matters(request: HttpRequest, filters: Query[MatterFilters]) -> object:
    return selectors.list_matters(**filters.model_dump())


@router.get("/matters/{matter_id}", response={200: MatterOut, **errors(404, 422)})
def get_matter(request: HttpRequest, matter_id: RowId) -> object:
    return selectors.get_matter(matter_id)


@router.post("/matters/{matter_id}/close", response={200: MatterOut, **errors(*WRITE_ERRORS, 404)})
def close_matter(request: HttpRequest, matter_id: RowId) -> object:
    """No new time or expenses; approved work is still billed."""
    setup.close_matter(matter_id=matter_id, actor=api_actor(request))
    return selectors.get_matter(matter_id)


@router.get("/matters/{matter_id}/prebill", response={200: ProformaOut, **errors(*QUERY_ERRORS, 404)})
def matter_prebill(request: HttpRequest, matter_id: RowId, filters: Query[PrebillFilters]) -> object:
    """The proforma: the matter's approved, unbilled work priced as the next run would bill it."""
    return proforma_out(selectors.prebill(matter_id=matter_id, up_to=filters.up_to))


@router.get("/prebill", response={200: ProformaOut, **errors(*QUERY_ERRORS, 404)})
def customer_prebill(request: HttpRequest, filters: Query[CustomerPrebillFilters]) -> object:
    """The proforma of all the customer's matters."""
    return proforma_out(selectors.prebill(customer_id=filters.customer_id, up_to=filters.up_to))


# --- time entries ---------------------------------------------------------------------------------


@router.post("/entries", response={201: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def record_time(request: HttpRequest, payload: TimeEntryIn) -> object:
    """A draft entry; at most 24 hours a day per timekeeper across entries."""
    entry = entries.record_time(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_time_entry(entry.pk))


@router.get("/entries", response={200: list[TimeEntryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_time_entries(request: HttpRequest, filters: Query[TimeEntryFilters]) -> object:
    return selectors.list_time_entries(**filters.model_dump())


@router.get("/entries/{entry_id}", response={200: TimeEntryOut, **errors(404, 422)})
def get_time_entry(request: HttpRequest, entry_id: RowId) -> object:
    return selectors.get_time_entry(entry_id)


@router.patch("/entries/{entry_id}", response={200: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def change_time_entry(request: HttpRequest, entry_id: RowId, payload: TimeEntryChangeIn) -> object:
    """A draft or submitted entry only: approved work is rejected first, billed work is locked."""
    entries.change_time_entry(entry_id=entry_id, actor=api_actor(request), **payload.model_dump())
    return selectors.get_time_entry(entry_id)


@router.delete("/entries/{entry_id}", response={200: DeletedOut, **errors(*WRITE_ERRORS, 404)})
def delete_time_entry(request: HttpRequest, entry_id: RowId) -> object:
    entries.delete_time_entry(entry_id=entry_id, actor=api_actor(request))
    return {"id": entry_id, "deleted": True}


@router.post("/entries/{entry_id}/submit", response={200: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def submit_time_entry(request: HttpRequest, entry_id: RowId) -> object:
    approval.submit_time_entry(entry_id=entry_id, actor=api_actor(request))
    return selectors.get_time_entry(entry_id)


@router.post("/entries/{entry_id}/approve", response={200: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def approve_time_entry(request: HttpRequest, entry_id: RowId) -> object:
    """By a supervisor who neither recorded, submitted nor worked it."""
    approval.approve_time_entry(entry_id=entry_id, actor=api_actor(request))
    return selectors.get_time_entry(entry_id)


@router.post("/entries/{entry_id}/reject", response={200: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def reject_time_entry(request: HttpRequest, entry_id: RowId, payload: ReasonIn) -> object:
    approval.reject_time_entry(entry_id=entry_id, reason=payload.reason, actor=api_actor(request))
    return selectors.get_time_entry(entry_id)


@router.post("/entries/{entry_id}/adjust", response={200: TimeEntryOut, **errors(*WRITE_ERRORS, 404)})
def adjust_time_entry(request: HttpRequest, entry_id: RowId, payload: AdjustIn) -> object:
    """A write-down or write-up of an approved entry: the hours or the amount to bill, with a reason."""
    approval.adjust_time_entry(entry_id=entry_id, actor=api_actor(request), **payload.model_dump())
    return selectors.get_time_entry(entry_id)


# --- expenses -------------------------------------------------------------------------------------


@router.post("/expenses", response={201: ExpenseOut, **errors(*WRITE_ERRORS, 404)})
def record_expense(request: HttpRequest, payload: ExpenseIn) -> object:
    expense = entries.record_expense(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_expense(expense.pk))


@router.get("/expenses", response={200: list[ExpenseOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_expenses(request: HttpRequest, filters: Query[ExpenseFilters]) -> object:
    return selectors.list_expenses(**filters.model_dump())


@router.get("/expenses/{expense_id}", response={200: ExpenseOut, **errors(404, 422)})
def get_expense(request: HttpRequest, expense_id: RowId) -> object:
    return selectors.get_expense(expense_id)


@router.patch("/expenses/{expense_id}", response={200: ExpenseOut, **errors(*WRITE_ERRORS, 404)})
def change_expense(request: HttpRequest, expense_id: RowId, payload: ExpenseChangeIn) -> object:
    entries.change_expense(expense_id=expense_id, actor=api_actor(request), **payload.model_dump())
    return selectors.get_expense(expense_id)


@router.delete("/expenses/{expense_id}", response={200: DeletedOut, **errors(*WRITE_ERRORS, 404)})
def delete_expense(request: HttpRequest, expense_id: RowId) -> object:
    entries.delete_expense(expense_id=expense_id, actor=api_actor(request))
    return {"id": expense_id, "deleted": True}


@router.post("/expenses/{expense_id}/submit", response={200: ExpenseOut, **errors(*WRITE_ERRORS, 404)})
def submit_expense(request: HttpRequest, expense_id: RowId) -> object:
    approval.submit_expense(expense_id=expense_id, actor=api_actor(request))
    return selectors.get_expense(expense_id)


@router.post("/expenses/{expense_id}/approve", response={200: ExpenseOut, **errors(*WRITE_ERRORS, 404)})
def approve_expense(request: HttpRequest, expense_id: RowId) -> object:
    approval.approve_expense(expense_id=expense_id, actor=api_actor(request))
    return selectors.get_expense(expense_id)


@router.post("/expenses/{expense_id}/reject", response={200: ExpenseOut, **errors(*WRITE_ERRORS, 404)})
def reject_expense(request: HttpRequest, expense_id: RowId, payload: ReasonIn) -> object:
    approval.reject_expense(expense_id=expense_id, reason=payload.reason, actor=api_actor(request))
    return selectors.get_expense(expense_id)
