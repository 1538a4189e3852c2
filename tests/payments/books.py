"""What the payments tests share: amounts in euros, `billops check` clean, and "nothing changed"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from billops.audit.models import AuditEvent
from billops.cli.invariants import check_all
from billops.core.money import Money
from billops.customers.models import OpenItemMovement
from billops.invoicing.models import Invoice
from billops.ledger.models import JournalEntry
from billops.payments.models import (
    Application,
    AppliedRemittance,
    BankLine,
    PayerAccount,
    Receipt,
    Refund,
    StatementFile,
    WriteOffTolerance,
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def all_ok() -> None:
    """Every invariant of `billops check` holds; the failing ones' problems otherwise."""
    report = check_all()
    assert {name: r["problems"] for name, r in report["invariants"].items() if not r["ok"]} == {}


def state() -> dict[str, Any]:
    """Everything a payments action could change."""
    return {
        "receipts": list(
            Receipt.objects.order_by("pk").values_list("pk", "status", "amount", "unapplied_amount")
        ),
        "applications": list(
            Application.objects.order_by("pk").values_list(
                "pk", "amount", "discount", "written_off", "unapplied_on", "unapply_entry_id"
            )
        ),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status", "open_amount")),
        "refunds": Refund.objects.count(),
        "bank_lines": list(
            BankLine.objects.order_by("pk").values_list("pk", "status", "receipt_id", "reason")
        ),
        "files": StatementFile.objects.count(),
        "payer_accounts": PayerAccount.objects.count(),
        "remittances": AppliedRemittance.objects.count(),
        "tolerances": list(
            WriteOffTolerance.objects.order_by("pk").values_list("currency", "max_amount", "max_percent")
        ),
        "entries": JournalEntry.objects.count(),
        "movements": OpenItemMovement.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@contextmanager
def unchanged() -> Iterator[None]:
    """`with unchanged(): ...` asserts the block changed nothing a payments action could change."""
    before = state()
    yield
    assert state() == before
