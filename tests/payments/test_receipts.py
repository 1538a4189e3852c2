"""Receipts and cash application: a receipt posts bank against unapplied cash, is applied oldest first or
to the invoices named, leaves an overpayment as a credit on account, is taken back with its reason; a
retried post is one receipt; every refusal names its field and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    InvalidAmount,
    InvalidInput,
    PermissionDenied,
    UnprocessableReplay,
)
from billops.core.money import Money
from billops.customers.models import Customer
from billops.customers.services import post_opening_balance
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.errors import PeriodClosed
from billops.ledger.models import JournalEntry, JournalLine
from billops.ledger.services import close_period
from billops.payments.models import Receipt
from billops.payments.services.applications import Allocation, apply_receipt, unapply_application
from billops.payments.services.receipts import create_bank_account, post_receipt
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """C-1 with an opening balance of 50.00 (March) and three invoices of 119.00, 238.00 and 357.00
    (issued 1, 2 and 3 April); a EUR bank account."""
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN))
    customer = make_customer(clerk, account_number="C-1")
    post_opening_balance(
        customer_id=customer.pk, amount=eur("50.00"), balance_on=date(2026, 3, 31), reference="OLD-1",
        actor=supervisor,
    )  # fmt: skip
    invoices = [
        invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 4, day),
            lines=[LineData(quantity=str(day), description="Service", unit_price="100", tax_code="VAT-STD")],
        )
        for day in (1, 2, 3)
    ]  # fmt: skip
    create_bank_account(
        code="main-eur",
        name="Main EUR",
        currency="EUR",
        number="DE89 3704 0044 0532 0130 00",
        actor=supervisor,
    )
    return {"customer": customer, "invoices": invoices}


def receive(clerk: User, customer: Customer, amount: str, **fields: Any) -> Receipt:
    values = {"bank_account": "MAIN-EUR", "method": "wire", "received_on": date(2026, 5, 4)} | fields
    return post_receipt(customer_id=customer.pk, amount=eur(amount), actor=clerk, **values)


def lines_of(entry_id: int | None) -> list[tuple[str, Decimal, Decimal, int | None]]:
    lines = JournalLine.objects.filter(entry_id=entry_id).order_by("line_no")
    return list(lines.values_list("account__code", "debit", "credit", "customer_id"))


def test_a_receipt_posts_bank_clearing_against_unapplied_cash_and_is_audited(
    book: dict[str, Any], clerk: User
) -> None:
    customer = book["customer"]
    receipt = receive(clerk, customer, "500.00", payer_name="C-1 Ltd", reference="WIRE-77")
    assert (receipt.amount, receipt.unapplied_amount, receipt.status) == (
        Decimal("500.00"),
        Decimal("500.00"),
        "posted",
    )
    assert lines_of(receipt.journal_entry_id) == [
        ("1100", Decimal("500.00"), Decimal(0), None),
        ("2100", Decimal(0), Decimal("500.00"), customer.pk),
    ]
    event = AuditEvent.objects.get(action="receipt.posted")
    assert (event.actor, event.journal_entry_id, event.after["reference"]) == (
        clerk,
        receipt.journal_entry_id,
        "WIRE-77",
    )
    all_ok()


def test_oldest_first_settles_the_opening_balance_then_invoices_by_due_date_and_keeps_the_rest(
    book: dict[str, Any], clerk: User
) -> None:
    customer, (first, second, third) = book["customer"], book["invoices"]
    receipt = receive(clerk, customer, "800.00")
    applications = apply_receipt(receipt_id=receipt.pk, actor=clerk)
    # 50.00 + 119.00 + 238.00 + 357.00 = 764.00: 36.00 stays unapplied, a credit on account
    assert [(a.invoice_id, a.opening_balance_id is not None, a.amount) for a in applications] == [
        (None, True, Decimal("50.00")),
        (first.pk, False, Decimal("119.00")),
        (second.pk, False, Decimal("238.00")),
        (third.pk, False, Decimal("357.00")),
    ]
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("36.00")
    assert set(Invoice.objects.values_list("status", "open_amount")) == {(InvoiceStatus.PAID, Decimal(0))}
    entry = applications[0].journal_entry
    assert all(a.journal_entry_id == entry.pk for a in applications)
    assert lines_of(entry.pk)[:2] == [
        ("2100", Decimal("50.00"), Decimal(0), customer.pk),
        ("1200", Decimal(0), Decimal("50.00"), customer.pk),
    ]
    event = AuditEvent.objects.get(action="receipt.applied")
    assert (event.after["unapplied_amount"], event.after["how"], len(event.after["applied"])) == (
        "36.00",
        "oldest first",
        4,
    )
    all_ok()


def test_a_partial_payment_to_the_invoices_named_leaves_them_partly_paid(
    book: dict[str, Any], clerk: User
) -> None:
    customer, (first, second, third) = book["customer"], book["invoices"]
    receipt = receive(clerk, customer, "319.00")
    apply_receipt(
        receipt_id=receipt.pk, actor=clerk,
        allocations=[Allocation(third.number, Decimal("200.00")), Allocation(first.number)],
    )  # fmt: skip
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "paid", second.pk: "issued", third.pk: "partly_paid"}
    third.refresh_from_db()
    assert third.open_amount == Decimal("157.00")
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("0.00")
    with pytest.raises(Conflict, match="applied in full already"):
        apply_receipt(receipt_id=receipt.pk, actor=clerk)
    all_ok()


def test_unapplying_opens_the_invoice_again_with_the_reason_and_once_only(
    book: dict[str, Any], clerk: User
) -> None:
    customer, first = book["customer"], book["invoices"][0]
    receipt = receive(clerk, customer, "119.00")
    [application] = apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(first.number)])
    back = unapply_application(
        application_id=application.pk, reason="applied to the wrong customer", actor=clerk
    )
    first.refresh_from_db()
    receipt.refresh_from_db()
    assert (first.status, first.open_amount, receipt.unapplied_amount) == (
        "issued",
        Decimal("119.00"),
        Decimal("119.00"),
    )
    assert (back.unapplied_on, back.unapply_reason, back.unapplied_by) == (
        TODAY,
        "applied to the wrong customer",
        clerk,
    )
    assert lines_of(back.unapply_entry_id) == [  # the application's entry, each side turned
        ("2100", Decimal(0), Decimal("119.00"), customer.pk),
        ("1200", Decimal("119.00"), Decimal(0), customer.pk),
    ]
    with unchanged(), pytest.raises(Conflict, match="unapplied already"):
        unapply_application(application_id=application.pk, reason="again", actor=clerk)
    all_ok()


def test_the_same_idempotency_key_returns_the_first_receipt_and_another_body_is_refused(
    book: dict[str, Any], clerk: User
) -> None:
    customer = book["customer"]
    first = receive(clerk, customer, "100.00", idempotency_key="pay-1")
    assert receive(clerk, customer, "100.00", idempotency_key="pay-1").pk == first.pk
    with unchanged(), pytest.raises(UnprocessableReplay) as refused:
        receive(clerk, customer, "101.00", idempotency_key="pay-1")
    assert refused.value.field == "idempotency_key" and "another amount" in refused.value.message
    assert (Receipt.objects.count(), JournalEntry.objects.filter(source_type="payments.receipt").count()) == (
        1,
        1,
    )


@pytest.mark.parametrize(
    ("amount", "fields", "error", "field", "words"),
    [
        ("0.00", {}, InvalidAmount, "amount", "more than zero"),
        ("-5.00", {}, InvalidAmount, "amount", "more than zero"),
        ("10.005", {}, InvalidAmount, "amount", ""),
        ("10.00", {"received_on": date(2026, 5, 21)}, InvalidInput, "received_on", "after today"),
        ("10.00", {"method": "bitcoin"}, InvalidInput, "method", "must be one of"),
        ("10.00", {"method": "card", "card_brand": "VISA", "processor_reference": "ch_1"}, InvalidInput,
         "card_last4", "last four digits"),
        ("10.00", {"method": "card", "card_last4": "4242", "card_brand": "VISA", "processor_reference": "c",
                   "reference": "4242 4242 4242 4242"}, InvalidInput, "reference", "like a card number"),
        ("10.00", {"card_last4": "4242"}, InvalidInput, "method", "belong to card payments"),
        ("10.00", {"bank_account": "NOPE"}, DomainError, "bank_account", "no active bank account"),
    ],
)  # fmt: skip
def test_a_bad_receipt_is_refused_naming_its_field_and_changes_nothing(
    book: dict[str, Any],
    clerk: User,
    amount: str,
    fields: dict[str, Any],
    error: type,
    field: str,
    words: str,
) -> None:
    with unchanged(), pytest.raises(error) as refused:
        receive(clerk, book["customer"], amount, **fields)
    assert refused.value.field == field and words in refused.value.message


def test_a_receipt_in_another_currency_a_closed_period_or_by_the_wrong_role_is_refused(
    book: dict[str, Any], clerk: User, supervisor: User, collector: User
) -> None:
    customer = book["customer"]
    with unchanged(), pytest.raises(CurrencyMismatch):
        post_receipt(
            customer_id=customer.pk,
            bank_account="MAIN-EUR",
            method="wire",
            amount=Money(Decimal(10), "USD"),
            actor=clerk,
        )
    with unchanged(), pytest.raises(PermissionDenied):
        receive(collector, customer, "10.00")
    for month in (3, 4):
        close_period(start_on=date(2026, month, 1), actor=supervisor)
    with unchanged(), pytest.raises(PeriodClosed):
        receive(clerk, customer, "10.00", received_on=date(2026, 4, 30))


@pytest.mark.parametrize(
    ("allocations", "field", "words"),
    [
        ([Allocation("INV-2026-999999")], "allocations[1]", "is not an open invoice"),
        ([Allocation("INV-2026-000001", Decimal("120.00"))], "allocations[1]", "has 119.00 EUR open"),
        (
            [Allocation("INV-2026-000003"), Allocation("INV-2026-000002", Decimal("100"))],
            "allocations[2]",
            "has 43.00 EUR left to apply; INV-2026-000002 would take 100.00",
        ),
        ([Allocation("INV-2026-000001"), Allocation("inv-2026-000001")], "allocations[2]", "named twice"),
        ([Allocation("INV-2026-000001", Decimal("0"))], "allocations[1]", "more than zero"),
    ],
)
def test_a_bad_allocation_is_refused_naming_it_and_changes_nothing(
    book: dict[str, Any], clerk: User, allocations: list[Allocation], field: str, words: str
) -> None:
    receipt = receive(clerk, book["customer"], "400.00")
    with unchanged(), pytest.raises(DomainError) as refused:
        apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=allocations)
    assert refused.value.field == field and words in refused.value.message


def test_another_customers_invoice_is_not_open_to_this_receipt(book: dict[str, Any], clerk: User) -> None:
    other = make_customer(clerk, account_number="C-2")
    theirs = invoice_now(
        customer_id=other.pk,
        actor=clerk,
        lines=[LineData(quantity="1", description="X", unit_price="10", tax_code="VAT-STD")],
    )
    receipt = receive(clerk, book["customer"], "10.00")
    with unchanged(), pytest.raises(InvalidInput, match="not an open invoice of this receipt's customer"):
        apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(theirs.number or "")])
