"""Reads of receipts and applications for the API, the pages, the CLI and `billops check`."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from billops.core.errors import NotFound
from billops.payments.models import Application, BankAccount, BankLine, Receipt, Refund, StatementFile


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
    return {(row["customer_id"], row["currency"]): row["total"] for row in sums}


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
        figures.append(
            (file, file.lines_read, row.get("lines", 0), row.get("money_in") or Decimal(0),
             -(row.get("money_out") or Decimal(0)))
        )  # fmt: skip
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


def counts() -> dict[str, int]:
    """What `billops check` counts of payments."""
    lines = lines_by_status()
    return {
        "receipts": Receipt.objects.count(),
        "receipts_reversed": Receipt.objects.filter(status=Receipt.Status.REVERSED).count(),
        "applications": Application.objects.count(),
        "refunds": Refund.objects.count(),
        "bank_files": StatementFile.objects.count(),
        **{f"bank_lines_{status}": count for status, count in lines.items()},
    }
