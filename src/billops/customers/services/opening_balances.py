"""Opening balances: what customers owed when their accounts moved to billops from an earlier system."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidAmount, InvalidInput
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import OpeningBalance, OpenItemMovement
from billops.customers.movements import balance_movement, record_movements
from billops.customers.selectors import get_customer
from billops.ledger.accounts import OPENING_BALANCE_EQUITY, RECEIVABLES
from billops.ledger.posting import credit, debit, post_entry


@transaction.atomic(durable=True)
def post_opening_balance(
    *, customer_id: int, amount: Money, balance_on: date, reference: str, actor: User
) -> OpeningBalance:
    """Carry a customer's balance over from the earlier system as one open item on its account.

    A positive amount is owed by the customer (receivables debited, opening balance equity credited);
    a negative one is a credit the customer keeps. A reference is posted once per customer.
    """
    require_permission(actor, "customers.post_opening_balance")
    customer = get_customer(customer_id, for_update=True)
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise InvalidInput(
            "an opening balance needs the earlier system's reference (1 to 100 characters)", field="reference"
        )
    # the currency first: 10.5 JPY for a EUR customer is a wrong currency, not too many decimals
    if amount.currency != customer.currency:
        raise CurrencyMismatch(
            f"{customer.account_number} is billed in {customer.currency}, not {amount.currency}",
            field="currency",
        )
    amount = round_money(amount, policy=Rounding.EXACT)
    if amount.is_zero():
        raise InvalidAmount("an opening balance of zero needs no posting", field="amount")
    if OpeningBalance.objects.filter(customer=customer, reference=reference).exists():
        raise Duplicate(
            f"{customer.account_number} already has an opening balance {reference!r}", field="reference"
        )

    balance = OpeningBalance.objects.create(
        customer=customer,
        currency=amount.currency,
        amount=amount.amount,
        open_amount=amount.amount,
        balance_on=balance_on,
        reference=reference,
        created_by=actor,
    )
    owed = Money(abs(amount.amount), amount.currency)
    receivable = debit if amount.amount > 0 else credit
    equity = credit if amount.amount > 0 else debit
    entry = post_entry(
        on=balance_on,
        lines=[receivable(RECEIVABLES, owed, customer_id=customer.pk), equity(OPENING_BALANCE_EQUITY, owed)],
        memo=f"Opening balance {reference} of {customer.account_number}",
        source=balance,
        actor=actor,
    )
    balance.journal_entry_id = entry.pk
    balance.save(update_fields=["journal_entry_id"])
    record_movements([balance_movement(balance, amount.amount, balance_on, OpenItemMovement.Reason.OPENING)])
    record_event(
        actor=actor,
        action="customers.opening_balance_posted",
        target=customer,
        after={
            "opening_balance": balance.pk,
            "reference": reference,
            "amount": amount.amount,
            "currency": amount.currency,
            "balance_on": balance_on,
        },
        journal_entry_id=entry.pk,
    )
    return balance
