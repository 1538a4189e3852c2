"""Building ledger data for tests the way the services do, and reading the whole book back to compare."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory
from django.db import transaction

from billops.audit.models import AuditEvent
from billops.audit.services import record_event
from billops.core.money import Money
from billops.ledger.models import (
    Account,
    AccountDayBalance,
    AccountingPeriod,
    AccountType,
    JournalEntry,
    JournalLine,
)
from billops.ledger.posting import Line, post_entry
from billops.ledger.services import post_manual_entry


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    code = factory.Sequence(lambda n: f"5{n:03d}")
    name = factory.Sequence(lambda n: f"Test account {n}")
    type = AccountType.EXPENSE


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def money(text: str, currency: str) -> Money:
    return Money(Decimal(text), currency)


def post(actor: Any, *lines: Line, on: date = date(2025, 3, 14), memo: str = "test entry") -> JournalEntry:
    """A manual entry through the durable service (supervisor)."""
    return post_manual_entry(on=on, lines=list(lines), memo=memo, actor=actor)


def post_in_transaction(
    actor: Any, *lines: Line, on: date = date(2025, 3, 14), memo: str = "test"
) -> JournalEntry:
    """The building block on its own, inside a transaction, as a business service would call it."""
    with transaction.atomic():
        return post_entry(on=on, lines=list(lines), memo=memo, actor=actor, source=("tests.document", "1"))


def post_document(
    actor: Any,
    *lines: Line,
    source: tuple[str, str],
    on: date = date(2025, 3, 14),
    memo: str = "test document",
    action: str = "tests.document_posted",
) -> JournalEntry:
    """An entry as a business document's service posts it (the only way onto receivables and unapplied
    cash): the building block and the one audit event naming the entry, in one transaction."""
    with transaction.atomic():
        entry = post_entry(on=on, lines=list(lines), memo=memo, actor=actor, source=source)
        record_event(actor=actor, action=action, target=entry, journal_entry_id=entry.id)
    return entry


def book_state() -> dict[str, Any]:
    """Everything a posting could change, to assert that a refused action changed nothing."""
    return {
        "entries": list(JournalEntry.objects.order_by("id").values_list("id", "digest")),
        "lines": list(
            JournalLine.objects.order_by("id").values_list(
                "id", "entry_id", "account_id", "currency", "debit", "credit"
            )
        ),
        "day_balances": list(
            AccountDayBalance.objects.order_by("id").values_list(
                "account_id", "currency", "posted_on", "debit_total", "credit_total"
            )
        ),
        "periods": list(AccountingPeriod.objects.order_by("start_on").values_list("start_on", "status")),
        "accounts": list(
            Account.objects.order_by("id").values_list("code", "name", "type", "purpose", "is_active")
        ),
        "events": AuditEvent.objects.count(),
    }
