"""Payment terms and the database's own guards on customer rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billops.customers.models import Customer, PaymentTerms
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_common_terms_are_seeded_by_the_migration() -> None:
    codes = set(PaymentTerms.objects.values_list("code", flat=True))
    assert codes == {"DUE", "NET15", "NET30", "NET45", "NET60", "2/10NET30", "15NEXT"}
    two_ten = PaymentTerms.objects.get(code="2/10NET30")
    assert (two_ten.days, two_ten.discount_percent, two_ten.discount_days) == (30, Decimal("2.00"), 10)


@pytest.mark.parametrize(
    ("code", "invoice_on", "due_on"),
    [
        ("DUE", date(2025, 3, 14), date(2025, 3, 14)),
        ("NET15", date(2025, 3, 14), date(2025, 3, 29)),
        ("NET30", date(2025, 1, 31), date(2025, 3, 2)),
        ("NET45", date(2025, 12, 1), date(2026, 1, 15)),
        ("NET60", date(2024, 1, 1), date(2024, 3, 1)),
        ("2/10NET30", date(2025, 3, 1), date(2025, 3, 31)),
        ("15NEXT", date(2025, 1, 20), date(2025, 2, 15)),
        ("15NEXT", date(2025, 12, 31), date(2026, 1, 15)),
    ],
)
def test_due_date_of_seeded_terms(code: str, invoice_on: date, due_on: date) -> None:
    assert PaymentTerms.objects.get(code=code).due_on(invoice_on) == due_on


def test_end_of_month_plus_days_counts_from_the_month_end() -> None:
    terms = PaymentTerms.objects.create(code="EOM15", name="EOM + 15", kind="end_of_month_plus", days=15)
    assert terms.due_on(date(2025, 2, 3)) == date(2025, 3, 15)
    assert terms.due_on(date(2024, 2, 29)) == date(2024, 3, 15)


def test_day_of_month_terms_clamp_to_a_short_month() -> None:
    terms = PaymentTerms.objects.create(
        code="31NEXT", name="31st next month", kind="day_of_month", day_of_month=31
    )
    assert terms.due_on(date(2025, 1, 10)) == date(2025, 2, 28)
    assert terms.due_on(date(2025, 3, 10)) == date(2025, 4, 30)


def test_discount_until_only_with_a_discount() -> None:
    assert PaymentTerms.objects.get(code="2/10NET30").discount_until(date(2025, 3, 25)) == date(2025, 4, 4)
    assert PaymentTerms.objects.get(code="NET30").discount_until(date(2025, 3, 25)) is None


def test_terms_refuse_a_discount_without_days() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentTerms.objects.create(code="X", name="x", discount_percent=Decimal("2"), discount_days=0)


@pytest.mark.parametrize(
    "fields",
    [
        {"credit_limit": Decimal("-0.01")},
        {"tax_status": "exempt"},
        {"tax_status": "exempt", "exemption_certificate": "EX-1"},
        {"delivery_method": "einvoice"},
        {"credit_hold": True},
        {"bill_to_parent": True},
        {"cycle": "anniversary"},
        {"cycle": "monthly", "cycle_day": 32},
        {"cycle": "monthly", "cycle_day": None},
        {"status": "deleted"},
        {"legal_name": ""},
    ],
    ids=lambda fields: ",".join(f"{k}={v}" for k, v in fields.items()),
)
def test_database_refuses_an_inconsistent_customer_row(fields: dict) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(**fields)
    assert Customer.objects.count() == 0


def test_database_refuses_a_customer_as_its_own_parent() -> None:
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(parent=customer)
    customer.refresh_from_db()
    assert customer.parent_id is None


def test_database_refuses_a_duplicate_account_number() -> None:
    CustomerFactory(account_number="C-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(account_number="C-1")
    assert Customer.objects.filter(account_number="C-1").count() == 1
