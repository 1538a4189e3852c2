"""API: e-mail issued documents and statements of account, and read the delivery log.

Sending only queues: the reply is the delivery, `queued`; the job runner sends it within seconds and the
delivery's status, attempts and the server's reply show what happened. Errors come back as
{code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Len
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from billops.access.auth import api_actor
from billops.core.errors import DomainError
from billops.core.schemas import QUERY_ERRORS, WRITE_ERRORS, DateIn, LimitOffset, RowId, StrictIn, errors
from billops.delivery import selectors, services
from billops.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from billops.invoicing.statements import statement_pdf

router = Router()

Recipients = Annotated[list[str], Len(1, services.MAX_RECIPIENTS)]


class InvoiceSendIn(StrictIn):
    recipients: Recipients | None = None  # default: the customer's billing contacts, the primary first
    resend: bool = False  # True: a new message even if this document already went to these recipients


class BulkInvoiceSendIn(StrictIn):
    invoice_ids: Annotated[list[RowId], Len(1, 1000)]


class StatementSendIn(StrictIn):
    period_start: DateIn
    as_of: DateIn
    recipients: Recipients | None = None


class StatementsSendIn(StrictIn):
    period_start: DateIn
    as_of: DateIn


class StatementQuery(Schema):
    period_start: DateIn
    as_of: DateIn


class DeliveryFilters(Schema):
    status: DeliveryStatus | None = None
    customer_id: RowId | None = None
    invoice_id: RowId | None = None


class AttemptOut(Schema):
    attempt_no: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    reply: str


class DeliveryOut(Schema):
    id: uuid.UUID
    kind: str
    status: str
    customer_id: int
    customer_account: str
    invoice_id: int | None
    document_number: str | None
    period_start: date | None
    as_of: date | None
    recipients: list[str]
    subject: str
    attachment_filename: str
    attachment_sha256: str
    attempts: int
    next_attempt_at: datetime | None
    last_reply: str
    sent_at: datetime | None
    resend_of_id: uuid.UUID | None
    created_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_customer_account(obj: Delivery) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_document_number(obj: Delivery) -> str | None:
        return obj.invoice.number if obj.invoice else None

    @staticmethod
    def resolve_recipients(obj: Delivery) -> list[str]:
        return obj.recipient_list

    @staticmethod
    def resolve_created_by(obj: Delivery) -> str | None:
        return obj.created_by.username if obj.created_by else None


class DeliveryDetailOut(DeliveryOut):
    body: str
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: Delivery) -> list[DeliveryAttempt]:
        return list(selectors.list_attempts(obj))


class RefusalOut(Schema):
    id: int  # the invoice, or for statements the customer
    code: str
    message: str
    field: str | None


class BulkOut(Schema):
    queued: int
    already_queued: int
    refused: int
    delivery_ids: list[uuid.UUID]  # the new deliveries
    refusals: list[RefusalOut]


def _detail(delivery: Delivery) -> Delivery:
    return selectors.get_delivery(delivery.pk)


def _bulk(result: services.BulkResult) -> dict[str, Any]:
    def refusal(key: int, error: DomainError) -> dict[str, Any]:
        return {"id": key, **error.as_dict()}

    return {
        "queued": len(result.queued),
        "already_queued": len(result.already_queued),
        "refused": len(result.refused),
        "delivery_ids": [delivery.pk for delivery in result.queued],
        "refusals": [refusal(key, error) for key, error in result.refused.items()],
    }


@router.post("/invoices/{invoice_id}/send", response={201: DeliveryDetailOut, **errors(*WRITE_ERRORS, 404)})
def send_invoice(request: HttpRequest, invoice_id: RowId, payload: InvoiceSendIn) -> object:
    """Queue the document for e-mail; the same document to the same recipients again returns the first
    delivery, unless `resend` is true."""
    delivery = services.queue_invoice_delivery(
        invoice_id=invoice_id, actor=api_actor(request), recipients=payload.recipients, resend=payload.resend
    )
    return Status(201, _detail(delivery))


@router.post("/invoices/send-bulk", response={200: BulkOut, **errors(*WRITE_ERRORS)})
def send_invoices(request: HttpRequest, payload: BulkInvoiceSendIn) -> object:
    """Queue each document to its customer's billing contacts; the refusals are listed per invoice."""
    result = services.queue_bulk_invoice_deliveries(invoice_ids=payload.invoice_ids, actor=api_actor(request))
    return _bulk(result)


@router.get("/deliveries", response={200: list[DeliveryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]) -> object:
    return selectors.list_deliveries(
        invoice_id=filters.invoice_id, customer_id=filters.customer_id, status=filters.status or ""
    )


@router.get("/deliveries/{delivery_id}", response={200: DeliveryDetailOut, **errors(404, 422)})
def get_delivery(request: HttpRequest, delivery_id: uuid.UUID) -> object:
    return selectors.get_delivery(delivery_id)


@router.post(
    "/deliveries/{delivery_id}/retry", response={200: DeliveryDetailOut, **errors(*WRITE_ERRORS, 404)}
)
def retry_delivery(request: HttpRequest, delivery_id: uuid.UUID) -> object:
    """Try a queued or failed delivery again now, as the same message."""
    return _detail(services.retry_delivery(delivery_id=delivery_id, actor=api_actor(request)))


@router.post(
    "/deliveries/{delivery_id}/resend", response={201: DeliveryDetailOut, **errors(*WRITE_ERRORS, 404)}
)
def resend_delivery(request: HttpRequest, delivery_id: uuid.UUID) -> object:
    """Queue the same message again as a new delivery (for one that failed or whose outcome is unknown)."""
    return Status(201, _detail(services.resend_delivery(delivery_id=delivery_id, actor=api_actor(request))))


@router.post(
    "/statements/{customer_id}/send", response={201: DeliveryDetailOut, **errors(*WRITE_ERRORS, 404)}
)
def send_statement(request: HttpRequest, customer_id: RowId, payload: StatementSendIn) -> object:
    """Queue the customer's statement of account; its PDF is rendered now and kept with the delivery."""
    delivery = services.queue_statement_delivery(
        customer_id=customer_id,
        period_start=payload.period_start,
        as_of=payload.as_of,
        actor=api_actor(request),
        recipients=payload.recipients,
    )
    return Status(201, _detail(delivery))


@router.post("/statements/send-bulk", response={200: BulkOut, **errors(*WRITE_ERRORS)})
def send_statements(request: HttpRequest, payload: StatementsSendIn) -> object:
    """Queue a statement for every customer whose balance on `as_of` is not zero; refusals per customer."""
    result = services.queue_statements_for_open_balances(
        period_start=payload.period_start, as_of=payload.as_of, actor=api_actor(request)
    )
    return _bulk(result)


PDF_REPLY = {
    "responses": {
        200: {
            "description": "OK",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/statements/{customer_id}.pdf",
    response={200: None, **errors(*QUERY_ERRORS, 404)},
    openapi_extra=PDF_REPLY,
)
def statement_as_pdf(request: HttpRequest, customer_id: RowId, query: Query[StatementQuery]) -> HttpResponse:
    """The statement of account as a PDF, computed now; nothing is stored or sent."""
    pdf = statement_pdf(customer_id=customer_id, period_start=query.period_start, as_of=query.as_of)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{customer_id}-{query.as_of}.pdf"'
    return response
