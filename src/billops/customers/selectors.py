"""Reads of customer master data for the API, the staff pages, the CLI and reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billops.audit.models import AuditEvent
from billops.audit.selectors import history_of
from billops.core.db import given
from billops.core.errors import NotFound
from billops.core.fields import AmountField
from billops.core.money import AMOUNT_PLACES
from billops.customers.models import (
    Address,
    Contact,
    Customer,
    OpeningBalance,
    OpenItemMovement,
    PaymentTerms,
    Tag,
)
from billops.ledger.selectors import settle

SORTS = {
    "account_number": ("account_number",),
    "-account_number": ("-account_number",),
    "name": ("legal_name", "account_number"),
    "-name": ("-legal_name", "-account_number"),
}


def _customers() -> QuerySet[Customer]:
    return Customer.objects.select_related("terms", "parent").prefetch_related("tags")


def get_customer(customer_id: int, *, for_update: bool = False) -> Customer:
    """One customer, or NotFound; `for_update` locks its row until the transaction ends."""
    if for_update:
        customers = Customer.objects.select_for_update(of=("self",)).select_related("terms")
    else:
        customers = _customers()
    customer = customers.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"there is no customer {customer_id}", field="customer_id")
    return customer


def get_customer_by_number(account_number: str) -> Customer:
    """The customer with this account number (any case), or NotFound."""
    customer = _customers().filter(account_number=account_number.strip().upper()).first()
    if customer is None:
        raise NotFound(f"there is no customer with account number {account_number!r}", field="account_number")
    return customer


def list_customers(
    *,
    search: str = "",
    status: str = "",
    currency: str = "",
    on_hold: bool | None = None,
    tag: str = "",
    cycle: str = "",
    sort: str = "account_number",
) -> QuerySet[Customer]:
    """Customers matching every given filter; `search` looks in account numbers, names, VAT IDs and
    contact e-mail addresses."""
    customers = _customers()
    if search := search.strip():
        contact_match = Customer.objects.filter(contacts__email__icontains=search).values("pk")
        customers = customers.filter(
            Q(account_number__icontains=search)
            | Q(legal_name__icontains=search)
            | Q(trading_name__icontains=search)
            | Q(vat_id__icontains=search.replace(" ", "").upper())
            | Q(pk__in=contact_match)
        )
    customers = customers.filter(
        **given(status=status, currency=currency.upper(), credit_hold=on_hold, cycle=cycle)
    )
    if tag:
        customers = customers.filter(
            pk__in=Customer.objects.filter(tags__name=tag.strip().lower()).values("pk")
        )
    return customers.order_by(*SORTS.get(sort, SORTS["account_number"]))


def get_contact(*, customer_id: int, contact_id: int) -> Contact:
    """One of the customer's contacts, or NotFound."""
    contact = Contact.objects.filter(pk=contact_id, customer_id=customer_id).first()
    if contact is None:
        raise NotFound(f"customer {customer_id} has no contact {contact_id}", field="contact_id")
    return contact


def get_address(*, customer_id: int, address_id: int) -> Address:
    """One of the customer's addresses, or NotFound."""
    address = Address.objects.filter(pk=address_id, customer_id=customer_id).first()
    if address is None:
        raise NotFound(f"customer {customer_id} has no address {address_id}", field="address_id")
    return address


def count_customers() -> int:
    return Customer.objects.count()


def customers_on_hold_count() -> int:
    return Customer.objects.filter(credit_hold=True).count()


def children_of(customer: Customer) -> QuerySet[Customer]:
    """The accounts directly below this one in the hierarchy."""
    return _customers().filter(parent=customer).order_by("account_number")


def history(customer: Customer) -> QuerySet[AuditEvent]:
    """Every audited change of the customer, its contacts and addresses, newest first."""
    return history_of(customer)


def list_payment_terms() -> QuerySet[PaymentTerms]:
    return PaymentTerms.objects.order_by("code")


def list_tags() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


# --- the receivables subledger ----------------------------------------------------------------------


def list_opening_balances(customer: Customer) -> QuerySet[OpeningBalance]:
    return OpeningBalance.objects.filter(customer=customer)


def count_opening_balances() -> int:
    return OpeningBalance.objects.count()


def open_receivables_by_customer() -> dict[tuple[int | None, str], Decimal]:
    """Open opening balances per (customer id, currency), keyed as the ledger's receivables_by_customer."""
    sums = (
        OpeningBalance.objects.values("customer_id", "currency").annotate(open=Sum("open_amount")).order_by()
    )
    return {
        (row["customer_id"], row["currency"]): settle(row["open"], row["currency"]).amount for row in sums
    }


def history_total(kind: str) -> Coalesce:
    """What an open item's dated movements add up to, to annotate items of the kind with (the item is the
    outer query's row)."""
    moved = (
        OpenItemMovement.objects.filter(item_kind=kind, item_id=OuterRef("pk"))
        .order_by()
        .values("item_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(moved), Value(Decimal(0)), output_field=AmountField())


def off_their_history(items: QuerySet[Any], kind: str) -> QuerySet[Any]:
    """The items whose movements do not add up to their open amount (SQLite sums in floating point: a
    difference below the stored precision is none)."""
    unit = Decimal(1).scaleb(-AMOUNT_PLACES)
    items = items.annotate(moved=history_total(kind)).annotate(difference=F("open_amount") - F("moved"))
    return items.filter(Q(difference__gte=unit) | Q(difference__lte=-unit))


def balances_off_their_history() -> list[tuple[str, str, Decimal, Decimal]]:
    """(reference, currency, open amount, movements' total) of opening balances whose history is off."""
    rows = off_their_history(OpeningBalance.objects.all(), OpenItemMovement.Kind.OPENING_BALANCE)
    return list(rows.values_list("reference", "currency", "open_amount", "moved"))
