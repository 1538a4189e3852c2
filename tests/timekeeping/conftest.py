"""The firm every time and expense test starts from, on the business date 15 April 2026."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from tests.timekeeping.factories import Firm, make_firm

TODAY = date(2026, 4, 15)


@pytest.fixture
def firm(clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any) -> Firm:
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN))
    return make_firm(clerk, supervisor)
