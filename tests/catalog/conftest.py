"""Helpers for the catalog tests: a fingerprint of everything a refused action must leave alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from billops.audit.models import AuditEvent
from billops.catalog.models import (
    CustomerPrice,
    CustomerPriceList,
    PriceList,
    PriceListItem,
    Product,
    TaxCode,
    TaxRate,
    TaxRateImport,
)

MODELS = (
    TaxCode,
    TaxRate,
    TaxRateImport,
    Product,
    PriceList,
    PriceListItem,
    CustomerPrice,
    CustomerPriceList,
)


def database_state() -> dict[str, Any]:
    """Every catalog row and the number of audit events."""
    state: dict[str, Any] = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    state["events"] = AuditEvent.objects.count()
    return state


@pytest.fixture
def unchanged() -> Callable[[], AbstractContextManager[None]]:
    """`with unchanged(): ...` asserts the block changed no catalog row and wrote no audit event."""

    @contextmanager
    def check() -> Iterator[None]:
        before = database_state()
        yield
        assert database_state() == before

    return check
