"""Queueing documents and statements for e-mail: the recipients, the whole message kept with its PDF, the
same message queued once, explicit re-sends, bulk sends, and a person's retry. Nothing is sent here;
see `sending`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import DomainError, InvalidInput
from billops.core.mail import validate_address
from billops.customers.models import Contact, Customer
from billops.customers.selectors import get_customer
from billops.delivery.errors import DeliveryInProgress, NoRecipients, NotRetryable, NotSendable
from billops.delivery.models import Delivery, DeliveryKind, DeliveryStatus
from billops.delivery.selectors import get_delivery
from billops.delivery.wording import document_message, statement_message
from billops.invoicing.models import InvoiceStatus, IssuedDocument
from billops.invoicing.rendering.html import render_statement_html
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.selectors import get_entity, get_invoice
from billops.invoicing.services.documents import KIND, payment_reference, sha256
from billops.invoicing.statements import statement_filename, statement_for
from billops.ledger.selectors import receivables_by_customer

MAX_RECIPIENTS = 20
PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


# --- recipients -----------------------------------------------------------------------------------


def clean_recipients(addresses: Sequence[str]) -> list[str]:
    """Validated addresses, each once, in the order given; InvalidInput names the first bad one."""
    cleaned: list[str] = []
    for address in addresses:
        if "," in address:  # the log keeps the list comma-separated
            raise InvalidInput(f"give one address per entry, without commas: {address!r}", field="recipients")
        normal = validate_address(address, field="recipients")
        if normal.lower() not in (known.lower() for known in cleaned):
            cleaned.append(normal)
    if not cleaned:
        raise NoRecipients("give at least one recipient", field="recipients")
    if len(cleaned) > MAX_RECIPIENTS:
        raise InvalidInput(f"a message goes to at most {MAX_RECIPIENTS} recipients", field="recipients")
    return cleaned


def default_recipients(customer: Customer) -> list[str]:
    """The customer's billing contacts with an e-mail address, the primary one first."""
    if customer.delivery_method != Customer.Delivery.EMAIL:
        method = customer.get_delivery_method_display().lower()
        raise NoRecipients(
            f"{customer.account_number} receives its documents by {method}, not by e-mail; "
            "give the recipients to e-mail it anyway",
            field="recipients",
        )
    contacts = Contact.objects.filter(customer=customer, role=Contact.Role.BILLING).exclude(email="")
    addresses = list(contacts.order_by("-is_primary", "name", "id").values_list("email", flat=True))
    if not addresses:
        raise NoRecipients(
            f"{customer.account_number} has no billing contact with an e-mail address; add one to the "
            "customer or give the recipients",
            field="recipients",
        )
    return clean_recipients(addresses)


def _key(*parts: object) -> str:
    """The idempotency key of a message: the same document to the same recipients gives the same key."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def _recipients_key(addresses: list[str]) -> str:
    return ",".join(sorted(address.lower() for address in addresses))


def _refuse_while_pending(deliveries: QuerySet[Delivery], what: str) -> None:
    pending = deliveries.filter(status__in=PENDING).only("id", "recipients").first()
    if pending is not None:
        raise DeliveryInProgress(
            f"{what} is still in the queue for {pending.recipients} (delivery {pending.pk}); "
            "wait until it is sent or has failed before sending it again",
            field="resend",
        )


# --- queueing documents ---------------------------------------------------------------------------


def queue_invoice_delivery(
    *, invoice_id: int, actor: User, recipients: Sequence[str] | None = None, resend: bool = False
) -> Delivery:
    """Queue an issued document for e-mail to the customer's billing contacts, or to `recipients`.

    The same document to the same recipients is queued once: asking again returns the first delivery,
    whatever became of it. `resend=True` queues a new delivery (a new message) of the same document.
    """
    delivery, _ = _queue_invoice(invoice_id=invoice_id, actor=actor, recipients=recipients, resend=resend)
    return delivery


@transaction.atomic(durable=True)
def _queue_invoice(
    *, invoice_id: int, actor: User, recipients: Sequence[str] | None, resend: bool
) -> tuple[Delivery, bool]:
    """The delivery, and whether it is new (False: the same request was queued before)."""
    require_permission(actor, "invoicing.send")
    invoice = get_invoice(invoice_id)
    customer = get_customer(invoice.customer_id, for_update=True)  # one queueing per customer at a time
    if not invoice.is_issued:
        raise NotSendable(f"{invoice} is not issued yet; issue it before sending it", field="invoice_id")
    if invoice.status == InvoiceStatus.VOID:
        raise NotSendable(f"{invoice} is void and is not sent any more", field="invoice_id")
    addresses = clean_recipients(recipients) if recipients is not None else default_recipients(customer)
    key = _key(DeliveryKind.INVOICE, invoice.pk, _recipients_key(addresses))
    earlier = Delivery.objects.filter(kind=DeliveryKind.INVOICE, customer=customer, idempotency_key=key)
    first = earlier.first()
    if first is not None and not resend:
        return first, False  # an accidental second request: the first one stands

    delivery = Delivery(kind=DeliveryKind.INVOICE, invoice=invoice, customer=customer)
    resend_of = None
    if resend:
        _refuse_while_pending(Delivery.objects.filter(invoice=invoice), str(invoice))
        resend_of = Delivery.objects.filter(invoice=invoice).order_by("-created_at").first()
    subject, body = document_message(
        language=invoice.language,
        kind=KIND[invoice.document_type],
        number=invoice.number or "",
        seller=invoice.entity.legal_name,
        issued_on=invoice.issued_on or clock.today(),
        total=invoice.total,
        currency=invoice.currency,
        due_on=invoice.due_on,
        payment_reference=payment_reference(invoice),
    )
    # the PDF is usually rendered by now (`billops jobs`); if not, the first attempt renders and stores it
    document = IssuedDocument.objects.get(invoice=invoice)
    pdf = bytes(document.pdf) if document.pdf is not None else None
    _fill(
        delivery,
        addresses=addresses,
        reply_to=invoice.entity.email,
        subject=subject,
        body=body,
        filename=f"{invoice.number}.pdf",
        pdf=pdf,
        key=key if first is None else f"resend:{delivery.pk}",
        resend_of=resend_of,
        actor=actor,
    )
    return delivery, True


def _fill(
    delivery: Delivery,
    *,
    addresses: list[str],
    reply_to: str,
    subject: str,
    body: str,
    filename: str,
    pdf: bytes | None,
    key: str,
    resend_of: Delivery | None,
    actor: User,
) -> None:
    """Complete, save and audit a new delivery; it is due at once."""
    delivery.recipients = ",".join(addresses)
    delivery.reply_to = reply_to
    delivery.subject, delivery.body = subject, body
    delivery.attachment_filename = filename
    delivery.attachment = pdf
    delivery.attachment_sha256 = sha256(pdf) if pdf is not None else ""
    delivery.idempotency_key = key
    delivery.resend_of = resend_of
    delivery.status, delivery.next_attempt_at = DeliveryStatus.QUEUED, timezone.now()
    delivery.created_by = actor
    delivery.save(force_insert=True)
    record_event(
        actor=actor,
        action="delivery.queued",
        target=delivery,
        after={
            "kind": delivery.kind,
            "document": delivery.invoice.number if delivery.invoice else None,
            "period_start": delivery.period_start,
            "as_of": delivery.as_of,
            "customer": delivery.customer.account_number,
            "recipients": addresses,
            "subject": subject,
            "attachment": filename,
            "attachment_sha256": delivery.attachment_sha256 or None,
            "resend_of": resend_of.pk if resend_of else None,
        },
    )


@dataclass
class BulkResult:
    """What a bulk send queued, what had been queued before, and why the rest was refused."""

    queued: list[Delivery] = field(default_factory=list)
    already_queued: list[Delivery] = field(default_factory=list)
    refused: dict[int, DomainError] = field(default_factory=dict)  # by invoice id, or customer id


def queue_bulk_invoice_deliveries(*, invoice_ids: Sequence[int], actor: User) -> BulkResult:
    """Queue each document to its customer's billing contacts, each in its own transaction, so that
    one customer without an address does not hold up the others."""
    require_permission(actor, "invoicing.send")
    result = BulkResult()
    for invoice_id in dict.fromkeys(invoice_ids):
        try:
            delivery, created = _queue_invoice(
                invoice_id=invoice_id, actor=actor, recipients=None, resend=False
            )
        except DomainError as refusal:
            result.refused[invoice_id] = refusal
            continue
        (result.queued if created else result.already_queued).append(delivery)
    return result


# --- queueing statements --------------------------------------------------------------------------


def queue_statement_delivery(
    *,
    customer_id: int,
    period_start: date,
    as_of: date,
    actor: User,
    recipients: Sequence[str] | None = None,
) -> Delivery:
    """Queue the customer's statement of account for e-mail; its PDF is rendered now and kept.

    The same statement (customer, period, date) to the same recipients is queued once.
    """
    delivery, _ = _queue_statement(
        customer_id=customer_id, period_start=period_start, as_of=as_of, actor=actor, recipients=recipients
    )
    return delivery


def _queue_statement(
    *,
    customer_id: int,
    period_start: date,
    as_of: date,
    actor: User,
    recipients: Sequence[str] | None,
) -> tuple[Delivery, bool]:
    require_permission(actor, "invoicing.send")
    customer = get_customer(customer_id)
    addresses = clean_recipients(recipients) if recipients is not None else default_recipients(customer)
    key = _key(DeliveryKind.STATEMENT, customer.pk, period_start, as_of, _recipients_key(addresses))
    earlier = Delivery.objects.filter(kind=DeliveryKind.STATEMENT, customer=customer, idempotency_key=key)
    if first := earlier.first():
        return first, False
    view = statement_for(customer_id=customer.pk, period_start=period_start, as_of=as_of)
    pdf = render_pdf(render_statement_html(view))  # before the transaction: it takes a while, locks nothing
    entity = get_entity()
    subject, body = statement_message(
        language=view.language,
        account=customer.account_number,
        seller=entity.legal_name,
        period_start=period_start,
        as_of=as_of,
        balance=view.closing_balance,
        currency=view.currency,
    )
    with transaction.atomic(durable=True):
        customer = get_customer(customer.pk, for_update=True)
        if first := earlier.first():  # queued by someone else while the PDF rendered
            return first, False
        delivery = Delivery(
            kind=DeliveryKind.STATEMENT, customer=customer, period_start=period_start, as_of=as_of
        )
        _fill(
            delivery,
            addresses=addresses,
            reply_to=entity.email,
            subject=subject,
            body=body,
            filename=statement_filename(customer, as_of),
            pdf=pdf,
            key=key,
            resend_of=None,
            actor=actor,
        )
    return delivery, True


def queue_statements_for_open_balances(*, period_start: date, as_of: date, actor: User) -> BulkResult:
    """Queue a statement for every customer whose receivables balance on `as_of` is not zero."""
    require_permission(actor, "invoicing.send")
    if period_start > as_of:
        raise InvalidInput(
            f"the period starts ({period_start}) after the statement date ({as_of})", field="period_start"
        )
    balances = receivables_by_customer(as_of=as_of)
    customer_ids = sorted(
        {customer_id for (customer_id, _), amount in balances.items() if customer_id and amount}
    )
    result = BulkResult()
    for customer_id in customer_ids:
        try:
            delivery, created = _queue_statement(
                customer_id=customer_id, period_start=period_start, as_of=as_of, actor=actor, recipients=None
            )
        except DomainError as refusal:
            result.refused[customer_id] = refusal
            continue
        (result.queued if created else result.already_queued).append(delivery)
    return result


# --- queueing what another app composed ------------------------------------------------------------


def queue_notice_delivery(
    *,
    customer: Customer,
    subject: str,
    body: str,
    filename: str,
    pdf: bytes,
    key: str,
    actor: User,
    reply_to: str = "",
) -> Delivery:
    """Queue a dunning notice that collections composed (its text, its letter attached) for e-mail to the
    customer's billing contacts; a building block inside the caller's transaction, which has locked the
    customer and checked the actor may do it. The same key is queued once: asking again returns the first."""
    addresses = default_recipients(customer)  # NoRecipients: the caller sends a letter instead
    earlier = Delivery.objects.filter(
        kind=DeliveryKind.NOTICE, customer=customer, idempotency_key=key
    ).first()
    if earlier is not None:
        return earlier
    delivery = Delivery(kind=DeliveryKind.NOTICE, customer=customer)
    _fill(
        delivery,
        addresses=addresses,
        reply_to=reply_to,
        subject=subject,
        body=body,
        filename=filename,
        pdf=pdf,
        key=key,
        resend_of=None,
        actor=actor,
    )
    return delivery


# --- a human steps in ------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def retry_delivery(*, delivery_id: uuid.UUID | str, actor: User) -> Delivery:
    """Try a queued or failed delivery again now, as the same message; one that was sent, or whose
    outcome is unknown, is re-sent instead (`resend_delivery`)."""
    require_permission(actor, "invoicing.send")
    delivery = get_delivery(delivery_id, for_update=True)
    if delivery.status not in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED):
        advice = {
            DeliveryStatus.SENDING: "it is being sent right now",
            DeliveryStatus.SENT: "it was sent; re-send it to send another copy",
            DeliveryStatus.UNKNOWN: "it may have gone out already; re-send it if the customer did not get it",
        }[DeliveryStatus(delivery.status)]
        raise NotRetryable(f"delivery {delivery.pk} is {delivery.status}: {advice}", field="status")
    before = {"status": delivery.status, "next_attempt_at": delivery.next_attempt_at}
    delivery.status, delivery.next_attempt_at = DeliveryStatus.QUEUED, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    record_event(
        actor=actor,
        action="delivery.retry_requested",
        target=delivery,
        before=before,
        after={"status": delivery.status, "next_attempt_at": delivery.next_attempt_at},
    )
    return delivery


@transaction.atomic(durable=True)
def resend_delivery(*, delivery_id: uuid.UUID | str, actor: User) -> Delivery:
    """Queue the same message again as a new delivery with its own Message-ID: for one that failed,
    whose outcome is unknown, or that the customer says never arrived."""
    require_permission(actor, "invoicing.send")
    original = get_delivery(delivery_id, for_update=True)
    if original.kind == DeliveryKind.INVOICE:
        invoice = get_invoice(original.invoice_id or 0)
        if invoice.status == InvoiceStatus.VOID:
            raise NotSendable(f"{invoice} is void and is not sent any more", field="delivery_id")
        same_document = Delivery.objects.filter(invoice=invoice)
    elif original.kind == DeliveryKind.NOTICE:  # a notice is its message: this one and its re-sends
        same_document = Delivery.objects.filter(Q(pk=original.pk) | Q(resend_of=original))
    else:
        same_document = Delivery.objects.filter(
            kind=DeliveryKind.STATEMENT,
            customer_id=original.customer_id,
            period_start=original.period_start,
            as_of=original.as_of,
        )
    _refuse_while_pending(
        same_document, f"the {original.get_kind_display().lower()} of delivery {original.pk}"
    )
    delivery = Delivery(
        kind=original.kind,
        invoice_id=original.invoice_id,
        customer_id=original.customer_id,
        period_start=original.period_start,
        as_of=original.as_of,
    )
    _fill(
        delivery,
        addresses=original.recipient_list,
        reply_to=original.reply_to,
        subject=original.subject,
        body=original.body,
        filename=original.attachment_filename,
        pdf=bytes(original.attachment) if original.attachment is not None else None,
        key=f"resend:{delivery.pk}",
        resend_of=original,
        actor=actor,
    )
    return delivery
