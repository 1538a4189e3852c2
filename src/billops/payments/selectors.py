"""Reads of receipts and applications for the API, the pages, the CLI and `billops check`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from billops.core.errors import InvalidInput, NotFound
from billops.core.memo import cached
from billops.core.money import round_money
from billops.customers.models import Customer, OpeningBalance
from billops.customers.selectors import list_opening_balances
from billops.invoicing.models import DocumentType, Invoice
from billops.invoicing.selectors import OPEN_STATUSES, list_invoices
from billops.payments.models import (
    Application,
    BankAccount,
    BankLine,
    Receipt,
    Refund,
    StatementFile,
    WriteOffTolerance,
)


def get_receipt(receipt_id: int) -> Receipt:
    receipt = list_receipts().filter(pk=receipt_id).first()
    if receipt is None:
        raise NotFound(f"there is no receipt {receipt_id}", field="receipt_id")
    return receipt


def list_receipts(*, customer_id: int | None = None, unapplied_only: bool = False) -> QuerySet[Receipt]:
    """Receipts, newest first, with their customer and bank account."""
    receipts = Receipt.objects.select_related("customer", "bank_account").order_by("-received_on", "-pk")
    if customer_id is not None:
        receipts = receipts.filter(customer_id=customer_id)
    if unapplied_only:
        receipts = receipts.filter(unapplied_amount__gt=0, status=Receipt.Status.POSTED)
    return receipts


def list_applications(receipt: Receipt) -> QuerySet[Application]:
    return receipt.applications.select_related("invoice", "opening_balance").order_by("pk")


def get_bank_account(code: str) -> BankAccount:
    """One of our active bank accounts by its code (any case), or NotFound."""
    bank = BankAccount.objects.select_related("ledger_account").filter(code=code.strip().upper()).first()
    if bank is None or not bank.is_active:
        raise NotFound(f"there is no active bank account {code!r}", field="bank_account")
    return bank


def tolerance_for(currency: str) -> WriteOffTolerance | None:
    """The currency's write-off tolerance, None when none is set; read once inside a bulk import."""
    return cached(
        ("write_off_tolerance", currency), lambda: WriteOffTolerance.objects.filter(currency=currency).first()
    )


def list_tolerances() -> QuerySet[WriteOffTolerance]:
    return WriteOffTolerance.objects.select_related("updated_by").order_by("currency")


def list_bank_accounts() -> QuerySet[BankAccount]:
    return BankAccount.objects.select_related("ledger_account").filter(is_active=True).order_by("code")


def unapplied_by_customer() -> dict[tuple[int | None, str], Decimal]:
    """The unapplied cash subledger: what each customer's receipts still hold, per currency."""
    sums = (
        Receipt.objects.filter(~Q(unapplied_amount=0))
        .values("customer_id", "currency")
        .annotate(total=Sum("unapplied_amount"))
        .order_by()
    )
    # rounded to the currency: SQLite sums decimals in floating point
    return {
        (row["customer_id"], row["currency"]): round_money(row["total"], row["currency"]).amount
        for row in sums
    }


def file_figures() -> list[tuple[StatementFile, int, int, Decimal, Decimal]]:
    """Each imported file with the lines it read, the lines that landed, and their money in and out."""
    landed = {
        row["file_id"]: row
        for row in BankLine.objects.values("file_id")
        .annotate(
            lines=Count("id"),
            money_in=Sum("amount", filter=Q(amount__gt=0)),
            money_out=Sum("amount", filter=Q(amount__lt=0)),
        )
        .order_by()
    }
    figures = []
    for file in StatementFile.objects.order_by("pk"):
        row = landed.get(file.pk, {})
        # rounded to the currency: SQLite sums decimals in floating point
        money_in = round_money(row.get("money_in") or Decimal(0), file.currency).amount
        money_out = round_money(-(row.get("money_out") or Decimal(0)), file.currency).amount
        figures.append((file, file.lines_read, row.get("lines", 0), money_in, money_out))
    return figures


def posted_lines_off_their_receipt() -> list[tuple[str, int, Decimal, Decimal]]:
    """Posted bank lines that are not exactly what they posted: money in its receipt, money out the
    receipt it returned or the refund it paid (there should be none)."""
    posted = BankLine.objects.filter(status=BankLine.Status.POSTED).order_by("file_id", "line")
    off = [
        *posted.filter(receipt__isnull=False)
        .exclude(receipt__amount=F("amount"))
        .values_list("file__file_name", "line", "receipt__amount", "amount"),
        *posted.filter(returned_receipt__isnull=False)
        .exclude(returned_receipt__amount=-F("amount"))
        .values_list("file__file_name", "line", "returned_receipt__amount", "amount"),
        *posted.filter(refund__isnull=False)
        .exclude(refund__amount=-F("amount"))
        .values_list("file__file_name", "line", "refund__amount", "amount"),
    ]
    return off


def lines_by_status() -> dict[str, int]:
    counts = dict(BankLine.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in BankLine.Status.values}


# --- the staff pages --------------------------------------------------------------------------------


def list_receipts_with_origin(
    *, customer_id: int | None = None, unapplied_only: bool = False
) -> QuerySet[Receipt]:
    """`list_receipts` with the bank line and file each receipt came from (none when entered by hand)."""
    return list_receipts(customer_id=customer_id, unapplied_only=unapplied_only).select_related(
        "bank_line__file"
    )


def get_receipt_detail(receipt_id: int) -> Receipt:
    """One receipt with who entered it and the bank line it came from, or NotFound."""
    receipt = list_receipts_with_origin().select_related("created_by").filter(pk=receipt_id).first()
    if receipt is None:
        raise NotFound(f"there is no receipt {receipt_id}", field="receipt_id")
    return receipt


def list_applications_with_people(receipt: Receipt) -> QuerySet[Application]:
    """A receipt's applications, oldest first, with who applied and who took each back."""
    return list_applications(receipt).select_related("created_by", "unapplied_by")


@dataclass(frozen=True)
class OpenItems:
    """What a customer has open to apply cash to, in the order `apply_receipt` takes it oldest first."""

    opening_balances: list[OpeningBalance]  # open_amount below 0: a credit carried over
    invoices: list[Invoice]


def list_open_items(customer: Customer) -> OpenItems:
    """The customer's open opening balances and open invoices (issued or partly paid, something open)."""
    balances = list_opening_balances(customer).exclude(open_amount=0).order_by("balance_on", "pk")
    invoices = (
        list_invoices(customer_id=customer.pk, document_type=DocumentType.INVOICE)
        .filter(status__in=OPEN_STATUSES, open_amount__gt=0)
        .order_by("due_on", "issued_on", "number")
    )
    return OpenItems(list(balances), list(invoices))


def list_customer_applications(customer_id: int) -> QuerySet[Application]:
    """A customer's applications, newest first, with their receipt and item."""
    return (
        Application.objects.filter(customer_id=customer_id)
        .select_related("receipt", "invoice", "opening_balance", "created_by", "unapplied_by")
        .order_by("-applied_on", "-pk")
    )


def list_parked_lines() -> QuerySet[BankLine]:
    """The matching queue: bank lines waiting for a clerk, oldest first."""
    return list_bank_lines(status=BankLine.Status.PARKED)


def list_bank_lines(*, status: str) -> QuerySet[BankLine]:
    """Bank lines by what became of them (posted, parked, rejected), oldest first."""
    if status not in BankLine.Status.values:
        raise InvalidInput(f"status must be one of {', '.join(BankLine.Status.values)}", field="status")
    return (
        BankLine.objects.filter(status=status)
        .select_related("file", "bank_account")
        .order_by("booked_on", "pk")
    )


def get_bank_line(line_id: int) -> BankLine:
    """One bank line, whatever became of it, or NotFound."""
    line = (
        BankLine.objects.select_related("file", "bank_account", "receipt__customer", "resolved_by")
        .filter(pk=line_id)
        .first()
    )
    if line is None:
        raise NotFound(f"there is no bank line {line_id}", field="line_id")
    return line


def list_statement_files() -> QuerySet[StatementFile]:
    """Imported bank files, newest first, each with how many of its lines were posted, parked, rejected."""
    return (
        StatementFile.objects.select_related("bank_account", "imported_by")
        .annotate(
            posted=Count("lines", filter=Q(lines__status=BankLine.Status.POSTED)),
            parked=Count("lines", filter=Q(lines__status=BankLine.Status.PARKED)),
            rejected=Count("lines", filter=Q(lines__status=BankLine.Status.REJECTED)),
        )
        .order_by("-imported_at", "-pk")
    )


def get_statement_file(file_id: int) -> StatementFile:
    file = list_statement_files().filter(pk=file_id).first()
    if file is None:
        raise NotFound(f"there is no bank file {file_id}", field="file_id")
    return file


def list_file_lines(file: StatementFile) -> QuerySet[BankLine]:
    """A file's lines in file order, with the receipt and customer each posted line became."""
    return file.lines.select_related("receipt__customer", "resolved_by").order_by("line", "pk")


def invoice_ids_by_number(numbers: list[str]) -> dict[str, int]:
    """The ids of the invoices with these numbers (numbers not found are left out)."""
    found = Invoice.objects.filter(number__in=[number for number in numbers if number])
    return {number: pk for number, pk in found.values_list("number", "pk") if number}


def get_application(application_id: int) -> Application:
    application = Application.objects.filter(pk=application_id).first()
    if application is None:
        raise NotFound(f"there is no application {application_id}", field="application_id")
    return application


def counts() -> dict[str, int]:
    """What `billops check` counts of payments."""
    lines = lines_by_status()
    return {
        "receipts": Receipt.objects.count(),
        "receipts_reversed": Receipt.objects.filter(status=Receipt.Status.REVERSED).count(),
        "applications": Application.objects.count(),
        "applications_written_off": Application.objects.filter(written_off__gt=0).count(),
        "refunds": Refund.objects.count(),
        "bank_files": StatementFile.objects.count(),
        **{f"bank_lines_{status}": count for status, count in lines.items()},
    }


def received_total(*, customer_id: int, currency: str, start: date, end: date) -> Decimal:
    """What the customer paid in the currency from `start` to `end` (both included): its receipts that the
    bank did not return."""
    receipts = Receipt.objects.filter(
        customer_id=customer_id,
        currency=currency,
        received_on__range=(start, end),
        status=Receipt.Status.POSTED,
    )
    return receipts.aggregate(total=Sum("amount"))["total"] or Decimal(0)
