"""What payments tells the apps downstream of it (DESIGN.md's flow) while it works: they register a
listener when they start, and payments calls it inside its own transaction, so what the listener writes
commits or rolls back with the payment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from billops.access.models import User


@dataclass(frozen=True, slots=True)
class DeductionLeftOpen:
    """A customer kept back part of an invoice in its remittance advice, and it stays open on the invoice."""

    invoice_id: int
    amount: Decimal
    reason: str  # as the advice gives it ("damaged goods", a code)
    reference: str  # the advice's payment reference and row, unique per deduction
    actor: User


DeductionListener = Callable[[DeductionLeftOpen], object]
_deduction_listeners: list[DeductionListener] = []


def on_deduction_left_open(listener: DeductionListener) -> None:
    """Registered by the disputes app, which opens a case for each deduction."""
    if listener not in _deduction_listeners:
        _deduction_listeners.append(listener)


def deduction_left_open(deduction: DeductionLeftOpen) -> None:
    for listener in _deduction_listeners:
        listener(deduction)
