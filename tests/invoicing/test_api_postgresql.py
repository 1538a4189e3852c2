"""Real concurrency on PostgreSQL over the API: two requests to issue one draft at the same moment take
one number between them, and a retried create with its Idempotency-Key issues once."""

from __future__ import annotations

from typing import Any

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.customers.models import Customer
from billops.invoicing.models import Invoice, NumberSeries
from billops.ledger.models import JournalEntry
from tests.conftest import race
from tests.invoicing.test_api import CONSULT, INVOICES, MARCH, draft, issued

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_two_requests_to_issue_one_draft_take_one_number(
    api_as, clerk: User, supervisor: User, customer: Customer
) -> None:
    issued(api_as(clerk), customer)  # INV-2026-000001: the series exists and sits at 2
    created = draft(api_as(clerk), customer)
    clients = [api_as(clerk), api_as(supervisor)]
    results, errors = race(2, lambda i: clients[i].post(f"{INVOICES}/{created['id']}/issue", {}))
    assert errors == []
    assert sorted(response.status_code for response in results) == [200, 409]
    winner = next(response for response in results if response.status_code == 200)
    loser = next(response for response in results if response.status_code == 409)
    assert winner.json()["number"] == "INV-2026-000002"
    assert (loser.json()["code"], loser.json()["field"]) == ("wrong_status", "status")
    assert list(Invoice.objects.order_by("number").values_list("number", flat=True)) == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]
    assert NumberSeries.objects.get(prefix="INV", year=2026).next_number == 3
    assert JournalEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="invoice.issued").count() == 2
    assert verify_chain().ok


def test_a_create_and_issue_retried_at_once_with_its_key_issues_once(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    body: dict[str, Any] = {"customer_id": customer.pk, "issued_on": MARCH, "lines": [CONSULT], "issue": True}
    results, errors = race(4, lambda i: api.post(INVOICES, body, key="order-4711"))
    assert errors == []
    statuses = sorted(response.status_code for response in results)
    # the first runs; a duplicate that arrives while it runs is told so (409) and one after it gets the replay
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert {r.json()["code"] for r in results if r.status_code == 409} <= {"idempotency_in_progress"}
    assert len({r.json()["number"] for r in results if r.status_code == 201}) == 1
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-2026-000001"]
    assert NumberSeries.objects.get(prefix="INV", year=2026).next_number == 2
    assert JournalEntry.objects.count() == 1
