"""Money going back: a returned payment reopens what it paid and posts it back to the bank; a refund pays a
credit balance out; both arrive in a bank file as money out and are matched there. Every refusal names its
field and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.catalog.models import Product, TaxCode
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from billops.core.money import Money
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.accounts import REVENUE, control_account
from billops.ledger.models import JournalEntry, JournalLine
from billops.payments.models import Application, BankLine, Receipt
from billops.payments.services.applications import apply_receipt
from billops.payments.services.bank_files import import_statements
from billops.payments.services.queue import match_refund, resolve_return
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.refunds import refund_receipt
from billops.payments.services.returns import fee_charged, reverse_receipt
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


@pytest.fixture
def paid(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """A receipt of 500.00 applied to invoices of 119.00 and 238.00: 143.00 left unapplied."""
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1")
    invoices = [
        invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
            lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
        )
        for price in ("100", "200")
    ]  # fmt: skip
    receipt = post_receipt(
        customer_id=customer.pk, bank_account="MAIN", method="direct_debit", amount=eur("500"), actor=clerk,
        received_on=date(2026, 5, 10),
    )  # fmt: skip
    apply_receipt(receipt_id=receipt.pk, actor=clerk)
    return {"customer": customer, "invoices": invoices, "receipt": receipt}


def test_a_returned_payment_reopens_what_it_paid_and_posts_back_to_the_bank(
    paid: dict[str, Any], clerk: User
) -> None:
    receipt, customer = paid["receipt"], paid["customer"]
    reversed_ = reverse_receipt(receipt_id=receipt.pk, return_code="am04", actor=clerk, on=date(2026, 5, 15))
    assert (reversed_.status, reversed_.unapplied_amount, reversed_.return_code) == ("reversed", 0, "AM04")
    assert reversed_.return_reason == "insufficient funds"
    assert set(Invoice.objects.values_list("status", "open_amount")) == {
        ("issued", Decimal("119.00")),
        ("issued", Decimal("238.00")),
    }
    lines = JournalLine.objects.filter(entry_id=reversed_.reversal_entry_id).order_by("line_no")
    assert list(lines.values_list("account__code", "debit", "credit", "customer_id")) == [
        ("1200", Decimal("357.00"), Decimal(0), customer.pk),
        ("2100", Decimal("143.00"), Decimal(0), customer.pk),
        ("1100", Decimal(0), Decimal("500.00"), None),
    ]
    assert set(Application.objects.values_list("unapply_reason", "unapply_entry_id")) == {
        ("payment returned: AM04", reversed_.reversal_entry_id)
    }
    event = AuditEvent.objects.get(action="receipt.reversed")
    assert (event.after["reopened_amount"], event.after["unapplied_cash_removed"]) == ("357.00", "143.00")
    with unchanged(), pytest.raises(Conflict, match="is reversed already"):
        reverse_receipt(receipt_id=receipt.pk, return_code="AM04", actor=clerk)
    all_ok()


def test_an_unknown_return_code_or_a_collector_changes_nothing(
    paid: dict[str, Any], clerk: User, collector: User
) -> None:
    with unchanged(), pytest.raises(InvalidInput) as refused:
        reverse_receipt(receipt_id=paid["receipt"].pk, return_code="BOUNCED", actor=clerk)
    assert refused.value.field == "return_code" and "known: AC01" in refused.value.message
    with unchanged(), pytest.raises(PermissionDenied):
        reverse_receipt(receipt_id=paid["receipt"].pk, return_code="R01", actor=collector)


def test_a_supervisor_refunds_part_of_a_credit_balance_and_no_more(
    paid: dict[str, Any], clerk: User, supervisor: User
) -> None:
    receipt = paid["receipt"]
    refund = refund_receipt(
        receipt_id=receipt.pk, amount=eur("100.00"), method="wire", reason="overpaid", actor=supervisor
    )
    receipt.refresh_from_db()
    assert (refund.amount, receipt.unapplied_amount) == (Decimal("100.00"), Decimal("43.00"))
    lines = JournalLine.objects.filter(entry_id=refund.journal_entry_id).order_by("line_no")
    assert list(lines.values_list("account__code", "debit", "credit")) == [
        ("2100", Decimal("100.00"), Decimal(0)),
        ("1100", Decimal(0), Decimal("100.00")),
    ]
    for amount, error, field in (
        (eur("43.01"), InvalidAmount, "amount"),
        (eur("0"), InvalidAmount, "amount"),
        (Money(Decimal(10), "USD"), CurrencyMismatch, "currency"),
    ):
        with unchanged(), pytest.raises(error) as refused:
            refund_receipt(receipt_id=receipt.pk, amount=amount, method="wire", reason="x", actor=supervisor)
        assert refused.value.field == field
    with unchanged(), pytest.raises(PermissionDenied):
        refund_receipt(receipt_id=receipt.pk, amount=eur("1"), method="wire", reason="x", actor=clerk)
    with unchanged(), pytest.raises(Conflict, match="refunded"):
        reverse_receipt(receipt_id=receipt.pk, return_code="MD06", actor=clerk)
    all_ok()


def money_out(*lines: tuple[str, str]) -> list[ParsedStatement]:
    rows = [
        StatementLine(n, date(2026, 5, 16), Decimal(amount), "EUR", reference, remittance="RETURN")
        for n, (amount, reference) in enumerate(lines, start=1)
    ]
    return [ParsedStatement("camt.053", "S-2", IBAN, "EUR", None, None, lines=rows)]


def test_a_returned_direct_debit_in_a_bank_file_reverses_its_receipt(
    paid: dict[str, Any], clerk: User
) -> None:
    receipt = paid["receipt"]
    import_statements(data=b"returns", file_name="returns.xml", format="camt.053", actor=clerk,
                      statements=money_out(("-500.00", "RET-1"), ("-499.00", "RET-2")))  # fmt: skip
    line, other = BankLine.objects.order_by("line")
    assert (line.status, other.status) == ("parked", "parked")
    with unchanged(), pytest.raises(InvalidAmount, match=rf"is 499\.00 out, receipt {receipt.pk} is 500\.00"):
        resolve_return(line_id=other.pk, receipt_id=receipt.pk, return_code="MD06", actor=clerk)
    resolved = resolve_return(line_id=line.pk, receipt_id=receipt.pk, return_code="MD06", actor=clerk)
    receipt.refresh_from_db()
    assert (resolved.status, resolved.returned_receipt_id) == ("posted", receipt.pk)
    assert (receipt.status, receipt.reversed_on, receipt.return_code) == (
        "reversed",
        date(2026, 5, 16),
        "MD06",
    )
    all_ok()


def test_a_refund_the_bank_booked_is_matched_and_posts_nothing_again(
    paid: dict[str, Any], clerk: User, supervisor: User
) -> None:
    refund = refund_receipt(
        receipt_id=paid["receipt"].pk, amount=eur("43.00"), method="wire", reason="overpaid", actor=supervisor
    )
    import_statements(data=b"refund", file_name="r.xml", format="camt.053", actor=clerk,
                      statements=money_out(("-43.00", "OUT-1")))  # fmt: skip
    entries = JournalEntry.objects.count()
    line = match_refund(line_id=BankLine.objects.get().pk, refund_id=refund.pk, actor=clerk)
    assert (line.status, line.refund_id, JournalEntry.objects.count()) == ("posted", refund.pk, entries)
    all_ok()


def test_a_refund_of_another_amount_is_not_matched(
    paid: dict[str, Any], clerk: User, supervisor: User
) -> None:
    refund = refund_receipt(
        receipt_id=paid["receipt"].pk, amount=eur("40.00"), method="wire", reason="overpaid", actor=supervisor
    )
    import_statements(data=b"refund", file_name="r.xml", format="camt.053", actor=clerk,
                      statements=money_out(("-43.00", "OUT-1")))  # fmt: skip
    with pytest.raises(InvalidAmount, match=rf"is 43\.00 out, refund {refund.pk} is 40\.00"):
        match_refund(line_id=BankLine.objects.get().pk, refund_id=refund.pk, actor=clerk)
    assert BankLine.objects.get().status == "parked"


def return_fee_product() -> None:
    """The catalog's RETURN-FEE: exempt, to revenue (set up by a supervisor in the catalog)."""
    Product.objects.create(
        code="RETURN-FEE", name="Returned payment fee", unit="each", revenue_account=control_account(REVENUE),
        tax_code=TaxCode.objects.get(code="EXEMPT"), description="Returned payment fee",
    )  # fmt: skip


def test_a_returned_payment_charges_its_fee_on_an_invoice_of_its_own(
    paid: dict[str, Any], clerk: User
) -> None:
    receipt, customer = paid["receipt"], paid["customer"]
    with unchanged(), pytest.raises(NotFound, match="there is no active product RETURN-FEE") as missing:
        reverse_receipt(receipt_id=receipt.pk, return_code="AM04", actor=clerk, fee=Decimal("15.00"))
    assert missing.value.field == "fee"
    return_fee_product()
    for fee, message in (("-5", "a return fee is more than zero, not -5.00"),
                         ("15.001", "more decimal places than EUR allows")):  # fmt: skip
        with unchanged(), pytest.raises(InvalidAmount, match=message) as refused:
            reverse_receipt(receipt_id=receipt.pk, return_code="AM04", actor=clerk, fee=Decimal(fee))
        assert refused.value.field == "fee"
    reversed_ = reverse_receipt(receipt_id=receipt.pk, return_code="AM04", actor=clerk, fee=Decimal("15.00"))
    fee = reversed_.return_fee_invoice
    assert fee is not None and fee.number and (fee.status, fee.customer_id) == ("issued", customer.pk)
    assert (fee.total, fee.open_amount, fee.issued_on) == (
        Decimal("15.00"),
        Decimal("15.00"),
        date(2026, 5, 20),
    )
    assert [line.description for line in fee.lines.all()] == [
        f"Returned payment: receipt {receipt.pk} of 2026-05-10, AM04 insufficient funds"
    ]
    assert fee_charged(reversed_) == f" A fee of 15.00 EUR is charged on {fee.number}."
    event = AuditEvent.objects.get(action="receipt.reversed")
    assert event.after["fee_invoice"] == fee.pk
    all_ok()


def test_a_fee_that_needs_approval_is_left_a_draft_and_the_return_goes_through(
    paid: dict[str, Any], clerk: User
) -> None:
    return_fee_product()
    Customer.objects.filter(pk=paid["customer"].pk).update(invoice_approval_required=True)
    reversed_ = reverse_receipt(
        receipt_id=paid["receipt"].pk, return_code="R01", actor=clerk, fee=Decimal("9.50")
    )
    fee = reversed_.return_fee_invoice
    assert reversed_.status == "reversed"
    assert fee is not None and (fee.status, fee.number, fee.total) == ("draft", None, Decimal("9.50"))
    assert (
        fee_charged(reversed_)
        == f" The fee is left as draft invoice {fee.pk} for review before it is issued."
    )
    all_ok()


def test_the_receipt_page_reverses_with_a_fee_and_says_where_it_is_charged(
    paid: dict[str, Any], clerk: User
) -> None:
    return_fee_product()
    client = Client()
    client.force_login(clerk)
    receipt = paid["receipt"]
    url = reverse("payments:reverse", args=[receipt.pk])
    bad = client.post(url, {"return_code": "AM04", "fee": "abc"})
    assert bad.status_code == 200 and "fee" in bad.content.decode()
    assert Receipt.objects.get(pk=receipt.pk).status == "posted"
    response = client.post(url, {"return_code": "AM04", "fee": "12.50"})
    assert response.status_code == 302
    fee = Receipt.objects.get(pk=receipt.pk).return_fee_invoice
    assert fee is not None and fee.total == Decimal("12.50")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"Receipt {receipt.pk} reversed (AM04): what it paid is open again. A fee of 12.50 EUR is charged on "
        f"{fee.number}."
    ]
    all_ok()
