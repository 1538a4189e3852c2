"""The receivables subledger's dated history: every change of an open item's open amount is kept with its
business day, by the services that make it, and the migration rebuilds the same history from the records."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.customers.models import OpenItemMovement
from billops.customers.services import post_opening_balance
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.services.applications import apply_receipt, unapply_application
from billops.payments.services.receipts import create_bank_account, post_receipt
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur

pytestmark = pytest.mark.django_db

migration = importlib.import_module("billops.payments.migrations.0010_open_item_history")


def history(kind: str, item_id: int) -> list[tuple[date, Decimal, str]]:
    rows = OpenItemMovement.objects.filter(item_kind=kind, item_id=item_id).order_by("moved_on", "pk")
    return list(rows.values_list("moved_on", "amount", "reason"))


def everything() -> list[tuple[Any, ...]]:
    fields = [
        "item_kind", "item_id", "customer_id", "entity_id", "currency", "document_on", "due_on", "moved_on",
        "amount", "reason",
    ]  # fmt: skip
    return sorted(OpenItemMovement.objects.values_list(*fields))


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """C-1: an opening balance of 50.00, invoices of 119.00, 238.00 and 357.00 (1 to 3 April, due 30 days
    later), 100.00 of the second credited on 10 April, a fourth invoice voided, 400.00 received on 4 May
    and applied oldest first, and its application to the first invoice taken back on 6 May."""
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    customer = make_customer(clerk, account_number="C-1")
    opening = post_opening_balance(
        customer_id=customer.pk, amount=eur("50.00"), balance_on=date(2026, 3, 31), reference="OLD-1",
        actor=supervisor,
    )  # fmt: skip
    invoices = [
        invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 4, day),
            lines=[LineData(quantity=str(day), description="Service", unit_price="100", tax_code="VAT-STD")],
        )
        for day in (1, 2, 3, 4)
    ]  # fmt: skip
    note = issue_credit_note(
        invoice_id=invoices[1].pk, reason="Price", actor=clerk, issued_on=date(2026, 4, 10),
        lines=[CreditLine(line_no=1, amount="84.03")],
    )  # fmt: skip
    void_invoice(invoice_id=invoices[3].pk, reason="Wrong customer", actor=clerk, voided_on=date(2026, 4, 12))
    create_bank_account(
        code="main-eur", name="Main EUR", currency="EUR", number="DE89 3704", actor=supervisor
    )
    receipt = post_receipt(
        customer_id=customer.pk, amount=eur("400.00"), actor=clerk, bank_account="MAIN-EUR", method="wire",
        received_on=date(2026, 5, 4),
    )  # fmt: skip
    applications = apply_receipt(receipt_id=receipt.pk, actor=clerk, applied_on=date(2026, 5, 4))
    first = next(a for a in applications if a.invoice_id == invoices[0].pk)
    unapply_application(application_id=first.pk, reason="Wrong invoice", actor=clerk, on=date(2026, 5, 6))
    return {"opening": opening, "invoices": invoices, "note": note}


def test_each_change_of_an_open_item_is_kept_with_its_day(book: dict[str, Any]) -> None:
    first, second, third, voided = book["invoices"]
    document = OpenItemMovement.Kind.DOCUMENT

    assert history(OpenItemMovement.Kind.OPENING_BALANCE, book["opening"].pk) == [
        (date(2026, 3, 31), Decimal("50.000000"), "opening"),
        (date(2026, 5, 4), Decimal("-50.000000"), "applied"),
    ]
    assert history(document, first.pk) == [
        (date(2026, 4, 1), Decimal("119.000000"), "issued"),
        (date(2026, 5, 4), Decimal("-119.000000"), "applied"),
        (date(2026, 5, 6), Decimal("119.000000"), "unapplied"),
    ]
    # 238.00 less the credit note of 84.03 net + 15.97 VAT, then the rest of the receipt
    assert history(document, second.pk) == [
        (date(2026, 4, 2), Decimal("238.000000"), "issued"),
        (date(2026, 4, 10), Decimal("-100.000000"), "credited"),
        (date(2026, 5, 4), Decimal("-138.000000"), "applied"),
    ]
    assert history(document, third.pk) == [
        (date(2026, 4, 3), Decimal("357.000000"), "issued"),
        (date(2026, 5, 4), Decimal("-93.000000"), "applied"),
    ]
    assert history(document, book["note"].pk) == [
        (date(2026, 4, 10), Decimal("-100.000000"), "issued"),
        (date(2026, 4, 10), Decimal("100.000000"), "credited"),
    ]
    assert history(document, voided.pk) == [
        (date(2026, 4, 4), Decimal("476.000000"), "issued"),
        (date(2026, 4, 12), Decimal("-476.000000"), "voided"),
    ]
    movement = OpenItemMovement.objects.filter(item_kind=document, item_id=second.pk).first()
    assert movement is not None
    assert (movement.document_on, movement.due_on, movement.entity_id) == (
        date(2026, 4, 2), second.due_on, second.entity_id,
    )  # fmt: skip
    all_ok()


def test_the_migration_rebuilds_the_same_history_from_the_records(book: dict[str, Any]) -> None:
    kept = everything()
    OpenItemMovement.objects.all().delete()

    migration.rebuild_history(django_apps, None)

    assert everything() == kept
    all_ok()


def test_a_tampered_history_fails_the_check(book: dict[str, Any]) -> None:
    OpenItemMovement.objects.filter(reason="unapplied").delete()

    from billops.cli.invariants import check_all

    report = check_all()["invariants"]["I2"]
    assert not report["ok"]
    assert f"{book['invoices'][0].number}: 0.00 in its history ≠ 119.00 open" in report["problems"]
