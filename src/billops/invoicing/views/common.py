"""What every invoice page shares: the signed-in actor, the document or a 404, HTMX requests, amounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.http import Http404, HttpRequest

from billops.access import clock
from billops.access.models import User
from billops.audit.selectors import history_of
from billops.core.currencies import minor_units
from billops.core.errors import NotFound
from billops.invoicing.forms import plain
from billops.invoicing.models import Invoice, InvoiceLine
from billops.invoicing.selectors import OPEN_STATUSES, get_invoice

HISTORY_LIMIT = 100


def actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def invoice_or_404(pk: int) -> Invoice:
    try:
        return get_invoice(pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def is_htmx(request: HttpRequest) -> bool:
    """A request htmx sent for part of a page (a history restore wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def document_title(invoice: Invoice) -> str:
    """ "Invoice INV-2026-000001", "Draft invoice 12", "Draft credit note 14"."""
    kind = invoice.get_document_type_display()
    return f"{kind} {invoice.number}" if invoice.number else f"Draft {kind.lower()} {invoice.pk}"


def money_format(currency: str) -> str:
    """The `floatformat` argument that shows an amount with its currency's minor unit, grouped."""
    return f"{minor_units(currency)}g"


def is_overdue(invoice: Invoice) -> bool:
    return bool(invoice.status in OPEN_STATUSES and invoice.due_on and invoice.due_on < clock.today())


@dataclass(frozen=True)
class LineRow:
    """A line as the pages show it: quantity and unit price with their significant places only."""

    line: InvoiceLine
    quantity: str
    unit_price: str
    discount_percent: str
    tax_rate: str


def line_rows(invoice: Invoice) -> list[LineRow]:
    places = minor_units(invoice.currency)
    return [
        LineRow(
            line=line,
            quantity=plain(line.quantity),
            unit_price=plain(line.unit_price, places),
            discount_percent=plain(line.discount_percent) if line.discount_percent else "",
            tax_rate=plain(line.tax_rate),
        )
        for line in invoice.lines.select_related("product", "tax_code", "credits_line__invoice").order_by(
            "line_no"
        )
    ]


def document_context(invoice: Invoice) -> dict[str, Any]:
    """What the editor and the issued document's page both show."""
    rows = line_rows(invoice)
    return {
        "invoice": invoice,
        "title": document_title(invoice),
        "rows": rows,
        "has_discounts": any(row.line.discount_percent or row.line.discount_amount for row in rows),
        "taxes": [(tax, plain(tax.rate)) for tax in invoice.taxes.all()],
        "amount_format": money_format(invoice.currency),
        "invoice_discount": plain(invoice.invoice_discount_percent),
        "overdue": is_overdue(invoice),
        "events": history_of(invoice)[:HISTORY_LIMIT],
    }
