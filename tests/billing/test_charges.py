"""One-off charges over the API with a real token: priced at their date as an invoice line would be,
audited, listed, cancelled while pending; and every refusal leaves the database as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.billing.models import Charge
from billops.customers.models import Customer
from billops.customers.services import change_customer

pytestmark = pytest.mark.django_db

CHARGES = "/billing/charges"


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = (list(Charge.objects.order_by("pk").values()), AuditEvent.objects.count())
    yield
    assert (list(Charge.objects.order_by("pk").values()), AuditEvent.objects.count()) == before


def refusal(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body["field"]


def charge(api: Any, customer: Customer, **fields: Any) -> dict[str, Any]:
    response = api.post(CHARGES, {"customer_id": customer.pk, "quantity": "1", **fields})
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_a_product_charge_is_priced_from_the_price_list_of_its_date_and_audited(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    data = charge(
        api_as(clerk),
        customer,
        product_code="CONSULT",
        quantity="12",
        charge_date="2026-03-05",
        reference="JOB-7",
    )
    assert {name: data[name] for name in ("description", "quantity", "unit", "unit_price", "currency")} == {
        "description": "Consulting",
        "quantity": "12",
        "unit": "hour",
        "unit_price": "135.00",  # the volume break from 10 hours
        "currency": "EUR",
    }
    assert (data["price_source"], data["tax_code"], data["charge_date"], data["status"]) == (
        "price list STD-EUR from 10",
        "VAT-STD",
        "2026-03-05",
        "pending",
    )
    assert (data["customer_account_number"], data["reference"], data["created_by"]) == (
        customer.account_number,
        "JOB-7",
        "clerk",
    )
    event = AuditEvent.objects.get(action="charge.created")
    assert (event.actor_id, event.target_id) == (clerk.pk, str(data["id"]))
    assert event.after["unit_price"] == "135.000000" and event.after["product"] == "CONSULT"


def test_a_free_text_charge_takes_the_entered_price_and_tax_code(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    data = charge(
        api_as(clerk),
        customer,
        description="Call-out, Saturday",
        quantity="1.5",
        unit="hour",
        unit_price="80.125",
        tax_code="VAT-STD",
        service_start="2026-03-07",
        service_end="2026-03-07",
    )
    assert (data["product_code"], data["unit_price"], data["price_source"], data["service_end"]) == (
        "",
        "80.125",
        "entered",
        "2026-03-07",
    )


def test_the_charge_date_left_out_is_the_business_date(
    api_as: Callable[..., Any], make_user: Callable[..., User], clerk: User, customer: Customer
) -> None:
    set_business_date(on=date(2026, 4, 30), actor=make_user(Role.ADMIN))
    assert charge(api_as(clerk), customer, product_code="BOOK")["charge_date"] == "2026-04-30"


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"product_code": "BOOK", "quantity": "-1"}, 400, "invalid_amount", "quantity"),
        ({"product_code": "BOOK", "quantity": "0"}, 400, "invalid_amount", "quantity"),
        ({"product_code": "BOOK", "quantity": "1.00001"}, 400, "invalid_amount", "quantity"),
        ({"product_code": "BOOK", "quantity": "1e20"}, 422, "invalid", "quantity"),
        ({"product_code": "BOOK", "quantity": "10000000000000"}, 400, "invalid_amount", "quantity"),
        ({"product_code": "NOPE"}, 404, "not_found", "product_code"),
        ({"description": "Fee", "unit_price": "10", "tax_code": "NOPE"}, 404, "not_found", "tax_code"),
        ({"description": "Fee", "tax_code": "VAT-STD"}, 400, "invalid", "unit_price"),
        ({"description": "Fee", "unit_price": "10"}, 400, "invalid", "tax_code"),
        (
            {"description": "Fee", "unit_price": "-10", "tax_code": "VAT-STD"},
            400,
            "invalid_amount",
            "unit_price",
        ),
        (
            {"product_code": "BOOK", "service_start": "2026-03-09", "service_end": "2026-03-08"},
            400,
            "invalid",
            "service_end",
        ),
        ({"product_code": "BOOK", "charge_date": "1999-12-31"}, 400, "invalid", "charge_date"),
        ({"product_code": "BOOK", "charge_date": "2026-02-30"}, 422, "invalid", "charge_date"),
        ({"product_code": "BOOK", "discount_percent": "10"}, 422, "invalid", "discount_percent"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(
    api_as: Callable[..., Any],
    clerk: User,
    customer: Customer,
    fields: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(CHARGES, {"customer_id": customer.pk, "quantity": "1", **fields})
        assert refusal(response) == (status, code, field)


def test_a_number_with_a_fraction_in_json_is_refused(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(CHARGES, {"customer_id": customer.pk, "quantity": 1.5, "product_code": "BOOK"})
        assert response.status_code == 422
        assert response.json()["field"] == "quantity"


def test_an_unknown_or_closed_customer_takes_no_charge(
    api_as: Callable[..., Any], clerk: User, supervisor: User, customer: Customer
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        assert refusal(
            api.post(CHARGES, {"customer_id": 999_999, "quantity": "1", "product_code": "BOOK"})
        ) == (
            404,
            "not_found",
            "customer_id",
        )
    change_customer(customer_id=customer.pk, changes={"status": "closed"}, actor=supervisor)
    with nothing_changes():
        response = api.post(CHARGES, {"customer_id": customer.pk, "quantity": "1", "product_code": "BOOK"})
        assert refusal(response) == (400, "invalid", "customer_id")


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AUDITOR])
def test_roles_that_do_not_capture_work_are_refused(
    api_as: Callable[..., Any], make_user: Callable[..., User], clerk: User, customer: Customer, role: str
) -> None:
    pending = charge(api_as(clerk), customer, product_code="BOOK")
    api = api_as(make_user(role))
    with nothing_changes():
        response = api.post(CHARGES, {"customer_id": customer.pk, "quantity": "1", "product_code": "BOOK"})
        assert refusal(response) == (403, "permission_denied", None)
        cancelled = api.post(f"{CHARGES}/{pending['id']}/cancel", {"reason": "not ordered"})
        assert refusal(cancelled) == (403, "permission_denied", None)


def test_a_pending_charge_is_cancelled_once_with_a_reason(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    pending = charge(api, customer, product_code="BOOK")
    path = f"{CHARGES}/{pending['id']}/cancel"
    with nothing_changes():
        assert refusal(api.post(path, {"reason": "  "})) == (400, "invalid", "reason")
    cancelled = api.post(path, {"reason": "ordered twice"}).json()
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["cancelled_by"]) == (
        "cancelled",
        "ordered twice",
        "clerk",
    )
    event = AuditEvent.objects.get(action="charge.cancelled")
    assert (event.before, event.after) == (
        {"status": "pending"},
        {"status": "cancelled", "reason": "ordered twice"},
    )
    with nothing_changes():
        assert refusal(api.post(path, {"reason": "again"})) == (409, "wrong_status", "status")
        assert refusal(api.post(f"{CHARGES}/999999/cancel", {"reason": "x"})) == (
            404,
            "not_found",
            "charge_id",
        )


def test_charges_are_listed_by_customer_status_and_date(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    other = charge(api, customer, product_code="BOOK", charge_date="2026-03-31")
    early = charge(api, customer, product_code="LICENSE", charge_date="2026-03-01")
    later = charge(api, customer, product_code="LICENSE", charge_date="2026-04-01")
    api.post(f"{CHARGES}/{other['id']}/cancel", {"reason": "wrong customer"})

    def ids(**query: Any) -> list[int]:
        return [item["id"] for item in api.get(CHARGES, **query).json()["items"]]

    assert ids() == [later["id"], other["id"], early["id"]]
    assert ids(status="pending", up_to="2026-03-31") == [early["id"]]
    assert ids(customer_id=customer.pk, status="cancelled") == [other["id"]]
    assert api.get(CHARGES, status="gone").status_code == 422
    assert api.get(f"{CHARGES}/{later['id']}").json()["unit_price"] == "49.90"


def test_the_same_idempotency_key_captures_one_charge(
    api_as: Callable[..., Any], clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    body = {"customer_id": customer.pk, "quantity": "1", "product_code": "BOOK"}
    first, again = (api.post(CHARGES, body, key="ticket-4711") for _ in range(2))
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert Charge.objects.count() == 1
