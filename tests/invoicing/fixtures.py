"""Invoicing fixtures, shared by every test module (see `pytest_plugins` in tests/conftest.py): a billing
entity, a catalog and a German customer."""

from __future__ import annotations

from typing import Any

import pytest

from billops.access.models import User
from billops.customers.models import Customer
from billops.invoicing.models import BillingEntity
from tests.invoicing.factories import make_catalog, make_customer, make_entity


@pytest.fixture
def entity(db: None) -> BillingEntity:
    return make_entity()


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    return make_catalog()


@pytest.fixture
def customer(clerk: User, entity: BillingEntity, catalog: dict[str, Any]) -> Customer:
    return make_customer(clerk)
