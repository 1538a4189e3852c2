"""E-mail deliveries of issued documents and statements, and the log of every attempt to send one.

A delivery keeps the exact message that goes out (recipients, subject, text and the attachment's bytes),
so the log proves what the customer was sent. It is sent at most once: a row found half-way through a
send is marked `unknown`, never sent again by itself; sending it again is a new delivery (a re-send).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"  # also a credit or debit note: an issued billing document
    STATEMENT = "statement", "Statement of account"
    NOTICE = "notice", "Dunning notice"  # composed by collections, its letter attached


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # waiting for its first attempt or for the next one
    SENDING = "sending", "Sending"  # claimed by a worker that is talking to the mail server
    SENT = "sent", "Sent"  # the mail server (or the outbox folder) accepted it
    FAILED = "failed", "Failed"  # refused for good, or every attempt failed
    UNKNOWN = "unknown", "Unknown"  # a worker stopped mid-send: it may or may not have gone out


class Delivery(models.Model):
    """One message with one document to the customer's recipients, sent by the job runner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # also the Message-ID
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    invoice = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )  # the document sent; None for a statement or a dunning notice
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="deliveries")
    period_start = models.DateField(null=True, blank=True)  # a statement's period; None for a document
    as_of = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=10, default="email")
    recipients = models.TextField()  # validated addresses, comma-separated, in the order given
    reply_to = models.CharField(max_length=254, blank=True)  # the billing entity's address, if it has one
    subject = models.CharField(max_length=300)
    body = models.TextField()  # the plain-text message
    attachment_filename = models.CharField(max_length=200)
    # the exact bytes sent; a document's PDF may still be rendering when it is queued, and is stored
    # here before the first attempt
    attachment = models.BinaryField(null=True, blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)  # attempts started so far
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # set while queued
    claimed_at = models.DateTimeField(null=True, blank=True)  # when the current or last attempt started
    last_reply = models.TextField(blank=True)  # the mail server's reply, or why it was not sent
    sent_at = models.DateTimeField(null=True, blank=True)
    # the same document and recipients are queued once; a re-send is a new delivery with its own key
    idempotency_key = models.CharField(max_length=80)
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["customer", "created_at"], name="delivery_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "customer", "idempotency_key"], name="delivery_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", invoice__isnull=False, period_start__isnull=True)
                | Q(kind="statement", invoice__isnull=True, period_start__isnull=False, as_of__isnull=False)
                | Q(kind="notice", invoice__isnull=True, period_start__isnull=True),
                name="delivery_names_its_document",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(next_attempt_at__isnull=False),
                name="delivery_queued_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(attachment__isnull=False, sent_at__isnull=False),
                name="delivery_sent_has_attachment",
            ),
            models.CheckConstraint(condition=~Q(recipients=""), name="delivery_has_recipients"),
        ]

    def __str__(self) -> str:
        document = f"statement as of {self.as_of}" if self.kind == DeliveryKind.STATEMENT else self.invoice
        if self.kind == DeliveryKind.NOTICE:
            document = f"dunning notice {self.subject!r}"
        return f"e-mail of {document} to {self.recipients}"[:200]

    @property
    def recipient_list(self) -> list[str]:
        return [address for address in self.recipients.split(",") if address]

    @property
    def message_id(self) -> str:
        return f"delivery-{self.pk}@billops"


class AttemptOutcome(models.TextChoices):
    SENDING = "sending", "Sending"  # started; no outcome recorded yet
    SENT = "sent", "Sent"
    RETRY = "retry", "Temporary failure, retried later"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown: the worker stopped"


class DeliveryAttempt(models.Model):
    """One try to hand a delivery to the mail server: the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    attempt_no = models.PositiveSmallIntegerField()  # 1, 2, 3 … within the delivery
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices, default=AttemptOutcome.SENDING)
    reply = models.TextField(blank=True)  # the server's reply or the error

    class Meta:
        ordering = ["delivery", "attempt_no"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "attempt_no"], name="delivery_attempt_once"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_no} of delivery {self.delivery_id}: {self.outcome}"
