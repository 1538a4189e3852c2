"""Deciding a dispute: rejected, withdrawn by the customer, or resolved in the customer's favour by a
credit note for the disputed amount or by a re-bill (a full credit and a corrected draft).

A resolution is one transaction with the invoicing building blocks: the customer and the invoice are
locked, the credit note is issued and posted and settles the invoice, and the case is linked to it; a
closed period (or anything else refused) leaves the case and the invoice as they were.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.db import deadlock_as_conflict
from billops.core.money import round_money
from billops.disputes.crediting import case_credit_plan
from billops.disputes.models import DisputeCase, Status
from billops.disputes.services.common import (
    case_state,
    clean_note,
    clean_root_cause,
    invoice_of,
    locked_case,
    locked_invoice,
    require_active,
)
from billops.invoicing.models import Invoice
from billops.invoicing.services.corrections import credit_document, rebill_document

REASON_LIMIT = 280  # of the credit note's reason (300), leaving room for the "Re-bill: " a re-bill adds


def _decide(
    case: DisputeCase, *, status: str, actor: User, root_cause: str, note: str, action: str, **after: Any
) -> DisputeCase:
    """Record the decision on a locked, active case, and its audit event."""
    before = case_state(case)
    case.status, case.root_cause, case.resolution_note = status, root_cause, note
    case.resolved_at, case.resolved_by = timezone.now(), actor
    case.save(
        update_fields=[
            "status", "root_cause", "resolution_note", "resolved_at", "resolved_by", "credit_note",
            "rebill_draft",
        ]
    )  # fmt: skip
    record_event(
        actor=actor,
        action=action,
        target=case,
        before=before,
        after={**case_state(case), "note": note, "resolved_at": case.resolved_at, **after},
    )
    return case


@transaction.atomic(durable=True)
def reject_dispute(*, case_id: int, root_cause: str, note: str, actor: User) -> DisputeCase:
    """Decide a case against the customer: the invoice stands and its amount is due again."""
    require_permission(actor, "disputes.work")
    root_cause = clean_root_cause(root_cause)
    note = clean_note(note, required=True)
    case = locked_case(case_id)
    require_active(case, "rejected")
    return _decide(
        case, status=Status.REJECTED, actor=actor, root_cause=root_cause, note=note, action="dispute.rejected"
    )


@transaction.atomic(durable=True)
def withdraw_dispute(*, case_id: int, note: str, actor: User) -> DisputeCase:
    """Close a case the customer withdrew; the note says how they did (a call, an e-mail)."""
    require_permission(actor, "disputes.work")
    note = clean_note(note, required=True)
    case = locked_case(case_id)
    require_active(case, "withdrawn")
    return _decide(
        case, status=Status.WITHDRAWN, actor=actor, root_cause=case.root_cause, note=note,
        action="dispute.withdrawn",
    )  # fmt: skip


def _locked_for_resolution(case_id: int, note: str) -> tuple[DisputeCase, Invoice, str]:
    """The customer, the invoice and the case locked in that order, and the case still being worked."""
    invoice = locked_invoice(invoice_of(case_id))
    case = locked_case(case_id)
    require_active(case, "resolved")
    case.invoice = invoice  # the locked row, with its current open amount
    return case, invoice, f"Dispute {case.pk} ({case.get_reason_display().lower()}): {note}"[:REASON_LIMIT]


@deadlock_as_conflict
@transaction.atomic(durable=True)
def resolve_by_credit(
    *, case_id: int, root_cause: str, note: str, actor: User, issued_on: date | None = None
) -> DisputeCase:
    """Resolve a case in the customer's favour with a credit note for the disputed amount (per disputed
    line, or spread over the invoice's lines in proportion), issued, posted and settling the invoice."""
    require_permission(actor, "disputes.resolve")
    root_cause = clean_root_cause(root_cause)
    note = clean_note(note, required=True)
    case, invoice, reason = _locked_for_resolution(case_id, note)
    plan = case_credit_plan(case)
    credit_note = credit_document(
        invoice, reason=reason, actor=actor, lines=plan.credit_lines(), issued_on=issued_on
    )
    case.credit_note = credit_note
    return _decide(
        case, status=Status.RESOLVED_CREDIT, actor=actor, root_cause=root_cause, note=note,
        action="dispute.resolved_by_credit", credit_note=credit_note.number,
        credited=round_money(credit_note.total, credit_note.currency).amount,
        credit_note_entry=credit_note.journal_entry_id,
        invoice_open_amount=round_money(invoice.open_amount, invoice.currency).amount,
    )  # fmt: skip


@deadlock_as_conflict
@transaction.atomic(durable=True)
def resolve_by_rebill(*, case_id: int, root_cause: str, note: str, actor: User) -> DisputeCase:
    """Resolve a case by re-billing the invoice: a credit note for all of it that is left, and a new
    linked draft with the same lines for the clerk to correct and issue."""
    require_permission(actor, "disputes.resolve")
    root_cause = clean_root_cause(root_cause)
    note = clean_note(note, required=True)
    case, invoice, reason = _locked_for_resolution(case_id, note)
    credit_note, draft = rebill_document(invoice, reason=reason, actor=actor)
    case.credit_note, case.rebill_draft = credit_note, draft
    return _decide(
        case, status=Status.RESOLVED_REBILL, actor=actor, root_cause=root_cause, note=note,
        action="dispute.resolved_by_rebill", credit_note=credit_note.number,
        credited=round_money(credit_note.total, credit_note.currency).amount,
        credit_note_entry=credit_note.journal_entry_id, rebill_draft=draft.pk,
    )  # fmt: skip


def forget_rebill_draft(invoice: Invoice, actor: User) -> None:
    """A re-bill's new draft is deleted (`invoicing.services.drafts.delete_draft`, which calls this in its
    transaction): the resolved case keeps its credit note and no longer names the draft."""
    for case in DisputeCase.objects.select_for_update().filter(rebill_draft=invoice).order_by("pk"):
        case.rebill_draft = None
        case.save(update_fields=["rebill_draft"])
        record_event(
            actor=actor,
            action="dispute.rebill_draft_deleted",
            target=case,
            before={"rebill_draft": invoice.pk},
            after={"rebill_draft": None},
        )
