"""Credit management: credit use is open receivables plus unbilled work; the review holds a customer over
its limit or with an item too long past due, and only a supervisor releases the hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.billing.services.charges import create_charge
from billops.collections.selectors.credit import credit_position
from billops.collections.services.credit import review_credit_holds
from billops.core.errors import PermissionDenied
from billops.customers.models import Customer
from billops.customers.services import release_credit_hold, set_credit_limit
from tests.collections.conftest import TODAY, Book

pytestmark = pytest.mark.django_db


def holds() -> dict[str, str]:
    return dict(Customer.objects.filter(credit_hold=True).values_list("account_number", "credit_hold_reason"))


def test_credit_use_counts_open_items_and_unbilled_work(book: Book, clerk: User, supervisor: User) -> None:
    set_credit_limit(customer_id=book.acme.pk, credit_limit="1000.00", actor=supervisor)
    create_charge(
        customer_id=book.acme.pk, quantity="2", description="Set-up", unit_price="50", tax_code="VAT-STD",
        charge_date=date(2026, 5, 15), actor=clerk,
    )  # fmt: skip

    position = credit_position(Customer.objects.get(pk=book.acme.pk), on=TODAY, actor=clerk)

    # open: 238.00 + 357.00; unbilled: 2 x 50.00 + 19 % VAT
    assert (position.open_amount, position.unbilled, position.used, position.available) == (
        Decimal("595.00"), Decimal("119.00"), Decimal("714.00"), Decimal("286.00"),
    )  # fmt: skip
    assert (position.percent_used, position.over_limit, position.oldest_due_on, position.days_past_due) == (
        Decimal("71.40"), False, date(2026, 3, 31), 50,
    )  # fmt: skip


def test_the_review_holds_customers_over_their_limit_or_too_late(
    book: Book, collector: User, supervisor: User
) -> None:
    set_credit_limit(customer_id=book.acme.pk, credit_limit="500.00", actor=supervisor)

    held = review_credit_holds(actor=collector, on=TODAY)

    # Bolt's opening balance of 31 December is 140 days past due; Crown is 5 days late and has no limit
    assert {hold.customer.account_number: hold.reason for hold in held} == {
        "C-ACME": "credit limit exceeded: 595.00 EUR used of 500.00 EUR",
        "C-BOLT": "an item 140 days past due (more than 90)",
    }
    assert holds() == {
        "C-ACME": "Credit review 2026-05-20: credit limit exceeded: 595.00 EUR used of 500.00 EUR",
        "C-BOLT": "Credit review 2026-05-20: an item 140 days past due (more than 90)",
    }
    assert AuditEvent.objects.filter(action="customers.credit_hold_placed", actor=collector).count() == 2
    assert review_credit_holds(actor=collector, on=TODAY) == []  # held already: left as they are

    with pytest.raises(PermissionDenied):
        release_credit_hold(customer_id=book.bolt.pk, actor=collector)
    release_credit_hold(customer_id=book.bolt.pk, actor=supervisor, note="Paying by instalments")
    assert set(holds()) == {"C-ACME"}


def test_the_days_past_due_rule_can_be_turned_off(book: Book, collector: User, settings: object) -> None:
    settings.CREDIT_HOLD_DAYS_PAST_DUE = 0  # type: ignore[attr-defined]

    assert review_credit_holds(actor=collector, on=TODAY) == []
    assert holds() == {}


def test_the_auditor_may_not_run_the_review(book: Book, auditor: User) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        review_credit_holds(actor=auditor, on=TODAY)
    assert (holds(), AuditEvent.objects.count()) == ({}, events)
