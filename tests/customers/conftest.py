"""Helpers for the customers tests: a fingerprint of everything a refused action must leave alone."""

from __future__ import annotations

from typing import Any

import pytest

from billops.audit.models import AuditEvent
from billops.customers.models import Address, Contact, Customer, CustomerImport, Tag
from billops.customers.validation import customer_state


def database_state() -> dict[str, Any]:
    """Row counts, the last audit event and every customer's master data."""
    return {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "addresses": Address.objects.count(),
        "tags": Tag.objects.count(),
        "imports": CustomerImport.objects.count(),
        "events": AuditEvent.objects.count(),
        "last_event": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first(),
        "states": {c.account_number: customer_state(c) for c in Customer.objects.all()},
        "contact_rows": list(Contact.objects.order_by("pk").values()),
        "address_rows": list(Address.objects.order_by("pk").values()),
    }


@pytest.fixture
def unchanged() -> Any:
    """`with unchanged(): ...` asserts the block changed nothing in customers or the audit trail."""
    from contextlib import contextmanager

    @contextmanager
    def check() -> Any:
        before = database_state()
        yield
        assert database_state() == before

    return check
