"""Queueing issued documents and statements for e-mail, and sending what is due, with a log of each attempt.

Queueing stores the whole message (recipients, subject, text, PDF) and sends nothing. `send_due_deliveries`
(run by `billops jobs`, or by `billops serve` in the embedded mode) sends it: one delivery at a time, it
marks the row `sending` and commits before it talks to the mail server, then records the outcome in a
transaction of its own. A row still `sending` after STUCK_AFTER belonged to a worker that stopped mid-send;
it becomes `unknown` and is never sent again by itself, because it may already have gone out.
"""

from billops.delivery.services.queueing import (
    MAX_RECIPIENTS,
    BulkResult,
    clean_recipients,
    default_recipients,
    queue_bulk_invoice_deliveries,
    queue_invoice_delivery,
    queue_notice_delivery,
    queue_statement_delivery,
    queue_statements_for_open_balances,
    resend_delivery,
    retry_delivery,
)
from billops.delivery.services.sending import (
    STUCK_AFTER,
    SendCounts,
    mark_stuck_deliveries,
    send_due_deliveries,
)

__all__ = [
    "MAX_RECIPIENTS",
    "STUCK_AFTER",
    "BulkResult",
    "SendCounts",
    "clean_recipients",
    "default_recipients",
    "mark_stuck_deliveries",
    "queue_bulk_invoice_deliveries",
    "queue_invoice_delivery",
    "queue_notice_delivery",
    "queue_statement_delivery",
    "queue_statements_for_open_balances",
    "resend_delivery",
    "retry_delivery",
    "send_due_deliveries",
]
