"""Staff pages for invoices, credit notes and debit notes. Thin, like the API: parse the form, call one
service or selector, show the result or the error next to its field; POST-redirect-GET."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billops.invoicing.views.common import invoice_or_404
from billops.invoicing.views.drafts import (
    add_line,
    approve,
    change_header,
    change_line,
    delete,
    editor,
    issue,
    override_hold,
    preview_pdf,
    reject,
    remove_line,
    submit,
)
from billops.invoicing.views.issued import (
    credit_note,
    debit_note,
    document_page,
    pdf,
    pdf_digest,
    rebill,
    void,
)
from billops.invoicing.views.lists import customer_options, invoice_create, invoice_list


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft opens in its editor; once issued, the same address shows the document."""
    invoice = invoice_or_404(pk)
    return editor(request, invoice) if invoice.is_editable else document_page(request, invoice)


__all__ = [
    "add_line", "approve", "change_header", "change_line", "credit_note", "customer_options", "debit_note",
    "delete", "invoice_create", "invoice_detail", "invoice_list", "issue", "override_hold", "pdf",
    "pdf_digest", "preview_pdf", "rebill", "reject", "remove_line", "submit", "void",
]  # fmt: skip
