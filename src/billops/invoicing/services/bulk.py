"""Issuing many priced documents at once: a bill run's chunk of customers in one transaction.

Each document ends up exactly as `save_priced` followed by `issue_document` would write it: the same
number series (a block of consecutive numbers under one lock), journal entry and digest, frozen content and
audit event. What changes is the writing: one insert per table for the whole chunk, reference data read
once (`reference_data_cached`), the period and the audit chain locked once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from billops.access.models import User
from billops.audit.services import record_events
from billops.core.db import insert_rows, reserve_ids
from billops.customers.movements import record_movements
from billops.invoicing.models import Invoice, InvoiceLine, InvoiceTax, IssuedDocument
from billops.invoicing.numbering import take_numbers
from billops.invoicing.services.documents import frozen_document
from billops.invoicing.services.lines import keep_in_memory
from billops.invoicing.services.workflow import (
    entry_lines,
    entry_memo,
    issued_event,
    issued_movement,
    mark_issued,
    number_document,
)
from billops.ledger.models import JournalEntry, JournalLine
from billops.ledger.posting import build_entry, period_for_posting, write_entries

PricedDocument = tuple[Invoice, list[InvoiceLine], list[InvoiceTax]]


def issue_documents(documents: Sequence[PricedDocument], *, actor: User, issued_on: date) -> list[Invoice]:
    """Write and issue documents priced in memory (`document_for`, `build_lines`, `calculate`), all of
    one entity and type, dated `issued_on`. The caller has locked their customers and checked each
    document under those locks in this transaction (as `plan_invoice` does)."""
    if not documents:
        return []
    entity, document_type = documents[0][0].entity, documents[0][0].document_type
    if any(
        invoice.entity_id != entity.pk or invoice.document_type != document_type
        for invoice, _, _ in documents
    ):
        raise ValueError("issue_documents takes documents of one entity and type")
    series, first_number = take_numbers(entity, document_type, issued_on.year, count=len(documents))
    period = period_for_posting(issued_on)
    invoice_ids = reserve_ids(Invoice, len(documents))
    entry_ids = reserve_ids(JournalEntry, len(documents))
    entries: list[tuple[JournalEntry, list[JournalLine]]] = []
    frozen: list[IssuedDocument] = []
    for offset, (invoice, lines, taxes) in enumerate(documents):
        invoice.pk, invoice.issued_on = invoice_ids[offset], issued_on
        keep_in_memory(invoice, lines=lines, taxes=taxes)  # what the digest and frozen content read
        number_document(invoice, series, first_number + offset)
        entries.append(
            build_entry(
                on=issued_on,
                lines=entry_lines(invoice, lines),
                memo=entry_memo(invoice),
                source=invoice,
                actor=actor,
                period=period,
                entry_id=entry_ids[offset],
            )
        )
        mark_issued(invoice, entry_id=entry_ids[offset], actor=actor)
        frozen.append(frozen_document(invoice))
    # lines and tax rows before their documents: PostgreSQL's guard refuses rows added to an issued
    # document, and sees none yet (foreign keys are checked at commit)
    insert_rows([line for _, lines, _ in documents for line in lines])
    insert_rows([tax for _, _, taxes in documents for tax in taxes])
    write_entries(issued_on, entries)
    invoices = [invoice for invoice, _, _ in documents]
    insert_rows(invoices)
    insert_rows(frozen)
    record_movements(issued_movement(invoice) for invoice in invoices)
    record_events(
        actor=actor,
        events=[issued_event(invoice, document) for invoice, document in zip(invoices, frozen, strict=True)],
    )
    return invoices
