"""Customers with billing contacts and issued documents, built through the services as a clerk would."""

from __future__ import annotations

from datetime import date
from typing import Any

from billops.access.models import User
from billops.customers.models import Customer
from billops.customers.validation import AddressData, ContactData
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice
from tests.customers.factories import create_customer
from tests.invoicing.factories import draft_for

PRIMARY = "ada@customer.example"
SECOND = "bob@customer.example"


def customer_with_contacts(
    actor: User, *, emails: tuple[str, ...] = (SECOND, PRIMARY), **fields: Any
) -> Customer:
    """A customer whose billing contacts have these addresses; the one named PRIMARY is the primary one."""
    contacts = [
        ContactData(role="billing", name=f"Contact {index}", email=email, is_primary=email == PRIMARY)
        for index, email in enumerate(emails)
    ]
    address = AddressData(
        kind="billing", lines="Friedrichstraße 1", city="Berlin", country="DE", postal_code="10117"
    )
    return create_customer(actor, contacts=contacts, addresses=[address], **fields)


def issued(customer: Customer, actor: User, *lines: LineData, issued_on: date | None = None) -> Invoice:
    """An issued invoice (two hours of consulting unless lines are given)."""
    draft = draft_for(customer, actor, *lines)
    return issue_invoice(invoice_id=draft.pk, actor=actor, issued_on=issued_on)
