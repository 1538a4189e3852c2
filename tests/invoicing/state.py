"""A fingerprint of everything a refused invoicing action must leave alone."""

from __future__ import annotations

from typing import Any

from billops.audit.models import AuditEvent
from billops.invoicing.models import (
    CreditAllocation,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    IssuedDocument,
    NumberSeries,
)
from billops.ledger.models import JournalEntry, JournalLine


def invoicing_state() -> dict[str, Any]:
    return {
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "lines": list(InvoiceLine.objects.order_by("pk").values()),
        "taxes": list(InvoiceTax.objects.order_by("pk").values()),
        "documents": IssuedDocument.objects.count(),
        "allocations": CreditAllocation.objects.count(),
        "series": list(NumberSeries.objects.order_by("pk").values("pk", "next_number")),
        "entries": JournalEntry.objects.count(),
        "journal_lines": JournalLine.objects.count(),
        "events": AuditEvent.objects.count(),
    }
