"""An issued document's page: read-only lines and totals, its PDF, journal entries, corrections and
history, and the corrections a clerk can make: void, credit note, debit note and re-bill."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billops.access.permissions import can
from billops.core.errors import DomainError, PermissionDenied
from billops.delivery.selectors import list_deliveries
from billops.invoicing.forms import CreditNoteForm, ReasonForm, ServiceForm
from billops.invoicing.models import DocumentType, Invoice, InvoiceLine, InvoiceStatus, IssuedDocument
from billops.invoicing.services import corrections
from billops.invoicing.services.documents import ensure_pdf
from billops.invoicing.views.common import actor, document_context, document_title, invoice_or_404


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(invoice.lines.order_by("line_no"))


def _document(invoice: Invoice) -> IssuedDocument | None:
    return IssuedDocument.objects.filter(invoice=invoice).defer("content", "pdf").first()


def document_page(
    request: HttpRequest,
    invoice: Invoice,
    status: int = 200,
    *,
    action_error: str = "",
    forms: dict[str, ServiceForm] | None = None,
) -> HttpResponse:
    forms = forms or {}
    user = request.user
    is_credit_note = invoice.document_type == DocumentType.CREDIT_NOTE
    correctable = invoice.status not in (InvoiceStatus.VOID, InvoiceStatus.CREDITED) and not is_credit_note
    context = {
        **document_context(invoice),
        "document": _document(invoice),
        "corrections": invoice.corrections.order_by("id"),
        "rebills": invoice.rebills.order_by("id"),
        "allocations": (
            invoice.allocations_made if is_credit_note else invoice.allocations_received
        ).select_related("invoice", "credit_note"),
        "deliveries": list_deliveries(invoice_id=invoice.pk),
        "void_form": forms.get("void_form") or ReasonForm(),
        "credit_form": forms.get("credit_form") or CreditNoteForm(lines=_lines(invoice)),
        "debit_form": forms.get("debit_form") or ReasonForm(),
        "rebill_form": forms.get("rebill_form") or ReasonForm(),
        "may_void": can(user, "invoicing.void") and invoice.status == InvoiceStatus.ISSUED,
        "may_credit": can(user, "invoicing.credit") and correctable,
        "may_debit": can(user, "invoicing.edit_drafts") and correctable,
        "may_rebill": can(user, "invoicing.credit") and can(user, "invoicing.edit_drafts") and correctable,
        "action_error": action_error,
        "open_form": next(iter(forms), ""),  # the form that was refused stays open
    }
    return render(request, "invoicing/document.html", context, status=status)


def _refused(
    request: HttpRequest, pk: int, form: ReasonForm | CreditNoteForm, name: str, exc: DomainError
) -> HttpResponse:
    if isinstance(exc, PermissionDenied):  # on top: a role that may not do it is not shown the form
        return document_page(request, invoice_or_404(pk), 403, action_error=exc.message)
    status = form.show_error(exc)
    return document_page(request, invoice_or_404(pk), status, forms={name: form})


@login_required
@require_POST
def void(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        invoice = corrections.void_invoice(
            invoice_id=pk, reason=form.values()["reason"], actor=actor(request)
        )
    except DomainError as exc:
        return _refused(request, pk, form, "void_form", exc)
    messages.success(request, f"{document_title(invoice)} is void; its journal entry has been reversed.")
    return redirect("invoicing:detail", pk)


@login_required
@require_POST
def credit_note(request: HttpRequest, pk: int) -> HttpResponse:
    form = CreditNoteForm(request.POST, lines=_lines(invoice_or_404(pk)))
    try:
        note = corrections.issue_credit_note(
            invoice_id=pk, reason=form.values()["reason"], lines=form.credit_lines(), actor=actor(request)
        )
    except DomainError as exc:
        return _refused(request, pk, form, "credit_form", exc)
    messages.success(request, f"Credit note {note.number} issued for {note.total} {note.currency}.")
    return redirect("invoicing:detail", note.pk)


@login_required
@require_POST
def debit_note(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        note = corrections.create_debit_note(
            invoice_id=pk, reason=form.values()["reason"], actor=actor(request)
        )
    except DomainError as exc:
        return _refused(request, pk, form, "debit_form", exc)
    messages.success(request, f"Debit note draft {note.pk} started; add what is charged on top.")
    return redirect("invoicing:detail", note.pk)


@login_required
@require_POST
def rebill(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        note, draft = corrections.rebill_invoice(
            invoice_id=pk, reason=form.values()["reason"], actor=actor(request)
        )
    except DomainError as exc:
        return _refused(request, pk, form, "rebill_form", exc)
    messages.success(request, f"Credit note {note.number} issued; correct this new draft and issue it.")
    return redirect("invoicing:detail", draft.pk)


def _issued_document(pk: int) -> IssuedDocument:
    invoice = invoice_or_404(pk)
    if not invoice.is_issued:
        raise Http404(f"{invoice} is not issued; its preview is at /invoices/{pk}/preview.pdf")
    return ensure_pdf(pk)  # rendered the first time someone needs it


@login_required
@require_GET
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued PDF, exactly as stored: the same bytes every time, so their SHA-256 proves them."""
    document = _issued_document(pk)
    response = HttpResponse(bytes(document.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.invoice.number}.pdf"'
    response["ETag"] = f'"{document.pdf_sha256}"'
    return response


@login_required
@require_GET
def pdf_digest(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF's SHA-256, for the document page when its PDF had not been rendered yet."""
    return render(request, "invoicing/_pdf_digest.html", {"document": _issued_document(pk)})
