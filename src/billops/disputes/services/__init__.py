"""Every write of disputes, one function per business action (see `cases` and `decisions`)."""

from __future__ import annotations

from billops.disputes.services.cases import (
    LineClaim,
    add_note,
    assign_dispute,
    attach_file,
    open_deduction_case,
    open_dispute,
    sla_days,
    start_investigation,
)
from billops.disputes.services.decisions import (
    reject_dispute,
    resolve_by_credit,
    resolve_by_rebill,
    withdraw_dispute,
)

__all__ = [
    "LineClaim",
    "add_note",
    "assign_dispute",
    "attach_file",
    "open_deduction_case",
    "open_dispute",
    "reject_dispute",
    "resolve_by_credit",
    "resolve_by_rebill",
    "sla_days",
    "start_investigation",
    "withdraw_dispute",
]
