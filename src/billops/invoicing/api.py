"""API: invoices, credit and debit notes — drafts, their lines, approval, issue, corrections, the PDF, the
history and the journal entry of each — and the billing entities that issue them.

Amounts, quantities, prices and percentages travel as decimal strings ("150.00", "1.25"); a JSON number
with a fraction is refused, because a float cannot hold every amount exactly. Errors come back as
{code, message, field}; a line's field is named by its place in the request ("lines.0.quantity").
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access import clock
from billops.access.auth import api_actor
from billops.core.errors import DomainError
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    LimitOffset,
    RowId,
    errors,
)
from billops.invoicing import selectors
from billops.invoicing.models import (
    Invoice,
)
from billops.invoicing.rendering.html import render_document_html
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.schemas import (
    CreditNoteIn,
    DebitNoteIn,
    DeletedOut,
    EntityIn,
    EntityOut,
    InvoiceChangeIn,
    InvoiceEventOut,
    InvoiceFilters,
    InvoiceIn,
    InvoiceLineIn,
    InvoiceOut,
    InvoiceReasonIn,
    InvoiceSummaryOut,
    IssueIn,
    RebillOut,
    ThresholdIn,
    VoidIn,
)
from billops.invoicing.services import corrections, documents, drafts, entities, workflow
from billops.invoicing.services.lines import LineData
from billops.ledger.api import EntryOut

router = Router()

# a document number in a path: INV-2026-000001
DocumentNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,30}$")]
# a billing entity's code in a path: MAIN, DE-1
EntityCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,20}$")]
PDF = "application/pdf"


@contextmanager
def _line_is_the_body() -> Iterator[None]:
    """The line services name a field `line.0.quantity` (add) or `line.quantity` (change); in these
    requests the line is the body itself, so the field is `quantity`."""
    try:
        yield
    except DomainError as exc:
        if exc.field and exc.field.startswith("line."):
            exc.field = exc.field.removeprefix("line.").removeprefix("0.")
        raise


def _line(line: InvoiceLineIn) -> LineData:
    return LineData(**line.model_dump())


def _detail(invoice: Invoice) -> Invoice:
    return selectors.get_invoice_detail(invoice.pk)


def _file_reply(media_type: str) -> dict[str, Any]:
    """OpenAPI for a 200 that is a file to save, not JSON."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"responses": {200: {"description": "OK", "content": content}}}


# --- documents -----------------------------------------------------------------------------------


@router.get("/invoices", response={200: list[InvoiceSummaryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]) -> object:
    values = filters.model_dump()
    overdue_on = clock.today() if values.pop("overdue") else None
    return selectors.list_invoices(
        **{k: v for k, v in values.items() if v is not None}, overdue_on=overdue_on
    )


@router.post("/invoices", response={201: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def create_invoice(request: HttpRequest, payload: InvoiceIn) -> object:
    """A draft, with its lines if given; with `"issue": true` the issued invoice, or nothing at all."""
    header = payload.model_dump(exclude_unset=True, exclude={"customer_id", "entity_code", "lines", "issue"})
    header = {name: value for name, value in header.items() if value is not None}
    lines = [_line(line) for line in payload.lines]
    actor, customer_id, entity_code = api_actor(request), payload.customer_id, payload.entity_code
    if payload.issue:
        invoice = workflow.invoice_now(
            customer_id=customer_id, lines=lines, actor=actor, entity_code=entity_code, **header
        )
    else:
        invoice = drafts.create_draft(
            customer_id=customer_id, lines=lines, actor=actor, entity_code=entity_code, **header
        )
    # the new document as written, its lines and taxes in memory: nothing to read again
    return Status(201, invoice)


@router.get("/invoices/by-number/{number}", response={200: InvoiceOut, **errors(404, 422)})
def get_invoice_by_number(request: HttpRequest, number: DocumentNumber) -> object:
    return _detail(selectors.get_invoice_by_number(number))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **errors(404, 422)})
def get_invoice(request: HttpRequest, invoice_id: RowId) -> object:
    return selectors.get_invoice_detail(invoice_id)


@router.patch("/invoices/{invoice_id}", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def change_draft(request: HttpRequest, invoice_id: RowId, payload: InvoiceChangeIn) -> object:
    changes = payload.model_dump(exclude_unset=True)
    return _detail(drafts.change_draft(invoice_id=invoice_id, actor=api_actor(request), **changes))


@router.delete("/invoices/{invoice_id}", response={200: DeletedOut, **errors(*WRITE_ERRORS, 404)})
def delete_draft(request: HttpRequest, invoice_id: RowId) -> object:
    """Only a draft, which never had a number; an issued document is corrected with a new one."""
    drafts.delete_draft(invoice_id=invoice_id, actor=api_actor(request))
    return {"id": invoice_id, "deleted": True}


# --- lines ---------------------------------------------------------------------------------------


@router.post("/invoices/{invoice_id}/lines", response={201: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def add_line(request: HttpRequest, invoice_id: RowId, payload: InvoiceLineIn) -> object:
    """Adds the line after the last one; the reply is the whole draft with its new totals."""
    with _line_is_the_body():
        drafts.add_line(invoice_id=invoice_id, line=_line(payload), actor=api_actor(request))
    return Status(201, selectors.get_invoice_detail(invoice_id))


@router.put(
    "/invoices/{invoice_id}/lines/{line_no}", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)}
)
def change_line(request: HttpRequest, invoice_id: RowId, line_no: RowId, payload: InvoiceLineIn) -> object:
    """Replaces what the line says; it keeps its number."""
    with _line_is_the_body():
        drafts.change_line(
            invoice_id=invoice_id, line_no=line_no, line=_line(payload), actor=api_actor(request)
        )
    return selectors.get_invoice_detail(invoice_id)


@router.delete(
    "/invoices/{invoice_id}/lines/{line_no}", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)}
)
def remove_line(request: HttpRequest, invoice_id: RowId, line_no: RowId) -> object:
    """Takes the line off; the lines after it keep their numbers."""
    return _detail(drafts.remove_line(invoice_id=invoice_id, line_no=line_no, actor=api_actor(request)))


# --- from draft to issued ------------------------------------------------------------------------


@router.post("/invoices/{invoice_id}/submit", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def submit_invoice(request: HttpRequest, invoice_id: RowId) -> object:
    """Approved at once when it needs no approval; else submitted, waiting for a second person."""
    return _detail(workflow.submit_invoice(invoice_id=invoice_id, actor=api_actor(request)))


@router.post("/invoices/{invoice_id}/approve", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def approve_invoice(request: HttpRequest, invoice_id: RowId) -> object:
    return _detail(workflow.approve_invoice(invoice_id=invoice_id, actor=api_actor(request)))


@router.post("/invoices/{invoice_id}/reject", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def reject_invoice(request: HttpRequest, invoice_id: RowId, payload: InvoiceReasonIn) -> object:
    return _detail(
        workflow.reject_invoice(invoice_id=invoice_id, reason=payload.reason, actor=api_actor(request))
    )


@router.post(
    "/invoices/{invoice_id}/override-credit-hold", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)}
)
def override_credit_hold(request: HttpRequest, invoice_id: RowId, payload: InvoiceReasonIn) -> object:
    return _detail(
        workflow.override_credit_hold(invoice_id=invoice_id, reason=payload.reason, actor=api_actor(request))
    )


@router.post("/invoices/{invoice_id}/issue", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def issue_invoice(request: HttpRequest, invoice_id: RowId, payload: IssueIn) -> object:
    """The next number of its series, the journal entry, the frozen document: all or nothing."""
    invoice = workflow.issue_invoice(
        invoice_id=invoice_id, actor=api_actor(request), issued_on=payload.issued_on
    )
    return _detail(invoice)


# --- corrections ---------------------------------------------------------------------------------


@router.post("/invoices/{invoice_id}/void", response={200: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def void_invoice(request: HttpRequest, invoice_id: RowId, payload: VoidIn) -> object:
    """Only a document nothing has settled; it keeps its number and its entry is reversed."""
    invoice = corrections.void_invoice(
        invoice_id=invoice_id, reason=payload.reason, voided_on=payload.voided_on, actor=api_actor(request)
    )
    return _detail(invoice)


@router.post("/invoices/{invoice_id}/credit-notes", response={201: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def issue_credit_note(request: HttpRequest, invoice_id: RowId, payload: CreditNoteIn) -> object:
    """The issued credit note: of the lines named, or of everything still creditable."""
    lines = (
        [corrections.CreditLine(**line.model_dump()) for line in payload.lines]
        if payload.lines is not None
        else None
    )
    note = corrections.issue_credit_note(
        invoice_id=invoice_id,
        reason=payload.reason,
        lines=lines,
        issued_on=payload.issued_on,
        actor=api_actor(request),
    )
    return Status(201, _detail(note))


@router.post("/invoices/{invoice_id}/debit-notes", response={201: InvoiceOut, **errors(*WRITE_ERRORS, 404)})
def create_debit_note(request: HttpRequest, invoice_id: RowId, payload: DebitNoteIn) -> object:
    """A draft debit note charging more against the invoice; submit and issue it like an invoice."""
    note = corrections.create_debit_note(
        invoice_id=invoice_id,
        reason=payload.reason,
        lines=[_line(line) for line in payload.lines],
        actor=api_actor(request),
    )
    return Status(201, _detail(note))


@router.post("/invoices/{invoice_id}/rebill", response={201: RebillOut, **errors(*WRITE_ERRORS, 404)})
def rebill_invoice(request: HttpRequest, invoice_id: RowId, payload: InvoiceReasonIn) -> object:
    """Credits the invoice in full and starts a new draft with the same lines, to correct and issue."""
    note, draft = corrections.rebill_invoice(
        invoice_id=invoice_id, reason=payload.reason, actor=api_actor(request)
    )
    return Status(201, {"credit_note": _detail(note), "draft": _detail(draft)})


# --- what a document left behind -----------------------------------------------------------------


@router.get(
    "/invoices/{invoice_id}/pdf",
    url_name="invoice_pdf",
    response={200: None, **errors(404, 422)},
    openapi_extra=_file_reply(PDF),
)
def invoice_pdf(request: HttpRequest, invoice_id: RowId) -> HttpResponse:
    """The issued document's PDF, rendered once from its frozen content; a draft's is a preview marked DRAFT,
    rendered for this request and never kept."""
    invoice = selectors.get_invoice(invoice_id)
    if invoice.is_issued:
        document = documents.ensure_pdf(invoice.pk)
        content, digest, name = bytes(document.pdf or b""), document.pdf_sha256, str(invoice.number)
    else:
        content = render_pdf(render_document_html(documents.document_view(invoice)))
        digest, name = documents.sha256(content), f"draft-{invoice.pk}"
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response["X-Content-SHA256"] = digest
    return response


@router.get(
    "/invoices/{invoice_id}/history", response={200: list[InvoiceEventOut], **errors(*QUERY_ERRORS, 404)}
)
@paginate(LimitOffset)
def invoice_history(request: HttpRequest, invoice_id: RowId) -> object:
    return selectors.invoice_history(selectors.get_invoice(invoice_id))


@router.get("/invoices/{invoice_id}/journal-entry", response={200: EntryOut, **errors(404, 422)})
def invoice_journal_entry(request: HttpRequest, invoice_id: RowId) -> object:
    """The entry posted when the document was issued; 404 while it is a draft."""
    return selectors.journal_entry_for(selectors.get_invoice(invoice_id))


# --- billing entities ----------------------------------------------------------------------------


@router.get("/entities", response={200: list[EntityOut], **errors()})
def list_entities(request: HttpRequest) -> object:
    return selectors.list_entities()


@router.post("/entities", response={201: EntityOut, **errors(*WRITE_ERRORS)})
def create_entity(request: HttpRequest, payload: EntityIn) -> object:
    """Administrators only; the first entity becomes the default."""
    entity = entities.create_billing_entity(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_entity(entity.code))


@router.post("/entities/{code}/approval-thresholds", response={200: EntityOut, **errors(*WRITE_ERRORS, 404)})
def set_approval_threshold(request: HttpRequest, code: EntityCode, payload: ThresholdIn) -> object:
    """Invoices of the entity in this currency at or above the amount then need a second person."""
    entities.set_approval_threshold(
        entity_code=code, currency=payload.currency, amount=payload.amount, actor=api_actor(request)
    )
    return selectors.get_entity(code)
