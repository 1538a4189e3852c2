"""Gapless document numbers: the next number of a series, taken inside the issuing transaction.

The series row stays locked until that transaction ends, so concurrent issues in one series queue
behind each other; a rolled-back issue leaves `next_number` where it was, so no number is ever burned.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from billops.invoicing.models import BillingEntity, DocumentType, NumberSeries

PREFIX_FIELD = {
    DocumentType.INVOICE: "invoice_prefix",
    DocumentType.CREDIT_NOTE: "credit_note_prefix",
    DocumentType.DEBIT_NOTE: "debit_note_prefix",
}


def _locked_series(entity: BillingEntity, document_type: str, year: int) -> NumberSeries:
    rows = NumberSeries.objects.select_for_update().filter(
        entity=entity, document_type=document_type, year=year
    )
    series = rows.first()
    if series is not None:
        return series
    prefix = getattr(entity, PREFIX_FIELD[DocumentType(document_type)])
    try:
        with transaction.atomic():
            return NumberSeries.objects.create(
                entity=entity, document_type=document_type, year=year, prefix=prefix
            )
    except IntegrityError:
        # another issue created this year's series first and has committed: queue behind its lock
        return rows.get()


def take_number(entity: BillingEntity, document_type: str, year: int) -> tuple[NumberSeries, int]:
    """The series and the number the document gets; runs inside the issuing transaction."""
    return take_numbers(entity, document_type, year, count=1)


def take_numbers(
    entity: BillingEntity, document_type: str, year: int, *, count: int
) -> tuple[NumberSeries, int]:
    """The series and the first of `count` consecutive numbers (a bill run's chunk takes a block under one
    lock); runs inside the issuing transaction, so a rollback gives the whole block back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a number is taken only inside the issuing transaction")
    series = _locked_series(entity, document_type, year)
    first = series.next_number
    series.next_number = first + count
    series.save(update_fields=["next_number"])
    return series, first
