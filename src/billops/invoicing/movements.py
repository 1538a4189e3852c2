"""An issued document's changes in the receivables subledger's history (see `customers.movements`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billops.customers.models import OpenItemMovement
from billops.invoicing.models import Invoice


def document_movement(invoice: Invoice, amount: Decimal, on: date, reason: str) -> OpenItemMovement:
    """The change of an issued document's open amount by `amount` on a day; a credit note, which has no due
    date, ages from its own date."""
    assert invoice.issued_on is not None  # only issued documents are open items
    return OpenItemMovement(
        item_kind=OpenItemMovement.Kind.DOCUMENT, item_id=invoice.pk, customer_id=invoice.customer_id,
        entity_id=invoice.entity_id, currency=invoice.currency, document_on=invoice.issued_on,
        due_on=invoice.due_on or invoice.issued_on, moved_on=on, amount=amount, reason=reason,
    )  # fmt: skip
