"""Refunds under maker-checker: at or above the policy's amount a refund waits for a second supervisor,
who sees what is paid back to whom; below it, it is paid at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.services import approve_request
from billops.access.models import ApprovalRequest, Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.core.errors import InvalidAmount
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalLine
from billops.payments.models import Receipt, Refund
from billops.payments.services.applications import apply_receipt
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.refunds import refund_receipt
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, state, unchanged

pytestmark = pytest.mark.django_db
TODAY = date(2026, 5, 20)


@pytest.fixture
def receipt(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> Receipt:
    """300.00 EUR received from C-1 and left unapplied; refunds from 100.00 EUR need a second supervisor."""
    admin = make_user(Role.ADMIN)
    set_business_date(on=TODAY, actor=admin)
    customer = make_customer(clerk, account_number="C-1")
    create_bank_account(code="main-eur", name="Main EUR", currency="EUR", number="DE89", actor=supervisor)
    set_approval_policy(
        action="payments.refund", currency="EUR", approval_from=Decimal("100.00"),
        limits={Role.SUPERVISOR: Decimal("1000.00")}, actor=admin,
    )  # fmt: skip
    return post_receipt(
        customer_id=customer.pk, amount=eur("300.00"), actor=clerk, bank_account="MAIN-EUR", method="wire",
        received_on=TODAY,
    )  # fmt: skip


def refund(receipt: Receipt, actor: User, amount: str) -> Refund | ApprovalRequest:
    return refund_receipt(
        receipt_id=receipt.pk,
        amount=eur(amount),
        method="wire",
        reason="Overpaid",
        reference="R-1",
        actor=actor,
    )


def test_below_the_policy_a_refund_is_paid_at_once(receipt: Receipt, supervisor: User) -> None:
    paid = refund(receipt, supervisor, "99.99")

    assert isinstance(paid, Refund)
    assert (paid.amount, paid.created_by) == (Decimal("99.99"), supervisor)
    all_ok()


def test_at_the_policy_a_refund_waits_for_a_second_supervisor(
    receipt: Receipt, supervisor: User, make_user: Callable[..., User]
) -> None:
    lines = JournalLine.objects.count()

    asked = refund(receipt, supervisor, "150.00")

    assert isinstance(asked, ApprovalRequest)
    assert (asked.action, asked.amount, asked.status, asked.target_id) == (
        "payments.refund", Decimal("150.00"), "pending", receipt.pk,
    )  # fmt: skip
    assert asked.snapshot == {
        "receipt": receipt.pk, "customer": "C-1", "customer_name": receipt.customer.legal_name,
        "received_on": "2026-05-20", "receipt_amount": "300.00", "refund": "150.00", "currency": "EUR",
        "method": "wire", "reference": "R-1", "bank_account": "MAIN-EUR",
    }  # fmt: skip
    assert (JournalLine.objects.count(), Refund.objects.count()) == (lines, 0)  # nothing paid yet

    second = make_user(Role.SUPERVISOR, "sam2")
    approve_request(request_id=asked.pk, actor=second, snapshot_digest=asked.snapshot_digest)

    paid = Refund.objects.get()
    assert (paid.amount, paid.created_by, paid.reason) == (Decimal("150.00"), asked.requested_by, "Overpaid")
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("150.00")
    event = AuditEvent.objects.get(action="receipt.refunded")
    assert (event.actor, event.journal_entry_id) == (second, paid.journal_entry_id)
    all_ok()


def test_cash_applied_since_the_request_refuses_the_approval_and_changes_nothing(
    receipt: Receipt, supervisor: User, clerk: User, make_user: Callable[..., User]
) -> None:
    asked = refund(receipt, supervisor, "250.00")
    assert isinstance(asked, ApprovalRequest)
    invoice_now(
        customer_id=receipt.customer_id, actor=clerk,
        lines=[LineData(quantity="1", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip
    apply_receipt(receipt_id=receipt.pk, actor=clerk)  # 119.00 of the 300.00 applied: 181.00 left
    second = make_user(Role.SUPERVISOR, "sam2")

    with unchanged(), pytest.raises(InvalidAmount) as refused:
        approve_request(request_id=asked.pk, actor=second)

    assert "has 181.00 EUR unapplied" in refused.value.message
    asked.refresh_from_db()
    assert asked.status == "pending"
    assert state()["refunds"] == 0


def test_the_api_answers_202_with_the_request_that_waits(
    receipt: Receipt, supervisor: User, api_as: Callable[[User], Any]
) -> None:
    reply = api_as(supervisor).post(
        f"/payments/receipts/{receipt.pk}/refunds",
        {"amount": "200.00", "currency": "EUR", "method": "wire", "reason": "Overpaid"},
    )

    assert reply.status_code == 202, reply.json()
    request = ApprovalRequest.objects.get()
    assert reply.json() == {
        "approval_request": request.pk, "status": "pending", "amount": "200.00", "currency": "EUR",
    }  # fmt: skip
