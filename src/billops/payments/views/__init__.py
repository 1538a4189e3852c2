"""Staff pages for payments: receipts, cash application, the matching queue and bank files. Thin, like
the API: parse the form, call one service or selector, show the result or the error next to its field;
POST-redirect-GET (htmx redraws a queue line in place)."""

from __future__ import annotations

from billops.payments.views.files import file_detail, file_list, import_file
from billops.payments.views.queue import (
    dismiss_line,
    queue_page,
    refund_line,
    rematch,
    resolve_line,
    return_line,
)
from billops.payments.views.receipts import (
    apply_receipt,
    customer_cash,
    receipt_detail,
    receipt_list,
    record_receipt,
    refund_receipt,
    reverse_receipt,
    unapply_application,
)

__all__ = [
    "apply_receipt",
    "customer_cash",
    "dismiss_line",
    "file_detail",
    "file_list",
    "import_file",
    "queue_page",
    "receipt_detail",
    "receipt_list",
    "record_receipt",
    "refund_line",
    "refund_receipt",
    "rematch",
    "resolve_line",
    "return_line",
    "reverse_receipt",
    "unapply_application",
]  # fmt: skip
