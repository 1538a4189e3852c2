"""Factories that build the minimum valid customer data: `CustomerDataFactory` for the services,
`CustomerFactory` for rows that tests only need to exist (lists, pages, selectors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from billops.access.models import User
from billops.customers import services
from billops.customers.models import Customer, PaymentTerms
from billops.customers.validation import AddressData, ContactData, CustomerData


class CustomerDataFactory(factory.Factory):
    class Meta:
        model = CustomerData

    account_number = factory.Sequence(lambda n: f"C-{n + 1000}")
    legal_name = factory.Sequence(lambda n: f"Customer {n + 1000} Ltd")
    currency = "EUR"
    country = "DE"


class ContactDataFactory(factory.Factory):
    class Meta:
        model = ContactData

    role = "billing"
    name = "Ada Lovelace"
    email = factory.Sequence(lambda n: f"billing{n}@example.com")


class AddressDataFactory(factory.Factory):
    class Meta:
        model = AddressData

    kind = "billing"
    lines = "Friedrichstraße 1"
    city = "Berlin"
    country = "DE"
    postal_code = "10117"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account_number = factory.Sequence(lambda n: f"M-{n + 1000}")
    legal_name = factory.Sequence(lambda n: f"Model Customer {n + 1000} GmbH")
    currency = "EUR"
    country = "DE"
    terms = factory.LazyFunction(lambda: PaymentTerms.objects.get(code="NET30"))
    credit_limit = Decimal(0)


def create_customer(actor: User, **fields: Any) -> Customer:
    """A customer made through the service, as a clerk or supervisor would."""
    return services.create_customer(data=CustomerDataFactory(**fields), actor=actor)
