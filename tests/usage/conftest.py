from __future__ import annotations

from typing import Any

import pytest

from billops.catalog.models import Product
from tests.usage.factories import make_usage_product


@pytest.fixture
def usage_product(catalog: dict[str, Any]) -> Product:
    return make_usage_product()
