"""The collections API: aging and its items, the worklist, activities, next actions, collectors and
promises, with the error reply {code, message, field} for what is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.collections.models import PromiseToPay
from tests.collections.conftest import Book

pytestmark = pytest.mark.django_db


def put(client: Any, path: str, body: dict) -> Any:
    return client.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def test_the_aging_as_of_a_past_day_with_its_totals(book: Book, api_as: Callable, collector: User) -> None:
    reply = api_as(collector).get("/collections/aging", as_of="2026-05-01", group="currency")

    assert reply.status_code == 200, reply.json()
    assert reply.json() == {
        "as_of": "2026-05-01",
        "basis": "due",
        "group": "currency",
        "labels": ["Current", "1-30", "31-60", "61-90", "Over 90"],
        "rows": [
            {"key": None, "name": "All customers", "currency": "EUR",
             "buckets": ["357.00", "0.00", "238.00", "119.00", "50.00"], "total": "764.00"},
            {"key": None, "name": "All customers", "currency": "GBP",
             "buckets": ["100.00", "0.00", "0.00", "0.00", "0.00"], "total": "100.00"},
        ],
        "totals": [
            {"key": None, "name": "Total", "currency": "EUR",
             "buckets": ["357.00", "0.00", "238.00", "119.00", "50.00"], "total": "764.00"},
            {"key": None, "name": "Total", "currency": "GBP",
             "buckets": ["100.00", "0.00", "0.00", "0.00", "0.00"], "total": "100.00"},
        ],
    }  # fmt: skip


def test_the_aged_items_of_a_customer(book: Book, api_as: Callable, collector: User) -> None:
    reply = api_as(collector).get("/collections/aging/items", as_of="2026-05-20", customer_id=book.acme.pk)

    assert [
        (item["number"], item["open_amount"], item["bucket"], item["days_overdue"]) for item in reply.json()
    ] == [
        (book.invoices["mar"].number, "238.00", 2, 50),
        (book.invoices["may"].number, "357.00", 0, 0),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"buckets": "90,30"}, "buckets"), ({"basis": "paid"}, "basis"), ({"group": "planet"}, "group")],
)
def test_bad_aging_parameters_name_their_field(
    book: Book, api_as: Callable, collector: User, params: dict, field: str
) -> None:
    reply = api_as(collector).get("/collections/aging", **params)
    assert reply.status_code == 400
    assert (reply.json()["code"], reply.json()["field"]) == ("invalid", field)


def test_the_worklist_most_urgent_first(book: Book, api_as: Callable, collector: User) -> None:
    reply = api_as(collector).get("/collections/worklist")

    assert [(row["account_number"], row["priority"], row["overdue"]) for row in reply.json()] == [
        ("C-BOLT", 57, "50.00"), ("C-ACME", 44, "238.00"), ("C-CROWN", 30, "100.00"),
    ]  # fmt: skip


def test_a_collector_works_a_customer_through_the_api(
    book: Book, api_as: Callable, collector: User, supervisor: User
) -> None:
    client = api_as(collector)
    base = f"/collections/customers/{book.acme.pk}"

    activity = client.post(
        f"{base}/activities", {"kind": "call", "outcome": "promised", "text": "Pays Friday"}
    )
    promise = client.post(
        f"{base}/promises",
        {"amount": "238.00", "currency": "EUR", "promised_on": "2026-05-22", "contact": "Anna",
         "invoice_ids": [book.invoices["mar"].pk]},
        key="promise-1",
    )  # fmt: skip
    again = client.post(
        f"{base}/promises",
        {"amount": "238.00", "currency": "EUR", "promised_on": "2026-05-22", "contact": "Anna",
         "invoice_ids": [book.invoices["mar"].pk]},
        key="promise-1",
    )  # fmt: skip
    planned = put(client, f"{base}/next-action", {"on": "2026-05-23", "action": "Check the payment"})
    assigned = put(api_as(supervisor), f"{base}/collector", {"collector_id": collector.pk})

    assert activity.status_code == 201 and activity.json()["created_by"] == "collector"
    assert promise.status_code == 201
    assert (promise.json()["amount"], promise.json()["status"], promise.json()["made_on"]) == (
        "238.00", "open", "2026-05-20",
    )  # fmt: skip
    assert again.json() == promise.json()  # the same key replays the first reply
    assert PromiseToPay.objects.count() == 1
    assert (planned.status_code, planned.json()["next_action_on"]) == (200, "2026-05-23")
    assert (assigned.status_code, assigned.json()["collector_id"]) == (200, collector.pk)
    profile = client.get(f"{base}/profile").json()
    assert (profile["collector_id"], profile["next_action"]) == (collector.pk, "Check the payment")
    cancelled = client.post(
        f"/collections/promises/{promise.json()['id']}/cancel", {"reason": "Plan instead"}
    )
    assert cancelled.json()["status"] == "cancelled"


def test_refusals_name_their_field_and_change_nothing(
    book: Book, api_as: Callable, collector: User, auditor: User
) -> None:
    client = api_as(collector)
    reader = api_as(auditor)
    events = AuditEvent.objects.count()
    base = f"/collections/customers/{book.acme.pk}"

    past = client.post(
        f"{base}/promises",
        {"amount": "10.00", "currency": "EUR", "promised_on": "2026-05-19", "contact": "A"},
    )
    too_much = client.post(
        f"{base}/promises",
        {"amount": "600.00", "currency": "EUR", "promised_on": "2026-05-29", "contact": "A"},
    )
    as_float = client.post(
        f"{base}/promises", {"amount": 10.5, "currency": "EUR", "promised_on": "2026-05-29", "contact": "A"}
    )
    auditor_call = reader.post(f"{base}/activities", {"kind": "call", "text": "x"})
    clerk_assign = put(client, f"{base}/collector", {"collector_id": collector.pk})

    assert (past.status_code, past.json()["field"]) == (400, "promised_on")
    assert (too_much.status_code, too_much.json()["code"], too_much.json()["field"]) == (
        400, "invalid_amount", "amount",
    )  # fmt: skip
    assert as_float.status_code == 422
    assert auditor_call.status_code == 403
    assert (clerk_assign.status_code, clerk_assign.json()["code"]) == (403, "permission_denied")
    assert (PromiseToPay.objects.count(), AuditEvent.objects.count()) == (0, events)
