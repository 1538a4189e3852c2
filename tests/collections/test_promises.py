"""Promises to pay: recorded with their contact, refused when they cannot be right, and decided by the
payments that follow: kept by the promised day plus grace, broken after it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.collections.models import CollectionProfile, PromiseToPay
from billops.collections.selectors.promises import customers_with_open_promises, kept_rate
from billops.collections.services.promises import cancel_promise, evaluate_promises, record_promise
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from billops.core.money import Money
from tests.collections.conftest import TODAY, Book
from tests.payments.books import all_ok, eur

pytestmark = pytest.mark.django_db


def promise(book: Book, actor: User, amount: str = "200.00", days: int = 7, **fields: object) -> PromiseToPay:
    values: dict = {"contact": "Anna Acme, accounts payable", "promised_on": TODAY + timedelta(days=days)}
    return record_promise(customer_id=book.acme.pk, amount=eur(amount), actor=actor, **(values | fields))


def pay_on(book: Book, clerk: User, amount: str, days: int) -> None:
    """The business day moves to `days` after TODAY, and Acme pays that much of its March invoice."""
    set_business_date(on=TODAY + timedelta(days=days), actor=book.admin)
    book.pay(clerk, book.acme, amount, TODAY + timedelta(days=days), book.invoices["mar"])


def counts() -> tuple[int, int, int]:
    return PromiseToPay.objects.count(), AuditEvent.objects.count(), CollectionProfile.objects.count()


def test_a_promise_is_recorded_with_its_contact_and_invoices_and_audited(book: Book, collector: User) -> None:
    made = promise(
        book, collector, grace_days=2, invoice_ids=[book.invoices["mar"].pk], note="after the call"
    )

    assert (made.amount, made.currency, made.made_on, made.promised_on, made.grace_days, made.status) == (
        Decimal("200.00"), "EUR", TODAY, date(2026, 5, 27), 2, "open",
    )  # fmt: skip
    assert list(made.invoices.all()) == [book.invoices["mar"]]
    assert customers_with_open_promises() == {book.acme.pk}
    event = AuditEvent.objects.filter(action="collections.promise_recorded").get()
    assert (event.actor_id, event.after["amount"], event.after["invoices"]) == (
        collector.pk, "200.00", [book.invoices["mar"].number],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"days": -1}, InvalidInput, "promised_on"),  # a promise dated in the past
        ({"amount": "595.01"}, InvalidAmount, "amount"),  # Acme owes 238.00 + 357.00
        ({"amount": "0"}, InvalidAmount, "amount"),
        ({"amount": "-5"}, InvalidAmount, "amount"),
        ({"amount": "10.001"}, InvalidAmount, "amount"),
        ({"grace_days": 31}, InvalidInput, "grace_days"),
        ({"contact": "  "}, InvalidInput, "contact"),
    ],
)
def test_a_wrong_promise_is_refused_naming_its_field_and_changes_nothing(
    book: Book, collector: User, fields: dict, error: type, field: str
) -> None:
    before = counts()
    with pytest.raises(error) as refused:
        promise(book, collector, **fields)
    assert refused.value.field == field
    assert counts() == before


def test_another_currency_another_customers_invoice_a_second_promise_or_the_wrong_role_are_refused(
    book: Book, collector: User, auditor: User, clerk: User
) -> None:
    before = counts()
    with pytest.raises(CurrencyMismatch):
        record_promise(
            customer_id=book.acme.pk, amount=Money(Decimal("10"), "GBP"), actor=collector, contact="Anna",
            promised_on=TODAY,
        )  # fmt: skip
    with pytest.raises(NotFound) as refused:
        promise(book, collector, invoice_ids=[book.invoices["crown"].pk])
    assert refused.value.field == "invoice_ids"
    for role in (auditor, clerk):
        with pytest.raises(PermissionDenied):
            promise(book, role)
    assert counts() == before

    promise(book, collector)
    with pytest.raises(Conflict) as refused:
        promise(book, collector, amount="50.00")
    assert "has an open promise of 200.00 EUR by 2026-05-27" in refused.value.message


def test_paid_by_the_promised_day_the_promise_is_kept(book: Book, collector: User, clerk: User) -> None:
    made = promise(book, collector, days=7)
    pay_on(book, clerk, "150.00", 2)
    assert evaluate_promises(on=TODAY + timedelta(days=2)) == {"kept": 0, "broken": 0}  # 150 of 200 so far

    pay_on(book, clerk, "50.00", 7)
    assert evaluate_promises(on=TODAY + timedelta(days=7)) == {"kept": 1, "broken": 0}

    made.refresh_from_db()
    assert (made.status, made.paid_amount, made.decided_on) == ("kept", Decimal("200.00"), date(2026, 5, 27))
    assert customers_with_open_promises() == set()
    assert kept_rate(book.acme.pk) == (1, 1)
    assert AuditEvent.objects.filter(action="collections.promise_kept").count() == 1
    all_ok()


def test_unpaid_after_the_grace_days_the_promise_is_broken_and_the_customer_is_due_for_a_call(
    book: Book, collector: User, clerk: User
) -> None:
    made = promise(book, collector, days=2, grace_days=3)  # promised 22 May, counts until 25 May
    pay_on(book, clerk, "100.00", 5)  # 25 May: counts
    assert evaluate_promises(on=TODAY + timedelta(days=5)) == {"kept": 0, "broken": 0}
    pay_on(book, clerk, "100.00", 6)  # 26 May: too late

    assert evaluate_promises(on=TODAY + timedelta(days=6)) == {"kept": 0, "broken": 1}

    made.refresh_from_db()
    assert (made.status, made.paid_amount, made.decided_on) == (
        "broken",
        Decimal("100.00"),
        date(2026, 5, 26),
    )
    profile = CollectionProfile.objects.get(customer=book.acme)
    assert (profile.next_action_on, profile.next_action) == (
        date(2026, 5, 26),
        "Promise of 200.00 EUR broken: call",
    )
    assert kept_rate(book.acme.pk) == (0, 1)
    assert evaluate_promises(on=TODAY + timedelta(days=7)) == {"kept": 0, "broken": 0}  # decided once


def test_a_cancelled_promise_needs_a_reason_and_is_decided_once(book: Book, collector: User) -> None:
    made = promise(book, collector)
    with pytest.raises(InvalidInput) as refused:
        cancel_promise(promise_id=made.pk, reason=" ", actor=collector)
    assert refused.value.field == "reason"

    cancel_promise(promise_id=made.pk, reason="Replaced by a payment plan", actor=collector)

    made.refresh_from_db()
    assert (made.status, made.decided_on) == ("cancelled", TODAY)
    with pytest.raises(Conflict) as refused:
        cancel_promise(promise_id=made.pk, reason="again", actor=collector)
    assert refused.value.field == "status"
    assert kept_rate(book.acme.pk) == (0, 0)
