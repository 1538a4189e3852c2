"""Fixtures of the dispute tests: the business date, and an issued invoice of 437.09 EUR to dispute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from tests.disputes.books import TODAY, issue


@pytest.fixture(autouse=True)
def _business_date(make_user: Callable[..., User]) -> None:
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN, "admin"))


@pytest.fixture
def invoice(clerk: User, customer: Customer) -> Invoice:
    """INV-2026-000001: line 1 is 357.00 (300.00 + 57.00 VAT), line 2 is 80.09 (74.85 + 5.24 VAT)."""
    return issue(customer, clerk)


@pytest.fixture
def other_invoice(clerk: User, customer: Customer) -> Invoice:
    """INV-2026-000002: the same two lines, and a third of one hour (150.00 + 28.50 VAT)."""
    return issue(
        customer,
        clerk,
        LineData(quantity="2", product_code="CONSULT"),
        LineData(quantity="3", product_code="BOOK"),
        LineData(quantity="1", product_code="CONSULT"),
    )


@pytest.fixture
def people(clerk: User, collector: User, supervisor: User, auditor: User) -> dict[str, Any]:
    return {"clerk": clerk, "collector": collector, "supervisor": supervisor, "auditor": auditor}
