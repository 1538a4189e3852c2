"""Recording time and expenses on a matter: each checked against the matter's dates and billing
guidelines and, for time, the timekeeper's day (at most 24 hours). Recorded work may change or be
deleted until it is approved; billed work never changes. Every write is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import changed_fields, record_event
from billops.catalog.display import plain_decimal
from billops.core.errors import DomainError, FieldErrors, InvalidAmount, InvalidInput, NotFound
from billops.core.money import to_decimal
from billops.invoicing.errors import NotEditable, WrongStatus
from billops.invoicing.services.lines import (
    clean_document_date,
    clean_percent,
    clean_price,
    clean_quantity,
    clean_text,
)
from billops.timekeeping.models import (
    Expense,
    Matter,
    RecordedWork,
    TimeEntry,
    Timekeeper,
    UtbmsCode,
    Work,
    WorkStatus,
)
from billops.timekeeping.selectors import get_matter, get_timekeeper

MAX_HOURS_A_DAY = Decimal(24)
TENTH = Decimal("0.1")


def _apply(
    row: RecordedWork, checks: dict[str, Callable[[Any], Any]], values: dict[str, Any]
) -> list[DomainError]:
    """Check and set each field given; the errors come back together: a form shows every wrong field."""
    errors: list[DomainError] = []
    for name, check in checks.items():
        if name in values:
            try:
                setattr(row, name, check(values[name]))
            except DomainError as exc:
                errors.append(exc)
    return errors


def refuse_locked(work: RecordedWork, action: str) -> None:
    """Billed work is on an issued invoice: nothing about it changes any more."""
    if work.status == WorkStatus.BILLED:
        raise NotEditable(
            f"{work} is billed and locked; it cannot be {action} (credit its invoice to correct it)",
            field="status",
        )


def refuse_unless_editable(work: RecordedWork, action: str) -> None:
    refuse_locked(work, action)
    if work.status == WorkStatus.APPROVED:
        raise WrongStatus(
            f"{work} is approved; it cannot be {action} unless a supervisor rejects it back to draft",
            field="status",
        )


def locked_work(model: type[Work], work_id: int) -> Work:
    """The entry or expense, its row locked until the transaction ends, or NotFound."""
    work = (
        model.objects.select_for_update(of=("self",))
        .select_related("matter", "customer")
        .filter(pk=work_id)
        .first()
    )
    if work is None:
        what = "time entry" if model is TimeEntry else "expense"
        raise NotFound(
            f"there is no {what} {work_id}", field="entry_id" if model is TimeEntry else "expense_id"
        )
    return work


def _work_date(value: Any, matter: Matter, field: str) -> date:
    """A day work was done on: a date, not after today's business date, not before the matter opened."""
    on = clean_document_date(value, field)
    if on is None:
        raise InvalidInput(f"{field} is required", field=field)
    today = clock.today()
    if on > today:
        raise InvalidInput(
            f"{field} {on.isoformat()} is in the future (today is {today.isoformat()})", field=field
        )
    if on < matter.opened_on:
        raise InvalidInput(
            f"{field} {on.isoformat()} is before {matter} was opened ({matter.opened_on.isoformat()})",
            field=field,
        )
    return on


def _closed(matter: Matter) -> list[DomainError]:
    if matter.status == Matter.Status.OPEN:
        return []
    return [InvalidInput(f"{matter} is closed and takes no new time or expenses", field="matter_id")]


def clean_hours(value: Any, field: str = "hours") -> Decimal:
    """Hours in tenths, more than zero."""
    hours = to_decimal(value, field=field)
    if hours <= 0:
        raise InvalidAmount(f"{field} must be more than zero, got {value}", field=field)
    if hours % TENTH:
        raise InvalidAmount(f"{field} are counted in tenths (0.1), not {value}", field=field)
    return Decimal(int(hours * 10)).scaleb(-1)  # "1.50" is kept as 1.5


def _hours(value: Any) -> Decimal:
    hours = clean_hours(value)
    if hours > MAX_HOURS_A_DAY:
        raise InvalidAmount(
            f"a day has 24 hours; {plain_decimal(hours, 1)} cannot be worked in one", field="hours"
        )
    return hours


def _code(code: str, code_set: str, field: str, *, required_by: Matter | None) -> UtbmsCode | None:
    """A UTBMS code of the right set; required when the matter's billing guidelines say so."""
    code = clean_text(code, field, limit=10).upper()
    if not code:
        if required_by is not None:
            raise InvalidInput(
                f"the billing guidelines of {required_by} require a UTBMS {code_set} code", field=field
            )
        return None
    found = UtbmsCode.objects.filter(code=code).first()
    if found is None:
        raise NotFound(f"there is no UTBMS code {code}", field=field)
    if found.code_set != code_set:
        raise InvalidInput(f"{code} is a UTBMS {found.code_set} code, not a {code_set} code", field=field)
    if code_set == UtbmsCode.CodeSet.TASK and not found.phase:
        raise InvalidInput(f"{code} is a phase; record time against one of its tasks", field=field)
    return found


def _day_total(entry: TimeEntry) -> None:
    """The timekeeper's hours on the entry's day, with this entry, are at most 24."""
    others = TimeEntry.objects.filter(timekeeper_id=entry.timekeeper_id, worked_on=entry.worked_on)
    if entry.pk is not None:
        others = others.exclude(pk=entry.pk)
    recorded = others.aggregate(total=Sum("hours"))["total"] or Decimal(0)
    if recorded + entry.hours > MAX_HOURS_A_DAY:
        raise InvalidAmount(
            f"{entry.timekeeper.code} would have {plain_decimal(recorded + entry.hours, 1)} hours on "
            f"{entry.worked_on.isoformat()} ({plain_decimal(recorded, 1)} recorded already); "
            "at most 24 in a day",
            field="hours",
        )


def entry_state(entry: TimeEntry) -> dict[str, Any]:
    return {
        "timekeeper": entry.timekeeper.code,
        "matter": entry.matter.number,
        "worked_on": entry.worked_on,
        "hours": entry.hours,
        "narrative": entry.narrative,
        "task_code": entry.task_code.code if entry.task_code else "",
        "activity_code": entry.activity_code.code if entry.activity_code else "",
        "status": entry.status,
    }


def _fill_entry(entry: TimeEntry, values: dict[str, Any]) -> None:
    """Check and set what is given of an entry's fields, then its day total; every wrong field at once."""
    matter = entry.matter
    required_by = matter if matter.utbms_required else None
    errors = _closed(matter) + _apply(
        entry,
        {
            "worked_on": lambda value: _work_date(value, matter, "worked_on"),
            "hours": _hours,
            "narrative": lambda value: clean_text(value, "narrative", limit=1000, required=True),
            "task_code": lambda value: _code(
                value, UtbmsCode.CodeSet.TASK, "task_code", required_by=required_by
            ),
            "activity_code": lambda value: _code(
                value, UtbmsCode.CodeSet.ACTIVITY, "activity_code", required_by=required_by
            ),
        },
        values,
    )
    if not any(error.field in ("worked_on", "hours") for error in errors):
        try:
            _day_total(entry)
        except DomainError as exc:
            errors.append(exc)
    FieldErrors.raise_any(errors)


@transaction.atomic(durable=True)
def record_time(
    *,
    timekeeper_code: str,
    matter_id: int,
    worked_on: date,
    hours: Any,
    narrative: str,
    actor: User,
    task_code: str = "",
    activity_code: str = "",
) -> TimeEntry:
    """A draft entry: hours in tenths that a timekeeper worked on a matter on one day."""
    require_permission(actor, "time.record")
    # the timekeeper's row lock serialises their entries, so two at once cannot pass 24 hours a day
    timekeeper = get_timekeeper(timekeeper_code, for_update=True, field="timekeeper_code")
    if not timekeeper.is_active:
        raise InvalidInput(f"{timekeeper} is inactive and records no new time", field="timekeeper_code")
    matter = get_matter(matter_id)
    entry = TimeEntry(
        timekeeper=timekeeper, matter=matter, customer=matter.customer, currency=matter.customer.currency,
        created_by=actor,
    )  # fmt: skip
    _fill_entry(
        entry,
        {"worked_on": worked_on, "hours": hours, "narrative": narrative, "task_code": task_code,
         "activity_code": activity_code},
    )  # fmt: skip
    entry.save()
    record_event(actor=actor, action="time_entry.recorded", target=entry, after=entry_state(entry))
    return entry


def _locked_entry(entry_id: int) -> TimeEntry:
    """The entry locked, after its timekeeper (the order every write of time takes)."""
    timekeeper_id = TimeEntry.objects.filter(pk=entry_id).values_list("timekeeper_id", flat=True).first()
    if timekeeper_id is not None:
        Timekeeper.objects.select_for_update().filter(pk=timekeeper_id).first()
    return locked_work(TimeEntry, entry_id)


@transaction.atomic(durable=True)
def change_time_entry(
    *,
    entry_id: int,
    actor: User,
    worked_on: date | None = None,
    hours: Any = None,
    narrative: str | None = None,
    task_code: str | None = None,
    activity_code: str | None = None,
) -> TimeEntry:
    """Change what is given of an entry not approved yet, checked as when it was recorded; an empty code
    removes it."""
    require_permission(actor, "time.record")
    entry = _locked_entry(entry_id)
    refuse_unless_editable(entry, "changed")
    before = entry_state(entry)
    values = {
        "worked_on": worked_on, "hours": hours, "narrative": narrative, "task_code": task_code,
        "activity_code": activity_code,
    }  # fmt: skip
    _fill_entry(entry, {name: value for name, value in values.items() if value is not None})
    entry.save()
    old, new = changed_fields(before, entry_state(entry))
    if new:
        record_event(actor=actor, action="time_entry.changed", target=entry, before=old, after=new)
    return entry


@transaction.atomic(durable=True)
def delete_time_entry(*, entry_id: int, actor: User) -> None:
    """Remove an entry not approved yet; the audit trail keeps what it was."""
    require_permission(actor, "time.record")
    entry = _locked_entry(entry_id)
    refuse_unless_editable(entry, "deleted")
    record_event(actor=actor, action="time_entry.deleted", target=entry, before=entry_state(entry))
    entry.delete()


def expense_state(expense: Expense) -> dict[str, Any]:
    return {
        "matter": expense.matter.number,
        "incurred_on": expense.incurred_on,
        "expense_code": expense.expense_code.code if expense.expense_code else "",
        "description": expense.description,
        "quantity": expense.quantity,
        "unit_cost": expense.unit_cost,
        "markup_percent": expense.markup_percent,
        "currency": expense.currency,
        "status": expense.status,
    }


def _fill_expense(expense: Expense, values: dict[str, Any]) -> None:
    matter = expense.matter
    required_by = matter if matter.utbms_required else None
    errors = _closed(matter) + _apply(
        expense,
        {
            "incurred_on": lambda value: _work_date(value, matter, "incurred_on"),
            "description": lambda value: clean_text(value, "description", limit=500, required=True),
            "quantity": clean_quantity,
            "unit_cost": lambda value: clean_price(value, "unit_cost"),
            "markup_percent": lambda value: clean_percent(value, "markup_percent"),
            "expense_code": lambda value: _code(
                value, UtbmsCode.CodeSet.EXPENSE, "expense_code", required_by=required_by
            ),
        },
        values,
    )
    FieldErrors.raise_any(errors)


@transaction.atomic(durable=True)
def record_expense(
    *,
    matter_id: int,
    incurred_on: date,
    description: str,
    quantity: Any,
    unit_cost: Any,
    actor: User,
    expense_code: str = "",
    markup_percent: Any = "0",
) -> Expense:
    """A draft expense on a matter, in the customer's currency; billed at cost plus the markup."""
    require_permission(actor, "time.record")
    matter = get_matter(matter_id)
    expense = Expense(
        matter=matter, customer=matter.customer, currency=matter.customer.currency, created_by=actor
    )
    _fill_expense(
        expense,
        {"incurred_on": incurred_on, "description": description, "quantity": quantity,
         "unit_cost": unit_cost, "markup_percent": markup_percent, "expense_code": expense_code},
    )  # fmt: skip
    expense.save()
    record_event(actor=actor, action="expense.recorded", target=expense, after=expense_state(expense))
    return expense


@transaction.atomic(durable=True)
def change_expense(
    *,
    expense_id: int,
    actor: User,
    incurred_on: date | None = None,
    description: str | None = None,
    quantity: Any = None,
    unit_cost: Any = None,
    markup_percent: Any = None,
    expense_code: str | None = None,
) -> Expense:
    """Change what is given of an expense not approved yet, checked as when it was recorded."""
    require_permission(actor, "time.record")
    expense = locked_work(Expense, expense_id)
    refuse_unless_editable(expense, "changed")
    before = expense_state(expense)
    values = {
        "incurred_on": incurred_on, "description": description, "quantity": quantity,
        "unit_cost": unit_cost, "markup_percent": markup_percent, "expense_code": expense_code,
    }  # fmt: skip
    _fill_expense(expense, {name: value for name, value in values.items() if value is not None})
    expense.save()
    old, new = changed_fields(before, expense_state(expense))
    if new:
        record_event(actor=actor, action="expense.changed", target=expense, before=old, after=new)
    return expense


@transaction.atomic(durable=True)
def delete_expense(*, expense_id: int, actor: User) -> None:
    """Remove an expense not approved yet; the audit trail keeps what it was."""
    require_permission(actor, "time.record")
    expense = locked_work(Expense, expense_id)
    refuse_unless_editable(expense, "deleted")
    record_event(actor=actor, action="expense.deleted", target=expense, before=expense_state(expense))
    expense.delete()
