"""Recording money received: our bank accounts, and receipts posted to unapplied cash.

A receipt posts the bank account's ledger account (debit) against unapplied cash on the customer
(credit), in one transaction with its audit event. It stays unapplied until `applications` applies it.
Card payments keep the brand, the last four digits and the processor's reference: never a card number,
and a text that looks like one is refused wherever it is typed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import EventData, record_event, record_events
from billops.core.currencies import validate_currency
from billops.core.errors import (
    CurrencyMismatch,
    Duplicate,
    InvalidAmount,
    InvalidInput,
    UnprocessableReplay,
)
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.ledger.accounts import BANK_CLEARING, UNAPPLIED_CASH, control_account, resolve_account
from billops.ledger.posting import Line, credit, debit, post_entry
from billops.payments.models import BankAccount, Receipt
from billops.payments.selectors import get_bank_account

# 13 to 19 digits, spaces or dashes between them: the shape of a card number (PAN)
CARD_NUMBER = re.compile(r"(?:\d[ -]?){12,18}\d")
CARD_FIELDS = ("card_brand", "card_last4", "processor_reference")
TEXT_LIMITS = {"payer_name": 200, "reference": 100, "card_brand": 20, "processor_reference": 100}


@transaction.atomic(durable=True)
def create_bank_account(
    *, code: str, name: str, currency: str, number: str, actor: User, bic: str = "", ledger_account: str = ""
) -> BankAccount:
    """One of our bank accounts; receipts into it post to `ledger_account` (a code; default bank clearing)."""
    require_permission(actor, "payments.manage_bank_accounts")
    code, number, bic = code.strip().upper(), re.sub(r"\s+", "", number).upper(), bic.strip().upper()
    validate_currency(currency)
    for field, value, limit in (("code", code, 20), ("name", name.strip(), 100), ("number", number, 40)):
        if not value or len(value) > limit:
            raise InvalidInput(f"a bank account's {field} is 1 to {limit} characters", field=field)
    if bic and not re.fullmatch(r"[A-Z0-9]{8}([A-Z0-9]{3})?", bic):
        raise InvalidInput(f"{bic!r} is not a BIC (8 or 11 letters and digits)", field="bic")
    if BankAccount.objects.filter(code=code).exists() or BankAccount.objects.filter(number=number).exists():
        raise Duplicate(f"a bank account {code} or number {number} exists already", field="code")
    account = resolve_account(ledger_account) if ledger_account else control_account(BANK_CLEARING)
    bank = BankAccount.objects.create(
        code=code, name=name.strip(), currency=currency, number=number, bic=bic,
        ledger_account=account,
    )  # fmt: skip
    record_event(
        actor=actor, action="payments.bank_account_created", target=bank,
        after={"code": code, "currency": currency, "number": number, "ledger_account": account.code},
    )  # fmt: skip
    return bank


def _clean_texts(values: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, value in values.items():
        value = (value or "").strip()
        if len(value) > TEXT_LIMITS.get(name, 100):
            raise InvalidInput(f"{name} is longer than {TEXT_LIMITS.get(name, 100)} characters", field=name)
        if CARD_NUMBER.search(value):
            raise InvalidInput(
                f"{name} looks like a card number; billops never stores one: give the brand, the last four "
                "digits and the processor's reference",
                field=name,
            )
        cleaned[name] = value
    return cleaned


def _check_card(method: str, texts: dict[str, str], last4: str) -> None:
    if method == Receipt.Method.CARD:
        if not texts["card_brand"] or not texts["processor_reference"]:
            raise InvalidInput(
                "a card payment needs the card brand and the processor's reference", field="card_brand"
            )
        if not re.fullmatch(r"[0-9]{4}", last4):
            raise InvalidInput("card_last4 must be the last four digits of the card", field="card_last4")
    elif texts["card_brand"] or last4 or texts["processor_reference"]:
        raise InvalidInput(f"card details belong to card payments, not to {method}", field="method")


def _replay(earlier: Receipt, request: dict[str, Any]) -> Receipt:
    """The same key and the same receipt: the first one. The same key for another receipt: refused."""
    recorded = {name: getattr(earlier, name) for name in request}
    if recorded != request:
        changed = sorted(name for name in request if recorded[name] != request[name])
        raise UnprocessableReplay(
            f"the idempotency key {earlier.idempotency_key!r} was used for receipt {earlier.pk} with another "
            f"{', '.join(changed)}",
            field="idempotency_key",
        )
    return earlier


def receipt_request(
    *,
    customer: Customer,
    bank: BankAccount,
    method: str,
    amount: Money,
    received_on: date,
    payer_name: str = "",
    reference: str = "",
    card_brand: str = "",
    card_last4: str = "",
    processor_reference: str = "",
) -> dict[str, Any]:
    """A receipt's fields, each checked (the field at fault named): what `record_receipt` writes, and what
    a retried post with the same idempotency key must repeat."""
    if method not in Receipt.Method.values:
        raise InvalidInput(f"method must be one of {', '.join(Receipt.Method.values)}", field="method")
    if received_on > clock.today():
        raise InvalidInput(
            f"a receipt cannot be dated after today ({clock.today().isoformat()})", field="received_on"
        )
    if amount.currency != customer.currency:
        raise CurrencyMismatch(
            f"{customer.account_number} pays in {customer.currency}, not {amount.currency}", field="currency"
        )
    if bank.currency != amount.currency:
        raise CurrencyMismatch(
            f"bank account {bank.code} holds {bank.currency}, not {amount.currency}", field="currency"
        )
    amount = round_money(amount, policy=Rounding.EXACT)
    if amount.amount <= 0:
        raise InvalidAmount("a receipt is more than zero; a returned payment is reversed", field="amount")
    texts = _clean_texts(
        {"payer_name": payer_name, "reference": reference, "card_brand": card_brand,
         "processor_reference": processor_reference}
    )  # fmt: skip
    last4 = (card_last4 or "").strip()
    _check_card(method, texts, last4)
    return {
        "bank_account_id": bank.pk, "method": method, "amount": amount.amount, "currency": amount.currency,
        "received_on": received_on, "card_last4": last4, **texts,
    }  # fmt: skip


def receipt_posting(receipt: Receipt, customer: Customer, bank: BankAccount) -> tuple[list[Line], str]:
    """The lines and memo of a receipt's entry: the bank account (debit) against unapplied cash (credit)."""
    amount = Money(receipt.amount, receipt.currency)
    lines = [debit(bank.ledger_account, amount), credit(UNAPPLIED_CASH, amount, customer_id=customer.pk)]
    return lines, f"Receipt {receipt.pk} from {customer.account_number} ({receipt.get_method_display()})"


def posted_event(
    receipt: Receipt, customer: Customer, bank: BankAccount, request: dict[str, Any]
) -> EventData:
    """The audit event of a receipt posted, paired with its entry."""
    after = {
        "customer": customer.account_number, "bank_account": bank.code, **request,
        "idempotency_key": receipt.idempotency_key,
    }  # fmt: skip
    return EventData("receipt.posted", receipt, after=after, journal_entry_id=receipt.journal_entry_id)


def record_receipt(
    *,
    customer_id: int,
    bank_account: str,
    method: str,
    amount: Money,
    actor: User,
    received_on: date | None = None,
    payer_name: str = "",
    reference: str = "",
    card_brand: str = "",
    card_last4: str = "",
    processor_reference: str = "",
    idempotency_key: str = "",
    posted_on: date | None = None,
) -> Receipt:
    """Record money a customer paid into one of our bank accounts; it stays unapplied until applied.
    With an idempotency key, posting the same receipt again returns the first one. The building block:
    inside the caller's transaction (`post_receipt`, a bank line resolved in the matching queue)."""
    require_permission(actor, "payments.post")
    customer = get_customer(customer_id, for_update=True)  # serialises a customer's cash
    bank = get_bank_account(bank_account)
    received_on = received_on or clock.today()
    request = receipt_request(
        customer=customer, bank=bank, method=method, amount=amount, received_on=received_on,
        payer_name=payer_name, reference=reference, card_brand=card_brand, card_last4=card_last4,
        processor_reference=processor_reference,
    )  # fmt: skip
    key = (idempotency_key or "").strip()
    if key:
        earlier = Receipt.objects.filter(customer=customer, idempotency_key=key).first()
        if earlier is not None:
            return _replay(earlier, request)
    receipt = Receipt.objects.create(
        customer=customer, unapplied_amount=request["amount"], idempotency_key=key, created_by=actor,
        **request,
    )  # fmt: skip
    lines, memo = receipt_posting(receipt, customer, bank)
    entry = post_entry(on=posted_on or received_on, lines=lines, memo=memo, source=receipt, actor=actor)
    receipt.journal_entry_id = entry.pk
    receipt.save(update_fields=["journal_entry_id"])
    record_events(actor=actor, events=[posted_event(receipt, customer, bank, request)])
    return receipt


# the service: one receipt in a transaction of its own
post_receipt = transaction.atomic(durable=True)(record_receipt)
