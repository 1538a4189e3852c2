"""The worklist: customers with something overdue, most urgent first, with the points that put them there;
today's list leaves out those whose next action is later or who are waiting on a promise."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.collections.hooks import disputed_amounts
from billops.collections.models import Activity, CollectionProfile
from billops.collections.selectors.timeline import timeline
from billops.collections.selectors.worklist import worklist
from billops.collections.services.accounts import assign_collector, plan_next_action, record_activity
from billops.collections.services.promises import evaluate_promises, record_promise
from billops.core.errors import InvalidInput, NotFound, PermissionDenied
from billops.customers.services import place_credit_hold
from billops.disputes.services import open_dispute
from tests.collections.conftest import TODAY, Book
from tests.payments.books import eur

pytestmark = pytest.mark.django_db


def names(items: list) -> list[str]:
    return [item.customer.account_number for item in items]


def listed(items: list) -> list[tuple[str, str, int]]:
    return [(item.customer.account_number, str(item.overdue), item.priority) for item in items]


def test_the_most_urgent_customer_comes_first_with_the_reasons(book: Book) -> None:
    items = worklist(today=TODAY)

    # Bolt: 50.00 over 90 days: 17 for the amount + 40 for the age; Acme: 238.00 31-60 days: 24 + 20;
    # Crown: 100.00 GBP 1-30 days: 20 + 10. Acme's current May invoice is not overdue.
    assert listed(items) == [("C-BOLT", "50.00", 57), ("C-ACME", "238.00", 44), ("C-CROWN", "100.00", 30)]
    acme = items[1]
    assert (acme.open_amount, acme.age_points, acme.reasons) == (
        Decimal("595.00"), 20, ["238.00 EUR overdue: 24", "age: 20"],
    )  # fmt: skip


def test_a_broken_promise_and_a_credit_hold_raise_the_priority(
    book: Book, collector: User, supervisor: User
) -> None:
    record_promise(
        customer_id=book.acme.pk, amount=eur("100.00"), promised_on=TODAY, grace_days=0, contact="Anna",
        actor=collector,
    )  # fmt: skip
    set_business_date(on=TODAY + timedelta(days=1), actor=book.admin)
    evaluate_promises(on=TODAY + timedelta(days=1))
    place_credit_hold(customer_id=book.crown.pk, reason="Over 30 days late", actor=supervisor)

    items = {item.customer.account_number: item for item in worklist(today=TODAY + timedelta(days=1))}

    assert items["C-ACME"].priority == 44 + 15
    assert "1 broken promise: 15" in items["C-ACME"].reasons
    assert items["C-CROWN"].priority == 30 + 10
    assert "on credit hold: 10" in items["C-CROWN"].reasons


def test_todays_list_leaves_out_a_later_next_action_and_a_pending_promise(
    book: Book, collector: User
) -> None:
    plan_next_action(
        customer_id=book.bolt.pk, on=TODAY + timedelta(days=3), action="Call after", actor=collector
    )
    record_promise(
        customer_id=book.acme.pk, amount=eur("238.00"), promised_on=TODAY + timedelta(days=5), contact="Anna",
        actor=collector,
    )  # fmt: skip

    assert names(worklist(today=TODAY)) == ["C-CROWN"]
    everyone = worklist(today=TODAY, due_only=False)
    assert names(everyone) == ["C-BOLT", "C-ACME", "C-CROWN"]
    assert (everyone[0].next_action_on, everyone[0].next_action) == (date(2026, 5, 23), "Call after")
    # on 23 May Bolt's call is due again
    assert [item.customer.account_number for item in worklist(today=date(2026, 5, 23))] == [
        "C-BOLT",
        "C-CROWN",
    ]


def test_a_collector_sees_the_customers_assigned_to_them(
    book: Book, collector: User, supervisor: User
) -> None:
    assign_collector(customer_id=book.crown.pk, collector_id=collector.pk, actor=supervisor)

    assert [item.customer.account_number for item in worklist(today=TODAY, collector_id=collector.pk)] == [
        "C-CROWN"
    ]
    event = AuditEvent.objects.filter(action="collections.collector_assigned").get()
    assert (event.before, event.after) == ({"collector": None}, {"collector": "collector"})


def test_an_activity_with_its_outcome_plans_the_next_action(book: Book, collector: User) -> None:
    activity = record_activity(
        customer_id=book.acme.pk, kind="call", outcome="left_message", contact="Anna Acme",
        text="Voicemail; asked for a call back", actor=collector, next_action_on=TODAY + timedelta(days=2),
        next_action="Call again",
    )  # fmt: skip

    assert (activity.kind, activity.outcome, activity.happened_on, activity.created_by) == (
        "call", "left_message", TODAY, collector,
    )  # fmt: skip
    profile = CollectionProfile.objects.get(customer=book.acme)
    assert (profile.next_action_on, profile.next_action) == (date(2026, 5, 22), "Call again")
    event = AuditEvent.objects.filter(action="collections.activity_recorded").get()
    assert event.after["next_action"] == "Call again"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"outcome": "maybe"}, "outcome"),
        ({"text": "  "}, "text"),
        ({"happened_on": TODAY + timedelta(days=1)}, "happened_on"),
        ({"next_action_on": TODAY - timedelta(days=1), "next_action": "x"}, "next_action_on"),
        ({"next_action_on": TODAY + timedelta(days=1), "next_action": ""}, "next_action"),
    ],
)
def test_a_wrong_activity_is_refused_naming_its_field_and_changes_nothing(
    book: Book, collector: User, fields: dict, field: str
) -> None:
    values = {"kind": "call", "text": "Talked", "outcome": "reached"} | fields
    before = (Activity.objects.count(), AuditEvent.objects.count(), CollectionProfile.objects.count())
    with pytest.raises(InvalidInput) as refused:
        record_activity(customer_id=book.acme.pk, actor=collector, **values)
    assert refused.value.field == field
    assert (Activity.objects.count(), AuditEvent.objects.count(), CollectionProfile.objects.count()) == before


def test_assigning_is_a_supervisors_to_a_collector_or_supervisor(
    book: Book, collector: User, clerk: User, supervisor: User
) -> None:
    with pytest.raises(PermissionDenied):
        assign_collector(customer_id=book.acme.pk, collector_id=collector.pk, actor=collector)
    with pytest.raises(InvalidInput) as refused:
        assign_collector(customer_id=book.acme.pk, collector_id=clerk.pk, actor=supervisor)
    assert refused.value.field == "collector_id"
    with pytest.raises(NotFound):
        assign_collector(customer_id=book.acme.pk, collector_id=999_999, actor=supervisor)
    with pytest.raises(PermissionDenied):
        plan_next_action(customer_id=book.acme.pk, on=TODAY, action="Call", actor=clerk)
    assert CollectionProfile.objects.count() == 0


def test_an_open_dispute_raises_the_priority_and_shows_on_the_timeline(book: Book, collector: User) -> None:
    case = open_dispute(invoice_id=book.invoices["mar"].pk, reason="price", amount="38.00", actor=collector)

    acme = next(item for item in worklist(today=TODAY) if item.customer.pk == book.acme.pk)

    assert (acme.open_disputes, acme.priority) == (1, 44 + 5)
    assert "1 open dispute: 5" in acme.reasons
    entries = [(entry.kind, entry.title) for entry in timeline(book.acme.pk)]
    assert ("dispute", f"Dispute {case.pk} opened on {book.invoices['mar'].number}: 38.00 EUR") in entries
    assert disputed_amounts([book.invoices["mar"].pk]) == {book.invoices["mar"].pk: Decimal("38.00")}
