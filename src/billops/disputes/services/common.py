"""What the dispute services share: locks in the order every money service takes them (customer, invoice,
then the case), the status rule, and the case as audit data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from billops.audit.services import json_safe
from billops.core.errors import InvalidInput, NotFound
from billops.core.money import round_money
from billops.customers.selectors import get_customer
from billops.disputes.errors import WrongStatus
from billops.disputes.models import ACTIVE_STATUSES, DisputeCase, RootCause
from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus
from billops.invoicing.selectors import get_invoice
from billops.invoicing.services.lines import clean_text

NOTE_LIMIT = 5000  # characters of a note or a resolution note


def locked_invoice(invoice_id: int) -> Invoice:
    """The invoice, locked after its customer as every service that moves money locks them; refused
    unless it is an issued invoice or debit note that is not void."""
    customer_id = get_invoice(invoice_id).customer_id
    get_customer(customer_id, for_update=True)
    invoice = get_invoice(invoice_id, for_update=True)
    if not invoice.is_issued:
        raise WrongStatus(f"{invoice} is not issued; only an issued invoice is disputed", field="invoice_id")
    if invoice.status == InvoiceStatus.VOID:
        raise WrongStatus(f"{invoice} is void: nothing of it is open any more", field="invoice_id")
    if invoice.document_type == DocumentType.CREDIT_NOTE:
        raise WrongStatus(
            f"{invoice} is a credit note; a customer disputes the invoice it corrects", field="invoice_id"
        )
    return invoice


def locked_case(case_id: int) -> DisputeCase:
    """The case, locked until the transaction ends: one change at a time."""
    case = (
        DisputeCase.objects.select_for_update(of=("self",))
        .select_related("invoice", "customer", "owner")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound(f"there is no dispute {case_id}", field="case_id")
    return case


def invoice_of(case_id: int) -> int:
    """The invoice a case disputes, read without a lock so the invoice can be locked first."""
    invoice_id = DisputeCase.objects.filter(pk=case_id).values_list("invoice_id", flat=True).first()
    if invoice_id is None:
        raise NotFound(f"there is no dispute {case_id}", field="case_id")
    return invoice_id


def require_active(case: DisputeCase, doing: str) -> None:
    """Refuse an action on a case that is decided already; `doing` completes "… cannot be …"."""
    if case.status not in ACTIVE_STATUSES:
        raise WrongStatus(
            f"dispute {case.pk} is {case.get_status_display().lower()} already; it cannot be {doing}",
            field="status",
        )


def clean_note(value: Any, field: str = "note", *, required: bool = False) -> str:
    return clean_text(value, field, limit=NOTE_LIMIT, required=required)


def clean_root_cause(value: Any) -> str:
    if value not in RootCause.values:
        raise InvalidInput(
            f"root_cause must be one of {', '.join(RootCause.values)}, not {value!r}", field="root_cause"
        )
    return str(value)


def disputed_on_invoice(invoice: Invoice) -> Decimal:
    """What the invoice's cases still being worked dispute, together."""
    cases = DisputeCase.objects.filter(invoice=invoice, status__in=ACTIVE_STATUSES)
    total = cases.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return round_money(total, invoice.currency).amount  # SQLite sums decimals in floating point


def case_state(case: DisputeCase) -> dict[str, Any]:
    """The case's workflow fields as audit data."""
    return json_safe(
        {
            "status": case.status,
            "owner": case.owner.get_username() if case.owner else None,
            "amount": round_money(case.amount, case.currency).amount,
            "currency": case.currency,
            "sla_due_on": case.sla_due_on,
            "root_cause": case.root_cause,
        }
    )
