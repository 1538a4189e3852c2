"""Money going back: a receipt the bank returned (a bounced cheque, a returned direct debit or transfer,
a card chargeback).

- `reverse_receipt`: the bank took the money back. Every item the receipt paid is open again, its
  unapplied cash is gone, and one entry posts receivables (what it had paid) and unapplied cash (what was
  left) against the bank account: debits = the receipt's amount = the credit to the bank.
It is audited with its entry. A return's reason is a known code, so reports can count them. Refunds, money
we pay back, are in `refunds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.models import Product
from billops.core.errors import Conflict, InvalidAmount, InvalidInput, NotFound
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import OpeningBalance
from billops.invoicing.models import Invoice
from billops.invoicing.services.drafts import start_draft
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import approval_reason, issue_document, pre_issue_checks
from billops.ledger.accounts import DISCOUNTS, PAYMENT_DIFFERENCES, RECEIVABLES, TAX_PAYABLE, UNAPPLIED_CASH
from billops.ledger.posting import Line, credit, debit, post_entry
from billops.payments.models import Application, Receipt
from billops.payments.services.applications import OpenItem, locked_receipt, settle, shown

RETURN_FEE_PRODUCT = "RETURN-FEE"  # the catalog product a returned payment's fee is charged as
# why a payment came back: SEPA R-transaction reasons, NACHA return codes, cheques and cards
RETURN_CODES = {
    "AC01": "incorrect account number", "AC04": "account closed", "AC06": "account blocked",
    "AG01": "transaction forbidden on this account", "AM04": "insufficient funds",
    "MD01": "no valid mandate", "MD06": "refund requested by the payer (disputed direct debit)",
    "MS02": "refused by the payer", "MS03": "reason not given by the bank", "SL01": "blocked by the bank",
    "R01": "insufficient funds", "R02": "account closed", "R03": "no account, or unable to locate it",
    "R04": "invalid account number", "R07": "authorisation revoked by the customer",
    "R08": "payment stopped", "R10": "customer says the debit was not authorised",
    "R16": "account frozen", "R29": "corporate customer says the debit was not authorised",
    "NSF": "cheque returned: not sufficient funds", "STOPPED": "cheque stopped by the payer",
    "CHARGEBACK": "card chargeback",
}  # fmt: skip


def reversal_lines(receipt: Receipt, active: Sequence[Application]) -> list[Line]:
    """The receivables the receipt had settled (the cash applied, with the discounts and write-offs taken
    along) and the cash it still held, against the bank, the discounts allowed and payment differences."""
    customer, currency = receipt.customer_id, receipt.currency
    discounts = sum((application.discount for application in active), Decimal(0))
    vat = sum((application.discount_vat for application in active), Decimal(0))
    written_off = sum((application.written_off for application in active), Decimal(0))
    settled = sum((application.amount for application in active), Decimal(0)) + discounts + written_off
    lines = []
    if settled:
        lines.append(debit(RECEIVABLES, Money(settled, currency), customer_id=customer))
    if receipt.unapplied_amount:
        lines.append(debit(UNAPPLIED_CASH, Money(receipt.unapplied_amount, currency), customer_id=customer))
    lines.append(credit(receipt.bank_account.ledger_account, Money(receipt.amount, currency)))
    # a discount, or a shortfall written off, is granted for paying: with the payment gone, so are they
    if discounts - vat:
        lines.append(credit(DISCOUNTS, Money(discounts - vat, currency)))
    if vat:  # the VAT taken off with the discount is owed again
        lines.append(credit(TAX_PAYABLE, Money(vat, currency)))
    if written_off:
        lines.append(credit(PAYMENT_DIFFERENCES, Money(written_off, currency)))
    return lines


def return_receipt(
    *,
    receipt: Receipt,
    return_code: str,
    reason: str,
    actor: User,
    on: date | None = None,
    fee: Decimal | None = None,
) -> Receipt:
    """`reverse_receipt`'s building block: the receipt and its customer locked by the caller (a bank line
    resolved as a return does this in its own transaction). With a `fee`, the customer is charged it on
    an invoice of its own (`charge_return_fee`)."""
    require_permission(actor, "payments.reverse")
    code = return_code.strip().upper()
    if code not in RETURN_CODES:
        raise InvalidInput(
            f"{return_code!r} is not a return reason code; known: {', '.join(sorted(RETURN_CODES))}",
            field="return_code",
        )
    if receipt.status != Receipt.Status.POSTED:
        raise Conflict(f"receipt {receipt.pk} is {receipt.status} already", field="receipt_id")
    if receipt.refunds.exists():
        raise Conflict(
            f"part of receipt {receipt.pk} was refunded: a returned payment cannot be reversed after a "
            "refund; post the return by hand",
            field="receipt_id",
        )
    on = on or clock.today()
    if on < receipt.received_on:
        raise InvalidInput("a payment is returned on or after the day it was received", field="on")
    reason = (reason or RETURN_CODES[code]).strip()[:300]
    active = list(receipt.applications.select_for_update().filter(unapply_entry__isnull=True).order_by("pk"))
    applied = sum((application.amount for application in active), Decimal(0))
    entry = post_entry(
        on=on,
        lines=reversal_lines(receipt, active),
        memo=f"Receipt {receipt.pk} returned: {code} {RETURN_CODES[code]}"[:200],
        source=receipt,
        actor=actor,
    )
    for application in active:
        item: OpenItem = (
            Invoice.objects.select_for_update().get(pk=application.invoice_id)
            if application.invoice_id
            else OpeningBalance.objects.select_for_update().get(pk=application.opening_balance_id or 0)
        )
        settle(item, -application.settled, on)
        application.unapplied_on, application.unapply_reason = on, f"payment returned: {code}"
        application.unapply_entry, application.unapplied_by = entry, actor
        application.save(update_fields=["unapplied_on", "unapply_reason", "unapply_entry", "unapplied_by"])
    held = receipt.unapplied_amount
    receipt.status, receipt.unapplied_amount = Receipt.Status.REVERSED, Decimal(0)
    receipt.reversed_on, receipt.return_code, receipt.return_reason = on, code, reason
    receipt.reversal_entry, receipt.reversed_by = entry, actor
    if fee:
        receipt.return_fee_invoice = charge_return_fee(receipt, code, fee, actor=actor)
    receipt.save(
        update_fields=["status", "unapplied_amount", "reversed_on", "return_code", "return_reason",
                       "reversal_entry", "reversed_by", "return_fee_invoice"]
    )  # fmt: skip
    record_event(
        actor=actor,
        action="receipt.reversed",
        target=receipt,
        after={
            "return_code": code,
            "reason": reason,
            "reopened": [a.pk for a in active],
            "reopened_amount": shown(applied, receipt),
            "unapplied_cash_removed": shown(held, receipt),
            "fee_invoice": receipt.return_fee_invoice.pk if receipt.return_fee_invoice else None,
        },
        journal_entry_id=entry.pk,
    )
    return receipt


def charge_return_fee(receipt: Receipt, code: str, fee: Decimal, *, actor: User) -> Invoice:
    """The fee for a returned payment, charged on an invoice of its own with the catalog's RETURN-FEE
    product (its tax code and revenue account; the fee is its price): issued today, or left a draft for
    the clerk when it cannot be issued in one step (the customer's invoices need approval, a credit
    hold)."""
    amount = round_money(Money(Decimal(fee), receipt.currency), policy=Rounding.EXACT, field="fee").amount
    if amount <= 0:
        raise InvalidAmount(f"a return fee is more than zero, not {amount}", field="fee")
    if not Product.objects.filter(code=RETURN_FEE_PRODUCT, is_active=True).exists():
        raise NotFound(
            f"there is no active product {RETURN_FEE_PRODUCT}: a supervisor sets it up in the catalog (its "
            "tax code and revenue account are the fee's) before a return fee is charged",
            field="fee",
        )
    require_permission(actor, "invoicing.issue")
    line = LineData(
        quantity="1", product_code=RETURN_FEE_PRODUCT, unit_price=amount,
        description=f"Returned payment: receipt {receipt.pk} of {receipt.received_on.isoformat()}, "
        f"{code} {RETURN_CODES[code]}",
    )  # fmt: skip
    invoice = start_draft(
        customer=receipt.customer, actor=actor, currency=receipt.currency, lines=[line],
        reference=f"returned payment {receipt.pk}",
    )  # fmt: skip
    if approval_reason(invoice) or any(check.blocking for check in pre_issue_checks(invoice)):
        return invoice
    return issue_document(invoice, actor=actor, issued_on=None)


def fee_charged(receipt: Receipt) -> str:
    """What became of a returned payment's fee, for the clerk: " A fee of 15.00 EUR is charged on …"."""
    invoice = receipt.return_fee_invoice
    if invoice is None:
        return ""
    if invoice.number:
        return f" A fee of {round_money(invoice.total, invoice.currency)} is charged on {invoice.number}."
    return f" The fee is left as draft invoice {invoice.pk} for review before it is issued."


@transaction.atomic(durable=True)
def reverse_receipt(
    *,
    receipt_id: int,
    return_code: str,
    actor: User,
    reason: str = "",
    on: date | None = None,
    fee: Decimal | None = None,
) -> Receipt:
    """The bank returned the payment: reopen what it paid, remove what it held, post it back to the bank;
    charge the customer a fee when one is given."""
    return return_receipt(
        receipt=locked_receipt(receipt_id), return_code=return_code, reason=reason, actor=actor, on=on,
        fee=fee,
    )  # fmt: skip
