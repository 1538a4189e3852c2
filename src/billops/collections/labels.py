"""Names of the rows of an aging report, as the page and the exports show them."""

from __future__ import annotations

from billops.access.models import User
from billops.collections.selectors.aging import AgedItem, Aging
from billops.customers.models import Customer, OpeningBalance, OpenItemMovement
from billops.invoicing.models import BillingEntity, Invoice

NOBODY = {"collector": "Unassigned", "entity": "Opening balances (no entity)", "currency": "All customers"}


def row_names(report: Aging) -> dict[int | None, str]:
    """Each row key's name: a customer's account number and name, a collector's name, an entity's code."""
    keys = {row.key for row in report.rows if row.key is not None}
    names: dict[int | None, str] = {None: NOBODY.get(report.group, "")}
    if report.group == "customer":
        for pk, number, name in Customer.objects.filter(pk__in=keys).values_list(
            "pk", "account_number", "legal_name"
        ):
            names[pk] = f"{number} {name}"
    elif report.group == "collector":
        names |= {user.pk: str(user) for user in User.objects.filter(pk__in=keys)}
    elif report.group == "entity":
        names |= dict(BillingEntity.objects.filter(pk__in=keys).values_list("pk", "code"))
    return names


def item_names(items: list[AgedItem]) -> dict[tuple[str, int], tuple[str, str]]:
    """Each aged item's (number or reference, kind as a clerk says it): "INV-2026-000001", "Invoice"."""
    documents = [item.item_id for item in items if item.kind == OpenItemMovement.Kind.DOCUMENT]
    balances = [item.item_id for item in items if item.kind == OpenItemMovement.Kind.OPENING_BALANCE]
    names: dict[tuple[str, int], tuple[str, str]] = {}
    for invoice in Invoice.objects.filter(pk__in=documents).only("pk", "number", "document_type"):
        names[(OpenItemMovement.Kind.DOCUMENT, invoice.pk)] = (
            invoice.number or "",
            invoice.get_document_type_display(),
        )
    for pk, reference in OpeningBalance.objects.filter(pk__in=balances).values_list("pk", "reference"):
        names[(OpenItemMovement.Kind.OPENING_BALANCE, pk)] = (reference, "Opening balance")
    return names
