"""The usage API: batches of events, the event list, metrics, charges and the current month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.customers.models import Customer
from billops.usage.models import BillableMetric, UsageCharge, UsageEvent
from tests.invoicing.factories import make_customer
from tests.usage.factories import make_charge, make_metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(clerk: User, entity: Any, catalog: Any) -> Customer:
    return make_customer(clerk, account_number="A-1")


@pytest.fixture
def calls(clerk: User, usage_product: Any) -> BillableMetric:
    return make_metric(clerk)


def batch(*events: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(events)}


def call(event_id: str, timestamp: str = "2026-03-14T10:00:00Z", **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "customer": "A-1", "metric": "API-CALLS", "timestamp": timestamp, **fields}


def test_a_batch_is_accepted_and_a_retry_counts_duplicates(
    api_as: Callable[[User], Any], clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    api = api_as(clerk)
    reply = api.post("/usage/events", batch(call("c1"), call("c2")))
    assert (reply.status_code, reply.json()["accepted"], reply.json()["duplicates"]) == (200, 2, 0)
    again = api.post("/usage/events", batch(call("c1"), call("c2"), call("c3")))
    assert {key: again.json()[key] for key in ("received", "accepted", "duplicates")} == {
        "received": 3,
        "accepted": 1,
        "duplicates": 2,
    }
    assert UsageEvent.objects.count() == 3


def test_a_bad_batch_is_a_400_listing_every_bad_event(
    api_as: Callable[[User], Any], clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    reply = api_as(clerk).post(
        "/usage/events",
        batch(call("c1"), call("c2", customer="NOPE"), call("c3", value="-2", timestamp=None)),
    )
    assert reply.status_code == 400
    body = reply.json()
    assert [(error["field"], error["message"]) for error in body["errors"]] == [
        ("events.1.customer", "there is no customer 'NOPE'"),
        ("events.2.timestamp", "timestamp is required"),
        ("events.2.value", "value must be zero or more, got -2"),
    ]
    assert (body["code"], body["field"]) == ("invalid", "events.1.customer")
    assert UsageEvent.objects.count() == 0


def test_a_collector_may_not_send_usage_but_may_read_it(
    api_as: Callable[[User], Any], make_user: Callable[..., User], customer: Customer, calls: BillableMetric
) -> None:
    collector = api_as(make_user(Role.COLLECTOR))
    assert collector.post("/usage/events", batch(call("c1"))).status_code == 403
    assert collector.get("/usage/events").json() == {"items": [], "count": 0}


def test_events_are_listed_by_customer_metric_and_time(
    api_as: Callable[[User], Any], clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    api = api_as(clerk)
    other = make_customer(clerk, account_number="B-1")
    api.post(
        "/usage/events",
        batch(
            call("c1", "2026-03-01T00:00:00Z"),
            call("c2", "2026-03-10T00:00:00Z"),
            call("c3", "2026-04-01T00:00:00Z"),
            call("b1", "2026-03-05T00:00:00Z", customer="B-1"),
        ),
    )
    listed = api.get(
        "/usage/events",
        customer_id=customer.pk,
        metric="api-calls",
        **{"from": "2026-03-01"},
        to="2026-03-31",
        limit=1,
    )
    assert listed.status_code == 200
    assert (listed.json()["count"], [item["event_id"] for item in listed.json()["items"]]) == (2, ["c2"])
    assert listed.json()["items"][0]["customer"] == "A-1"
    assert api.get("/usage/events", customer_id=other.pk).json()["count"] == 1


def test_metrics_are_created_audited_and_listed(api_as: Callable[[User], Any], clerk: User) -> None:
    api = api_as(clerk)
    reply = api.post(
        "/usage/metrics",
        {
            "code": "users",
            "name": "Active users",
            "unit": "users",
            "aggregation": "unique_count",
            "field": "user_id",
        },
    )
    assert (reply.status_code, reply.json()["code"]) == (201, "USERS")
    event = AuditEvent.objects.get(action="usage_metric.created")
    assert event.after == {
        "code": "USERS",
        "name": "Active users",
        "unit": "users",
        "aggregation": "unique_count",
        "field": "user_id",
    }
    again = api.post("/usage/metrics", {"code": "USERS", "name": "x", "unit": "x", "aggregation": "count"})
    assert (again.status_code, again.json()["field"]) == (409, "code")
    no_field = api.post(
        "/usage/metrics", {"code": "GB", "name": "Storage", "unit": "GB", "aggregation": "max"}
    )
    assert (no_field.status_code, no_field.json()["field"]) == (400, "field")
    assert [metric["code"] for metric in api.get("/usage/metrics").json()["items"]] == ["USERS"]


def test_a_charge_is_created_listed_and_ended(
    api_as: Callable[[User], Any], clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    api = api_as(clerk)
    tiers = [{"up_to": "1000", "unit_price": "0.01"}, {"up_to": None, "unit_price": "0.008", "flat_fee": "5"}]
    reply = api.post(
        "/usage/charges",
        {
            "customer_id": customer.pk,
            "metric_code": "api-calls",
            "product_code": "API-USAGE",
            "model": "graduated",
            "tiers": tiers,
            "start_date": "2026-03-01",
        },
    )
    assert reply.status_code == 201, reply.json()
    body = reply.json()
    assert (body["metric"], body["model"], body["currency"], body["start_date"], body["end_date"]) == (
        "API-CALLS",
        "graduated",
        "EUR",
        "2026-03-01",
        None,
    )
    assert body["tiers"] == [
        {"up_to": "1000", "unit_price": "0.01", "flat_fee": "0"},
        {"up_to": None, "unit_price": "0.008", "flat_fee": "5"},
    ]
    assert AuditEvent.objects.filter(action="usage_charge.created", target_id=str(body["id"])).count() == 1
    ended = api.post(f"/usage/charges/{body['id']}/end", {"end_date": "2026-06-30"})
    assert (ended.status_code, ended.json()["end_date"]) == (200, "2026-06-30")
    assert AuditEvent.objects.get(action="usage_charge.ended").after == {"end_date": "2026-06-30"}
    assert api.get("/usage/charges", active_on="2026-07-01").json()["count"] == 0
    assert api.get("/usage/charges", customer_id=customer.pk, metric="API-CALLS").json()["count"] == 1


@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        ({"model": "per_unit"}, "unit_price", "a per_unit charge needs unit_price"),
        (
            {"model": "per_unit", "unit_price": "1", "package_size": "5"},
            "package_size",
            "a per_unit charge has no package_size",
        ),
        (
            {"model": "volume", "tiers": [{"up_to": "10", "unit_price": "1"}]},
            "tiers.0.up_to",
            "the last tier is open-ended: up_to null",
        ),
        (
            {
                "model": "graduated",
                "tiers": [
                    {"up_to": "10", "unit_price": "1"},
                    {"up_to": "5", "unit_price": "1"},
                    {"unit_price": "1"},
                ],
            },
            "tiers.1.up_to",
            "up_to must be above 10",
        ),
        (
            {"model": "graduated", "tiers": [{"unit_price": "1"}, {"unit_price": "1"}]},
            "tiers.0.up_to",
            "only the last tier is open-ended",
        ),
        (
            {"model": "package", "package_size": "0", "package_price": "1"},
            "package_size",
            "package_size must be more than zero, got 0",
        ),
        (
            {"model": "percentage", "percentage": "101"},
            "model",
            "a percentage is of a summed amount; API-CALLS is a count",
        ),
        ({"model": "per_unit", "unit_price": "-1"}, "unit_price", "unit price must not be negative, got -1"),
    ],
)
def test_a_bad_charge_is_refused_naming_the_field(
    api_as: Callable[[User], Any],
    clerk: User,
    customer: Customer,
    calls: BillableMetric,
    terms: dict[str, Any],
    field: str,
    message: str,
) -> None:
    base = {"customer_id": customer.pk, "metric_code": "API-CALLS", "product_code": "API-USAGE"}
    reply = api_as(clerk).post("/usage/charges", base | terms)
    assert (reply.status_code, reply.json()["field"], reply.json()["message"]) == (400, field, message)
    assert UsageCharge.objects.count() == 0


def test_two_charges_for_one_metric_may_not_overlap(
    clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    make_charge(clerk, customer, calls, unit_price="0.01", end_date=date(2026, 5, 31))
    from billops.core.errors import Conflict

    with pytest.raises(Conflict, match="end it first, so no usage is billed twice") as refused:
        make_charge(clerk, customer, calls, unit_price="0.02", start_date=date(2026, 5, 1))
    assert refused.value.field == "start_date"
    make_charge(clerk, customer, calls, unit_price="0.02", start_date=date(2026, 6, 1))
    assert UsageCharge.objects.count() == 2


def test_the_current_month_is_rated_and_not_billed(
    api_as: Callable[[User], Any],
    make_user: Callable[..., User],
    clerk: User,
    customer: Customer,
    calls: BillableMetric,
) -> None:
    set_business_date(on=date(2026, 3, 20), actor=make_user(Role.ADMIN))
    make_charge(clerk, customer, calls, unit_price="0.05")
    api = api_as(clerk)
    api.post(
        "/usage/events",
        batch(
            call("c1", "2026-03-02T00:00:00Z"),
            call("c2", "2026-03-19T00:00:00Z"),
            call("c0", "2026-02-27T00:00:00Z"),
        ),
    )
    reply = api.get(f"/usage/customers/{customer.pk}/current")
    assert reply.status_code == 200
    assert [
        {key: row[key] for key in ("metric", "month", "quantity", "events", "amount", "currency")}
        for row in reply.json()
    ] == [
        {
            "metric": "API-CALLS",
            "month": "2026-03-01",
            "quantity": "2",
            "events": 2,
            "amount": "0.10",
            "currency": "EUR",
        }
    ]
    assert api.get("/usage/customers/999999/current").status_code == 404


def test_a_usage_file_is_imported_through_the_api(
    api_as: Callable[[User], Any], clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_as(clerk)
    good = b"event_id,customer,metric,timestamp,value\nf1,A-1,API-CALLS,2026-03-14T10:00:00Z,\n"
    reply = api.client.post("/api/v1/usage/events/import", {"file": SimpleUploadedFile("usage.csv", good)})
    assert (reply.status_code, reply.json()["accepted"]) == (200, 1)
    bad = b"event_id,customer,metric,timestamp,value\nf2,=cmd(),API-CALLS,2026-03-14T10:00:00Z,\n"
    refused = api.client.post("/api/v1/usage/events/import", {"file": SimpleUploadedFile("bad.csv", bad)})
    assert refused.status_code == 422
    assert refused.json()["rejects"] == [
        {"row": 2, "column": "customer", "message": "the cell starts like a spreadsheet formula"}
    ]
    assert UsageEvent.objects.count() == 1
