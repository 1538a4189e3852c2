"""Remittance advice applied: one payment's statement of the invoices it pays, applied to its receipt.

Each line's amount paid is applied to its invoice through cash application (`applications.apply_cash`),
in one transaction, as a clerk naming the invoices would. What the customer kept back (a deduction, a
discount taken) is written off with the payment when it is all the invoice had left open and within the
currency's write-off tolerance; otherwise it stays open on the invoice, and the result and the audit
event list it for a clerk to follow up. The advice is checked whole first; a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import Conflict, CurrencyMismatch, Duplicate, InvalidAmount
from billops.invoicing.models import DocumentType, Invoice
from billops.payments.hooks import DeductionLeftOpen, deduction_left_open
from billops.payments.models import Application, AppliedRemittance, Receipt
from billops.payments.remittance import (
    MAX_FILE_BYTES,
    XLSX_MAGIC,
    RemittanceAdvice,
    RemittanceRejected,
    amount_problem,
    check_total,
    parse_edi_820,
    parse_remittance_csv,
    parse_remittance_xlsx,
)
from billops.payments.selectors import tolerance_for
from billops.payments.services.applications import (
    OPEN_STATUSES,
    Allocation,
    apply_cash,
    locked_receipt,
    shown,
)
from billops.payments.services.tolerances import write_off_limit


@dataclass(frozen=True, slots=True)
class RemittanceRow:
    """One line of the advice as applied: what was paid and kept back, and the invoice afterwards."""

    row: int
    place: str  # "row 3", or "segment 9 (RMR)" in an X12 820
    invoice_number: str
    paid: Decimal
    deduction: Decimal  # kept back by the customer
    written_off: Decimal  # the deduction written off (within the tolerance, closing the invoice), or 0
    reason: str
    open_amount: Decimal  # the invoice's open amount after the advice
    status: str  # the invoice's status after the advice

    def audited(self) -> dict[str, object]:
        return {"row": self.row, "invoice": self.invoice_number, "paid": self.paid,
                "deduction": self.deduction, "written_off": self.written_off,
                "reason": self.reason}  # fmt: skip

    @property
    def left_open(self) -> Decimal:
        """The deduction still open on the invoice for a clerk to follow up."""
        return self.deduction - self.written_off


@dataclass(frozen=True, slots=True)
class RemittanceResult:
    receipt: Receipt
    rows: list[RemittanceRow]
    applications: list[Application]

    @property
    def deductions(self) -> list[RemittanceRow]:
        """The rows whose deduction is left open on the invoice."""
        return [row for row in self.rows if row.left_open > 0]

    @property
    def paid_total(self) -> Decimal:
        return sum((row.paid for row in self.rows), Decimal(0))

    @property
    def unapplied_amount(self) -> Decimal:
        """What is left on the receipt after the advice."""
        return shown(self.receipt.unapplied_amount, self.receipt)

    @property
    def deduction_total(self) -> Decimal:
        """The deductions left open."""
        return sum((row.left_open for row in self.rows), Decimal(0))

    @property
    def written_off_total(self) -> Decimal:
        return sum((row.written_off for row in self.rows), Decimal(0))


def read_remittance(data: bytes, file_name: str) -> RemittanceAdvice:
    """Read an advice in whichever format it is: an XLSX workbook (its zip signature, or a name ending
    .xlsx), an X12 820 (it starts with ISA, or its name ends .edi, .x12 or .820), else CSV."""
    if len(data) > MAX_FILE_BYTES:
        raise RemittanceRejected(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    name = file_name.strip().lower()
    if data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        return parse_remittance_xlsx(data)
    if data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"ISA") or name.endswith(
        (".edi", ".x12", ".820")
    ):
        return parse_edi_820(data)
    return parse_remittance_csv(data)


@transaction.atomic(durable=True)
def apply_remittance(*, receipt_id: int, advice: RemittanceAdvice, actor: User) -> RemittanceResult:
    """Apply a receipt to the invoices its remittance advice names, each by the amount paid on it.
    A deduction is written off when it closes the invoice within the tolerance; else it stays open, and
    the result lists it."""
    require_permission(actor, "payments.apply")
    check_total(advice)
    receipt = locked_receipt(receipt_id)  # the customer, then the receipt, as apply_receipt locks them
    digest = advice.digest()
    _refuse_applied_before(digest)
    if receipt.status != Receipt.Status.POSTED:
        raise Conflict(
            f"receipt {receipt.pk} is {receipt.status}; nothing of it is applied", field="receipt_id"
        )
    currency = receipt.currency
    if advice.currency and advice.currency != currency:
        raise CurrencyMismatch(
            f"the remittance advice is in {advice.currency}, receipt {receipt.pk} in {currency}", field="file"
        )
    for line in advice.lines:
        for what, amount in (("amount paid", line.amount_paid), ("deduction", line.deduction)):
            problem = amount_problem(amount, currency)
            if problem:
                raise RemittanceRejected(f"{advice.place(line)}: the {what} {problem}", row=line.row)
    if advice.paid_total <= 0:
        raise InvalidAmount("the remittance advice pays nothing on any invoice", field="file")
    if advice.paid_total > receipt.unapplied_amount:
        raise InvalidAmount(
            f"the remittance advice pays {shown(advice.paid_total, receipt)} {currency}, but receipt "
            f"{receipt.pk} has {shown(receipt.unapplied_amount, receipt)} {currency} unapplied",
            field="file",
        )
    invoices = _named_invoices(receipt, advice)
    write_offs = [
        _tolerated(line.amount_paid, line.deduction, invoice)
        for line, invoice in zip(advice.lines, invoices, strict=True)
    ]
    applications = apply_cash(
        receipt=receipt,
        actor=actor,
        allocations=[
            Allocation(line.invoice_number, line.amount_paid, write_off=write_off)
            for line, write_off in zip(advice.lines, write_offs, strict=True)
            if line.amount_paid
        ],
    )
    settled = Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).in_bulk()
    rows = [
        RemittanceRow(
            row=line.row,
            place=advice.place(line),
            invoice_number=invoice.number or "",
            paid=shown(line.amount_paid, receipt),
            deduction=shown(line.deduction, receipt),
            written_off=shown(write_off, receipt),
            reason=line.reason,
            open_amount=shown(settled[invoice.pk].open_amount, receipt),
            status=settled[invoice.pk].status,
        )
        for line, invoice, write_off in zip(advice.lines, invoices, write_offs, strict=True)
    ]
    try:
        with transaction.atomic():  # another clerk applying the same advice to another customer's receipt
            AppliedRemittance.objects.create(
                digest=digest, receipt=receipt, format=advice.format,
                payment_reference=advice.payment_reference[:100], rows=len(advice.lines), applied_by=actor,
            )  # fmt: skip
    except IntegrityError:
        _refuse_applied_before(digest)
        raise
    record_event(
        actor=actor,
        action="receipt.remittance_applied",
        target=receipt,
        after={
            "format": advice.format,
            "payer": advice.payer,
            "digest": digest,
            "payment_reference": advice.payment_reference,
            "rows": [row.audited() for row in rows],
            "deductions_written_off": shown(sum(write_offs, Decimal(0)), receipt),
            "deductions_left_open": shown(advice.deduction_total - sum(write_offs, Decimal(0)), receipt),
            "unapplied_amount": shown(receipt.unapplied_amount, receipt),
            # the entry is the receipt.applied event's: an entry has one event
            "journal_entry": applications[0].journal_entry_id,
        },
    )
    reference = advice.payment_reference or f"receipt {receipt.pk}"
    for row, invoice in zip(rows, invoices, strict=True):
        if row.left_open > 0:
            deduction_left_open(
                DeductionLeftOpen(
                    invoice_id=invoice.pk, amount=row.left_open, reason=row.reason,
                    reference=f"{reference} {row.place}"[:100], actor=actor,
                )
            )  # fmt: skip
    return RemittanceResult(receipt=receipt, rows=rows, applications=applications)


def _refuse_applied_before(digest: str) -> None:
    earlier = AppliedRemittance.objects.select_related("applied_by").filter(digest=digest).first()
    if earlier is not None:
        raise Duplicate(
            f"this remittance advice was applied before, to receipt {earlier.receipt_id} on "
            f"{earlier.applied_at:%Y-%m-%d} by {earlier.applied_by.username}; nothing is applied again",
            field="file",
        )


def _tolerated(paid: Decimal, deduction: Decimal, invoice: Invoice) -> Decimal:
    """The deduction, when it is all the payment leaves open of the invoice and within the tolerance of
    its currency: written off with the payment; else 0 (it stays open)."""
    if not paid or not deduction or paid + deduction != invoice.open_amount:
        return Decimal(0)
    return (
        deduction
        if deduction <= write_off_limit(tolerance_for(invoice.currency), invoice.total)
        else Decimal(0)
    )


def _named_invoices(receipt: Receipt, advice: RemittanceAdvice) -> list[Invoice]:
    """Each line's invoice, locked: an open invoice of the receipt's customer, in its currency, with at
    least the amount paid on it still open. A line that names another refuses the whole advice."""
    lines = advice.lines
    numbers = [line.invoice_number.strip().upper() for line in lines]
    found = {
        invoice.number: invoice
        for invoice in Invoice.objects.select_for_update().filter(
            customer_id=receipt.customer_id, document_type=DocumentType.INVOICE, number__in=numbers
        )
    }
    invoices = []
    account, currency = receipt.customer.account_number, receipt.currency
    for line, number in zip(lines, numbers, strict=True):
        invoice, place = found.get(number), advice.place(line)
        if invoice is None or invoice.status not in OPEN_STATUSES or invoice.open_amount <= 0:
            now = f" (it is {invoice.get_status_display().lower()})" if invoice is not None else ""
            raise RemittanceRejected(
                f"{place}: {line.invoice_number!r} is not an open invoice of {account}{now}",
                row=line.row,
            )
        if invoice.currency != currency:
            raise RemittanceRejected(
                f"{place}: {invoice.number} is in {invoice.currency}, the receipt in {currency}",
                row=line.row,
            )
        if line.amount_paid + line.deduction > invoice.open_amount:
            kept = f" and keeps back {shown(line.deduction, receipt)}" if line.deduction else ""
            raise RemittanceRejected(
                f"{place}: {invoice.number} has {shown(invoice.open_amount, receipt)} {currency} "
                f"open; the advice pays {shown(line.amount_paid, receipt)}{kept}",
                row=line.row,
            )
        invoices.append(invoice)
    return invoices
