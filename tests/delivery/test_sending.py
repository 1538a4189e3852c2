"""Sending queued deliveries to a real SMTP server on loopback (tests/mailsink.py) and to the outbox folder:
the message and its PDF, the log of attempts, the retry schedule, permanent refusals, and rows a worker
left half-way, which are never sent twice."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from billops.audit.models import AuditEvent
from billops.core.mail import MAX_ATTEMPTS, RETRY_DELAYS
from billops.delivery.errors import NotRetryable
from billops.delivery.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from billops.delivery.services import (
    SendCounts,
    queue_invoice_delivery,
    resend_delivery,
    retry_delivery,
    send_due_deliveries,
)
from billops.delivery.services.sending import _claim_next
from billops.invoicing.models import InvoiceStatus, IssuedDocument
from billops.invoicing.services.corrections import void_invoice
from tests.delivery.factories import PRIMARY, SECOND, issued
from tests.mailsink import HOST, _Handler


@pytest.fixture
def now() -> datetime:
    """The clock the passes run on: a minute ahead, so that what the test queues is due."""
    return timezone.now() + timedelta(minutes=1)


def restart(sink):
    """Bring a stopped sink back on its port: aiosmtpd cannot start a stopped controller again."""
    sink.controller = Controller(_Handler(sink), hostname=HOST, port=sink.port)
    sink.start()


def attachment_of(received):
    [part] = list(received.message.iter_attachments())
    return part.get_filename(), part.get_content()


def outcomes(delivery):
    return list(
        DeliveryAttempt.objects.filter(delivery=delivery)
        .order_by("attempt_no")
        .values_list("outcome", flat=True)
    )


def actions(delivery):
    events = AuditEvent.objects.filter(target_type="delivery.delivery", target_id=str(delivery.pk))
    return list(events.order_by("seq").values_list("action", "actor_label"))


def test_an_issued_invoice_goes_out_once_with_its_pdf(smtp_sink, customer, clerk, now):
    invoice = issued(customer, clerk)
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.recipient_list == [PRIMARY, SECOND]  # the primary billing contact first
    assert delivery.attachment is None  # the PDF is rendered by the job runner or the first attempt

    assert send_due_deliveries(now=now) == SendCounts(sent=1)

    [received] = smtp_sink.messages
    assert received.rcpt_tos == (PRIMARY, SECOND)
    assert received.message["Message-ID"] == f"<delivery-{delivery.pk}@billops>"
    assert received.message["Subject"] == f"Invoice {invoice.number} from Billops Demo GmbH"
    assert received.message["Reply-To"] == "billing@billops.example"
    body = received.message.get_body(("plain",)).get_content()
    assert f"invoice {invoice.number}" in body and "€357.00" in body
    filename, content = attachment_of(received)
    document = IssuedDocument.objects.get(invoice=invoice)
    delivery.refresh_from_db()
    assert filename == f"{invoice.number}.pdf"
    assert hashlib.sha256(content).hexdigest() == document.pdf_sha256 == delivery.attachment_sha256
    assert bytes(delivery.attachment) == content == bytes(document.pdf)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.last_reply == smtp_sink.replies[0] and delivery.last_reply.startswith("250 ")
    assert delivery.attempts == 1 and delivery.next_attempt_at is None
    assert delivery.sent_at is not None and delivery.sent_at >= now
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.attempt_no, attempt.outcome, attempt.reply) == (
        1,
        AttemptOutcome.SENT,
        delivery.last_reply,
    )
    assert attempt.started_at == now and attempt.finished_at >= now
    assert actions(delivery) == [("delivery.queued", "clerk"), ("delivery.sent", "system")]
    sent = AuditEvent.objects.get(action="delivery.sent")
    assert (
        sent.after["attachment_sha256"] == document.pdf_sha256 and sent.after["reply"] == delivery.last_reply
    )

    assert send_due_deliveries(now=now + timedelta(hours=1)) == SendCounts()
    assert len(smtp_sink.messages) == 1


def test_a_mail_server_that_is_down_leaves_the_invoice_issued_and_is_tried_again(
    smtp_sink, customer, clerk, now
):
    invoice = issued(customer, clerk)
    smtp_sink.stop()
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)

    assert send_due_deliveries(now=now) == SendCounts(retrying=1)
    delivery.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert smtp_sink.address in delivery.last_reply and "could not be reached" in delivery.last_reply
    assert delivery.attachment_sha256 == IssuedDocument.objects.get(invoice=invoice).pdf_sha256  # kept anyway
    assert outcomes(delivery) == [AttemptOutcome.RETRY]
    assert actions(delivery)[-1] == ("delivery.deferred", "system")

    assert send_due_deliveries(now=now + timedelta(seconds=59)) == SendCounts()  # not due yet
    restart(smtp_sink)
    assert send_due_deliveries(now=now + timedelta(minutes=2)) == SendCounts(sent=1)
    assert send_due_deliveries(now=now + timedelta(minutes=3)) == SendCounts()
    assert len(smtp_sink.messages) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert outcomes(delivery) == [AttemptOutcome.RETRY, AttemptOutcome.SENT]


def test_two_temporary_refusals_then_the_server_accepts(smtp_sink, customer, clerk, now):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    smtp_sink.fail_next(2)

    assert send_due_deliveries(now=now) == SendCounts(retrying=1)
    delivery.refresh_from_db()
    assert delivery.last_reply.endswith("451 4.3.0 mailbox temporarily unavailable, try again later")
    second = now + timedelta(minutes=1)
    assert send_due_deliveries(now=second) == SendCounts(retrying=1)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == second + timedelta(minutes=5)
    assert send_due_deliveries(now=second + timedelta(minutes=4)) == SendCounts()
    assert send_due_deliveries(now=second + timedelta(minutes=5)) == SendCounts(sent=1)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert outcomes(delivery) == [AttemptOutcome.RETRY, AttemptOutcome.RETRY, AttemptOutcome.SENT]
    assert len(smtp_sink.messages) == 1
    assert [action for action, _ in actions(delivery)] == [
        "delivery.queued", "delivery.deferred", "delivery.deferred", "delivery.sent",
    ]  # fmt: skip


def test_a_permanent_refusal_fails_at_once_and_is_not_retried(smtp_sink, customer, clerk, now):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    smtp_sink.reject(SECOND)

    assert send_due_deliveries(now=now) == SendCounts(failed=1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None and delivery.sent_at is None
    assert f"refused recipient {SECOND}: 550 5.1.1 no such user" in delivery.last_reply
    assert outcomes(delivery) == [AttemptOutcome.FAILED]
    assert actions(delivery)[-1] == ("delivery.failed", "system")
    assert send_due_deliveries(now=now + timedelta(days=1)) == SendCounts()
    assert smtp_sink.messages == []  # all or nothing: the accepted recipient got no copy either


def test_a_delivery_is_given_up_after_the_last_attempt(smtp_sink, customer, clerk, now):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    smtp_sink.stop()
    when = now
    for delay in RETRY_DELAYS:
        assert send_due_deliveries(now=when) == SendCounts(retrying=1)
        when += delay
    assert send_due_deliveries(now=when) == SendCounts(failed=1)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED, MAX_ATTEMPTS, None,
    )  # fmt: skip
    assert outcomes(delivery) == [AttemptOutcome.RETRY] * (MAX_ATTEMPTS - 1) + [AttemptOutcome.FAILED]
    assert send_due_deliveries(now=when + timedelta(days=1)) == SendCounts()

    # a person who fixed the server tries the same message once more
    restart(smtp_sink)
    retry_delivery(delivery_id=delivery.pk, actor=clerk)
    assert send_due_deliveries() == SendCounts(sent=1)
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0].message["Message-ID"] == f"<{delivery.message_id}>"


def test_a_delivery_left_sending_becomes_unknown_and_is_never_sent_again_by_itself(
    smtp_sink, customer, clerk, now
):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    _claim_next(now)  # a worker claims it, then dies before it records anything

    assert send_due_deliveries(now=now + timedelta(minutes=14)) == SendCounts()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING
    assert send_due_deliveries(now=now + timedelta(minutes=16)) == SendCounts(unknown=1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert "not sent again by itself" in delivery.last_reply
    assert outcomes(delivery) == [AttemptOutcome.UNKNOWN]
    assert actions(delivery)[-1] == ("delivery.marked_unknown", "system")
    assert send_due_deliveries(now=now + timedelta(days=2)) == SendCounts()
    assert smtp_sink.messages == []

    with pytest.raises(NotRetryable, match="may have gone out already"):
        retry_delivery(delivery_id=delivery.pk, actor=clerk)
    again = resend_delivery(delivery_id=delivery.pk, actor=clerk)
    assert again.pk != delivery.pk and again.resend_of_id == delivery.pk
    assert send_due_deliveries() == SendCounts(sent=1)
    [received] = smtp_sink.messages
    assert received.message["Message-ID"] == f"<{again.message_id}>"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN  # the log keeps what happened to the first one


def test_a_document_voided_before_it_went_out_is_not_sent(smtp_sink, customer, clerk, now):
    invoice = issued(customer, clerk)
    delivery = queue_invoice_delivery(invoice_id=invoice.pk, actor=clerk)
    void_invoice(invoice_id=invoice.pk, reason="wrong customer", actor=clerk)

    assert send_due_deliveries(now=now) == SendCounts(failed=1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_reply == f"{invoice.number} was voided before it was sent"
    assert smtp_sink.messages == []


def test_the_embedded_outbox_gets_one_file_and_a_lost_outcome_is_not_written_twice(
    outbox_dir, customer, clerk, now
):
    delivery = queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    assert send_due_deliveries(now=now) == SendCounts(sent=1)
    written = outbox_dir / f"{delivery.message_id}.eml"
    delivery.refresh_from_db()
    assert delivery.last_reply == f"written to {written}"
    assert written.read_bytes().count(b"Content-Disposition: attachment") == 1

    # the outcome was lost (a crash after the file was written): the row is due again
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.QUEUED, next_attempt_at=now)
    assert send_due_deliveries(now=now) == SendCounts(sent=1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert "already holds" in delivery.last_reply
    assert [path.name for path in outbox_dir.iterdir()] == [written.name]
