"""A document's view as canonical JSON: what is frozen at issue, and read back to render it later.

Everything the printed document shows (parties and their addresses, bank details, lines, tax summary,
totals, notes) is written at issue as this JSON and hashed; the HTML and the PDF are renderings of it,
made afterwards by whoever needs them first. A change to the customer's address after issue therefore
never reaches an issued document, however late it is rendered.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from billops.invoicing.rendering.views import BankDetails, DocumentLine, DocumentView, Party, TaxSummaryRow

# each view class and its fields: dataclasses.asdict deep-copies every value, and a bill run freezes
# thousands of documents
FIELDS = {
    kind: tuple(field.name for field in fields(kind))
    for kind in (DocumentView, Party, BankDetails, DocumentLine, TaxSummaryRow)
}


def _plain(value: Any) -> Any:
    names = FIELDS.get(type(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def view_to_json(view: DocumentView) -> str:
    """Canonical: keys sorted, amounts and dates as text exactly as held (19.00 stays 19.00)."""
    return json.dumps(_plain(view), default=str, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _party(data: dict[str, Any] | None) -> Party | None:
    return Party(**{**data, "address_lines": tuple(data["address_lines"])}) if data else None


def _line(data: dict[str, Any]) -> DocumentLine:
    amounts = ("quantity", "unit_price", "discount_percent", "net", "tax_rate")
    return DocumentLine(
        **{
            **data,
            **{name: Decimal(data[name]) for name in amounts},
            "service_start": _day(data["service_start"]),
            "service_end": _day(data["service_end"]),
        }
    )


def _tax_row(data: dict[str, Any]) -> TaxSummaryRow:
    return TaxSummaryRow(**{**data, **{name: Decimal(data[name]) for name in ("rate", "taxable", "tax")}})


def view_from_json(text: str) -> DocumentView:
    data = json.loads(text)
    seller, bill_to = _party(data["seller"]), _party(data["bill_to"])
    assert seller is not None and bill_to is not None
    return DocumentView(
        **{
            **data,
            "issue_on": date.fromisoformat(data["issue_on"]),
            "due_on": _day(data["due_on"]),
            "service_start": _day(data["service_start"]),
            "service_end": _day(data["service_end"]),
            "seller": seller,
            "bill_to": bill_to,
            "ship_to": _party(data["ship_to"]),
            "lines": tuple(_line(line) for line in data["lines"]),
            "tax_summary": tuple(_tax_row(row) for row in data["tax_summary"]),
            "legal_notes": tuple(data["legal_notes"]),
            "bank": BankDetails(**data["bank"]) if data["bank"] else None,
            **{name: Decimal(data[name]) for name in ("subtotal", "discount_total", "tax_total", "total")},
        }
    )
