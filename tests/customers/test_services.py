"""Customer writes: what each service stores, what it audits, and that a refused action changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.core.errors import (
    Conflict,
    Duplicate,
    InvalidAmount,
    InvalidInput,
    PermissionDenied,
    UnknownCurrency,
)
from billops.customers import services
from billops.customers.errors import CustomerInvalid, HierarchyCycle, InvalidVatId
from billops.customers.models import Address, Contact, Customer, Tag
from tests.customers.factories import (
    AddressDataFactory,
    ContactDataFactory,
    CustomerDataFactory,
    create_customer,
)

pytestmark = pytest.mark.django_db


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()  # type: ignore[return-value]


def test_create_customer_stores_the_master_data_and_audits_it(clerk: User) -> None:
    data = CustomerDataFactory(
        account_number="c-1001",
        legal_name="Acme GmbH",
        trading_name="Acme",
        vat_id="DE 136 695 976",
        tax_id="12/345/67890",
        terms="2/10NET30",
        cycle="monthly",
        cycle_day="15",
        tags="VIP, Key Account",
        delivery_method="einvoice",
        einvoice_endpoint_id="0088:5798000000001",
        remittance_instructions="Quote the invoice number",
        notes="Met at the fair",
        contacts=[ContactDataFactory(email="ap@acme.example", role="ap", is_primary=True)],
        addresses=[AddressDataFactory()],
    )
    customer = services.create_customer(data=data, actor=clerk)

    customer.refresh_from_db()
    assert (customer.account_number, customer.legal_name, customer.trading_name) == (
        "C-1001",
        "Acme GmbH",
        "Acme",
    )
    assert (customer.vat_id, customer.tax_id, customer.terms.code) == (
        "DE136695976",
        "1234567890",
        "2/10NET30",
    )
    assert (customer.cycle, customer.cycle_day, customer.anniversary_on) == ("monthly", 15, None)
    assert customer.credit_limit == Decimal("0") and customer.credit_hold is False
    assert sorted(customer.tags.values_list("name", flat=True)) == ["key-account", "vip"]
    contact = customer.contacts.get()
    assert (contact.role, contact.email, contact.is_primary) == ("ap", "ap@acme.example", True)
    address = customer.addresses.get()
    assert (address.kind, address.city, address.postal_code, address.country) == (
        "billing",
        "Berlin",
        "10117",
        "DE",
    )

    event = last_event()
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "customers.created",
        clerk,
        "customers.customer",
        str(customer.pk),
    )
    assert event.before is None
    assert event.after["account_number"] == "C-1001"
    assert event.after["vat_id"] == "DE136695976"
    assert event.after["credit_limit"] == "0.00"
    assert event.after["tags"] == ["key-account", "vip"]
    assert event.after["contacts"] == [
        {
            "contact_id": contact.pk,
            "role": "ap",
            "name": "Ada Lovelace",
            "email": "ap@acme.example",
            "phone": "",
            "is_primary": True,
        }
    ]
    assert event.after["addresses"][0]["city"] == "Berlin"


def test_duplicate_account_number_is_refused_and_changes_nothing(clerk: User, unchanged) -> None:
    create_customer(clerk, account_number="C-1")
    with unchanged(), pytest.raises(Duplicate) as refused:
        create_customer(clerk, account_number="c-1", legal_name="Other")
    assert refused.value.field == "account_number"
    assert refused.value.message == "a customer with account number C-1 already exists"
    assert refused.value.http_status == 409


@pytest.mark.parametrize(
    ("actor", "bad_input", "error", "field", "message"),
    [
        (
            "clerk",
            {"vat_id": "DE136695978"},
            InvalidVatId,
            "vat_id",
            "VAT ID DE136695978 is not valid: its check digits are wrong",
        ),
        (
            "supervisor",
            {"credit_limit": "-100.00"},
            InvalidAmount,
            "credit_limit",
            "credit_limit must not be negative (got -100.00)",
        ),
        (
            "supervisor",
            {"credit_limit": 5000.5},
            InvalidAmount,
            "credit_limit",
            "credit_limit must be given as a decimal string, not a float (5000.5)",
        ),
        ("clerk", {"currency": "EUX"}, UnknownCurrency, "currency", "'EUX' is not an ISO 4217 currency code"),
    ],
    ids=["invalid-vat-checksum", "negative-credit-limit", "float-credit-limit", "unknown-currency"],
)
def test_bad_input_is_refused_and_changes_nothing(
    request: pytest.FixtureRequest,
    unchanged,
    actor: str,
    bad_input: dict[str, object],
    error: type[Exception],
    field: str,
    message: str,
) -> None:
    user = request.getfixturevalue(actor)
    with unchanged(), pytest.raises(error) as refused:
        create_customer(user, **bad_input)
    assert refused.value.field == field
    assert refused.value.message == message


def test_several_problems_come_back_together_each_with_its_field(clerk: User, unchanged) -> None:
    with unchanged(), pytest.raises(CustomerInvalid) as refused:
        create_customer(
            clerk, currency="EUX", vat_id="DE136695978", contacts=[ContactDataFactory(email="nope")]
        )
    assert [e.field for e in refused.value.errors] == ["currency", "vat_id", "contacts[0].email"]
    assert refused.value.as_dict()["errors"][1]["code"] == "invalid_vat_id"


def test_a_clerk_cannot_give_credit_but_a_supervisor_can(clerk: User, supervisor: User, unchanged) -> None:
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        create_customer(clerk, credit_limit="5000.00")
    assert refused.value.field == "credit_limit"
    customer = create_customer(supervisor, credit_limit="5000")
    assert customer.credit_limit_money.amount == Decimal("5000.00")


def test_change_customer_audits_only_the_changed_fields(clerk: User) -> None:
    customer = create_customer(clerk, legal_name="Old Name GmbH", tags="retail")
    changed = services.change_customer(
        customer_id=customer.pk,
        changes={
            "legal_name": "New Name GmbH",
            "trading_name": "",
            "terms": "net60",
            "tags": ["Retail", "VIP"],
        },
        actor=clerk,
    )
    changed.refresh_from_db()
    assert (changed.legal_name, changed.terms.code) == ("New Name GmbH", "NET60")
    assert sorted(changed.tags.values_list("name", flat=True)) == ["retail", "vip"]
    event = last_event()
    assert (event.action, event.actor_label) == ("customers.changed", "clerk")
    assert event.before == {"legal_name": "Old Name GmbH", "terms": "NET30", "tags": ["retail"]}
    assert event.after == {"legal_name": "New Name GmbH", "terms": "NET60", "tags": ["retail", "vip"]}


def test_a_change_that_changes_nothing_writes_no_event(clerk: User, unchanged) -> None:
    customer = create_customer(clerk, legal_name="Same GmbH")
    with unchanged():
        services.change_customer(customer_id=customer.pk, changes={"legal_name": " Same GmbH "}, actor=clerk)


def test_change_refuses_bad_input_and_changes_nothing(clerk: User, unchanged) -> None:
    customer = create_customer(clerk)
    with unchanged(), pytest.raises(InvalidVatId):
        services.change_customer(customer_id=customer.pk, changes={"vat_id": "DE136695978"}, actor=clerk)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.change_customer(customer_id=customer.pk, changes={"credit_limit": "10"}, actor=clerk)
    assert refused.value.field == "credit_limit"
    assert "set_credit_limit" in refused.value.message


def test_change_to_an_existing_account_number_is_refused(clerk: User, unchanged) -> None:
    create_customer(clerk, account_number="C-1")
    other = create_customer(clerk, account_number="C-2")
    with unchanged(), pytest.raises(Duplicate):
        services.change_customer(customer_id=other.pk, changes={"account_number": "C-1"}, actor=clerk)


def test_hierarchy_with_bill_to_parent(clerk: User) -> None:
    parent = create_customer(clerk, account_number="P-1")
    child = create_customer(clerk, account_number="K-1", parent_account_number="p-1", bill_to_parent=True)
    assert (child.parent, child.bill_to_parent) == (parent, True)


def test_a_customer_cannot_become_its_own_ancestor(clerk: User, unchanged) -> None:
    top = create_customer(clerk, account_number="A")
    middle = create_customer(clerk, account_number="B", parent_account_number="A")
    create_customer(clerk, account_number="C", parent_account_number="B")
    with unchanged(), pytest.raises(HierarchyCycle) as refused:
        services.change_customer(customer_id=top.pk, changes={"parent_account_number": "C"}, actor=clerk)
    assert refused.value.field == "parent_account_number"
    assert refused.value.message == (
        "A cannot go under C: C is already below A, which would make A its own ancestor"
    )
    with unchanged(), pytest.raises(HierarchyCycle):
        services.change_customer(customer_id=middle.pk, changes={"parent_account_number": "B"}, actor=clerk)


def test_parent_rules(clerk: User, unchanged) -> None:
    create_customer(clerk, account_number="USD-P", currency="USD")
    create_customer(clerk, account_number="GONE", status="closed")
    with unchanged(), pytest.raises(InvalidInput) as refused:
        create_customer(clerk, parent_account_number="USD-P", bill_to_parent=True)
    assert refused.value.field == "bill_to_parent"
    with unchanged(), pytest.raises(InvalidInput) as refused:
        create_customer(clerk, parent_account_number="GONE")
    assert refused.value.message == "parent GONE is closed"
    with unchanged(), pytest.raises(InvalidInput) as refused:
        create_customer(clerk, parent_account_number="NOBODY")
    assert refused.value.message == "there is no customer with account number NOBODY"


def test_a_parent_cannot_change_currency_under_children_billed_to_it(clerk: User, unchanged) -> None:
    parent = create_customer(clerk, account_number="P")
    create_customer(clerk, account_number="K", parent_account_number="P", bill_to_parent=True)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.change_customer(customer_id=parent.pk, changes={"currency": "USD"}, actor=clerk)
    assert (refused.value.field, refused.value.message) == (
        "currency",
        "K bill to P in EUR; change them first",
    )


def test_credit_hold_place_and_release(collector: User, supervisor: User) -> None:
    customer = create_customer(supervisor)
    services.place_credit_hold(
        customer_id=customer.pk, reason="  Two invoices 60 days late ", actor=collector
    )
    customer.refresh_from_db()
    assert (customer.credit_hold, customer.credit_hold_reason) == (True, "Two invoices 60 days late")
    placed = last_event()
    assert (placed.action, placed.actor) == ("customers.credit_hold_placed", collector)
    assert placed.before == {"credit_hold": False, "credit_hold_reason": ""}
    assert placed.after == {"credit_hold": True, "credit_hold_reason": "Two invoices 60 days late"}

    services.release_credit_hold(customer_id=customer.pk, note="Paid in full", actor=supervisor)
    customer.refresh_from_db()
    assert (customer.credit_hold, customer.credit_hold_reason) == (False, "")
    released = last_event()
    assert (released.action, released.actor) == ("customers.credit_hold_released", supervisor)
    assert released.before == {"credit_hold": True, "credit_hold_reason": "Two invoices 60 days late"}
    assert released.after == {"credit_hold": False, "credit_hold_reason": "", "note": "Paid in full"}


def test_credit_hold_refusals_change_nothing(
    clerk: User, collector: User, supervisor: User, unchanged
) -> None:
    customer = create_customer(clerk)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.place_credit_hold(customer_id=customer.pk, reason=" ", actor=collector)
    assert refused.value.field == "reason"
    with unchanged(), pytest.raises(Conflict):
        services.release_credit_hold(customer_id=customer.pk, actor=supervisor)
    services.place_credit_hold(customer_id=customer.pk, reason="late", actor=collector)
    with unchanged(), pytest.raises(Conflict) as refused:
        services.place_credit_hold(customer_id=customer.pk, reason="again", actor=collector)
    assert refused.value.message.endswith("is already on credit hold (late)")
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_credit_hold(customer_id=customer.pk, actor=collector)
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_credit_hold(customer_id=customer.pk, actor=clerk)


def test_set_credit_limit_is_a_supervisor_action(clerk: User, supervisor: User, unchanged) -> None:
    customer = create_customer(clerk, currency="JPY")
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        services.set_credit_limit(customer_id=customer.pk, credit_limit="1000", actor=clerk)
    assert refused.value.message == "the clerk role may not do customers.set_credit_limit"
    with unchanged(), pytest.raises(InvalidAmount):
        services.set_credit_limit(customer_id=customer.pk, credit_limit="1000.5", actor=supervisor)
    with unchanged(), pytest.raises(InvalidAmount):
        services.set_credit_limit(customer_id=customer.pk, credit_limit=1000.0, actor=supervisor)

    services.set_credit_limit(customer_id=customer.pk, credit_limit="250000", actor=supervisor)
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("250000")
    event = last_event()
    assert (event.action, event.actor) == ("customers.credit_limit_set", supervisor)
    assert (event.before, event.after) == (
        {"credit_limit": "0", "currency": "JPY"},
        {"credit_limit": "250000", "currency": "JPY"},
    )
    with unchanged():  # the same limit again is no change
        services.set_credit_limit(customer_id=customer.pk, credit_limit="250000", actor=supervisor)


def test_contacts_primary_moves_to_the_new_one(clerk: User) -> None:
    customer = create_customer(clerk)
    first = services.add_contact(
        customer_id=customer.pk, data=ContactDataFactory(email="a@x.example", is_primary=True), actor=clerk
    )
    second = services.add_contact(
        customer_id=customer.pk, data=ContactDataFactory(email="b@x.example", is_primary=True), actor=clerk
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    event = last_event()
    assert (event.action, event.target_id) == ("customers.contact_added", str(customer.pk))
    assert event.after == {
        "contact_id": second.pk,
        "role": "billing",
        "name": "Ada Lovelace",
        "email": "b@x.example",
        "phone": "",
        "is_primary": True,
        "primary_before": first.pk,
    }

    services.change_contact(
        contact_id=first.pk, changes={"phone": "+49 30 1234567", "role": "collections"}, actor=clerk
    )
    first.refresh_from_db()
    assert (first.role, first.phone) == ("collections", "+49 30 1234567")
    event = last_event()
    assert event.action == "customers.contact_changed"
    assert event.before == {"contact_id": first.pk, "role": "billing", "phone": ""}
    assert event.after == {"contact_id": first.pk, "role": "collections", "phone": "+49 30 1234567"}


def test_contact_refusals_change_nothing(clerk: User, unchanged) -> None:
    customer = create_customer(clerk)
    contact = services.add_contact(customer_id=customer.pk, data=ContactDataFactory(), actor=clerk)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.add_contact(customer_id=customer.pk, data=ContactDataFactory(email="@nowhere"), actor=clerk)
    assert refused.value.field == "email"
    with unchanged(), pytest.raises(InvalidInput):
        services.change_contact(contact_id=contact.pk, changes={"name": "", "email": ""}, actor=clerk)


def test_addresses(clerk: User, unchanged) -> None:
    customer = create_customer(clerk)
    address = services.add_address(customer_id=customer.pk, data=AddressDataFactory(), actor=clerk)
    assert last_event().after == {
        "address_id": address.pk,
        "kind": "billing",
        "lines": "Friedrichstraße 1",
        "city": "Berlin",
        "region": "",
        "postal_code": "10117",
        "country": "DE",
    }
    with unchanged(), pytest.raises(Duplicate) as refused:
        services.add_address(customer_id=customer.pk, data=AddressDataFactory(), actor=clerk)
    assert refused.value.field == "kind"
    shipping = services.add_address(
        customer_id=customer.pk, data=AddressDataFactory(kind="shipping"), actor=clerk
    )
    with unchanged(), pytest.raises(Duplicate):
        services.change_address(address_id=shipping.pk, changes={"kind": "billing"}, actor=clerk)
    services.change_address(
        address_id=address.pk, changes={"city": "Potsdam", "postal_code": "14467"}, actor=clerk
    )
    event = last_event()
    assert event.action == "customers.address_changed"
    assert event.before == {"address_id": address.pk, "city": "Berlin", "postal_code": "10117"}
    assert event.after == {"address_id": address.pk, "city": "Potsdam", "postal_code": "14467"}


def test_an_auditor_can_write_nothing(auditor: User, clerk: User, unchanged) -> None:
    customer = create_customer(clerk)
    contact = services.add_contact(customer_id=customer.pk, data=ContactDataFactory(), actor=clerk)
    address = services.add_address(customer_id=customer.pk, data=AddressDataFactory(), actor=clerk)
    attempts = [
        lambda: create_customer(auditor),
        lambda: services.change_customer(customer_id=customer.pk, changes={"legal_name": "X"}, actor=auditor),
        lambda: services.place_credit_hold(customer_id=customer.pk, reason="r", actor=auditor),
        lambda: services.release_credit_hold(customer_id=customer.pk, actor=auditor),
        lambda: services.set_credit_limit(customer_id=customer.pk, credit_limit="1", actor=auditor),
        lambda: services.add_contact(customer_id=customer.pk, data=ContactDataFactory(), actor=auditor),
        lambda: services.change_contact(contact_id=contact.pk, changes={"name": "X"}, actor=auditor),
        lambda: services.add_address(
            customer_id=customer.pk, data=AddressDataFactory(kind="shipping"), actor=auditor
        ),
        lambda: services.change_address(address_id=address.pk, changes={"city": "X"}, actor=auditor),
        lambda: services.import_customers(
            content=b"account_number,legal_name,currency,country\nZ-1,Z,EUR,DE\n",
            filename="c.csv",
            actor=auditor,
        ),
    ]
    for attempt in attempts:
        with unchanged(), pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.http_status == 403


def test_tags_are_shared_rows(clerk: User) -> None:
    create_customer(clerk, tags="vip")
    create_customer(clerk, tags=["VIP", "retail"])
    assert list(Tag.objects.values_list("name", flat=True)) == ["retail", "vip"]
    assert Customer.objects.filter(tags__name="vip").count() == 2


def test_exempt_customer(clerk: User) -> None:
    customer = create_customer(
        clerk, tax_status="exempt", exemption_certificate="EX-77", exemption_expires_on=date(2099, 12, 31)
    )
    assert (customer.tax_status, customer.exemption_certificate) == ("exempt", "EX-77")
    assert Contact.objects.count() == 0 and Address.objects.count() == 0


def test_a_credit_limit_too_large_for_the_amount_column_is_refused(supervisor: User, unchanged) -> None:
    with unchanged(), pytest.raises(InvalidAmount) as refused:
        create_customer(supervisor, credit_limit="1000000000000000")
    assert refused.value.field == "credit_limit"
    assert "too large" in refused.value.message
    customer = create_customer(supervisor)
    with unchanged(), pytest.raises(InvalidAmount):
        services.set_credit_limit(customer_id=customer.pk, credit_limit="1" + "0" * 15, actor=supervisor)
