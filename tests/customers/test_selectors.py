"""Reads: one customer, the filtered list, counts, the hierarchy and the history."""

from __future__ import annotations

import pytest

from billops.access.models import User
from billops.core.errors import NotFound
from billops.customers import selectors, services
from tests.customers.factories import ContactDataFactory, CustomerFactory, create_customer

pytestmark = pytest.mark.django_db


def numbers(customers) -> list[str]:
    return [c.account_number for c in customers]


def test_get_customer_and_by_number() -> None:
    customer = CustomerFactory(account_number="G-1")
    assert selectors.get_customer(customer.pk) == customer
    assert selectors.get_customer_by_number(" g-1 ") == customer
    with pytest.raises(NotFound) as missing:
        selectors.get_customer(customer.pk + 1)
    assert (missing.value.field, missing.value.http_status) == ("customer_id", 404)
    with pytest.raises(NotFound):
        selectors.get_customer_by_number("G-2")


def test_search_covers_numbers_names_vat_ids_and_contact_emails(clerk: User) -> None:
    create_customer(clerk, account_number="S-1", legal_name="Alpha Industries", vat_id="DE136695976")
    create_customer(
        clerk,
        account_number="S-2",
        legal_name="Beta",
        trading_name="Betamax",
        contacts=[ContactDataFactory(email="pay@gamma.example"), ContactDataFactory(email="x@gamma.example")],
    )
    create_customer(clerk, account_number="T-3", legal_name="Gamma")
    assert numbers(selectors.list_customers(search="s-")) == ["S-1", "S-2"]
    assert numbers(selectors.list_customers(search="industries")) == ["S-1"]
    assert numbers(selectors.list_customers(search="betamax")) == ["S-2"]
    assert numbers(selectors.list_customers(search="de 136695")) == ["S-1"]
    assert numbers(selectors.list_customers(search="gamma.example")) == ["S-2"]  # once, not once per contact
    assert numbers(selectors.list_customers(search="gamma")) == ["S-2", "T-3"]


def test_filters_and_sorting(clerk: User, supervisor: User) -> None:
    a = create_customer(clerk, account_number="F-1", legal_name="Zulu", currency="USD", tags="vip")
    create_customer(clerk, account_number="F-2", legal_name="Alpha", status="prospect", cycle="annual")
    create_customer(clerk, account_number="F-3", legal_name="Mike", tags="retail")
    services.place_credit_hold(customer_id=a.pk, reason="late", actor=supervisor)
    assert numbers(selectors.list_customers(status="prospect")) == ["F-2"]
    assert numbers(selectors.list_customers(currency="usd")) == ["F-1"]
    assert numbers(selectors.list_customers(on_hold=True)) == ["F-1"]
    assert numbers(selectors.list_customers(on_hold=False)) == ["F-2", "F-3"]
    assert numbers(selectors.list_customers(tag="VIP")) == ["F-1"]
    assert numbers(selectors.list_customers(cycle="annual")) == ["F-2"]
    assert numbers(selectors.list_customers(sort="name")) == ["F-2", "F-3", "F-1"]
    assert numbers(selectors.list_customers(sort="-account_number")) == ["F-3", "F-2", "F-1"]
    assert numbers(selectors.list_customers(sort="nonsense")) == ["F-1", "F-2", "F-3"]
    assert (selectors.count_customers(), selectors.customers_on_hold_count()) == (3, 1)


def test_children_of_and_history(clerk: User) -> None:
    parent = create_customer(clerk, account_number="P")
    create_customer(clerk, account_number="K-2", parent_account_number="P")
    create_customer(clerk, account_number="K-1", parent_account_number="P")
    assert numbers(selectors.children_of(parent)) == ["K-1", "K-2"]
    services.change_customer(customer_id=parent.pk, changes={"notes": "key account"}, actor=clerk)
    services.add_contact(customer_id=parent.pk, data=ContactDataFactory(), actor=clerk)
    events = list(selectors.history(parent))
    assert [e.action for e in events] == ["customers.contact_added", "customers.changed", "customers.created"]
    assert (events[1].before, events[1].after) == ({"notes": ""}, {"notes": "key account"})
