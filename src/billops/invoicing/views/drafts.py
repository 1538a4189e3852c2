"""The draft editor: header, lines (with htmx: each change redraws the editor with its new totals),
the pre-issue checks, and the workflow buttons from submission to issue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from billops.access.models import User
from billops.access.permissions import can
from billops.core.errors import DomainError, PermissionDenied
from billops.invoicing.forms import HeaderForm, LineForm, ReasonForm, ServiceForm, product_options
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.rendering.html import render_document_html
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.selectors import get_invoice
from billops.invoicing.services import drafts, workflow
from billops.invoicing.services.documents import document_view
from billops.invoicing.views.common import actor, document_context, document_title, invoice_or_404, is_htmx
from billops.invoicing.views.issued import document_page


def _first_error(forms: dict[str, ServiceForm]) -> str:
    for form in forms.values():
        if form.errors:
            return "; ".join(str(message) for messages in form.errors.values() for message in messages)
    return ""


def _permissions(user: User, invoice: Invoice) -> dict[str, Any]:
    maker = user.pk in (invoice.created_by_id, invoice.submitted_by_id)
    submitted, approver = invoice.status == InvoiceStatus.SUBMITTED, can(user, "invoicing.approve")
    on_hold = invoice.customer.credit_hold and invoice.hold_override_by_id is None
    return {
        "may_edit": can(user, "invoicing.edit_drafts"),
        "may_submit": can(user, "invoicing.submit") and invoice.status == InvoiceStatus.DRAFT,
        "may_approve": approver and submitted and not maker,
        "awaiting_other": submitted and (maker or not approver),
        "may_issue": can(user, "invoicing.issue"),
        "may_override": can(user, "invoicing.override_credit_hold") and on_hold,
    }


def editor(
    request: HttpRequest,
    invoice: Invoice,
    status: int = 200,
    *,
    notice: str = "",
    action_error: str = "",
    forms: dict[str, ServiceForm] | None = None,
    editing_line: int | None = None,
) -> HttpResponse:
    """The editor of a draft; the editor alone when htmx asked for it, else the whole page. A document
    issued meanwhile shows its own page, with the refusal on top."""
    forms = forms or {}
    if not invoice.is_editable:
        refusal = action_error or _first_error(forms)
        if is_htmx(request):  # the editor is gone: load the document's page instead of a part of it
            if refusal:
                messages.error(request, refusal)
            response = HttpResponse(status=status)
            response["HX-Redirect"] = reverse("invoicing:detail", args=[invoice.pk])
            return response
        return document_page(request, invoice, status, action_error=refusal)
    checks = workflow.pre_issue_checks(invoice)
    reason = workflow.approval_reason(invoice)
    editing = editing_line
    if editing is None and request.method == "GET" and request.GET.get("line", "").isdigit():
        editing = int(request.GET["line"])
    line_form = forms.get("line_form")
    if line_form is None:
        lines = invoice.lines.select_related("product", "tax_code")
        line = lines.filter(line_no=editing).first() if editing is not None else None
        editing = line.line_no if line else None
        line_form = LineForm(initial=LineForm.initial_of(line) if line else {})
    permissions = _permissions(actor(request), invoice)
    issuable = invoice.status == InvoiceStatus.APPROVED or (
        invoice.status == InvoiceStatus.DRAFT and not reason
    )
    context = {
        **document_context(invoice),
        **permissions,
        "checks": checks,
        "blocking": any(check.blocking for check in checks),
        "approval_reason": reason,
        "issuable": issuable,
        "header_form": forms.get("header_form") or HeaderForm(initial=HeaderForm.initial_of(invoice)),
        "line_form": line_form,
        "editing_line": editing,
        "reject_form": forms.get("reject_form") or ReasonForm(),
        "override_form": forms.get("override_form") or ReasonForm(),
        "products": product_options(),
        "notice": notice,
        "action_error": action_error,
        "header_open": "header_form" in forms,
    }
    template = "invoicing/_editor.html" if is_htmx(request) else "invoicing/editor.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers a whole page or the editor
    return response


def _edited(request: HttpRequest, pk: int, done: str) -> HttpResponse:
    """After a change of the draft: the redrawn editor for htmx, else back to the page (POST-redirect-GET)."""
    if is_htmx(request):
        return editor(request, get_invoice(pk), notice=done)
    messages.success(request, done)
    return redirect("invoicing:detail", pk)


def _refused(
    request: HttpRequest,
    pk: int,
    form: ServiceForm,
    name: str,
    exc: DomainError,
    editing_line: int | None = None,
) -> HttpResponse:
    if isinstance(exc, PermissionDenied):  # on top: a role that may not do it is not shown the form
        return _action_refused(request, pk, exc)
    status = form.show_error(exc)
    return editor(request, invoice_or_404(pk), status, forms={name: form}, editing_line=editing_line)


@login_required
@require_POST
def change_header(request: HttpRequest, pk: int) -> HttpResponse:
    form = HeaderForm(request.POST)
    try:
        drafts.change_draft(invoice_id=pk, actor=actor(request), **form.values())
    except DomainError as exc:
        return _refused(request, pk, form, "header_form", exc)
    return _edited(request, pk, "Header saved.")


@login_required
@require_POST
def add_line(request: HttpRequest, pk: int) -> HttpResponse:
    form = LineForm(request.POST)
    try:
        line = drafts.add_line(invoice_id=pk, line=form.line_data(), actor=actor(request))
    except DomainError as exc:
        return _refused(request, pk, form, "line_form", exc)
    return _edited(request, pk, f"Line {line.line_no} added: {line.description}.")


@login_required
@require_POST
def change_line(request: HttpRequest, pk: int, line_no: int) -> HttpResponse:
    form = LineForm(request.POST)
    try:
        drafts.change_line(invoice_id=pk, line_no=line_no, line=form.line_data(), actor=actor(request))
    except DomainError as exc:
        return _refused(request, pk, form, "line_form", exc, editing_line=line_no)
    return _edited(request, pk, f"Line {line_no} saved.")


@login_required
@require_POST
def remove_line(request: HttpRequest, pk: int, line_no: int) -> HttpResponse:
    try:
        drafts.remove_line(invoice_id=pk, line_no=line_no, actor=actor(request))
    except DomainError as exc:
        return _action_refused(request, pk, exc)
    return _edited(request, pk, f"Line {line_no} removed.")


def _action_refused(request: HttpRequest, pk: int, exc: DomainError) -> HttpResponse:
    status = 403 if exc.http_status == 403 else 200
    return editor(request, invoice_or_404(pk), status, action_error=exc.message)


def _workflow_action(
    action: Callable[[int, User], Invoice], done: Callable[[Invoice], str]
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A button of the editor: run the action, then back to the page, or the page again with the error."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            invoice = action(pk, actor(request))
        except DomainError as exc:
            return _action_refused(request, pk, exc)
        messages.success(request, done(invoice))
        return redirect("invoicing:detail", pk)

    return view


def _reason_action(
    action: Callable[[int, str, User], Invoice], form_name: str, done: str
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A button of the editor that needs a reason; a refusal shows at the reason field."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        form = ReasonForm(request.POST)
        try:
            action(pk, form.values()["reason"], actor(request))
        except DomainError as exc:
            return _refused(request, pk, form, form_name, exc)
        messages.success(request, done)
        return redirect("invoicing:detail", pk)

    return view


def _submitted(invoice: Invoice) -> str:
    if invoice.status == InvoiceStatus.SUBMITTED:
        return f"{document_title(invoice)} submitted; another supervisor must approve it."
    return f"{document_title(invoice)} needs no approval: it is ready to issue."


submit = _workflow_action(lambda pk, user: workflow.submit_invoice(invoice_id=pk, actor=user), _submitted)
approve = _workflow_action(
    lambda pk, user: workflow.approve_invoice(invoice_id=pk, actor=user),
    lambda invoice: f"{document_title(invoice)} approved; it can be issued.",
)
issue = _workflow_action(
    lambda pk, user: workflow.issue_invoice(invoice_id=pk, actor=user),
    lambda invoice: f"{document_title(invoice)} issued.",
)
reject = _reason_action(
    lambda pk, reason, user: workflow.reject_invoice(invoice_id=pk, reason=reason, actor=user),
    "reject_form",
    "Sent back to draft.",
)
override_hold = _reason_action(
    lambda pk, reason, user: workflow.override_credit_hold(invoice_id=pk, reason=reason, actor=user),
    "override_form",
    "Credit hold overridden for this document.",
)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        drafts.delete_draft(invoice_id=pk, actor=actor(request))
    except DomainError as exc:
        return _action_refused(request, pk, exc)
    messages.success(request, f"Draft {pk} deleted.")
    return redirect("invoicing:list")


@login_required
@require_GET
def preview_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft as it would print, marked as a draft and without a payment reference; nothing is stored."""
    invoice = invoice_or_404(pk)
    pdf = render_pdf(render_document_html(document_view(invoice)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="draft-{invoice.pk}.pdf"'
    return response
