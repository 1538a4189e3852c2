"""Sales orders over the API: priced on their date, delivered in parts, never more than ordered; a bill run
bills what was delivered, at the order's price, and nothing that was not; every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, Delivery, OrderLine, SalesOrder
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import start_run
from billops.customers.models import Customer
from billops.invoicing.models import Invoice

pytestmark = pytest.mark.django_db

ORDERS = "/billing/orders"
ORDER = {
    "number": "so-2026-0042",
    "order_date": "2026-03-02",
    "po_number": "PO-4711",
    "lines": [{"product_code": "CONSULT", "quantity": "20"}, {"product_code": "BOOK", "quantity": "5"}],
}


@contextmanager
def nothing_changes() -> Iterator[None]:
    def state() -> tuple[Any, ...]:
        return (
            list(SalesOrder.objects.values_list("number", "status")),
            list(OrderLine.objects.order_by("pk").values_list("delivered", flat=True)),
            Delivery.objects.count(),
            AuditEvent.objects.count(),
        )

    before = state()
    yield
    assert state() == before


def refusal(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body["field"]


@pytest.fixture
def api(api_as: Callable[..., Any], clerk: User) -> Any:
    return api_as(clerk)


@pytest.fixture
def order(api: Any, customer: Customer) -> dict[str, Any]:
    response = api.post(ORDERS, {"customer_id": customer.pk, **ORDER})
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def deliver(api: Any, line_no: int, quantity: str, **fields: Any) -> Any:
    return api.post(f"{ORDERS}/SO-2026-0042/lines/{line_no}/deliveries", {"quantity": quantity, **fields})


def test_an_order_is_priced_on_its_date_and_audited(order: dict[str, Any], clerk: User) -> None:
    assert (order["number"], order["status"], order["po_number"], order["order_date"]) == (
        "SO-2026-0042",
        "open",
        "PO-4711",
        "2026-03-02",
    )
    assert [
        (line["line_no"], line["product_code"], line["quantity"], line["delivered"], line["unit_price"],
         line["price_source"], line["tax_code"])
        for line in order["lines"]
    ] == [
        (1, "CONSULT", "20", "0", "135.00", "price list STD-EUR from 10", "VAT-STD"),
        (2, "BOOK", "5", "0", "24.95", "price list STD-EUR", "VAT-RED"),
    ]  # fmt: skip
    event = AuditEvent.objects.get(action="order.created")
    assert (event.actor_id, event.after["number"], len(event.after["lines"])) == (clerk.pk, "SO-2026-0042", 2)


def test_deliveries_in_parts_until_the_order_is_delivered(api: Any, order: dict[str, Any]) -> None:
    assert deliver(api, 1, "8", delivered_on="2026-03-05", reference="DN-1").status_code == 201
    with nothing_changes():
        over = deliver(api, 1, "13", delivered_on="2026-03-06")
        assert refusal(over) == (400, "invalid_amount", "quantity")
        assert over.json()["message"] == "order SO-2026-0042 line 1 has 12 hour left to deliver, not 13"
        assert refusal(deliver(api, 1, "1", delivered_on="2026-03-01")) == (400, "invalid", "delivered_on")
        assert refusal(deliver(api, 1, "0")) == (400, "invalid_amount", "quantity")
        assert refusal(deliver(api, 3, "1")) == (404, "not_found", "line_no")
        missing = api.post(f"{ORDERS}/SO-9/lines/1/deliveries", {"quantity": "1"})
        assert refusal(missing) == (404, "not_found", "line_no")
    deliver(api, 1, "12", delivered_on="2026-03-20")
    assert api.get(f"{ORDERS}/SO-2026-0042").json()["status"] == "open"
    last = deliver(api, 2, "5", delivered_on="2026-03-21").json()
    assert (last["order_number"], last["line_no"], last["quantity"], last["status"]) == (
        "SO-2026-0042",
        2,
        "5",
        "pending",
    )
    shown = api.get(f"{ORDERS}/SO-2026-0042").json()
    assert (shown["status"], [line["delivered"] for line in shown["lines"]]) == ("delivered", ["20", "5"])
    with nothing_changes():
        assert refusal(deliver(api, 2, "1")) == (409, "wrong_status", "status")
    assert AuditEvent.objects.filter(action="order.delivered").count() == 3


def test_a_run_bills_what_was_delivered_at_the_order_price_and_nothing_more(
    api: Any, order: dict[str, Any], clerk: User, customer: Customer
) -> None:
    deliver(api, 1, "4", delivered_on="2026-03-05", reference="DN-1")
    deliver(api, 2, "2", delivered_on="2026-04-02", reference="DN-2")  # April: next month's run
    create_charge(
        customer_id=customer.pk, description="Travel", quantity="1", unit_price="60", tax_code="VAT-STD",
        actor=clerk, charge_date=date(2026, 3, 4),
    )  # fmt: skip
    march = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    invoice = Invoice.objects.get()
    lines = [
        (line.line_no, line.description, line.quantity, line.unit_price, line.net, line.reference)
        for line in invoice.lines.order_by("line_no")
    ]
    # four hours at the order's 135.00 (the break of the 20 hours ordered), after the charge of the 4th
    assert lines == [
        (1, "Travel", Decimal("1"), Decimal("60"), Decimal("60.00"), ""),
        (
            2,
            "Consulting",
            Decimal("4"),
            Decimal("135"),
            Decimal("540.00"),
            "order SO-2026-0042 · PO PO-4711 · DN-1",
        ),
    ]
    assert (march.invoices_issued, invoice.total) == (1, Decimal("714.00"))
    assert sorted(BilledItem.objects.values_list("key", flat=True))[0].startswith("charge:")
    assert list(Delivery.objects.order_by("delivered_on").values_list("status", flat=True)) == [
        "billed",
        "pending",
    ]
    april = start_run(period="2026-04", actor=clerk, invoice_date=date(2026, 5, 1))
    assert (april.invoices_issued, april.totals) == (1, {"EUR": "53.39"})  # 2 x 24.95 + 7 %


def test_a_closed_order_takes_no_more_deliveries_but_what_was_delivered_is_billed(
    api: Any, order: dict[str, Any], clerk: User
) -> None:
    deliver(api, 1, "4", delivered_on="2026-03-05")
    with nothing_changes():
        assert refusal(api.post(f"{ORDERS}/SO-2026-0042/close", {"reason": " "})) == (
            400,
            "invalid",
            "reason",
        )
    closed = api.post(f"{ORDERS}/SO-2026-0042/close", {"reason": "customer cancelled the rest"}).json()
    assert closed["status"] == "closed"
    with nothing_changes():
        assert refusal(deliver(api, 1, "1")) == (409, "wrong_status", "status")
        assert refusal(api.post(f"{ORDERS}/SO-2026-0042/close", {"reason": "again"})) == (
            409,
            "wrong_status",
            "status",
        )
    assert start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1)).invoices_issued == 1


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"lines": []}, 400, "invalid", "lines"),
        ({"lines": [{"product_code": "NOPE", "quantity": "1"}]}, 404, "not_found", "lines.0.product_code"),
        ({"lines": [{"product_code": "BOOK", "quantity": "-1"}]}, 400, "invalid_amount", "lines.0.quantity"),
        ({"lines": [{"quantity": "1"}]}, 422, "invalid", "lines.0.product_code"),
        ({"number": "  "}, 400, "invalid", "number"),
        ({"order_date": "1999-01-01"}, 400, "invalid", "order_date"),
        ({"customer_id": 999_999}, 404, "not_found", "customer_id"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(
    api: Any, customer: Customer, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    with nothing_changes():
        assert refusal(api.post(ORDERS, {"customer_id": customer.pk, **ORDER, **change})) == (
            status,
            code,
            field,
        )


def test_an_order_number_is_taken_once(api: Any, order: dict[str, Any], customer: Customer) -> None:
    with nothing_changes():
        again = api.post(ORDERS, {"customer_id": customer.pk, **ORDER, "number": "SO-2026-0042"})
        assert refusal(again) == (409, "duplicate", "number")


def test_collectors_and_auditors_only_read_orders(
    api_as: Callable[..., Any], make_user: Callable[..., User], order: dict[str, Any], customer: Customer
) -> None:
    for role in (Role.COLLECTOR, Role.AUDITOR):
        other = api_as(make_user(role))
        with nothing_changes():
            assert (
                refusal(other.post(ORDERS, {"customer_id": customer.pk, **ORDER, "number": "SO-2"}))[0] == 403
            )
            assert refusal(deliver(other, 1, "1"))[0] == 403
        assert other.get(ORDERS).json()["items"][0]["number"] == "SO-2026-0042"
        assert other.get("/billing/deliveries", status="pending").json()["items"] == []
