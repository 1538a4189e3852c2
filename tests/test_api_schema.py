"""Schemathesis against /api/v1/openapi.json, in-process through the WSGI application.

Every operation, the multipart import included, gets its schema examples, coverage cases (boundaries,
missing and malformed parts, unexpected methods) and up to 25 fuzzed requests, sent as a supervisor
with a real bearer token. Each response must not be a 5xx, must carry a documented status code and
content type, and must match its documented schema; a schema-violating request must be refused, and
one without a valid token must get 401. A scripted walk then makes each operation succeed once, under
the same checks, since fuzzed data seldom gets past validation.

Left out, on purpose:
- `positive_data_acceptance`: the schema types most business fields as plain strings, so a
  schema-valid request may still be a 400 for a clerk's reason (an unknown currency, an empty name).
- generated `Authorization` headers: the token comes from the `bearer` fixture instead.
- unknown query parameters: the API ignores them, as HTTP APIs do, and OpenAPI has no way to say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from billops.access.models import User
from billops.access.services import issue_api_token
from billops.api import api
from billops.wsgi import application

CONFIG = schemathesis.Config.from_dict(
    {"generation": {"with-security-parameters": False, "allow-extra-parameters": False}}
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Django closes the database connection after each request, which would end the test's transaction
    (on PostgreSQL; SQLite's in-memory test database is never closed). Django's test client stops that for
    its own requests; schemathesis calls the WSGI application, so this does the same."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(supervisor: User) -> dict[str, str]:
    _, secret = issue_api_token(user=supervisor, name="schemathesis", actor=None)
    return {"Authorization": f"Bearer {secret}"}


# One database transaction per operation (pytest-django's `db`, through `supervisor`): rows one example
# writes are there for the next, and all of it is rolled back after the operation's last example.
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case: schemathesis.Case, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, excluded_checks=[schemathesis.checks.positive_data_acceptance])


class Walk:
    """Calls one documented operation with the data given, validates the reply as the fuzzer does, and
    checks its status: random data rarely gets past validation, so this is where each success is seen."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(self, status: int, operation: str, path_parameters: Any = None, **data: Any) -> Any:
        method, path = operation.split(" ")
        case = schema[f"/api/v1{path}"][method].Case(path_parameters=path_parameters, **data)
        response = case.call_and_validate(headers=self.headers)
        assert response.status_code == status, response.text
        return response.json() if "json" in response.headers["content-type"][0] else response.content


CUSTOMER = {
    "account_number": "W-1",
    "legal_name": "Walk GmbH",
    "currency": "EUR",
    "country": "DE",
    "vat_id": "DE136695976",
    "tags": ["key"],
    "contacts": [{"role": "billing", "name": "Ann", "email": "ann@walk.example", "is_primary": True}],
    "addresses": [{"kind": "billing", "lines": "Hauptstr. 1", "city": "Bonn", "country": "DE"}],
}
ENTRY = {
    "posted_on": "2025-03-14",
    "memo": "accrual",
    "lines": [
        {"account": "1000", "currency": "EUR", "debit": "10.10"},
        {"account": "revenue", "currency": "EUR", "credit": "10.10", "customer_id": 1, "memo": "fee"},
    ],
}
IMPORT = b"account_number,legal_name,currency,country\nW-2,Second,EUR,DE\n"


def test_each_operation_succeeds_and_its_reply_matches_the_schema(bearer: dict[str, str]) -> None:
    call = Walk(bearer)
    token = call(201, "POST /access/tokens", body={"name": "walk"})
    call(200, "GET /access/me")
    call(200, "GET /access/tokens")
    call(200, "POST /access/tokens/{token_id}/revoke", {"token_id": token["id"]})

    customer = call(201, "POST /customers/", body=CUSTOMER)
    one = {"customer_id": customer["id"]}
    contact = {**one, "contact_id": customer["contacts"][0]["id"]}
    address = {**one, "address_id": customer["addresses"][0]["id"]}
    call(200, "GET /customers/", query={"search": "walk", "on_hold": False})
    call(200, "GET /customers/{customer_id}", one)
    call(200, "PATCH /customers/{customer_id}", one, body={"notes": "walked"})
    call(200, "POST /customers/{customer_id}/credit-hold", one, body={"reason": "late"})
    call(200, "POST /customers/{customer_id}/credit-hold/release", one, body={})
    call(200, "POST /customers/{customer_id}/credit-limit", one, body={"credit_limit": "5000"})
    balance = {"amount": "100.00", "currency": "EUR", "balance_on": "2025-01-31", "reference": "OB-1"}
    call(201, "POST /customers/{customer_id}/opening-balances", one, body=balance)
    call(201, "POST /customers/{customer_id}/contacts", one, body={"role": "ap", "name": "Bob"})
    call(200, "PATCH /customers/{customer_id}/contacts/{contact_id}", contact, body={"phone": "+49 228 1"})
    shipping = {"kind": "shipping", "lines": "Lager 2", "city": "Köln", "country": "DE"}
    call(201, "POST /customers/{customer_id}/addresses", one, body=shipping)
    call(200, "PATCH /customers/{customer_id}/addresses/{address_id}", address, body={"postal_code": "53111"})
    assert len(call(200, "GET /customers/{customer_id}/history", one)["items"]) == 10
    call(200, "GET /customers/terms")
    assert call(200, "GET /customers/export.csv").startswith(b"\xef\xbb\xbfaccount_number,")
    assert call(200, "GET /customers/export.xlsx").startswith(b"PK")
    imported = call(200, "POST /customers/import", body={"file": IMPORT}, media_type="multipart/form-data")
    assert imported["created"] == 1

    call(200, "GET /ledger/accounts", query={"active_only": True})
    call(201, "POST /ledger/accounts", body={"code": "4010", "name": "Fees", "type": "revenue"})
    entry = {"entry_id": call(201, "POST /ledger/entries", body=ENTRY)["id"]}
    call(200, "GET /ledger/entries", query={"posted_from": "2025-03-01", "account": "1000"})
    call(200, "GET /ledger/entries/{entry_id}", entry)
    typo = {"posted_on": "2025-03-15", "reason": "typo"}
    call(201, "POST /ledger/entries/{entry_id}/reverse", entry, body=typo)
    call(200, "GET /ledger/trial-balance", query={"as_of": "2025-03-31", "currency": "EUR"})
    call(200, "GET /ledger/periods")
    january = {"start_on": "2025-01-01"}
    call(200, "POST /ledger/periods/{start_on}/close", january)
    call(200, "POST /ledger/periods/{start_on}/reopen", january, body={"reason": "late invoice"})

    call(200, "GET /audit/events", query={"limit": 5})
    assert call(200, "GET /audit/verify")["ok"] is True


def _references(response: dict[str, Any]) -> list[str]:
    body = response["content"]["application/json"]["schema"]
    return [option["$ref"] for option in body.get("anyOf", [body])]


def test_every_operation_documents_its_refusals_in_the_error_shape() -> None:
    document = api.get_openapi_schema()
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["code", "message", "field"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = {int(status) for status in operation["responses"]}
            expected = {401, 400, 403, 409, 422} if method in ("post", "patch") else {401}
            if "{" in path:
                expected |= {404, 422}
            if any(parameter["in"] == "query" for parameter in operation["parameters"]):
                expected |= {400, 422}  # a value that does not fit, or holds a NUL character
            assert expected <= statuses, f"{method.upper()} {path} documents {sorted(statuses)}"
            for status in statuses - {200, 201, 202}:  # 202: waiting for a second person's approval
                refusal = _references(operation["responses"][status])
                assert "#/components/schemas/ErrorOut" in refusal, f"{method.upper()} {path} {status}"
