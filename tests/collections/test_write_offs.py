"""Bad-debt write-offs under maker-checker: posted at once below the policy's amount, else approved by a
second person with the authority, who sees exactly what is written off; and recoveries afterwards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.approvals.errors import SelfApproval
from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.services import approve_request, reject_request
from billops.access.models import ApprovalRequest, Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.collections.models import Recovery, WriteOff
from billops.collections.selectors.aging import aging
from billops.collections.services.write_offs import recover_write_off, request_write_off
from billops.core.errors import Conflict, InvalidAmount, PermissionDenied
from billops.invoicing.models import Invoice
from billops.ledger.errors import PeriodClosed
from billops.ledger.models import JournalLine
from billops.ledger.services import close_period
from billops.payments.services.receipts import post_receipt
from tests.collections.conftest import TODAY, Book
from tests.payments.books import all_ok, eur

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(book: Book, make_user: object) -> None:
    """Write-offs from 100.00 EUR need a second person: a collector may approve up to 150.00, a
    supervisor up to 5 000.00."""
    set_approval_policy(
        action="collections.write_off", currency="EUR", approval_from=Decimal("100.00"),
        limits={Role.COLLECTOR: Decimal("150.00"), Role.SUPERVISOR: Decimal("5000.00")}, actor=book.admin,
    )  # fmt: skip


def entry_lines(entry_id: int) -> list[tuple[str, Decimal, Decimal, int | None]]:
    lines = JournalLine.objects.filter(entry_id=entry_id).order_by("line_no")
    return list(lines.values_list("account__code", "debit", "credit", "customer_id"))


def counts() -> tuple[int, int, int, int]:
    return (WriteOff.objects.count(), ApprovalRequest.objects.count(), AuditEvent.objects.count(),
            JournalLine.objects.count())  # fmt: skip


def test_below_the_policy_a_write_off_is_posted_at_once(book: Book, collector: User, policy: None) -> None:
    march = book.invoices["mar"]

    outcome = request_write_off(
        invoice_id=march.pk, amount=Decimal("38.00"), reason="Small balance", actor=collector
    )

    write_off = outcome.write_off
    assert write_off is not None and outcome.approval is None
    assert (write_off.amount, write_off.written_off_on, write_off.approved_by) == (
        Decimal("38.00"),
        TODAY,
        None,
    )
    assert entry_lines(write_off.journal_entry_id) == [
        ("6900", Decimal("38.00"), Decimal(0), None), ("1200", Decimal(0), Decimal("38.00"), book.acme.pk),
    ]  # fmt: skip
    march.refresh_from_db()
    assert (march.open_amount, march.status) == (Decimal("200.00"), "partly_paid")
    event = AuditEvent.objects.get(action="collections.written_off")
    assert (event.actor, event.journal_entry_id, event.after["reason"]) == (
        collector, write_off.journal_entry_id, "Small balance",
    )  # fmt: skip
    all_ok()


def test_at_or_above_the_policy_it_waits_for_a_second_person_who_sees_the_snapshot(
    book: Book, collector: User, supervisor: User, make_user: object, policy: None
) -> None:
    march = book.invoices["mar"]
    before = JournalLine.objects.count()

    outcome = request_write_off(invoice_id=march.pk, reason="Customer insolvent", actor=collector)

    request = outcome.approval
    assert request is not None and outcome.write_off is None
    assert (request.action, request.amount, request.status) == (
        "collections.write_off",
        Decimal("238.00"),
        "pending",
    )
    assert request.snapshot == {
        "invoice": march.number, "customer": "C-ACME", "customer_name": "Acme GmbH", "currency": "EUR",
        "invoice_total": "238.00", "open_amount": "238.00", "write_off": "238.00", "due_on": "2026-03-31",
        "reason": "Customer insolvent",
    }  # fmt: skip
    assert JournalLine.objects.count() == before  # nothing posted yet
    with pytest.raises(SelfApproval):
        approve_request(request_id=request.pk, actor=collector)
    other_collector = make_user(Role.COLLECTOR)  # type: ignore[operator]
    with pytest.raises(PermissionDenied):  # 238.00 is above a collector's 150.00
        approve_request(request_id=request.pk, actor=other_collector)

    approve_request(request_id=request.pk, actor=supervisor, snapshot_digest=request.snapshot_digest)

    write_off = WriteOff.objects.get()
    assert (write_off.amount, write_off.requested_by, write_off.approved_by) == (
        Decimal("238.00"), collector, supervisor,
    )  # fmt: skip
    assert write_off.approval_request_id == request.pk
    march.refresh_from_db()
    assert march.open_amount == Decimal("0.00")
    acme = next(row for row in aging(as_of=TODAY).rows if row.key == book.acme.pk)
    assert acme.buckets == [Decimal("357.00"), 0, 0, 0, 0]  # March is written off
    with pytest.raises(Conflict):  # decided already
        approve_request(request_id=request.pk, actor=supervisor)
    all_ok()


def test_paid_since_the_request_the_approval_is_refused_and_nothing_changes(
    book: Book, collector: User, supervisor: User, clerk: User, policy: None
) -> None:
    march = book.invoices["mar"]
    request = request_write_off(invoice_id=march.pk, reason="Insolvent", actor=collector).approval
    assert request is not None
    book.pay(clerk, book.acme, "38.00", TODAY, march)
    before = counts()

    with pytest.raises(Conflict):  # the invoice is not as the approver was shown
        approve_request(request_id=request.pk, actor=supervisor)

    assert counts() == before
    request.refresh_from_db()
    assert request.status == "pending"
    reject_request(request_id=request.pk, actor=supervisor, note="Paying after all")
    assert WriteOff.objects.count() == 0


@pytest.mark.parametrize(
    ("which", "amount", "error", "field"),
    [
        ("jan", None, Conflict, "invoice_id"),  # paid in full: nothing to write off
        ("mar", Decimal("238.01"), InvalidAmount, "amount"),
        ("mar", Decimal("0"), InvalidAmount, "amount"),
        ("mar", Decimal("-5"), InvalidAmount, "amount"),
        ("mar", Decimal("1.001"), InvalidAmount, "amount"),
    ],
)
def test_a_wrong_write_off_is_refused_and_changes_nothing(
    book: Book, collector: User, which: str, amount: Decimal | None, error: type, field: str
) -> None:
    before = counts()
    with pytest.raises(error) as refused:
        request_write_off(invoice_id=book.invoices[which].pk, amount=amount, reason="x", actor=collector)
    assert refused.value.field == field
    assert counts() == before


def test_a_write_off_in_a_closed_period_or_by_the_wrong_role_is_refused(
    book: Book, collector: User, clerk: User, supervisor: User
) -> None:
    before = counts()
    with pytest.raises(PermissionDenied):
        request_write_off(invoice_id=book.invoices["mar"].pk, reason="x", actor=clerk)
    set_business_date(on=date(2026, 6, 2), actor=book.admin)
    for start in (date(2025, 12, 1), *(date(2026, month, 1) for month in range(1, 6))):
        close_period(start_on=start, actor=supervisor)  # periods close in order
    set_business_date(on=date(2026, 5, 31), actor=book.admin)
    before = counts()
    with pytest.raises(PeriodClosed):
        request_write_off(invoice_id=book.invoices["mar"].pk, reason="x", actor=collector)
    assert counts() == before


def test_money_received_after_a_write_off_reinstates_the_debt_and_pays_it(
    book: Book, collector: User, clerk: User
) -> None:
    march = book.invoices["mar"]
    write_off = request_write_off(invoice_id=march.pk, reason="Insolvent", actor=collector).write_off
    assert write_off is not None  # no policy: posted at once
    receipt = post_receipt(
        customer_id=book.acme.pk, amount=eur("100.00"), actor=clerk, bank_account="MAIN-EUR", method="wire",
        received_on=TODAY,
    )  # fmt: skip

    recovery = recover_write_off(write_off_id=write_off.pk, receipt_id=receipt.pk, actor=clerk)

    assert (recovery.amount, recovery.recovered_on) == (Decimal("100.00"), TODAY)
    assert entry_lines(recovery.journal_entry_id) == [
        ("1200", Decimal("100.00"), Decimal(0), book.acme.pk), ("6900", Decimal(0), Decimal("100.00"), None),
    ]  # fmt: skip
    write_off.refresh_from_db()
    march.refresh_from_db()
    receipt.refresh_from_db()
    assert (write_off.recovered_amount, march.open_amount, receipt.unapplied_amount) == (
        Decimal("100.00"), Decimal("0.00"), Decimal("0.00"),
    )  # fmt: skip
    assert Recovery.objects.count() == 1
    with pytest.raises(InvalidAmount) as refused:  # the receipt holds nothing more
        recover_write_off(write_off_id=write_off.pk, receipt_id=receipt.pk, actor=clerk, amount=Decimal("10"))
    assert refused.value.field == "amount"
    assert Invoice.objects.get(pk=march.pk).status == "paid"
    all_ok()
