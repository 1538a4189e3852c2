"""Fixtures for the delivery tests: a billing entity, a catalog, and a customer with two billing contacts."""

from __future__ import annotations

from typing import Any

import pytest

from billops.access.models import User
from billops.customers.models import Customer
from billops.invoicing.models import BillingEntity
from tests.delivery.factories import customer_with_contacts
from tests.invoicing.factories import make_catalog, make_entity


@pytest.fixture
def entity(db: None) -> BillingEntity:
    return make_entity()


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    return make_catalog()


@pytest.fixture
def customer(clerk: User, entity: BillingEntity, catalog: dict[str, Any]) -> Customer:
    return customer_with_contacts(clerk)
