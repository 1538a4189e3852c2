"""The early-payment discount: an invoice on 2/10 net 30 paid within ten days for 98 % is settled in full,
the 2 % posted to discounts allowed; the engine recognises the net amount; outside the window, or on an
invoice already part paid, it is refused; unapplying and a returned payment take the discount back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.core.errors import InvalidAmount
from billops.core.money import Money
from billops.customers.models import Customer
from billops.customers.validation import AddressData
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalLine
from billops.payments.models import Application, BankLine
from billops.payments.services.applications import Allocation, apply_receipt, unapply_application
from billops.payments.services.bank_files import import_statements
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.returns import reverse_receipt
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
ISSUED = date(2026, 5, 2)  # 2/10 net 30: 2 % off until 12 May


@pytest.fixture
def invoice(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> Invoice:
    """1 190.00 EUR on 2/10 net 30, issued 2 May: 23.80 off if paid by 12 May."""
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1", terms="2/10NET30")
    made = invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=ISSUED,
        lines=[LineData(quantity="10", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip
    assert (made.early_discount_percent, made.early_discount_until) == (Decimal("2.00"), date(2026, 5, 12))
    return made


def entry_lines(entry_id: int | None) -> list[tuple[str, Decimal, Decimal]]:
    lines = JournalLine.objects.filter(entry_id=entry_id).order_by("line_no")
    return list(lines.values_list("account__code", "debit", "credit"))


def test_paid_net_of_the_discount_inside_its_window_the_invoice_is_settled(
    invoice: Invoice, clerk: User
) -> None:
    receipt = post_receipt(customer_id=invoice.customer_id, bank_account="MAIN", method="wire",
                           amount=eur("1166.20"), actor=clerk, received_on=date(2026, 5, 11))  # fmt: skip
    [application] = apply_receipt(
        receipt_id=receipt.pk, actor=clerk, applied_on=date(2026, 5, 11),
        allocations=[Allocation(invoice.number or "", Decimal("1166.20"), Decimal("23.80"))],
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("paid", Decimal(0))
    assert (application.amount, application.discount, application.discount_vat) == (
        Decimal("1166.20"), Decimal("23.80"), Decimal("3.80"),
    )  # fmt: skip
    # the discount lowers what the VAT is due on: 23.80 is 20.00 net and 3.80 of VAT (19 %)
    assert entry_lines(application.journal_entry_id) == [
        ("2100", Decimal("1166.20"), Decimal(0)),
        ("1200", Decimal(0), Decimal("1166.20")),
        ("4900", Decimal("20.00"), Decimal(0)),
        ("1200", Decimal(0), Decimal("20.00")),
        ("2200", Decimal("3.80"), Decimal(0)),
        ("1200", Decimal(0), Decimal("3.80")),
    ]
    all_ok()
    # taken back: the invoice is open for its whole total again, the discount reversed
    back = unapply_application(application_id=application.pk, reason="wrong invoice", actor=clerk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("issued", Decimal("1190.00"))
    taken_back = entry_lines(back.unapply_entry_id)
    assert ("4900", Decimal(0), Decimal("20.00")) in taken_back
    assert ("2200", Decimal(0), Decimal("3.80")) in taken_back
    all_ok()


def test_a_discount_outside_its_window_or_of_another_amount_is_refused(invoice: Invoice, clerk: User) -> None:
    receipt = post_receipt(customer_id=invoice.customer_id, bank_account="MAIN", method="wire",
                           amount=eur("1166.20"), actor=clerk, received_on=date(2026, 5, 12))  # fmt: skip
    for on, discount, words in (
        (date(2026, 5, 13), "23.80", "offers no early-payment discount on 2026-05-13"),
        (date(2026, 5, 12), "30.00", "offers 23.80 early-payment discount on 2026-05-12, not 30.00"),
    ):
        with unchanged(), pytest.raises(InvalidAmount, match=words):
            apply_receipt(
                receipt_id=receipt.pk, actor=clerk, applied_on=on,
                allocations=[Allocation(invoice.number or "", Decimal("1166.20"), Decimal(discount))],
            )  # fmt: skip


def test_the_engine_recognises_a_payment_net_of_the_discount_and_a_return_takes_it_back(
    invoice: Invoice, clerk: User
) -> None:
    line = StatementLine(
        1, date(2026, 5, 10), Decimal("1166.20"), "EUR", "B-1", remittance=f"{invoice.number}"
    )
    import_statements(
        data=b"f", file_name="f.xml", format="camt.053", actor=clerk,
        statements=[ParsedStatement("camt.053", "S", IBAN, "EUR", None, None, lines=[line])],
    )  # fmt: skip
    posted = BankLine.objects.get()
    assert (posted.status, posted.evidence["score"]) == ("posted", 95)
    assert posted.evidence["rule"] == "invoices named, amount net of their early-payment discount"
    assert posted.evidence["invoices"] == [
        {"number": invoice.number, "amount": "1166.200000", "discount": "23.80"}
    ]
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert Application.objects.get().discount == Decimal("23.80")
    reversed_ = reverse_receipt(receipt_id=posted.receipt_id or 0, return_code="AM04", actor=clerk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("issued", Decimal("1190.00"))
    assert entry_lines(reversed_.reversal_entry_id) == [
        ("1200", Decimal("1190.00"), Decimal(0)),
        ("1100", Decimal(0), Decimal("1166.20")),
        ("4900", Decimal(0), Decimal("20.00")),
        ("2200", Decimal(0), Decimal("3.80")),  # the VAT taken off with the discount is owed again
    ]
    all_ok()


def test_a_part_paid_invoice_offers_no_discount(invoice: Invoice, clerk: User) -> None:
    first = post_receipt(customer_id=invoice.customer_id, bank_account="MAIN", method="wire",
                         amount=eur("100.00"), actor=clerk, received_on=date(2026, 5, 5))  # fmt: skip
    apply_receipt(receipt_id=first.pk, actor=clerk, applied_on=date(2026, 5, 5))
    rest = post_receipt(customer_id=invoice.customer_id, bank_account="MAIN", method="wire",
                        amount=eur("1066.20"), actor=clerk, received_on=date(2026, 5, 6))  # fmt: skip
    with unchanged(), pytest.raises(InvalidAmount, match="offers no early-payment discount"):
        apply_receipt(
            receipt_id=rest.pk, actor=clerk, applied_on=date(2026, 5, 6),
            allocations=[Allocation(invoice.number or "", Decimal("1066.20"), Decimal("23.80"))],
        )  # fmt: skip
    assert Customer.objects.get().terms.code == "2/10NET30"


def test_a_discount_on_us_sales_tax_leaves_the_tax_as_it_was_charged(
    invoice: Invoice, clerk: User, supervisor: User
) -> None:
    create_bank_account(code="MAIN-USD", name="Main USD", currency="USD", number="US12BANK0000000001",
                        actor=supervisor)  # fmt: skip
    address = AddressData(kind="billing", lines="1 Market St", city="San Francisco", country="US",
                          postal_code="94103", region="CA")  # fmt: skip
    buyer = make_customer(clerk, account_number="US-1", currency="USD", country="US", terms="2/10NET30",
                          addresses=[address])  # fmt: skip
    sold = invoice_now(
        customer_id=buyer.pk, actor=clerk, issued_on=ISSUED,
        lines=[LineData(quantity="10", description="Service", unit_price="100", tax_code="US-SALES")],
    )  # fmt: skip
    assert sold.tax_total == Decimal("86.25")  # 7.25 % + 1.375 %: 1 086.25
    paid = Money(Decimal("1064.52"), "USD")
    receipt = post_receipt(customer_id=buyer.pk, bank_account="MAIN-USD", method="ach", amount=paid,
                           actor=clerk, received_on=date(2026, 5, 11))  # fmt: skip
    [application] = apply_receipt(
        receipt_id=receipt.pk, actor=clerk, applied_on=date(2026, 5, 11),
        allocations=[Allocation(sold.number or "", Decimal("1064.52"), Decimal("21.73"))],
    )  # fmt: skip
    assert (application.discount, application.discount_vat) == (Decimal("21.73"), Decimal(0))
    assert ("4900", Decimal("21.73"), Decimal(0)) in entry_lines(application.journal_entry_id)
    all_ok()
