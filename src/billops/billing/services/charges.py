"""One-off charges: captured on a customer's account at the price of their date, billed by the next bill
run whose period covers that date, or cancelled before. Each capture and cancellation is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import Charge
from billops.billing.services.common import customer_taking_work, priced_line
from billops.core.errors import NotFound
from billops.invoicing.errors import WrongStatus
from billops.invoicing.services.lines import LineData, clean_document_date, clean_text


def charge_state(charge: Charge) -> dict[str, Any]:
    return {
        "customer": charge.customer.account_number,
        "product": charge.product.code if charge.product else "",
        "description": charge.description,
        "quantity": charge.quantity,
        "unit_price": charge.unit_price,
        "currency": charge.currency,
        "price_source": charge.price_source,
        "tax_code": charge.tax_code.code,
        "charge_date": charge.charge_date,
        "status": charge.status,
    }


@transaction.atomic(durable=True)
def create_charge(
    *,
    customer_id: int,
    quantity: Any,
    actor: User,
    product_code: str = "",
    description: str = "",
    unit: str = "",
    unit_price: Any = None,
    tax_code: str = "",
    charge_date: date | None = None,
    service_start: date | None = None,
    service_end: date | None = None,
    reference: str = "",
) -> Charge:
    """Put a charge on the account, priced and checked exactly as an invoice line of its date would be:
    a product fills in the description, unit, price (the customer's, on `charge_date`) and tax code left
    out. `charge_date` left out is today."""
    require_permission(actor, "billing.capture")
    customer = customer_taking_work(customer_id)
    on = clean_document_date(charge_date, "charge_date") or clock.today()
    line = LineData(
        quantity=quantity, description=description, product_code=product_code, unit=unit,
        unit_price=unit_price, tax_code=tax_code, service_start=service_start, service_end=service_end,
        reference=reference,
    )  # fmt: skip
    priced = priced_line(customer, line, on)
    charge = Charge.objects.create(
        customer=customer,
        product=priced.product,
        description=priced.description,
        quantity=priced.quantity,
        unit=priced.unit,
        unit_price=priced.unit_price,
        price_source=priced.price_source,
        currency=customer.currency,
        tax_code=priced.tax_code,
        charge_date=on,
        service_start=priced.service_start,
        service_end=priced.service_end,
        reference=priced.reference,
        created_by=actor,
    )
    record_event(actor=actor, action="charge.created", target=charge, after=charge_state(charge))
    return charge


@transaction.atomic(durable=True)
def cancel_charge(*, charge_id: int, reason: str, actor: User) -> Charge:
    """Take a pending charge off the account before it is billed; a billed one is corrected with a credit
    note on its invoice."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    charge = Charge.objects.select_for_update().filter(pk=charge_id).first()
    if charge is None:
        raise NotFound(f"there is no charge {charge_id}", field="charge_id")
    if charge.status != Charge.Status.PENDING:
        raise WrongStatus(
            f"charge {charge.pk} is {charge.status}; only a pending charge can be cancelled"
            + (" (credit its invoice instead)" if charge.status == Charge.Status.BILLED else ""),
            field="status",
        )
    charge.status, charge.cancel_reason = Charge.Status.CANCELLED, reason
    charge.cancelled_by, charge.cancelled_at = actor, timezone.now()
    charge.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
    record_event(
        actor=actor,
        action="charge.cancelled",
        target=charge,
        before={"status": Charge.Status.PENDING},
        after={"status": charge.status, "reason": reason},
    )
    return charge
