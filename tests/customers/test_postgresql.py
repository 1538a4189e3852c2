"""Real concurrency on PostgreSQL: row locks and the unique constraint keep two people from creating
one account number twice, placing one hold twice, or closing a loop in the hierarchy between them."""

from __future__ import annotations

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.core.errors import Conflict, Duplicate
from billops.customers import services
from billops.customers.errors import HierarchyCycle
from billops.customers.models import Customer
from tests.conftest import race
from tests.customers.factories import create_customer

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_concurrent_creates_of_one_account_number_make_one_customer(clerk: User) -> None:
    results, errors = race(
        8, lambda i: create_customer(clerk, account_number="RACE-1", legal_name=f"Racer {i}")
    )
    assert len(results) == 1
    assert [type(e) for e in errors] == [Duplicate] * 7
    assert {e.field for e in errors} == {"account_number"}  # type: ignore[attr-defined]
    assert Customer.objects.filter(account_number="RACE-1").count() == 1
    assert AuditEvent.objects.filter(action="customers.created").count() == 1
    assert verify_chain().ok


def test_concurrent_holds_place_one(clerk: User, collector: User) -> None:
    customer = create_customer(clerk)
    results, errors = race(
        6,
        lambda i: services.place_credit_hold(customer_id=customer.pk, reason=f"reason {i}", actor=collector),
    )
    assert len(results) == 1
    assert [type(e) for e in errors] == [Conflict] * 5
    assert AuditEvent.objects.filter(action="customers.credit_hold_placed").count() == 1
    customer.refresh_from_db()
    assert customer.credit_hold_reason == results[0].credit_hold_reason


def test_concurrent_moves_cannot_close_a_loop(clerk: User) -> None:
    create_customer(clerk, account_number="A")
    create_customer(clerk, account_number="B", parent_account_number="A")
    create_customer(clerk, account_number="C")
    create_customer(clerk, account_number="D", parent_account_number="C")
    a, c = Customer.objects.get(account_number="A"), Customer.objects.get(account_number="C")
    # A under D (D -> C) and C under B (B -> A) would together make A -> D -> C -> B -> A
    moves = [(a.pk, "D"), (c.pk, "B")]
    results, errors = race(
        2,
        lambda i: services.change_customer(
            customer_id=moves[i][0], changes={"parent_account_number": moves[i][1]}, actor=clerk
        ),
    )
    assert len(results) == 1
    # the loser is refused as a cycle, or (when PostgreSQL breaks a deadlock) as a conflict to retry
    assert len(errors) == 1 and isinstance(errors[0], HierarchyCycle | Conflict)
    parents = dict(Customer.objects.values_list("account_number", "parent__account_number"))
    seen, node = set(), "A"
    while node and node not in seen:
        seen.add(node)
        node = parents[node]
    assert node is None  # walking up from A ends at a root, never in a loop
