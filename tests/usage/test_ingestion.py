"""Taking in events: a good batch, duplicates counted once, every bad input refused with nothing stored,
and the aggregations read back from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.core.errors import InvalidInput, PermissionDenied
from billops.customers.models import Customer
from billops.usage.errors import BatchRefused
from billops.usage.imports import EventData
from billops.usage.models import BillableMetric, UsageBatch, UsageCharge, UsageEvent
from billops.usage.rating import quantity_of
from billops.usage.selectors import monthly_figures
from tests.invoicing.factories import make_customer
from tests.usage.factories import event, make_charge, make_metric, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(clerk: User, usage_product: Any) -> BillableMetric:
    return make_metric(clerk)


@pytest.fixture
def storage(clerk: User, usage_product: Any) -> BillableMetric:
    return make_metric(clerk, "STORAGE", "max", name="Storage", unit="GB", field="gb")


@pytest.fixture
def customer(clerk: User, entity: Any, catalog: Any) -> Customer:
    return make_customer(clerk, account_number="A-1")


def stored() -> list[tuple[Any, ...]]:
    return list(UsageEvent.objects.order_by("pk").values_list("event_id", "metric__code", "used_on", "value"))


def test_a_good_batch_is_stored_with_one_audit_event(
    clerk: User, customer: Customer, calls: BillableMetric, storage: BillableMetric
) -> None:
    result = send(
        clerk,
        event(customer, calls, "c1", "2026-03-14T23:30:00-02:00"),  # 01:30 UTC on the 15th
        event(customer, storage, "s1", "2026-03-14", gb="12.5", region="eu"),
        EventData(event_id="s2", customer="a-1", metric="storage", timestamp="2026-03-14T10:00:00", value=7),
    )
    assert (result.received, result.accepted, result.duplicates) == (3, 3, 0)
    assert stored() == [
        ("c1", "API-CALLS", date(2026, 3, 15), Decimal(0)),
        ("s1", "STORAGE", date(2026, 3, 14), Decimal("12.5")),
        ("s2", "STORAGE", date(2026, 3, 14), Decimal(7)),
    ]
    assert UsageEvent.objects.get(event_id="s1").properties == {"gb": "12.5", "region": "eu"}
    audit = AuditEvent.objects.get(action="usage.events_received")
    assert (audit.target_id, audit.after) == (
        str(result.batch_id),
        {"source": "api", "received": 3, "accepted": 3, "duplicates": 0},
    )


def test_a_duplicate_is_counted_once_and_not_stored_again(
    clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    first = event(customer, calls, "c1", "2026-03-14")
    send(clerk, first)
    result = send(
        clerk, first, event(customer, calls, "c2", "2026-03-14"), event(customer, calls, "c2", "2026-03-14")
    )
    assert (result.accepted, result.duplicates) == (1, 2)
    assert [row[0] for row in stored()] == ["c1", "c2"]
    assert list(UsageBatch.objects.order_by("pk").values_list("received", "accepted", "duplicates")) == [
        (1, 1, 0),
        (3, 1, 2),
    ]


def test_the_same_id_with_other_content_is_an_error_for_that_event(
    clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    send(clerk, event(customer, calls, "c1", "2026-03-14"))
    with pytest.raises(BatchRefused) as refused:
        send(
            clerk,
            event(customer, calls, "c1", "2026-03-15"),
            event(customer, calls, "c2", "2026-03-14"),
            event(customer, calls, "c2", "2026-03-16"),
        )
    assert [(error.field, error.message) for error in refused.value.errors] == [
        ("events.0.event_id", "event c1 was stored before with other content"),
        ("events.2.event_id", "event c2 is in the batch before (event 1) with other content"),
    ]
    assert [row[0] for row in stored()] == ["c1"]


def test_every_bad_event_is_listed_and_nothing_is_stored(
    clerk: User, customer: Customer, calls: BillableMetric, storage: BillableMetric
) -> None:
    closed = make_customer(clerk, account_number="Z-1")
    Customer.objects.filter(pk=closed.pk).update(status=Customer.Status.CLOSED)
    good = event(customer, calls, "ok", "2026-03-14")
    bad = [
        EventData(event_id="1", customer="NOPE", metric="API-CALLS", timestamp="2026-03-14T10:00:00Z"),
        EventData(event_id="2", customer="A-1", metric="NOPE", timestamp="2026-03-14T10:00:00Z"),
        event(customer, storage, "3", "2026-03-14", value="-1"),
        EventData(event_id="4", customer="A-1", metric="API-CALLS"),
        EventData(event_id="5", customer="A-1", metric="API-CALLS", timestamp="2099-01-01T00:00:00Z"),
        event(customer, storage, "6", "2026-03-14", value="lots"),
        event(customer, storage, "7", "2026-03-14", value=1.5),
        event(closed, calls, "8", "2026-03-14"),
        event(customer, storage, "9", "2026-03-14"),
        EventData(event_id="", customer="A-1", metric="API-CALLS", timestamp="14/03/2026"),
    ]
    before = AuditEvent.objects.count()
    with pytest.raises(BatchRefused) as refused:
        send(clerk, good, *bad)
    assert [(error.field, error.message) for error in refused.value.errors] == [
        ("events.1.customer", "there is no customer 'NOPE'"),
        ("events.2.metric", "there is no metric 'NOPE'"),
        ("events.3.value", "value must be zero or more, got -1"),
        ("events.4.timestamp", "timestamp is required"),
        ("events.5.timestamp", "timestamp 2099-01-01T00:00:00Z is more than a day in the future"),
        ("events.6.value", "value 'lots' is not a number like 1234.50"),
        ("events.7.value", "value must be given as a decimal string, not a float (1.5)"),
        ("events.8.customer", "Z-1 is closed and takes no new usage"),
        ("events.9.value", "value is required (or properties.gb)"),
        ("events.10.event_id", "event_id is required"),
        ("events.10.timestamp", "timestamp '14/03/2026' is not ISO 8601 like 2026-03-14T09:30:00Z"),
    ]
    assert refused.value.message.startswith("10 events refused, nothing was stored — events.1.customer: ")
    assert (UsageEvent.objects.count(), UsageBatch.objects.count(), AuditEvent.objects.count()) == (
        0,
        0,
        before,
    )


def test_a_batch_is_at_most_ten_thousand_events_and_not_empty(
    clerk: User, customer: Customer, calls: BillableMetric
) -> None:
    with pytest.raises(InvalidInput, match="at most 10000 events, this one 10001") as refused:
        send(clerk, *[event(customer, calls, f"e{n}", "2026-03-14") for n in range(10_001)])
    assert refused.value.field == "events"
    with pytest.raises(InvalidInput, match="holds no events"):
        send(clerk)
    assert UsageEvent.objects.count() == 0


def test_the_largest_batch_is_stored_whole(clerk: User, customer: Customer, calls: BillableMetric) -> None:
    result = send(clerk, *[event(customer, calls, f"e{n}", "2026-03-14") for n in range(10_000)])
    assert (result.accepted, UsageEvent.objects.count()) == (10_000, 10_000)


def test_only_clerks_and_supervisors_send_usage(
    make_user: Any, customer: Customer, calls: BillableMetric
) -> None:
    with pytest.raises(PermissionDenied):
        send(make_user(Role.COLLECTOR), event(customer, calls, "c1", "2026-03-14"))
    send(make_user(Role.SUPERVISOR), event(customer, calls, "c1", "2026-03-14"))
    assert UsageEvent.objects.count() == 1


def test_each_aggregation_reads_the_month_from_the_database(
    clerk: User, customer: Customer, storage: BillableMetric
) -> None:
    metrics = {
        "sum": make_metric(clerk, "GB-SUM", "sum", field="gb"),
        "count": make_metric(clerk, "CALLS", "count"),
        "unique_count": make_metric(clerk, "USERS", "unique_count", field="user"),
        "max": storage,
        "latest": make_metric(clerk, "SEATS", "latest", field="gb"),
    }
    charges = {name: make_charge(clerk, customer, metric, unit_price="1") for name, metric in metrics.items()}
    for name, metric in metrics.items():
        send(
            clerk,
            # out of order on purpose: the latest is the one with the last timestamp, not the last sent
            event(customer, metric, f"{name}-e1", "2026-03-20T10:00:00Z", gb="3", user="ann"),
            event(customer, metric, f"{name}-e2", "2026-03-31T22:00:00Z", gb="2.5", user="bob"),
            event(customer, metric, f"{name}-e3", "2026-03-05T10:00:00Z", gb="7", user="ann"),
            event(
                customer, metric, f"{name}-e4", "2026-02-28T10:00:00Z", gb="100", user="eve"
            ),  # before the charge
            event(customer, metric, f"{name}-e5", "2026-04-01T00:00:00Z", gb="50", user="joe"),  # April
        )
    figures = monthly_figures(UsageCharge.objects.all(), until=date(2026, 3, 31))
    march = {name: figures[(charge.pk, date(2026, 3, 1))] for name, charge in charges.items()}
    assert {name: quantity_of(name, month) for name, month in march.items()} == {
        "sum": Decimal("12.5"),
        "count": Decimal(3),
        "unique_count": Decimal(2),
        "max": Decimal(7),
        "latest": Decimal("2.5"),
    }
    assert len(figures) == 5  # April is after `until`, February before each charge


def test_timestamps_without_an_offset_are_in_the_business_time_zone(
    clerk: User, customer: Customer, calls: BillableMetric, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    send(clerk, EventData(event_id="c1", customer="A-1", metric="API-CALLS", timestamp="2026-03-31T23:30:00"))
    saved = UsageEvent.objects.get()
    assert (saved.timestamp, saved.used_on) == (datetime(2026, 3, 31, 21, 30, tzinfo=UTC), date(2026, 3, 31))
