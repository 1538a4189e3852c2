"""Real concurrency on PostgreSQL: the same batch posted twice at the same moment is stored once."""

from __future__ import annotations

from typing import Any

import pytest

from billops.access.models import Role, User
from billops.usage.models import UsageBatch, UsageEvent
from tests.conftest import race
from tests.invoicing.factories import make_catalog, make_customer, make_entity
from tests.usage.factories import event, make_metric, make_usage_product, send

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clerk(make_user: Any) -> User:
    make_entity()
    make_catalog()
    make_usage_product()
    return make_user(Role.CLERK)


def test_two_posts_of_the_same_batch_at_once_store_one_copy(clerk: User) -> None:
    customers = [make_customer(clerk, account_number=f"A-{n}") for n in range(3)]
    calls = make_metric(clerk)
    batch = [event(customer, calls, f"e{n}", "2026-03-14") for customer in customers for n in range(200)]

    results, errors = race(2, lambda _: send(clerk, *batch))

    assert errors == []
    assert sorted((result.accepted, result.duplicates) for result in results) == [(0, 600), (600, 0)]
    assert UsageEvent.objects.count() == 600
    assert sorted(UsageBatch.objects.values_list("accepted", flat=True)) == [0, 600]
