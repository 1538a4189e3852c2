"""The matching queue: bank lines the engine was not sure enough to apply, each resolved by a clerk in
one action.

- `resolve_line`: the money came from this customer; apply it to the invoices named (a suggestion, or
  the clerk's own choice) or oldest first. The payer's account is remembered for the customer, so its
  next payment is matched by the account.
- `resolve_return`: money out that is a receipt coming back (a returned direct debit, a bounced cheque):
  the receipt is reversed with the return code, and the line records it.
- `match_refund`: money out that is a refund already paid: the line records it; nothing is posted again.
- `dismiss_line`: not a customer's payment (a bank fee, money out handled elsewhere): rejected with the
  clerk's reason, posted nowhere.
- `rematch_queue`: every parked line of money in matched again against what is open and known now (after
  each import, and on the clerk's request): a line the engine is now sure of is posted, the others get
  fresh suggestions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.db import deadlock_as_conflict
from billops.core.errors import Conflict, InvalidAmount, InvalidInput, NotFound
from billops.core.money import round_money
from billops.customers.selectors import get_customer
from billops.ledger.selectors import posting_day
from billops.payments.models import BankAccount, BankLine, PayerAccount, Refund, StatementFile
from billops.payments.services.applications import Allocation, locked_receipt
from billops.payments.services.line_posting import match_row, post_line, post_lines
from billops.payments.services.matching import Matcher
from billops.payments.services.returns import return_receipt


@deadlock_as_conflict
@transaction.atomic(durable=True)
def rematch_queue(
    *, actor: User, bank_account_id: int | None = None, except_file: StatementFile | None = None
) -> tuple[int, int]:
    """Match the queue's money in again (of one bank account, or all), a bank account at a time; returns
    (lines posted, lines whose suggestions changed)."""
    require_permission(actor, "payments.apply")
    posted = refreshed = 0
    waiting = BankLine.objects.filter(status=BankLine.Status.PARKED, amount__gt=0)
    if bank_account_id is not None:
        waiting = waiting.filter(bank_account_id=bank_account_id)
    for bank in BankAccount.objects.select_related("ledger_account").filter(
        pk__in=waiting.values("bank_account_id")
    ):
        bank_posted, bank_refreshed = rematch_parked(bank=bank, actor=actor, except_file=except_file)
        posted, refreshed = posted + bank_posted, refreshed + bank_refreshed
    return posted, refreshed


def rematch_parked(
    *, bank: BankAccount, actor: User, except_file: StatementFile | None = None
) -> tuple[int, int]:
    """`rematch_queue` for one bank account (leaving out the lines of `except_file`, matched just now),
    inside the caller's transaction; audited when it changed anything."""
    parked = BankLine.objects.select_for_update().filter(
        bank_account=bank, status=BankLine.Status.PARKED, amount__gt=0
    )
    if except_file is not None:
        parked = parked.exclude(file=except_file)
    rows = list(parked.order_by("booked_on", "pk"))
    if not rows:
        return 0, 0
    matcher, now = Matcher(bank.currency), timezone.now()
    matched, changed = [], []
    for row in rows:
        before = (row.suggestions, row.reason)
        match = match_row(row, matcher)
        if match is not None:
            row.resolved_by, row.resolved_at = actor, now
            matched.append(match)
        if match is not None or (row.suggestions, row.reason) != before:
            changed.append(row)
    post_lines(matched, bank=bank, actor=actor)
    BankLine.objects.bulk_update(
        changed, ["status", "evidence", "suggestions", "reason", "receipt", "resolved_by", "resolved_at"]
    )
    if changed:
        after = {
            "posted": [match.row.pk for match in matched],
            "suggestions_changed": len(changed) - len(matched),
        }
        record_event(actor=actor, action="bank_lines.rematched", target=bank, after=after)
    return len(matched), len(changed) - len(matched)


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
        "invoices": [
            {"number": item.invoice_number, "amount": None if item.amount is None else str(item.amount)}
            | ({"write_off": str(item.write_off)} if item.write_off else {})
            for item in allocations
        ],
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


def _money_out(line: BankLine, amount: Decimal, what: str) -> None:
    if line.amount >= 0:
        raise InvalidInput(f"bank line {line.pk} is money in, not {what}", field="line_id")
    if -line.amount != amount:
        out, expected = (
            round_money(-line.amount, line.currency).amount,
            round_money(amount, line.currency).amount,
        )
        raise InvalidAmount(f"bank line {line.pk} is {out} out, {what} is {expected}", field="line_id")


@transaction.atomic(durable=True)
def resolve_return(
    *,
    line_id: int,
    receipt_id: int,
    return_code: str,
    actor: User,
    reason: str = "",
    fee: Decimal | None = None,
) -> BankLine:
    """The money out is this receipt coming back: reverse it on the day the bank booked the return."""
    require_permission(actor, "payments.reverse")
    receipt = locked_receipt(receipt_id)
    line = _parked(line_id)
    _money_out(line, receipt.amount, f"receipt {receipt.pk}")
    if receipt.bank_account_id != line.bank_account_id:
        raise InvalidInput(f"receipt {receipt.pk} went into another bank account", field="receipt_id")
    on = posting_day(line.booked_on)  # the return's day, or today when that month is closed
    return_receipt(receipt=receipt, return_code=return_code, reason=reason, actor=actor, on=on, fee=fee)
    return _posted(line, actor, "bank_line.return_resolved", returned_receipt=receipt)


@transaction.atomic(durable=True)
def match_refund(*, line_id: int, refund_id: int, actor: User) -> BankLine:
    """The money out is a refund posted already: the line records it, nothing is posted again."""
    require_permission(actor, "payments.apply")
    line = _parked(line_id)
    refund = Refund.objects.filter(pk=refund_id, bank_account_id=line.bank_account_id).first()
    if refund is None:
        raise NotFound(f"there is no refund {refund_id} from this bank account", field="refund_id")
    if BankLine.objects.filter(refund=refund).exists():
        raise Conflict(f"refund {refund_id} is matched to another bank line already", field="refund_id")
    _money_out(line, refund.amount, f"refund {refund.pk}")
    return _posted(line, actor, "bank_line.refund_matched", refund=refund)


def _posted(line: BankLine, actor: User, action: str, **link: object) -> BankLine:
    for name, value in link.items():
        setattr(line, name, value)
    line.status, line.reason = BankLine.Status.POSTED, ""
    line.resolved_by, line.resolved_at = actor, timezone.now()
    line.save(update_fields=[*link, "status", "reason", "resolved_by", "resolved_at"])
    record_event(
        actor=actor, action=action, target=line, after={name: str(value) for name, value in link.items()}
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
