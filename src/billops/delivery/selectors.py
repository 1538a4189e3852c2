"""Reads of the delivery log for the API, the staff pages and other apps' pages."""

from __future__ import annotations

import uuid

from django.db.models import Count, QuerySet

from billops.core.db import given
from billops.core.errors import NotFound
from billops.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus


def list_deliveries(
    *, invoice_id: int | None = None, customer_id: int | None = None, status: str = ""
) -> QuerySet[Delivery]:
    """Deliveries newest first, without their attachments' bytes; each filter left out matches all."""
    deliveries = Delivery.objects.select_related("customer", "invoice", "created_by").defer("attachment")
    return deliveries.filter(**given(invoice_id=invoice_id, customer_id=customer_id, status=status)).order_by(
        "-created_at", "id"
    )


def get_delivery(delivery_id: uuid.UUID | str, *, for_update: bool = False) -> Delivery:
    """One delivery, or NotFound; `for_update` locks its row until the transaction ends."""
    try:
        key = delivery_id if isinstance(delivery_id, uuid.UUID) else uuid.UUID(str(delivery_id))
    except ValueError:
        raise NotFound(f"there is no delivery {delivery_id}", field="delivery_id") from None
    if for_update:
        found = Delivery.objects.select_for_update().filter(pk=key).first()
    else:
        found = Delivery.objects.select_related("customer", "invoice", "created_by").filter(pk=key).first()
    if found is None:
        raise NotFound(f"there is no delivery {delivery_id}", field="delivery_id")
    return found


def list_attempts(delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    """The delivery log of one delivery, first attempt first."""
    return DeliveryAttempt.objects.filter(delivery=delivery).order_by("attempt_no")


def count_by_status() -> dict[str, int]:
    """How many deliveries are in each status (every status, zero included)."""
    counts = dict(Delivery.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}
