"""Reads of receipts and applications for the API, the pages, the CLI and `billops check`."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from billops.core.errors import NotFound
from billops.payments.models import Application, BankAccount, Receipt


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
