"""Statements of account: balances and movements straight from the receivables ledger, the aging of the open
items, the PDF, and sending statements to one customer or to every customer with an open balance."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from billops.core.errors import InvalidInput
from billops.core.money import Money
from billops.customers.services import post_opening_balance
from billops.delivery.models import Delivery, DeliveryKind, DeliveryStatus
from billops.delivery.services import (
    SendCounts,
    queue_statement_delivery,
    queue_statements_for_open_balances,
    send_due_deliveries,
)
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.statements import OpenItem, aging, statement_for, statement_pdf
from billops.ledger.selectors import receivables_by_customer
from tests.customers.factories import create_customer
from tests.delivery.factories import PRIMARY, SECOND, customer_with_contacts, issued
from tests.invoicing.factories import make_entity

MARCH, END_OF_MARCH = date(2026, 3, 1), date(2026, 3, 31)
BOOK = LineData(quantity="1", product_code="BOOK")  # 24.95 + 7 % = 26.70


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def history(customer, clerk, supervisor):
    """January's opening balance, February's invoice credited in part in March, a March invoice, and a
    March invoice voided the next day."""
    post_opening_balance(
        customer_id=customer.pk,
        amount=Money(Decimal("100.00"), "EUR"),
        balance_on=date(2026, 1, 31),
        reference="OLD-7",
        actor=supervisor,
    )
    february = issued(customer, clerk, issued_on=date(2026, 2, 10))  # 357.00, due 12 March
    march = issued(customer, clerk, BOOK, issued_on=date(2026, 3, 5))  # 26.70, due 4 April
    credit = issue_credit_note(
        invoice_id=february.pk,
        reason="one hour too many",
        actor=clerk,
        lines=[CreditLine(1, quantity="1")],
        issued_on=date(2026, 3, 20),
    )  # 178.50
    mistake = issued(customer, clerk, BOOK, issued_on=date(2026, 3, 25))
    void_invoice(invoice_id=mistake.pk, reason="sent twice", actor=clerk, voided_on=date(2026, 3, 26))
    return {"february": february, "march": march, "credit": credit, "mistake": mistake}


def ledger_balance(customer, as_of):
    return receivables_by_customer(customer_id=customer.pk, as_of=as_of).get((customer.pk, "EUR"), Decimal(0))


def test_a_statement_is_the_receivables_ledger_of_the_period(customer, history):
    view = statement_for(customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH)

    assert view.opening_balance == Decimal("457.00") == ledger_balance(customer, date(2026, 2, 28))
    rows = [
        (row.on, row.kind, row.number, row.debit, row.credit, row.balance, row.due_on) for row in view.rows
    ]
    march, credit, mistake = history["march"], history["credit"], history["mistake"]
    assert rows == [
        (date(2026, 3, 5), "invoice", march.number, Decimal("26.70"), 0, Decimal("483.70"), date(2026, 4, 4)),
        (date(2026, 3, 20), "credit_note", credit.number, 0, Decimal("178.50"), Decimal("305.20"), None),
        (
            date(2026, 3, 25),
            "invoice",
            mistake.number,
            Decimal("26.70"),
            0,
            Decimal("331.90"),
            date(2026, 4, 24),
        ),
        (date(2026, 3, 26), "invoice", mistake.number, 0, Decimal("26.70"), Decimal("305.20"), None),
    ]
    assert view.rows[3].description.startswith(f"Void of {mistake.number}")
    assert view.closing_balance == Decimal("305.20") == ledger_balance(customer, END_OF_MARCH)
    assert view.customer_account == customer.account_number and view.currency == "EUR"
    assert view.payment_reference.startswith("RF")


def test_the_aging_sorts_the_open_items_by_days_past_due_and_adds_up_to_the_balance(customer, history):
    view = statement_for(customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH)
    assert [(bucket.label, bucket.amount) for bucket in view.aging] == [
        ("Current", Decimal("26.70")),  # the March invoice, due 4 April
        ("1\u201330 days", Decimal("178.50")),  # what is left of February's, due 12 March
        ("31\u201360 days", Decimal("100.00")),  # the opening balance, due on its date, 31 January
        ("61\u201390 days", Decimal(0)),
        ("Over 90 days", Decimal(0)),
    ]
    assert sum(bucket.amount for bucket in view.aging) == view.closing_balance

    later = statement_for(customer_id=customer.pk, period_start=MARCH, as_of=date(2026, 5, 15))
    assert [bucket.amount for bucket in later.aging] == [0, 0, Decimal("26.70"), Decimal("178.50"), 100]
    assert sum(bucket.amount for bucket in later.aging) == later.closing_balance


def test_an_opening_balance_in_the_period_is_a_row_of_its_own(customer, supervisor):
    post_opening_balance(
        customer_id=customer.pk,
        amount=Money(Decimal("-40.00"), "EUR"),
        balance_on=date(2026, 3, 2),
        reference="CREDIT-3",
        actor=supervisor,
    )
    view = statement_for(customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH)
    [row] = view.rows
    assert (row.kind, row.number, row.credit, row.balance) == ("Opening balance", "CREDIT-3", 40, -40)
    assert [bucket.amount for bucket in view.aging] == [0, Decimal("-40.00"), 0, 0, 0]


def test_the_statement_pdf_names_the_account_and_the_closing_balance(customer, history):
    text = pdf_text(statement_pdf(customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH))
    assert "Statement of account" in text
    assert customer.account_number in text
    assert "Closing balance €305.20" in text and "Balance due €305.20" in text
    assert history["credit"].number in text


def test_the_customers_of_a_german_entity_get_a_kontoauszug(clerk, catalog):
    make_entity(language="de")  # a customer without a document language of its own reads the entity's
    customer = customer_with_contacts(clerk)
    issued(customer, clerk, issued_on=date(2026, 3, 2))
    text = pdf_text(statement_pdf(customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH))
    assert "Kontoauszug" in text and "Endsaldo 357,00\xa0€" in text and "Nicht fällig" in text


def test_a_period_that_starts_after_the_statement_date_is_refused(customer):
    with pytest.raises(InvalidInput) as refused:
        statement_for(customer_id=customer.pk, period_start=END_OF_MARCH, as_of=MARCH)
    assert refused.value.field == "period_start"


def test_a_statement_is_queued_with_its_pdf_and_sent(smtp_sink, customer, clerk, history):
    delivery = queue_statement_delivery(
        customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH, actor=clerk
    )
    assert (delivery.kind, delivery.invoice_id) == (DeliveryKind.STATEMENT, None)
    assert (delivery.period_start, delivery.as_of) == (MARCH, END_OF_MARCH)
    assert delivery.attachment_sha256 == hashlib.sha256(bytes(delivery.attachment)).hexdigest()
    assert delivery.attachment_filename == f"Statement-{customer.account_number}-2026-03-31.pdf"
    assert "The balance on Mar 31, 2026 is €305.20." in delivery.body
    again = queue_statement_delivery(
        customer_id=customer.pk, period_start=MARCH, as_of=END_OF_MARCH, actor=clerk
    )
    assert again.pk == delivery.pk

    assert send_due_deliveries() == SendCounts(sent=1)
    [received] = smtp_sink.messages
    assert received.rcpt_tos == (PRIMARY, SECOND)
    [part] = list(received.message.iter_attachments())
    assert hashlib.sha256(part.get_content()).hexdigest() == delivery.attachment_sha256
    assert "Closing balance €305.20" in pdf_text(part.get_content())


def test_statements_go_only_to_customers_with_a_balance(clerk, supervisor, entity, catalog):
    owes = customer_with_contacts(clerk)
    issued(owes, clerk, issued_on=date(2026, 3, 2))
    settled = customer_with_contacts(clerk)
    invoice = issued(settled, clerk, issued_on=date(2026, 3, 2))
    issue_credit_note(invoice_id=invoice.pk, reason="cancelled", actor=clerk, issued_on=date(2026, 3, 3))
    customer_with_contacts(clerk)  # nothing at all
    silent = create_customer(clerk)  # owes, but has no billing contact
    issued(silent, clerk, issued_on=date(2026, 3, 2))
    later = customer_with_contacts(clerk)
    issued(later, clerk, issued_on=date(2026, 4, 2))  # after the statement date

    result = queue_statements_for_open_balances(period_start=MARCH, as_of=END_OF_MARCH, actor=supervisor)
    assert [delivery.customer_id for delivery in result.queued] == [owes.pk]
    assert list(result.refused) == [silent.pk]
    assert result.refused[silent.pk].field == "recipients"
    assert Delivery.objects.filter(status=DeliveryStatus.QUEUED).count() == 1

    again = queue_statements_for_open_balances(period_start=MARCH, as_of=END_OF_MARCH, actor=supervisor)
    assert (again.queued, len(again.already_queued)) == ([], 1)


@given(
    items=st.lists(st.tuples(st.integers(-400, 400), st.decimals("-10000", "10000", places=2)), max_size=30)
)
def test_aging_buckets_always_add_up_to_the_open_total(items):
    as_of = date(2026, 6, 30)
    open_items = [OpenItem(due_on=as_of - timedelta(days=days), open_amount=amount) for days, amount in items]
    buckets = aging(open_items, as_of=as_of, language="en")
    assert len(buckets) == 5
    assert sum(bucket.amount for bucket in buckets) == sum(amount for _, amount in items)
