"""A small receivables book the collections tests share, with every amount and date worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.customers.models import Customer, OpeningBalance
from billops.customers.services import post_opening_balance
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.receipts import create_bank_account, post_receipt
from tests.invoicing.factories import make_customer
from tests.payments.books import eur

TODAY = date(2026, 5, 20)


@dataclass
class Book:
    admin: User
    acme: Customer  # EUR, NET30: 119.00 of 1 January (paid 10 May), 238.00 of 1 March, 357.00 of 1 May
    bolt: Customer  # EUR: an opening balance of 50.00 on 31 December 2025
    crown: Customer  # GBP, in Britain (no German VAT): 100.00 GBP of 15 April
    invoices: dict[str, Invoice]
    opening: OpeningBalance

    def pay(self, clerk: User, customer: Customer, amount: str, on: date, invoice: Invoice) -> None:
        receipt = post_receipt(
            customer_id=customer.pk, amount=eur(amount), actor=clerk, bank_account="MAIN-EUR", method="wire",
            received_on=on,
        )  # fmt: skip
        apply_receipt(
            receipt_id=receipt.pk, actor=clerk, applied_on=on,
            allocations=[Allocation(invoice_number=invoice.number or "", amount=eur(amount).amount)],
        )  # fmt: skip


def _invoice(clerk: User, customer: Customer, on: date, quantity: str) -> Invoice:
    return invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=on,
        lines=[LineData(quantity=quantity, description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip


@pytest.fixture
def book(clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any) -> Book:
    admin = make_user(Role.ADMIN)
    set_business_date(on=date(2026, 5, 10), actor=admin)
    acme = make_customer(clerk, account_number="C-ACME", legal_name="Acme GmbH")
    bolt = make_customer(clerk, account_number="C-BOLT", legal_name="Bolt AG")
    crown = make_customer(
        clerk, account_number="C-CROWN", legal_name="Crown Ltd", currency="GBP", country="GB"
    )
    opening = post_opening_balance(
        customer_id=bolt.pk, amount=eur("50.00"), balance_on=date(2025, 12, 31), reference="OLD-1",
        actor=supervisor,
    )  # fmt: skip
    invoices = {
        "jan": _invoice(clerk, acme, date(2026, 1, 1), "1"),
        "mar": _invoice(clerk, acme, date(2026, 3, 1), "2"),
        "may": _invoice(clerk, acme, date(2026, 5, 1), "3"),
        "crown": _invoice(clerk, crown, date(2026, 4, 15), "1"),
    }
    create_bank_account(code="main-eur", name="Main EUR", currency="EUR", number="DE89", actor=supervisor)
    result = Book(admin, acme, bolt, crown, invoices, opening)
    result.pay(clerk, acme, "119.00", date(2026, 5, 10), invoices["jan"])
    set_business_date(on=TODAY, actor=admin)
    return result
