"""Receipts under real concurrency on PostgreSQL: a retried post is one receipt with one entry, and two
clerks applying one receipt at once never apply more than was received nor over-pay an invoice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import User
from billops.core.errors import DomainError
from billops.core.money import Money
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry
from billops.payments.models import Application, Receipt
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.receipts import create_bank_account, post_receipt
from tests.conftest import race
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer(clerk: User, supervisor: User, entity: Any, catalog: Any) -> Any:
    create_bank_account(
        code="MAIN", name="Main", currency="EUR", number="DE89370400440532013000", actor=supervisor
    )
    return make_customer(clerk, account_number="C-1")


def test_twenty_posts_of_one_receipt_with_one_key_make_one_receipt_and_one_entry(
    customer: Any, clerk: User
) -> None:
    def post(_: int) -> int:
        return post_receipt(
            customer_id=customer.pk, bank_account="MAIN", method="ach", amount=Money(Decimal("250"), "EUR"),
            actor=clerk, idempotency_key="retry-me",
        ).pk  # fmt: skip

    results, errors = race(20, post)
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 20
    assert Receipt.objects.count() == 1
    assert JournalEntry.objects.filter(source_type="payments.receipt").count() == 1
    all_ok()


def test_two_clerks_applying_one_receipt_at_once_never_apply_more_than_it_holds(
    customer: Any, clerk: User, make_user: Callable[..., User]
) -> None:
    other_clerk = make_user("clerk", username="clerk2")
    invoices = [
        invoice_now(
            customer_id=customer.pk, actor=clerk,
            lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
        ).number
        for price in ("100", "200")
    ]  # fmt: skip
    receipt = post_receipt(
        customer_id=customer.pk, bank_account="MAIN", method="wire", amount=Money(Decimal("200.00"), "EUR"),
        actor=clerk,
    )  # fmt: skip
    clerks = [clerk, other_clerk]

    def apply(index: int) -> list[Application]:
        return apply_receipt(
            receipt_id=receipt.pk, actor=clerks[index], allocations=[Allocation(invoices[index] or "")]
        )

    _, errors = race(2, apply)
    assert all(isinstance(error, DomainError) for error in errors), errors
    applied = Application.objects.filter(receipt=receipt)
    assert sum(application.amount for application in applied) == Decimal("200.00")
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == 0
    for invoice in Invoice.objects.all():
        assert 0 <= invoice.open_amount <= invoice.total
    all_ok()
