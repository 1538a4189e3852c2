"""The matching queue: bank lines the engine was not sure enough to apply, each resolved by a clerk in
one action.

- `resolve_line`: the money came from this customer; apply it to the invoices named (a suggestion, or
  the clerk's own choice) or oldest first. The payer's account is remembered for the customer, so its
  next payment is matched by the account.
- `dismiss_line`: not a customer's payment (a bank fee, money out handled elsewhere): rejected with the
  clerk's reason, posted nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import Conflict, InvalidInput, NotFound
from billops.customers.selectors import get_customer
from billops.payments.models import BankLine, PayerAccount
from billops.payments.services.applications import Allocation
from billops.payments.services.bank_files import post_line


def _parked(line_id: int) -> BankLine:
    line = (
        BankLine.objects.select_for_update().select_related("bank_account", "file").filter(pk=line_id).first()
    )
    if line is None:
        raise NotFound(f"there is no bank line {line_id}", field="line_id")
    if line.status != BankLine.Status.PARKED:
        raise Conflict(
            f"bank line {line_id} is {line.get_status_display().lower()}, not in the queue", field="line_id"
        )
    return line


@transaction.atomic(durable=True)
def resolve_line(
    *,
    line_id: int,
    customer_id: int,
    actor: User,
    allocations: Sequence[Allocation] = (),
    remember_payer: bool = True,
) -> BankLine:
    """Post a parked line as the customer's receipt, applied to `allocations` (empty: oldest first)."""
    require_permission(actor, "payments.apply")
    customer = get_customer(
        customer_id, for_update=True
    )  # the customer first, as every service that moves money
    line = _parked(line_id)
    if line.amount <= 0:
        raise InvalidInput(
            "money out is not a customer's payment: dismiss it, or reverse the receipt it returns",
            field="line_id",
        )
    if customer.currency != line.currency:
        raise InvalidInput(
            f"{customer.account_number} pays in {customer.currency}, the line is in {line.currency}",
            field="customer_id",
        )
    line.receipt = post_line(line, customer_id=customer.pk, allocations=allocations, actor=actor)
    line.status, line.reason = BankLine.Status.POSTED, ""
    line.evidence = {
        "customer_id": customer.pk, "customer": customer.account_number, "score": None,
        "rule": "resolved by a clerk", "fields": {},
        "invoices": [{"number": a.invoice_number, "amount": str(a.amount)} for a in allocations],
    }  # fmt: skip
    line.resolved_by, line.resolved_at = actor, timezone.now()
    line.save(update_fields=["receipt", "status", "reason", "evidence", "resolved_by", "resolved_at"])
    remembered = ""
    if remember_payer and line.payer_account:
        PayerAccount.objects.update_or_create(
            number=line.payer_account, defaults={"customer": customer, "confirmed_by": actor}
        )
        remembered = line.payer_account
    record_event(
        actor=actor,
        action="bank_line.resolved",
        target=line,
        after={
            "customer": customer.account_number,
            "receipt": line.receipt_id,
            "payer_account_remembered": remembered,
        },
    )
    return line


@transaction.atomic(durable=True)
def dismiss_line(*, line_id: int, reason: str, actor: User) -> BankLine:
    """Not a customer's payment: the line is rejected with the reason and posted nowhere."""
    require_permission(actor, "payments.apply")
    line = _parked(line_id)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the line is not a customer's payment", field="reason")
    line.status, line.reason = BankLine.Status.REJECTED, f"dismissed: {reason}"[:300]
    line.resolved_by, line.resolved_at = actor, timezone.now()
    line.save(update_fields=["status", "reason", "resolved_by", "resolved_at"])
    record_event(actor=actor, action="bank_line.dismissed", target=line, after={"reason": reason})
    return line
