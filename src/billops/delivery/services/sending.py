"""Sending what is due: one delivery at a time, claimed (`sending`) and committed before the mail server
is contacted, its outcome recorded in a transaction of its own, with a log row per attempt.

A row still `sending` after STUCK_AFTER belonged to a worker that stopped mid-send; it becomes `unknown`
and is never sent again by itself, because it may already have gone out.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from billops.audit.services import record_event
from billops.core.errors import InvalidInput
from billops.core.mail import (
    MAX_ATTEMPTS,
    Attachment,
    DuplicateMessage,
    MailNotSent,
    OutgoingMessage,
    next_attempt_delay,
    send_message,
)
from billops.delivery.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from billops.delivery.selectors import get_delivery
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.services.documents import ensure_pdf

STUCK_AFTER = timedelta(minutes=15)  # far longer than any send: MAIL_TIMEOUT_SECONDS per server reply
PDF = "application/pdf"


# --- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendCounts:
    sent: int = 0
    retrying: int = 0  # failed for now, queued again for later
    failed: int = 0
    unknown: int = 0  # found stuck in `sending` and given up on

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed, "unknown": self.unknown}


def send_due_deliveries(
    *, now: datetime | None = None, limit: int = 100, stop: threading.Event | None = None
) -> SendCounts:
    """Send up to `limit` due deliveries, oldest due first, and record each outcome.

    Each delivery is claimed in a committed transaction of its own before the mail server is contacted,
    so two workers never send the same one, and a worker that dies leaves at most one delivery behind
    (found `unknown` STUCK_AFTER later). `now` is the clock the pass runs on (tests move it forward);
    `stop` ends the pass between two deliveries.
    """
    unknown = mark_stuck_deliveries(now=now or timezone.now())
    outcomes: Counter[str] = Counter()
    for _ in range(limit):
        if stop is not None and stop.is_set():
            break
        when = now or timezone.now()
        delivery = _claim_next(when)
        if delivery is None:
            break
        outcomes[_send(delivery, when)] += 1
    return SendCounts(
        sent=outcomes[AttemptOutcome.SENT],
        retrying=outcomes[AttemptOutcome.RETRY],
        failed=outcomes[AttemptOutcome.FAILED],
        unknown=unknown,
    )


def _locked(rows: QuerySet[Delivery]) -> QuerySet[Delivery]:
    rows = rows.defer("attachment", "body")
    # PostgreSQL: a row another worker has locked is skipped, not waited for. SQLite has no row locks;
    # there the IMMEDIATE transaction takes the database's write lock, which serialises the claims
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True)
    return rows


def _claim_next(when: datetime) -> Delivery | None:
    """The next due delivery, marked `sending` and committed, or None when nothing is due."""
    due = Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=when)
    if not due.exists():  # an idle pass opens no write transaction (on SQLite: no write lock)
        return None
    with transaction.atomic(durable=True):
        delivery = _locked(due).order_by("next_attempt_at", "created_at").first()
        if delivery is None:  # another worker took the last one
            return None
        delivery.status, delivery.attempts = DeliveryStatus.SENDING, delivery.attempts + 1
        delivery.claimed_at, delivery.next_attempt_at = when, None
        delivery.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at"])
        DeliveryAttempt.objects.create(delivery=delivery, attempt_no=delivery.attempts, started_at=when)
    return delivery


def _send(delivery: Delivery, when: datetime) -> str:
    """Hand one claimed delivery to the mail server and record what happened; returns the outcome."""
    started = time.monotonic()

    def record(outcome: str, reply: str) -> str:
        finished_at = when + timedelta(seconds=time.monotonic() - started)
        _record_outcome(
            delivery.pk, delivery.attempts, outcome=outcome, reply=reply, when=when, at=finished_at
        )
        return outcome

    def temporary() -> str:
        return AttemptOutcome.RETRY if delivery.attempts < MAX_ATTEMPTS else AttemptOutcome.FAILED

    if delivery.invoice_id is not None:
        invoice = Invoice.objects.only("number", "status").get(pk=delivery.invoice_id)
        if invoice.status == InvoiceStatus.VOID:
            return record(AttemptOutcome.FAILED, f"{invoice.number} was voided before it was sent")
    message = OutgoingMessage(
        message_id=delivery.message_id,
        sender=settings.MAIL_FROM,
        to=tuple(delivery.recipient_list),
        subject=delivery.subject,
        text=delivery.body,
        attachments=(Attachment(delivery.attachment_filename, _attachment(delivery), PDF),),
        reply_to=delivery.reply_to,
    )
    try:
        result = send_message(message)
    except DuplicateMessage as exc:  # the outbox has it: an earlier attempt wrote it and then stopped
        return record(AttemptOutcome.SENT, exc.message)
    except MailNotSent as exc:
        return record(temporary() if exc.temporary else AttemptOutcome.FAILED, exc.message)
    except ImproperlyConfigured as exc:  # the operator fixes the settings, as a wrong password; it retries
        return record(temporary(), f"the mail settings are not usable: {exc}")
    except InvalidInput as exc:  # e.g. BILLOPS_MAIL_FROM is not an address; recipients were checked
        return record(AttemptOutcome.FAILED, exc.message)
    return record(AttemptOutcome.SENT, result.reply)


def _attachment(delivery: Delivery) -> bytes:
    """The bytes to attach; a document whose PDF was not rendered when it was queued gets it now."""
    stored = Delivery.objects.filter(pk=delivery.pk).values_list("attachment", flat=True).get()
    if stored is not None:
        return bytes(stored)
    document = ensure_pdf(delivery.invoice_id or 0)
    pdf = bytes(document.pdf or b"")
    with transaction.atomic(durable=True):  # kept before the attempt: the log shows what was sent
        Delivery.objects.filter(pk=delivery.pk).update(attachment=pdf, attachment_sha256=document.pdf_sha256)
    return pdf


OUTCOME_ACTIONS = {
    AttemptOutcome.SENT: "delivery.sent",
    AttemptOutcome.RETRY: "delivery.deferred",
    AttemptOutcome.FAILED: "delivery.failed",
}


def _record_outcome(
    delivery_id: uuid.UUID, attempt_no: int, *, outcome: str, reply: str, when: datetime, at: datetime
) -> None:
    """Write the attempt's outcome, by the system (actor None), in a transaction of its own.

    An attempt marked `unknown` while it was still running gets its true outcome here.
    """
    with transaction.atomic(durable=True):
        delivery = get_delivery(delivery_id, for_update=True)
        attempt = DeliveryAttempt.objects.select_for_update().get(delivery=delivery, attempt_no=attempt_no)
        attempt.finished_at, attempt.outcome, attempt.reply = at, outcome, reply
        attempt.save(update_fields=["finished_at", "outcome", "reply"])
        delivery.last_reply = reply
        if outcome == AttemptOutcome.SENT:
            delivery.status, delivery.sent_at = DeliveryStatus.SENT, at
        elif outcome == AttemptOutcome.RETRY:
            delivery.status = DeliveryStatus.QUEUED
            delivery.next_attempt_at = when + next_attempt_delay(attempt_no)
        else:
            delivery.status = DeliveryStatus.FAILED
        delivery.save(update_fields=["status", "sent_at", "next_attempt_at", "last_reply"])
        record_event(
            actor=None,
            action=OUTCOME_ACTIONS[AttemptOutcome(outcome)],
            target=delivery,
            after={
                "attempt": attempt_no,
                "status": delivery.status,
                "reply": reply,
                "recipients": delivery.recipient_list,
                "attachment_sha256": delivery.attachment_sha256,
                "next_attempt_at": delivery.next_attempt_at,
            },
        )


def mark_stuck_deliveries(*, now: datetime) -> int:
    """Mark deliveries left `sending` for longer than STUCK_AFTER as `unknown`; returns how many.

    Their worker stopped between handing the message over and recording it, so nobody knows whether it
    went out: they are never sent again by themselves. A person checks and re-sends if need be.
    """
    overdue = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STUCK_AFTER)
    if not overdue.exists():
        return 0
    with transaction.atomic(durable=True):
        stuck = list(_locked(overdue))
        for delivery in stuck:
            started = delivery.claimed_at.isoformat() if delivery.claimed_at else "?"
            reply = (
                f"attempt {delivery.attempts} started at {started} and its worker stopped before recording "
                "whether the mail server took the message; it is not sent again by itself: check with the "
                "customer and re-send it if need be"
            )
            delivery.status, delivery.last_reply = DeliveryStatus.UNKNOWN, reply
            delivery.save(update_fields=["status", "last_reply"])
            DeliveryAttempt.objects.filter(delivery=delivery, attempt_no=delivery.attempts).update(
                outcome=AttemptOutcome.UNKNOWN, reply=reply
            )
            record_event(
                actor=None,
                action="delivery.marked_unknown",
                target=delivery,
                after={"attempt": delivery.attempts, "claimed_at": delivery.claimed_at, "reply": reply},
            )
    return len(stuck)
