"""What the dispute tests share: issued invoices to dispute, the books as a fingerprint ("nothing
changed"), a journal entry's lines, and `billops check` clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.cli.invariants import check_all
from billops.customers.models import Customer
from billops.disputes.models import DisputeAttachment, DisputeCase, DisputedLine, DisputeNote
from billops.invoicing.models import CreditAllocation, Invoice, InvoiceLine, NumberSeries
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry, JournalLine

ISSUED_ON = date(2026, 3, 5)
TODAY = date(2026, 3, 10)  # the business date the tests run on


def issue(customer: Customer, actor: User, *lines: LineData, issued_on: date = ISSUED_ON) -> Invoice:
    """An issued invoice; by default 2 hours of consulting (300.00 + 57.00 VAT = 357.00) and 3 handbooks
    (74.85 + 5.24 VAT = 80.09): 437.09 EUR."""
    lines = lines or (
        LineData(quantity="2", product_code="CONSULT"),
        LineData(quantity="3", product_code="BOOK"),
    )
    return invoice_now(customer_id=customer.pk, lines=lines, actor=actor, issued_on=issued_on)


def one_line(customer: Customer, actor: User, price: str) -> Invoice:
    """An issued invoice of one line at the price, VAT 19 % on top."""
    line = LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")
    return issue(customer, actor, line)


def state() -> dict[str, Any]:
    """Everything a dispute action could change: cases and their rows, invoices, the ledger, the audit."""
    return {
        "cases": list(DisputeCase.objects.order_by("pk").values()),
        "disputed_lines": list(DisputedLine.objects.order_by("pk").values()),
        "notes": DisputeNote.objects.count(),
        "attachments": DisputeAttachment.objects.count(),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list("pk", "status", "open_amount", "credited_amount")
        ),
        "invoice_lines": InvoiceLine.objects.count(),
        "allocations": CreditAllocation.objects.count(),
        "series": list(NumberSeries.objects.order_by("pk").values_list("pk", "next_number")),
        "entries": JournalEntry.objects.count(),
        "journal_lines": JournalLine.objects.count(),
        "events": AuditEvent.objects.count(),
    }


@contextmanager
def unchanged() -> Iterator[None]:
    """`with unchanged(): ...` asserts the block changed nothing a dispute action could change."""
    before = state()
    yield
    assert state() == before


def entry_lines(entry_id: int | None) -> list[tuple[str, Decimal, Decimal]]:
    entry = JournalEntry.objects.get(pk=entry_id)
    return sorted((line.account.code, line.debit, line.credit) for line in entry.lines.all())


def all_ok() -> None:
    """Every invariant of `billops check` holds; the failing ones' problems otherwise."""
    report = check_all()
    assert {name: r["problems"] for name, r in report["invariants"].items() if not r["ok"]} == {}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))
