"""What the dunning and payment plan tests share (no tests here): a customer with a billing contact, invoices
of 1,000.00 EUR without VAT (so that fees and interest can be checked by hand), the fee products, a policy
of three levels, and the business day moved as a test goes.

The first invoice is dated 1 January 2026 and falls due on 31 January (NET30); 73 days later is 14 April,
on which 8 % a year of 1,000.00 is exactly 16.00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.collections.models import (
    CollectionProfile,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    Instalment,
    NoticeItem,
    PaymentPlan,
)
from billops.collections.services.dunning import LevelData, ensure_dunning_products, save_dunning_policy
from billops.customers.models import Customer
from billops.delivery.models import Delivery
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry, JournalLine
from billops.payments.models import BankAccount
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.receipts import create_bank_account, post_receipt
from tests.delivery.factories import customer_with_contacts
from tests.payments.books import eur

ISSUED_ON = date(2026, 1, 1)
DUE_ON = date(2026, 1, 31)

LEVELS = (
    LevelData(
        days_after_due=10,
        subject="Reminder: {invoices}",
        body="Dear {customer},\n\nour records show {total} overdue:\n{invoices}\n\nKind regards\n{seller}",
    ),
    LevelData(
        days_after_due=73,
        subject="Second reminder for {account}",
        body="Dear {customer},\n\n{total} is still overdue. We charge a fee of {fee} and interest of "
        "{interest} on debit note {debit_note}: {amount_due} in all.",
        fee_amount="5.00",
        interest_rate="8",
    ),
    LevelData(
        days_after_due=100,
        subject="Final reminder",
        body="Dear {customer},\n\nplease pay {amount_due} now; your account is on hold.",
        channel="letter",
        fee_percent="1",
        interest_rate="8",
        escalation="credit_hold",
    ),
)


@dataclass
class DunningBook:
    admin: User
    clerk: User
    supervisor: User
    collector: User
    customer: Customer
    invoice: Invoice  # 1,000.00 of 1 January, due 31 January
    policy: DunningPolicy

    def on(self, day: date) -> None:
        """Move the business day."""
        set_business_date(on=day, actor=self.admin)

    def new_invoice(self, customer: Customer, on: date, amount: str = "1000.00") -> Invoice:
        return invoice_now(
            customer_id=customer.pk, actor=self.clerk, issued_on=on,
            lines=[LineData(quantity="1", description="Consulting", unit_price=amount, tax_code="EXEMPT")],
        )  # fmt: skip

    def pay(self, invoice: Invoice, amount: str, on: date) -> None:
        """The customer pays `amount` on `on` (the business day moves there), applied to the invoice."""
        self.on(on)
        if not BankAccount.objects.filter(code="MAIN-EUR").exists():
            create_bank_account(
                code="main-eur", name="Main", currency="EUR", number="DE89", actor=self.supervisor
            )
        receipt = post_receipt(
            customer_id=invoice.customer_id, amount=eur(amount), actor=self.clerk, bank_account="MAIN-EUR",
            method="wire", received_on=on,
        )  # fmt: skip
        apply_receipt(
            receipt_id=receipt.pk, actor=self.clerk, applied_on=on,
            allocations=[Allocation(invoice_number=invoice.number or "", amount=eur(amount).amount)],
        )  # fmt: skip


def make_policy(actor: User, code: str = "STANDARD", **fields: Any) -> DunningPolicy:
    values: dict[str, Any] = {"name": "Standard", "currency": "EUR", "levels": LEVELS, "is_default": True}
    return save_dunning_policy(code=code, actor=actor, **(values | fields))


def build_book(clerk: User, supervisor: User, collector: User, make_user: Callable[..., User]) -> DunningBook:
    """The book; each test module's `dunning` fixture builds it, after the `entity` and `catalog` ones."""
    admin = make_user(Role.ADMIN)
    set_business_date(on=ISSUED_ON, actor=admin)
    customer = customer_with_contacts(clerk, account_number="C-DUN", legal_name="Dunning Test GmbH")
    ensure_dunning_products(actor=supervisor, tax_code="EXEMPT")
    policy = make_policy(supervisor)
    book = DunningBook(admin, clerk, supervisor, collector, customer, Invoice(), policy)
    book.invoice = book.new_invoice(customer, ISSUED_ON)
    assert (book.invoice.total, book.invoice.due_on) == (Decimal("1000.00"), DUE_ON)
    return book


def journal_lines(entry_id: int | None) -> list[tuple[str, Decimal, Decimal, int | None]]:
    """An entry's lines as (account code, debit, credit, customer id), in order."""
    lines = JournalLine.objects.filter(entry_id=entry_id).select_related("account").order_by("line_no")
    return [(line.account.code, line.debit, line.credit, line.customer_id) for line in lines]


def actions(*prefixes: str) -> list[str]:
    """The audit actions so far that start with one of the prefixes, in order."""
    events = AuditEvent.objects.order_by("seq").values_list("action", flat=True)
    return [action for action in events if action.startswith(prefixes)]


def collections_state() -> dict[str, Any]:
    """Everything dunning or a payment plan could change."""
    return {
        "runs": DunningRun.objects.count(),
        "notices": DunningNotice.objects.count(),
        "items": NoticeItem.objects.count(),
        "plans": list(PaymentPlan.objects.order_by("pk").values_list("pk", "status")),
        "instalments": list(Instalment.objects.order_by("pk").values_list("pk", "status", "paid_amount")),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status", "open_amount")),
        "customers": list(Customer.objects.order_by("pk").values_list("pk", "credit_hold")),
        "profiles": list(
            CollectionProfile.objects.order_by("pk").values_list(
                "pk", "dunning_policy_id", "dunning_excluded", "with_agency_on"
            )
        ),
        "policies": list(DunningPolicy.objects.order_by("pk").values_list("pk", "code", "is_default")),
        "deliveries": Delivery.objects.count(),
        "entries": JournalEntry.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@contextmanager
def unchanged() -> Iterator[None]:
    """`with unchanged(): ...` asserts the block changed nothing dunning or a plan could change."""
    before = collections_state()
    yield
    assert collections_state() == before
