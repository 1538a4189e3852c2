"""Cash application: a receipt's unapplied cash applied to the customer's open items, and unapplied again.

Applying posts unapplied cash (debit) against receivables (credit) on the customer, one entry per call
with a line pair per item, and lowers each item's open amount (an invoice becomes partly paid or paid).
With the cash an item can take an early-payment discount inside its window (to discounts allowed), and
what the payment left short can be written off to close it (to payment differences): within the
currency's write-off tolerance by anyone who applies cash, beyond it by a supervisor only.
Without a list of items it applies oldest first: opening balances, then invoices by due date. What is
left stays on the receipt as a credit on the customer's account. Unapplying one application posts the
mirror entry and opens the item again; both are audited with who did it and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can, require_permission
from billops.audit.services import EventData, record_event, record_events
from billops.catalog.models import TaxCode
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import OpeningBalance, OpenItemMovement
from billops.customers.movements import balance_movement, record_movements
from billops.customers.selectors import get_customer
from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus
from billops.invoicing.movements import document_movement
from billops.invoicing.services.corrections import settlement_status
from billops.ledger.accounts import DISCOUNTS, PAYMENT_DIFFERENCES, RECEIVABLES, TAX_PAYABLE, UNAPPLIED_CASH
from billops.ledger.posting import Line, credit, debit, opposite, post_entry
from billops.payments.models import Application, Receipt
from billops.payments.selectors import tolerance_for
from billops.payments.services.tolerances import write_off_limit

OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
OpenItem = Invoice | OpeningBalance


@dataclass(frozen=True, slots=True)
class Allocation:
    """Apply `amount` (None: as much as is open and left) to the invoice numbered `invoice_number`, take
    `discount` off it (the early-payment discount its terms offered, inside their window) and write off
    `write_off`, what the payment leaves open of it (a bank fee, a short pay)."""

    invoice_number: str
    amount: Decimal | None = None
    discount: Decimal = Decimal(0)
    write_off: Decimal = Decimal(0)


@dataclass(slots=True)
class Applied:
    """One item a receipt pays: the cash applied, the discount allowed (and the VAT in it) and the
    shortfall written off."""

    item: OpenItem
    amount: Decimal
    discount: Decimal = Decimal(0)
    written_off: Decimal = Decimal(0)
    discount_vat: Decimal = Decimal(0)

    @property
    def settled(self) -> Decimal:
        """What comes off the item's open amount."""
        return self.amount + self.discount + self.written_off


def discount_offered(
    *, total: Decimal, open_amount: Decimal, percent: Decimal, until: date | None, on: date, currency: str
) -> Decimal:
    """The early-payment discount an invoice offers when paid on `on`: its percent of the total, while the
    invoice is untouched (nothing paid or credited yet) and `on` is inside the window; else 0."""
    if not percent or until is None or on > until or open_amount != total:
        return Decimal(0)
    return round_money(total * percent / 100, currency).amount


def discount_vat(invoice: Invoice, discount: Decimal) -> Decimal:
    """The VAT in an early-payment discount: the invoice's VAT in proportion to the discount, since a
    discount taken lowers what the VAT is due on (US sales tax is left as it was charged)."""
    if not discount:
        return Decimal(0)
    vat = sum(
        (
            tax.tax
            for tax in invoice.taxes.select_related("tax_code")
            if tax.tax_code.kind != TaxCode.Kind.SALES_TAX
        ),
        Decimal(0),
    )
    return round_money(Money(discount * vat / invoice.total, invoice.currency)).amount


def early_discount(invoice: Invoice, on: date) -> Decimal:
    return discount_offered(
        total=invoice.total, open_amount=invoice.open_amount, percent=invoice.early_discount_percent,
        until=invoice.early_discount_until, on=on, currency=invoice.currency,
    )  # fmt: skip


def locked_receipt(receipt_id: int) -> Receipt:
    receipt = Receipt.objects.filter(pk=receipt_id).values_list("customer_id", flat=True).first()
    if receipt is None:
        raise NotFound(f"there is no receipt {receipt_id}", field="receipt_id")
    get_customer(receipt, for_update=True)  # the customer first, as every service that moves money
    return Receipt.objects.select_for_update().get(pk=receipt_id)


def _open_invoices(customer_id: int) -> list[Invoice]:
    return list(
        Invoice.objects.select_for_update()
        .filter(
            customer_id=customer_id, document_type=DocumentType.INVOICE, status__in=OPEN_STATUSES,
            open_amount__gt=0,
        )
        .order_by("due_on", "issued_on", "number")
    )  # fmt: skip


def has_open_items(customer_id: int, currency: str) -> bool:
    """Whether the customer has anything open to apply cash to."""
    invoices = Invoice.objects.filter(
        customer_id=customer_id,
        document_type=DocumentType.INVOICE,
        status__in=OPEN_STATUSES,
        open_amount__gt=0,
    )
    balances = OpeningBalance.objects.filter(customer_id=customer_id, currency=currency, open_amount__gt=0)
    return invoices.exists() or balances.exists()


Chosen = list[Applied]


def _oldest_first(receipt: Receipt) -> Chosen:
    """The customer's open items, opening balances first, then invoices by due date, as far as the
    receipt's unapplied cash goes."""
    balances = OpeningBalance.objects.select_for_update().filter(
        customer_id=receipt.customer_id, open_amount__gt=0, currency=receipt.currency
    )
    items: list[OpenItem] = [*balances.order_by("balance_on", "pk"), *_open_invoices(receipt.customer_id)]
    left, chosen = receipt.unapplied_amount, []
    for item in items:
        if left <= 0:
            break
        amount = min(left, item.open_amount)
        chosen.append(Applied(item, amount))
        left -= amount
    return chosen


def choose(
    receipt: Receipt,
    allocations: Sequence[Allocation],
    on: date,
    open_by_number: dict[str, Invoice],
    actor: User,
) -> Chosen:
    """The invoices the clerk named, each checked against the customer's invoices by number (locked): open,
    in the receipt's currency, no more than is open; in all no more than the receipt has left."""
    chosen: Chosen = []
    left = receipt.unapplied_amount
    for index, allocation in enumerate(allocations, start=1):
        field = f"allocations[{index}]"
        invoice = open_by_number.get(allocation.invoice_number.strip().upper())
        if invoice is None or invoice.open_amount <= 0:
            raise InvalidInput(
                f"{allocation.invoice_number!r} is not an open invoice of this receipt's customer",
                field=field,
            )
        if invoice.currency != receipt.currency:
            raise CurrencyMismatch(
                f"{invoice.number} is in {invoice.currency}, the receipt in {receipt.currency}", field=field
            )
        if any(applied.item is invoice for applied in chosen):
            raise InvalidInput(f"{invoice.number} is named twice", field=field)
        amount = min(left, invoice.open_amount) if allocation.amount is None else allocation.amount
        amount = round_money(Money(Decimal(amount), receipt.currency), policy=Rounding.EXACT).amount
        if amount <= 0:
            raise InvalidAmount(f"the amount applied to {invoice.number} must be more than zero", field=field)
        discount = allocation.discount
        if discount:
            offered = early_discount(invoice, on)
            if discount != offered:
                offer = shown(offered, receipt) if offered else "no"
                raise InvalidAmount(
                    f"{invoice.number} offers {offer} early-payment discount on {on.isoformat()}, "
                    f"not {discount}",
                    field=field,
                )
        if amount + discount > invoice.open_amount:
            still_open = shown(invoice.open_amount, receipt)
            raise InvalidAmount(
                f"{invoice.number} has {still_open} {invoice.currency} open, not {amount}", field=field
            )
        written_off = _write_off(invoice, allocation.write_off, invoice.open_amount - amount - discount,
                                 actor=actor, field=field)  # fmt: skip
        if amount > left:
            raise InvalidAmount(
                f"receipt {receipt.pk} has {shown(left, receipt)} {receipt.currency} left to apply; "
                f"{invoice.number} would take {amount}",
                field=field,
            )
        chosen.append(Applied(invoice, amount, discount, written_off, discount_vat(invoice, discount)))
        left -= amount
    return chosen


def _write_off(invoice: Invoice, asked: Decimal, left_open: Decimal, *, actor: User, field: str) -> Decimal:
    """The write-off asked for, checked: exactly what the payment leaves open of the invoice (it closes
    it), and within the currency's tolerance unless a supervisor writes it off."""
    if not asked:
        return Decimal(0)
    currency = invoice.currency
    try:
        written_off = round_money(
            Money(Decimal(asked), currency), policy=Rounding.EXACT, field="write-off"
        ).amount
    except InvalidAmount as exc:
        raise InvalidAmount(f"{invoice.number}: {exc.message}", field=field) from None
    if written_off < 0:
        raise InvalidAmount(f"the write-off on {invoice.number} must not be negative", field=field)
    if written_off != left_open:
        still_open = round_money(left_open, currency).amount
        raise InvalidAmount(
            f"a write-off closes the invoice: {invoice.number} would have {still_open} {currency} open after "
            f"the payment, not {written_off}",
            field=field,
        )
    limit = write_off_limit(tolerance_for(currency), invoice.total)
    if written_off > limit and not can(actor, "payments.write_off_above_tolerance"):
        raise PermissionDenied(
            f"{written_off} {currency} is more than the write-off tolerance on {invoice.number} "
            f"({limit} {currency}); a supervisor writes it off",
            field=field,
        )
    return written_off


def lower_open_amount(item: OpenItem, amount: Decimal) -> None:
    """Take `amount` off what the item has open (a negative amount opens it again), in memory: an invoice
    becomes partly paid, paid, or issued again."""
    item.open_amount -= amount
    if isinstance(item, Invoice):
        item.status = settlement_status(item)


def item_movement(item: OpenItem, settled: Decimal, on: date, reason: str = "") -> OpenItemMovement:
    """The subledger movement of settling `settled` of the item on a day (negative: opened again); the
    reason is a payment's unless another is given."""
    reason = reason or (OpenItemMovement.Reason.APPLIED if settled > 0 else OpenItemMovement.Reason.UNAPPLIED)
    if isinstance(item, Invoice):
        return document_movement(item, -settled, on, reason)
    return balance_movement(item, -settled, on, reason)


def settle(item: OpenItem, amount: Decimal, on: date, reason: str = "") -> None:
    """Take `amount` off what the item has open on a day (a negative amount opens it again), and keep the
    change in the subledger's history (a payment's, unless another reason is given: a write-off)."""
    lower_open_amount(item, amount)
    item.save(update_fields=["open_amount", "status"] if isinstance(item, Invoice) else ["open_amount"])
    record_movements([item_movement(item, amount, on, reason)])


def _target(item: OpenItem) -> dict[str, object]:
    return {"invoice": item} if isinstance(item, Invoice) else {"opening_balance": item}


def _label(item: OpenItem) -> str:
    return (item.number or "") if isinstance(item, Invoice) else f"opening balance {item.reference}"


def shown(amount: Decimal, receipt: Receipt) -> Decimal:
    """An amount to its currency's places, as the audit trail and the replies show it."""
    return round_money(Money(amount, receipt.currency)).amount


@transaction.atomic(durable=True)
def apply_receipt(
    *,
    receipt_id: int,
    actor: User,
    allocations: Sequence[Allocation] | None = None,
    applied_on: date | None = None,
) -> list[Application]:
    """Apply a receipt's unapplied cash to the invoices named, or oldest first; returns the applications.
    What is left stays unapplied, a credit on the customer's account."""
    return apply_cash(
        receipt=locked_receipt(receipt_id), actor=actor, allocations=allocations, applied_on=applied_on
    )


def apply_cash(
    *,
    receipt: Receipt,
    actor: User,
    allocations: Sequence[Allocation] | None = None,
    applied_on: date | None = None,
) -> list[Application]:
    """`apply_receipt`'s building block, inside the caller's transaction, the receipt and its customer
    locked by the caller."""
    require_permission(actor, "payments.apply")
    if receipt.status != Receipt.Status.POSTED:
        raise Conflict(
            f"receipt {receipt.pk} is {receipt.status}; nothing of it is applied", field="receipt_id"
        )
    if receipt.unapplied_amount <= 0:
        raise Conflict(f"receipt {receipt.pk} is applied in full already", field="receipt_id")
    applied_on = applied_on or clock.today()
    if applied_on < receipt.received_on:
        raise InvalidInput("cash is applied on or after the day it was received", field="applied_on")
    if allocations:
        open_by_number = {invoice.number or "": invoice for invoice in _open_invoices(receipt.customer_id)}
        chosen = choose(receipt, allocations, applied_on, open_by_number, actor)
    else:
        chosen = _oldest_first(receipt)
    if not chosen:
        raise Conflict(f"{receipt.customer.account_number} has no open item to apply receipt {receipt.pk} to")
    lines, memo = application_posting(receipt, chosen)
    entry = post_entry(on=applied_on, lines=lines, memo=memo, source=receipt, actor=actor)
    for applied in chosen:
        settle(applied.item, applied.settled, applied_on)
    applications = new_applications(receipt, chosen, applied_on=applied_on, entry_id=entry.pk, actor=actor)
    Application.objects.bulk_create(applications)
    receipt.save(update_fields=["unapplied_amount"])
    how = "chosen" if allocations else "oldest first"
    record_events(actor=actor, events=[applied_event(receipt, chosen, entry.pk, how=how)])
    return applications


def application_posting(receipt: Receipt, chosen: Chosen) -> tuple[list[Line], str]:
    """The lines and memo of the entry applying a receipt: unapplied cash (debit) against receivables
    (credit) per item; the early-payment discount allowed and the shortfall written off against
    receivables too."""
    lines: list[Line] = []
    customer_id = receipt.customer_id
    for applied in chosen:
        label = _label(applied.item)
        for account, amount, memo in (
            (UNAPPLIED_CASH, applied.amount, label),
            (DISCOUNTS, applied.discount - applied.discount_vat, f"early-payment discount {label}"),
            (TAX_PAYABLE, applied.discount_vat, f"VAT in the early-payment discount {label}"),
            (PAYMENT_DIFFERENCES, applied.written_off, f"short payment written off {label}"),
        ):
            if amount:
                money = Money(amount, receipt.currency)
                on_customer = customer_id if account == UNAPPLIED_CASH else None
                lines += [
                    debit(account, money, customer_id=on_customer, memo=memo),
                    credit(RECEIVABLES, money, customer_id=customer_id, memo=label),
                ]
    return lines, f"Receipt {receipt.pk} applied"


def new_applications(
    receipt: Receipt, chosen: Chosen, *, applied_on: date, entry_id: int, actor: User
) -> list[Application]:
    """The application rows of what was chosen, not yet written; the receipt's unapplied cash lowered."""
    applications = [
        Application(
            receipt=receipt, customer_id=receipt.customer_id, currency=receipt.currency,
            amount=applied.amount, discount=applied.discount, written_off=applied.written_off,
            discount_vat=applied.discount_vat,
            applied_on=applied_on, journal_entry_id=entry_id, created_by=actor, **_target(applied.item),
        )
        for applied in chosen
    ]  # fmt: skip
    receipt.unapplied_amount -= sum((applied.amount for applied in chosen), Decimal(0))
    return applications


def applied_event(receipt: Receipt, chosen: Chosen, entry_id: int, *, how: str) -> EventData:
    """The audit event of a receipt applied, paired with its entry."""
    after = {
        "applied": [
            {
                "item": _label(applied.item),
                "amount": shown(applied.amount, receipt),
                "discount": shown(applied.discount, receipt),
                "written_off": shown(applied.written_off, receipt),
            }
            for applied in chosen
        ],
        "unapplied_amount": shown(receipt.unapplied_amount, receipt),
        "how": how,
    }
    return EventData("receipt.applied", receipt, after=after, journal_entry_id=entry_id)


@transaction.atomic(durable=True)
def unapply_application(
    *, application_id: int, reason: str, actor: User, on: date | None = None
) -> Application:
    """Take one application back: the item is open again by its amount and the cash unapplied again."""
    require_permission(actor, "payments.apply")
    found = Application.objects.filter(pk=application_id).values_list("receipt_id", flat=True).first()
    if found is None:
        raise NotFound(f"there is no application {application_id}", field="application_id")
    receipt = locked_receipt(found)
    application = Application.objects.select_for_update().get(pk=application_id)
    if not application.is_active:
        raise Conflict(f"application {application.pk} was unapplied already", field="application_id")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the application is taken back", field="reason")
    on = on or clock.today()
    item: OpenItem
    if application.invoice_id:
        item = Invoice.objects.select_for_update().get(pk=application.invoice_id)
    else:
        item = OpeningBalance.objects.select_for_update().get(pk=application.opening_balance_id or 0)
    label = _label(item)
    # the discount and the write-off taken with it are taken back too
    applied = Applied(
        item, application.amount, application.discount, application.written_off, application.discount_vat
    )
    lines, _ = application_posting(receipt, [applied])
    entry = post_entry(
        on=on,
        lines=opposite(lines),
        memo=f"Receipt {receipt.pk} unapplied from {label}: {reason}"[:200],
        source=receipt,
        actor=actor,
    )
    settle(item, -applied.settled, on)
    receipt.unapplied_amount += application.amount
    receipt.save(update_fields=["unapplied_amount"])
    application.unapplied_on, application.unapply_reason = on, reason[:300]
    application.unapply_entry, application.unapplied_by = entry, actor
    application.save(update_fields=["unapplied_on", "unapply_reason", "unapply_entry", "unapplied_by"])
    record_event(
        actor=actor,
        action="receipt.unapplied",
        target=receipt,
        after={
            "application": application.pk,
            "item": label,
            "amount": shown(application.amount, receipt),
            "reason": reason,
        },
        journal_entry_id=entry.pk,
    )
    return application
