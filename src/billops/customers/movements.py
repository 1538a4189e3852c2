"""The dated history of the receivables subledger (`OpenItemMovement`): every service that changes an open
item's open amount writes the change here in the same transaction, dated with its business day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from billops.core.db import insert_rows
from billops.customers.models import OpeningBalance, OpenItemMovement

Kind, Reason = OpenItemMovement.Kind, OpenItemMovement.Reason


def balance_movement(balance: OpeningBalance, amount: Decimal, on: date, reason: str) -> OpenItemMovement:
    """The change of an opening balance's open amount by `amount` on a day (an opening balance falls due on
    its cut-over date)."""
    return OpenItemMovement(
        item_kind=Kind.OPENING_BALANCE, item_id=balance.pk, customer_id=balance.customer_id, entity_id=None,
        currency=balance.currency, document_on=balance.balance_on, due_on=balance.balance_on, moved_on=on,
        amount=amount, reason=reason,
    )  # fmt: skip


def record_movements(movements: Iterable[OpenItemMovement]) -> None:
    """Write the changes, in the caller's transaction; a change of nothing is no movement."""
    insert_rows([movement for movement in movements if movement.amount])
