"""The receivables subledger's dated history, rebuilt for items that existed before it was kept: each
document's issue, void and credit allocations, each opening balance, and each application and its undoing.
`billops check` (I2) then verifies that every item's movements add up to its open amount."""

from typing import Any

from django.db import migrations


def rebuild_history(apps: Any, schema_editor: Any) -> None:
    movement = apps.get_model("customers", "OpenItemMovement")
    invoice_model = apps.get_model("invoicing", "Invoice")
    entry_model = apps.get_model("ledger", "JournalEntry")
    rows = []

    def document(invoice: Any, amount: Any, on: Any, reason: str) -> None:
        rows.append(
            movement(
                item_kind="document", item_id=invoice.pk, customer_id=invoice.customer_id,
                entity_id=invoice.entity_id, currency=invoice.currency, document_on=invoice.issued_on,
                due_on=invoice.due_on or invoice.issued_on, moved_on=on, amount=amount, reason=reason,
            )
        )  # fmt: skip

    def balance(item: Any, amount: Any, on: Any, reason: str) -> None:
        rows.append(
            movement(
                item_kind="opening_balance", item_id=item.pk, customer_id=item.customer_id, entity_id=None,
                currency=item.currency, document_on=item.balance_on, due_on=item.balance_on, moved_on=on,
                amount=amount, reason=reason,
            )
        )  # fmt: skip

    issued = invoice_model.objects.exclude(status__in=["draft", "submitted", "approved"])
    documents = {invoice.pk: invoice for invoice in issued}
    void_days = dict(
        entry_model.objects.filter(
            pk__in=[invoice.void_entry_id for invoice in documents.values() if invoice.void_entry_id]
        ).values_list("pk", "posted_on")
    )
    for invoice in documents.values():
        opened = -invoice.total if invoice.document_type == "credit_note" else invoice.total
        document(invoice, opened, invoice.issued_on, "issued")
        if invoice.void_entry_id:  # only a document nothing had settled is voided
            document(invoice, -opened, void_days[invoice.void_entry_id], "voided")
    for allocation in apps.get_model("invoicing", "CreditAllocation").objects.all():
        note = documents[allocation.credit_note_id]
        document(documents[allocation.invoice_id], -allocation.amount, note.issued_on, "credited")
        document(note, allocation.amount, note.issued_on, "credited")
    balances = {item.pk: item for item in apps.get_model("customers", "OpeningBalance").objects.all()}
    for item in balances.values():
        balance(item, item.amount, item.balance_on, "opening")
    for application in apps.get_model("payments", "Application").objects.all():
        settled = application.amount + application.discount + application.written_off
        moves = [(-settled, application.applied_on, "applied")]
        if application.unapplied_on:
            moves.append((settled, application.unapplied_on, "unapplied"))
        for amount, on, reason in moves:
            if application.invoice_id:
                document(documents[application.invoice_id], amount, on, reason)
            else:
                balance(balances[application.opening_balance_id], amount, on, reason)
    movement.objects.bulk_create([row for row in rows if row.amount], batch_size=5000)


def forget_history(apps: Any, schema_editor: Any) -> None:
    apps.get_model("customers", "OpenItemMovement").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_open_item_movements"),
        ("invoicing", "0004_early_payment_discount"),
        ("ledger", "0003_payment_differences"),
        ("payments", "0009_return_fee"),
    ]

    operations = [migrations.RunPython(rebuild_history, forget_history)]
