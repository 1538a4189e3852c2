"""The auditor reads everything and writes nothing: every write operation of the API answers 403."""

from __future__ import annotations

import json

import pytest

from billops.access.models import ApiToken, IdempotencyRecord, User
from billops.api import api
from billops.audit.models import AuditEvent
from billops.customers.models import Customer
from billops.ledger.models import AccountingPeriod, JournalEntry

WRITE_METHODS = ("post", "put", "patch", "delete")


def write_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    ]


def test_the_api_has_write_operations_to_check() -> None:
    operations = write_operations()
    assert ("POST", "/api/v1/customers/") in operations
    assert ("POST", "/api/v1/ledger/entries") in operations
    assert len(operations) >= 15


@pytest.mark.parametrize(("method", "path"), write_operations())
def test_every_write_operation_refuses_the_auditor_and_writes_nothing(
    api_as, auditor: User, method: str, path: str
) -> None:
    client = api_as(auditor).client
    url = path.replace("{", "").replace("}", "")  # any id: the role is refused before the path is looked at
    for name in ("customer_id", "contact_id", "address_id", "entry_id", "token_id", "start_on"):
        url = url.replace(name, "2026-01-01" if name == "start_on" else "1")
    counts = [
        model.objects.count() for model in (Customer, JournalEntry, AccountingPeriod, ApiToken, AuditEvent)
    ]

    response = client.generic(
        method, url, json.dumps({"anything": "at all"}), content_type="application/json",
        headers={"Idempotency-Key": f"auditor-{method}-{path}"},
    )  # fmt: skip

    assert response.status_code == 403, (method, path, response.content)
    assert response.json() == {
        "code": "permission_denied",
        "message": "the auditor role is read-only",
        "field": None,
    }
    assert [
        model.objects.count() for model in (Customer, JournalEntry, AccountingPeriod, ApiToken, AuditEvent)
    ] == (counts)
    assert IdempotencyRecord.objects.get().response_status == 403


def test_the_auditor_still_reads(api_as, auditor: User) -> None:
    client = api_as(auditor)
    assert client.get("/customers/").status_code == 200
    assert client.get("/ledger/trial-balance").status_code == 200
    assert client.get("/audit/verify").json()["ok"] is True
