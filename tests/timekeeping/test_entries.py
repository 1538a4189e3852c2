"""Recording time and expenses, and their approval: every refusal names the field and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.core.errors import DomainError, FieldErrors, PermissionDenied
from billops.invoicing.errors import SelfApproval, WrongStatus
from billops.timekeeping.models import Expense, TimeEntry
from billops.timekeeping.services import approval, entries, setup
from billops.timekeeping.services.setup import change_timekeeper, close_matter
from tests.timekeeping.conftest import TODAY
from tests.timekeeping.factories import Firm, approved, make_matter, record

pytestmark = pytest.mark.django_db

MARCH_4 = date(2026, 3, 4)


@contextmanager
def nothing_changes() -> Iterator[None]:
    def state() -> Any:
        return (
            list(TimeEntry.objects.order_by("pk").values()),
            list(Expense.objects.order_by("pk").values()),
            AuditEvent.objects.count(),
        )

    before = state()
    yield
    assert state() == before


def refused(action: Callable[[], Any], error: type[DomainError] = DomainError) -> DomainError:
    with nothing_changes(), pytest.raises(error) as caught:
        action()
    return caught.value


def test_an_entry_is_recorded_as_a_draft_and_audited(firm: Firm) -> None:
    entry = record(firm, "1.50", MARCH_4, task_code="l110", activity_code="A104")
    assert (entry.status, entry.hours, entry.currency, entry.customer_id) == (
        "draft",
        Decimal("1.5"),
        "EUR",
        firm.customer.pk,
    )
    event = AuditEvent.objects.get(action="time_entry.recorded")
    assert (event.actor_id, event.target_id) == (firm.clerk.pk, str(entry.pk))
    assert event.after == {
        "timekeeper": "JD", "matter": "M-001", "worked_on": "2026-03-04", "hours": "1.5",
        "narrative": "Reviewed the complaint", "task_code": "L110", "activity_code": "A104",
        "status": "draft",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"hours": "0"}, "hours", "hours must be more than zero, got 0"),
        ({"hours": "-1"}, "hours", "hours must be more than zero"),
        ({"hours": "0.25"}, "hours", "hours are counted in tenths (0.1), not 0.25"),
        ({"hours": "24.1"}, "hours", "a day has 24 hours; 24.1 cannot be worked in one"),
        ({"hours": 1.5}, "hours", "not a float"),
        ({"worked_on": date(2026, 4, 16)}, "worked_on", "2026-04-16 is in the future (today is 2026-04-15)"),
        ({"worked_on": date(2026, 1, 4)}, "worked_on", "before matter M-001 was opened (2026-01-05)"),
        ({"narrative": "  "}, "narrative", "narrative is required"),
        ({"task_code": "L999"}, "task_code", "there is no UTBMS code L999"),
        ({"task_code": "A104"}, "task_code", "A104 is a UTBMS activity code, not a task code"),
        ({"activity_code": "E101"}, "activity_code", "E101 is a UTBMS expense code, not a activity code"),
        ({"task_code": "L100"}, "task_code", "L100 is a phase; record time against one of its tasks"),
        ({"timekeeper": "nobody"}, "timekeeper_code", "there is no timekeeper 'ZZ'"),
        ({"matter_id": 999_999}, "matter_id", "there is no matter 999999"),
    ],
)
def test_bad_time_is_refused_naming_the_field_and_nothing_changes(
    firm: Firm, fields: dict[str, Any], field: str, message: str
) -> None:
    values = {"timekeeper_code": "ZZ"} if fields.pop("timekeeper", None) else {}
    on = fields.pop("worked_on", MARCH_4)
    if values:
        error = refused(
            lambda: entries.record_time(
                matter_id=firm.matter.pk, worked_on=on, hours="1", narrative="x", actor=firm.clerk, **values
            )
        )
    else:
        error = refused(lambda: record(firm, fields.pop("hours", "1.0"), on, **fields))
    assert error.field == field
    assert message in error.message


def test_more_than_24_hours_a_day_across_entries_is_refused_naming_the_day_and_total(firm: Firm) -> None:
    record(firm, "16.0", MARCH_4)
    record(firm, "7.5", MARCH_4, matter_id=make_matter(firm.clerk, firm.customer, "M-002").pk)
    error = refused(lambda: record(firm, "0.6", MARCH_4))
    assert (error.field, error.message) == (
        "hours",
        "JD would have 24.1 hours on 2026-03-04 (23.5 recorded already); at most 24 in a day",
    )
    record(firm, "0.5", MARCH_4)  # exactly 24
    record(firm, "8.0", date(2026, 3, 5))  # another day
    record(firm, "8.0", MARCH_4, timekeeper=firm.associate)  # another timekeeper
    # changing an entry counts the day without its own hours
    first = TimeEntry.objects.filter(hours=16).get()
    entries.change_time_entry(entry_id=first.pk, hours="15.9", actor=firm.clerk)
    error = refused(lambda: entries.change_time_entry(entry_id=first.pk, hours="16.1", actor=firm.clerk))
    assert "would have 24.1 hours on 2026-03-04 (8.0 recorded already)" in error.message


def test_a_matter_whose_guidelines_require_utbms_codes_refuses_an_entry_without_them(firm: Firm) -> None:
    strict = make_matter(firm.clerk, firm.customer, "M-UTBMS", utbms_required=True)
    error = refused(lambda: record(firm, "1.0", MARCH_4, matter_id=strict.pk), FieldErrors)
    assert isinstance(error, FieldErrors)
    assert [(item.field, item.message) for item in error.errors] == [
        ("task_code", "the billing guidelines of matter M-UTBMS require a UTBMS task code"),
        ("activity_code", "the billing guidelines of matter M-UTBMS require a UTBMS activity code"),
    ]
    error = refused(lambda: record(firm, "1.0", MARCH_4, matter_id=strict.pk, task_code="L110"))
    assert error.field == "activity_code"
    entry = record(firm, "1.0", MARCH_4, matter_id=strict.pk, task_code="L110", activity_code="A101")
    # removing a required code later is refused as well
    error = refused(lambda: entries.change_time_entry(entry_id=entry.pk, task_code="", actor=firm.clerk))
    assert error.field == "task_code"
    # the same matter takes an expense only with an expense code
    error = refused(
        lambda: entries.record_expense(
            matter_id=strict.pk, incurred_on=MARCH_4, description="Copies", quantity="10", unit_cost="0.1",
            actor=firm.clerk,
        )
    )  # fmt: skip
    assert (error.field, error.message) == (
        "expense_code",
        "the billing guidelines of matter M-UTBMS require a UTBMS expense code",
    )


def test_several_wrong_fields_are_reported_together(firm: Firm) -> None:
    error = refused(lambda: record(firm, "0.05", date(2027, 1, 1), narrative="", task_code="X1"), FieldErrors)
    assert isinstance(error, FieldErrors)
    assert [item.field for item in error.errors] == ["worked_on", "hours", "narrative", "task_code"]


def test_a_closed_matter_and_an_inactive_timekeeper_take_no_new_time(firm: Firm) -> None:
    close_matter(matter_id=firm.matter.pk, actor=firm.clerk)
    error = refused(lambda: record(firm, "1.0", MARCH_4))
    assert (error.field, error.message) == (
        "matter_id",
        "matter M-001 is closed and takes no new time or expenses",
    )
    other = make_matter(firm.clerk, firm.customer, "M-002")
    change_timekeeper(code="JD", is_active=False, actor=firm.clerk)
    error = refused(lambda: record(firm, "1.0", MARCH_4, matter_id=other.pk))
    assert (error.field, error.message) == (
        "timekeeper_code",
        "timekeeper JD is inactive and records no new time",
    )


def test_a_draft_changes_and_is_deleted_with_audit_events(firm: Firm) -> None:
    entry = record(firm, "1.0", MARCH_4)
    entries.change_time_entry(
        entry_id=entry.pk, hours="2.0", narrative="Drafted the answer", actor=firm.clerk
    )
    entry.refresh_from_db()
    assert (entry.hours, entry.narrative) == (Decimal("2.0"), "Drafted the answer")
    changed = AuditEvent.objects.get(action="time_entry.changed")
    assert (changed.before, changed.after) == (
        {"hours": "1.0", "narrative": "Reviewed the complaint"},
        {"hours": "2.0", "narrative": "Drafted the answer"},
    )
    entries.delete_time_entry(entry_id=entry.pk, actor=firm.clerk)
    assert not TimeEntry.objects.exists()
    deleted = AuditEvent.objects.get(action="time_entry.deleted")
    assert (deleted.target_id, deleted.before["hours"]) == (str(entry.pk), "2.0")


def test_approval_takes_a_submitted_entry_and_another_supervisor(
    firm: Firm, make_user: Callable[..., User]
) -> None:
    entry = record(firm, "1.0", MARCH_4)
    error = refused(
        lambda: approval.approve_time_entry(entry_id=entry.pk, actor=firm.supervisor), WrongStatus
    )
    assert error.message == f"time entry {entry.pk} is a draft: submit it first"
    approval.submit_time_entry(entry_id=entry.pk, actor=firm.clerk)
    refused(lambda: approval.approve_time_entry(entry_id=entry.pk, actor=firm.clerk), PermissionDenied)
    approval.approve_time_entry(entry_id=entry.pk, actor=firm.supervisor)
    entry.refresh_from_db()
    assert (entry.status, entry.approved_by_id) == ("approved", firm.supervisor.pk)
    # approved: no more changes until a supervisor rejects it back to draft
    error = refused(
        lambda: entries.change_time_entry(entry_id=entry.pk, hours="2", actor=firm.clerk), WrongStatus
    )
    assert error.field == "status"
    refused(lambda: entries.delete_time_entry(entry_id=entry.pk, actor=firm.clerk), WrongStatus)
    refused(lambda: approval.reject_time_entry(entry_id=entry.pk, reason=" ", actor=firm.supervisor))
    approval.reject_time_entry(entry_id=entry.pk, reason="wrong matter", actor=firm.supervisor)
    entry.refresh_from_db()
    assert (entry.status, entry.rejection_reason, entry.approved_by_id) == ("draft", "wrong matter", None)
    actions = AuditEvent.objects.filter(target_id=str(entry.pk), target_type="timekeeping.timeentry")
    assert list(actions.order_by("seq").values_list("action", flat=True)) == [
        "time_entry.recorded", "time_entry.submitted", "time_entry.approved", "time_entry.rejected",
    ]  # fmt: skip


def test_nobody_approves_their_own_time(firm: Firm, make_user: Callable[..., User]) -> None:
    lawyer = make_user(Role.SUPERVISOR, "jane")
    setup.change_timekeeper(code="JD", username="jane", actor=firm.clerk)
    # the supervisor's own time, recorded and submitted by the clerk
    entry = record(firm, "1.0", MARCH_4)
    approval.submit_time_entry(entry_id=entry.pk, actor=firm.clerk)
    error = refused(lambda: approval.approve_time_entry(entry_id=entry.pk, actor=lawyer), SelfApproval)
    assert error.message == f"time entry {entry.pk} is your own work: another supervisor approves it"
    # time the supervisor recorded for someone else
    other = record(firm, "1.0", MARCH_4, timekeeper=firm.associate, actor=firm.supervisor)
    approval.submit_time_entry(entry_id=other.pk, actor=firm.supervisor)
    refused(lambda: approval.approve_time_entry(entry_id=other.pk, actor=firm.supervisor), SelfApproval)
    approval.approve_time_entry(entry_id=other.pk, actor=lawyer)
    refused(lambda: approval.approve_time_entry(entry_id=other.pk, actor=lawyer), WrongStatus)


def test_an_expense_is_recorded_at_cost_and_approved_like_time(firm: Firm) -> None:
    expense = entries.record_expense(
        matter_id=firm.matter.pk, incurred_on=MARCH_4, description="Copies", quantity="120", unit_cost="0.15",
        markup_percent="10", expense_code="e101", actor=firm.clerk,
    )  # fmt: skip
    assert (expense.status, expense.currency, expense.expense_code and expense.expense_code.code) == (
        "draft",
        "EUR",
        "E101",
    )
    for fields, field in (
        ({"quantity": "0"}, "quantity"),
        ({"unit_cost": "-1"}, "unit_cost"),
        ({"markup_percent": "101"}, "markup_percent"),
        ({"expense_code": "L110"}, "expense_code"),
        ({"incurred_on": TODAY.replace(day=16)}, "incurred_on"),
        ({"description": ""}, "description"),
    ):
        error = refused(
            lambda fields=fields: entries.change_expense(expense_id=expense.pk, actor=firm.clerk, **fields)
        )
        assert error.field == field
    approval.submit_expense(expense_id=expense.pk, actor=firm.clerk)
    refused(lambda: approval.approve_expense(expense_id=expense.pk, actor=firm.clerk), PermissionDenied)
    approval.approve_expense(expense_id=expense.pk, actor=firm.supervisor)
    refused(lambda: entries.delete_expense(expense_id=expense.pk, actor=firm.clerk), WrongStatus)
    assert list(
        AuditEvent.objects.filter(target_type="timekeeping.expense")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["expense.recorded", "expense.submitted", "expense.approved"]


def test_a_write_down_keeps_the_hours_worked_and_is_audited(firm: Firm) -> None:
    entry = approved(firm, "3.0", MARCH_4)
    for fields, field in (
        ({}, "reason"),
        ({"reason": "x"}, "billed_hours"),
        ({"reason": "x", "billed_hours": "2", "billed_amount": "1"}, "billed_hours"),
        ({"reason": "x", "billed_hours": "0"}, "billed_hours"),
        ({"reason": "x", "billed_hours": "1.25"}, "billed_hours"),
        ({"reason": "x", "billed_amount": "-1"}, "billed_amount"),
        ({"reason": "x", "billed_amount": "1.005"}, "billed_amount"),
    ):
        error = refused(lambda fields=fields: approval.adjust_time_entry(
            entry_id=entry.pk, actor=firm.supervisor, **{"reason": "", **fields}
        ))  # fmt: skip
        assert error.field == field, fields
    refused(lambda: approval.adjust_time_entry(
        entry_id=entry.pk, actor=firm.clerk, reason="x", billed_hours="2"), PermissionDenied
    )  # fmt: skip
    approval.adjust_time_entry(
        entry_id=entry.pk, actor=firm.supervisor, reason="first draft", billed_hours="2.0"
    )
    approval.adjust_time_entry(
        entry_id=entry.pk, actor=firm.supervisor, reason="agreed cap", billed_amount="700"
    )
    entry.refresh_from_db()
    assert (entry.hours, entry.billed_hours, entry.billed_amount, entry.adjustment_reason) == (
        Decimal("3.0"),
        None,
        Decimal("700"),
        "agreed cap",
    )
    second = AuditEvent.objects.filter(action="time_entry.adjusted").latest("seq")
    assert (second.before, second.after) == (
        {"billed_hours": "2.0", "billed_amount": None, "adjustment_reason": "first draft"},
        {"billed_hours": None, "billed_amount": "700.00", "adjustment_reason": "agreed cap", "hours": "3.0"},
    )
    # a draft is not reviewed for billing
    draft = record(firm, "1.0", MARCH_4)
    error = refused(
        lambda: approval.adjust_time_entry(
            entry_id=draft.pk, actor=firm.supervisor, reason="x", billed_hours="1"
        ),
        WrongStatus,
    )
    assert error.message == f"time entry {draft.pk} is draft; only approved time is reviewed for billing"
