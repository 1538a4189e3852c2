"""The content digest of an issued document: `billops check` recomputes it to prove nothing changed."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from billops.invoicing.models import Invoice

HEADER = (
    "document_type", "entity_id", "customer_id", "currency", "language", "tax_rounding", "series_id",
    "sequence_no", "number", "issued_on", "due_on", "terms_text", "service_start", "service_end",
    "po_number", "reference", "notes", "reason", "invoice_discount_percent", "subtotal", "discount_total",
    "tax_total", "total", "original_id", "journal_entry_id", "issued_by_id",
)  # fmt: skip
LINE = (
    "line_no", "product_id", "description", "quantity", "unit", "unit_price", "discount_percent",
    "discount_amount", "net", "tax_code_id", "tax_rate", "tax_treatment", "tax_amount", "revenue_account_id",
    "service_start", "service_end", "reference", "credits_line_id",
)  # fmt: skip
TAX = ("tax_code_id", "rate", "treatment", "taxable", "tax")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # 10.10 and 10.100000 read back are the same amount
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def content_digest(invoice: Invoice) -> str:
    """SHA-256 over the document's header, lines and tax summary as issued."""
    content = {
        "header": [_plain(getattr(invoice, name)) for name in HEADER],
        "lines": [
            [_plain(getattr(line, name)) for name in LINE]
            for line in sorted(invoice.lines.all(), key=lambda line: line.line_no)  # uses a prefetch
        ],
        "taxes": sorted([_plain(getattr(tax, name)) for name in TAX] for tax in invoice.taxes.all()),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
