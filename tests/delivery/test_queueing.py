"""Queueing documents for e-mail: who gets them, what is refused (and leaves nothing behind), a second
request for the same message, explicit re-sends, and bulk sends in which one bad customer stops nobody."""

from __future__ import annotations

import pytest

from billops.audit.models import AuditEvent
from billops.core.errors import InvalidInput, PermissionDenied
from billops.customers.validation import ContactData
from billops.delivery.errors import DeliveryInProgress, NoRecipients, NotSendable
from billops.delivery.models import Delivery, DeliveryKind, DeliveryStatus
from billops.delivery.services import (
    queue_bulk_invoice_deliveries,
    queue_invoice_delivery,
    resend_delivery,
    send_due_deliveries,
)
from billops.invoicing.models import IssuedDocument
from billops.invoicing.services.corrections import void_invoice
from billops.invoicing.services.documents import ensure_pdf
from tests.customers.factories import create_customer
from tests.delivery.factories import PRIMARY, SECOND, customer_with_contacts, issued
from tests.invoicing.factories import draft_for


def nothing_queued() -> None:
    assert not Delivery.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="delivery.").exists()


def test_queueing_keeps_the_whole_message_and_audits_who_asked(customer, clerk):
    invoice = issued(customer, clerk)
    ensure_pdf(invoice.pk)
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)

    assert delivery.kind == DeliveryKind.INVOICE and delivery.invoice_id == invoice.pk
    assert delivery.customer_id == customer.pk and delivery.channel == "email"
    assert delivery.recipients == f"{PRIMARY},{SECOND}"
    assert delivery.subject == f"Invoice {invoice.number} from Billops Demo GmbH"
    assert delivery.attachment_filename == f"{invoice.number}.pdf"
    document = IssuedDocument.objects.get(invoice=invoice)
    assert bytes(delivery.attachment) == bytes(document.pdf)  # rendered already, so kept at once
    assert delivery.attachment_sha256 == document.pdf_sha256
    assert (delivery.status, delivery.attempts, delivery.created_by) == (DeliveryStatus.QUEUED, 0, clerk)
    event = AuditEvent.objects.get(action="delivery.queued")
    assert event.actor == clerk and event.target_id == str(delivery.pk)
    assert event.after["document"] == invoice.number and event.after["recipients"] == [PRIMARY, SECOND]


def test_recipients_given_replace_the_contacts_and_are_normalised(customer, clerk):
    invoice = issued(customer, clerk)
    delivery = queue_invoice_delivery(
        invoice_id=invoice.pk, actor=clerk, recipients=[" AP@Customer.EXAMPLE ", "ap@customer.example"]
    )
    assert delivery.recipient_list == ["AP@customer.example"]  # the domain in lower case, each address once


@pytest.mark.parametrize("address", ["not-an-address", "ann@", "a@b.example\r\nBcc: x@y.example"])
def test_an_invalid_address_is_refused_with_the_field_and_nothing_is_queued(customer, clerk, address):
    invoice = issued(customer, clerk)
    with pytest.raises(InvalidInput) as refused:
        queue_invoice_delivery(
            invoice_id=invoice.pk, actor=clerk, recipients=["ok@customer.example", address]
        )
    assert refused.value.field == "recipients"
    assert repr(address) in refused.value.message or "line break" in refused.value.message
    nothing_queued()


def test_a_customer_without_a_billing_contact_gets_a_clear_error(clerk, entity, catalog):
    customer = create_customer(
        clerk, contacts=[ContactData(role="ap", name="Payables", email="ap@x.example")]
    )
    invoice = issued(customer, clerk)
    with pytest.raises(NoRecipients) as refused:
        queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    assert refused.value.field == "recipients"
    assert refused.value.message.startswith(
        f"{customer.account_number} has no billing contact with an e-mail"
    )
    nothing_queued()
    # an address given explicitly still works
    assert queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, recipients=["ap@x.example"])


def test_a_customer_who_takes_documents_by_post_is_not_e_mailed_unless_asked(clerk, entity, catalog):
    customer = customer_with_contacts(clerk, delivery_method="post")
    invoice = issued(customer, clerk)
    with pytest.raises(NoRecipients, match="receives its documents by post"):
        queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    nothing_queued()
    assert queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, recipients=[PRIMARY])


def test_only_issued_documents_that_are_not_void_are_sent(customer, clerk):
    draft = draft_for(customer, clerk)
    with pytest.raises(NotSendable, match="not issued yet"):
        queue_invoice_delivery(invoice_id=draft.pk, actor=clerk)
    voided = issued(customer, clerk)
    void_invoice(invoice_id=voided.pk, reason="duplicate", actor=clerk)
    with pytest.raises(NotSendable, match="void"):
        queue_invoice_delivery(invoice_id=voided.pk, actor=clerk)
    nothing_queued()


def test_the_auditor_may_not_send(customer, clerk, auditor):
    invoice = issued(customer, clerk)
    with pytest.raises(PermissionDenied):
        queue_invoice_delivery(invoice_id=invoice.pk, actor=auditor)
    with pytest.raises(PermissionDenied):
        queue_bulk_invoice_deliveries(invoice_ids=[invoice.pk], actor=auditor)
    nothing_queued()


def test_asking_twice_for_the_same_message_returns_the_first_delivery(customer, clerk, collector):
    invoice = issued(customer, clerk)
    first = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    again = queue_invoice_delivery(invoice_id=invoice.pk, actor=collector, recipients=[SECOND, PRIMARY])
    assert again.pk == first.pk and again.created_by == clerk
    assert Delivery.objects.count() == 1
    assert AuditEvent.objects.filter(action="delivery.queued").count() == 1
    # other recipients are another message
    other = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, recipients=["ap@customer.example"])
    assert other.pk != first.pk


def test_a_resend_is_a_new_delivery_and_waits_for_the_one_in_the_queue(smtp_sink, customer, clerk):
    invoice = issued(customer, clerk)
    first = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    with pytest.raises(DeliveryInProgress, match="still in the queue") as refused:
        queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, resend=True)
    assert refused.value.field == "resend"
    with pytest.raises(DeliveryInProgress):
        resend_delivery(delivery_id=first.pk, actor=clerk)
    assert Delivery.objects.count() == 1

    send_due_deliveries()
    second = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk, resend=True)
    assert second.pk != first.pk and second.resend_of_id == first.pk
    assert second.idempotency_key == f"resend:{second.pk}"
    assert queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk).pk == first.pk  # still a replay
    send_due_deliveries()
    ids = [received.message["Message-ID"] for received in smtp_sink.messages]
    assert ids == [f"<{first.message_id}>", f"<{second.message_id}>"]


def test_a_bulk_send_queues_the_good_ones_and_reports_the_bad_one(clerk, entity, catalog):
    good = customer_with_contacts(clerk)
    bad = create_customer(clerk)  # no contacts at all
    invoices = [issued(good, clerk), issued(bad, clerk), issued(good, clerk)]
    draft = draft_for(good, clerk)

    result = queue_bulk_invoice_deliveries(
        invoice_ids=[invoice.pk for invoice in invoices] + [draft.pk, 999_999], actor=clerk
    )
    assert [delivery.invoice_id for delivery in result.queued] == [invoices[0].pk, invoices[2].pk]
    assert set(result.refused) == {invoices[1].pk, draft.pk, 999_999}
    assert isinstance(result.refused[invoices[1].pk], NoRecipients)
    assert bad.account_number in result.refused[invoices[1].pk].message
    assert isinstance(result.refused[draft.pk], NotSendable)
    assert result.refused[999_999].code == "not_found"
    assert Delivery.objects.count() == 2

    again = queue_bulk_invoice_deliveries(invoice_ids=[invoices[0].pk, invoices[2].pk], actor=clerk)
    assert again.queued == [] and len(again.already_queued) == 2
    assert Delivery.objects.count() == 2
