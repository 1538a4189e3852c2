"""Idempotent API writes: a retried POST replays the first response and never has a second effect."""

import json

import pytest
from django.test import Client

from billops.access.models import ApiToken, IdempotencyRecord
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.customers.models import Customer
from tests.access import failing_urls
from tests.conftest import race

ACME = {"account_number": "IDEM-1", "legal_name": "Acme GmbH", "currency": "EUR", "country": "DE"}
OTHER = {**ACME, "legal_name": "Other GmbH"}


def effects():
    return Customer.objects.count(), AuditEvent.objects.count()


def post(api, path, body, key=None):
    """POST raw bytes so that a replay can be compared byte for byte."""
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.client.post(f"/api/v1{path}", body, content_type="application/json", headers=headers)


def test_same_key_and_body_replays_the_first_response_byte_for_byte(api_as, clerk):
    api = api_as(clerk)
    before = effects()
    first = api.post("/customers/", ACME, key="order-2028-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    after_first = effects()
    assert after_first == (before[0] + 1, before[1] + 1)

    again = api.post("/customers/", ACME, key="order-2028-0001")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert again.content == first.content
    assert effects() == after_first
    assert Customer.objects.filter(account_number="IDEM-1").count() == 1
    record = IdempotencyRecord.objects.get(key="order-2028-0001")
    assert (record.scope, record.state, record.response_status) == (f"user:{clerk.pk}", "done", 201)


def test_a_token_secret_is_shown_once_and_never_kept_for_a_replay(api_as, clerk):
    api = api_as(clerk)
    first = api.post("/access/tokens", {"name": "ci"}, key="k1")
    assert first.status_code == 201
    assert first["Cache-Control"] == "no-store"
    secret = first.json()["secret"]
    tokens = ApiToken.objects.count()

    again = api.post("/access/tokens", {"name": "ci"}, key="k1")
    assert (again.status_code, again.json()["code"]) == (409, "secret_not_replayed")
    assert secret not in again.content.decode()
    assert ApiToken.objects.count() == tokens
    record = IdempotencyRecord.objects.get(key="k1")
    assert secret.encode() not in bytes(record.response_body)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/access/me").status_code == 200


def test_same_key_with_a_different_body_is_refused_and_nothing_is_written(api_as, clerk):
    api = api_as(clerk)
    api.post("/customers/", ACME, key="k1")
    before = effects()
    refused = api.post("/customers/", OTHER, key="k1")
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "idempotency_key_reused",
        "message": "this Idempotency-Key was used for a different request",
        "field": "Idempotency-Key",
    }
    assert "Idempotent-Replayed" not in refused
    assert effects() == before
    assert not Customer.objects.filter(legal_name="Other GmbH").exists()


def test_same_key_on_another_path_is_refused(api_as, clerk):
    api = api_as(clerk)
    api.post("/customers/", ACME, key="k1")
    token_id = ApiToken.objects.get(user=clerk).pk
    before = effects()
    refused = api.post(f"/access/tokens/{token_id}/revoke", {"name": "ci"}, key="k1")
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_reused")
    assert effects() == before
    assert ApiToken.objects.get(pk=token_id).revoked_at is None


def test_the_body_is_compared_byte_for_byte(api_as, clerk):
    api = api_as(clerk)
    body = json.dumps(ACME)
    assert post(api, "/customers/", body.encode(), key="k1").status_code == 201
    # the same JSON spelled differently is a different request
    assert post(api, "/customers/", body.replace(", ", ",").encode(), key="k1").status_code == 422


def test_keys_are_per_caller(api_as, clerk, supervisor):
    clerks, supervisors = api_as(clerk), api_as(supervisor)
    first = clerks.post("/customers/", ACME, key="shared-key")
    second = supervisors.post("/customers/", {**ACME, "account_number": "IDEM-2"}, key="shared-key")
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second
    assert set(Customer.objects.values_list("account_number", flat=True)) == {"IDEM-1", "IDEM-2"}
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


def test_two_tokens_of_one_user_share_its_keys(api_as, clerk):
    first, second = api_as(clerk), api_as(clerk)
    created = first.post("/customers/", ACME, key="k1")
    replayed = second.post("/customers/", ACME, key="k1")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == created.content
    assert Customer.objects.count() == 1


def test_a_key_of_255_characters_is_accepted(api_as, clerk):
    response = api_as(clerk).post("/customers/", ACME, key="k" * 255)
    assert response.status_code == 201
    assert IdempotencyRecord.objects.filter(key="k" * 255).exists()


@pytest.mark.parametrize("key", ["k" * 256, " ", "   "])
def test_an_unusable_key_is_refused_with_400_and_nothing_is_written(api_as, clerk, key):
    api = api_as(clerk)
    before = effects()
    response = api.client.post(
        "/api/v1/access/tokens",
        json.dumps({"name": "ci"}),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Idempotency-Key must be 1 to 255 printable characters",
        "field": "Idempotency-Key",
    }
    assert effects() == before
    assert not IdempotencyRecord.objects.exists()


def test_a_post_without_a_key_runs_every_time(api_as, clerk):
    api = api_as(clerk)
    first = api.post("/access/tokens", {"name": "ci"})
    second = api.post("/access/tokens", {"name": "ci"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert ApiToken.objects.filter(name="ci").count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_a_get_ignores_the_key(api_as, clerk):
    response = api_as(clerk).client.get("/api/v1/access/me", headers={"Idempotency-Key": "k1"})
    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_an_unauthenticated_post_with_a_key_stores_nothing(db):
    response = Client(HTTP_AUTHORIZATION="Bearer bo_nope").post(
        "/api/v1/access/tokens",
        json.dumps({"name": "ci"}),
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_a_refused_request_is_replayed_as_refused(api_as, clerk):
    api = api_as(clerk)
    first = api.post("/access/tokens", {"name": " "}, key="k1")
    assert first.status_code == 400
    again = api.post("/access/tokens", {"name": " "}, key="k1")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (400, first.content, "true")


# failures and requests still running (views from tests/access/failing_urls.py)


@pytest.fixture
def failing_views():
    failing_urls.calls.clear()
    yield failing_urls.calls
    failing_urls.calls.clear()


@pytest.mark.urls("tests.access.failing_urls")
def test_a_500_releases_the_key_so_a_retry_runs_again(api_as, clerk, failing_views):
    api = api_as(clerk)
    failed = api.post("/test/fails-once", {"n": 1}, key="k1")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="k1").exists()
    retried = api.post("/test/fails-once", {"n": 1}, key="k1")
    assert (retried.status_code, retried.json()) == (201, {"attempt": 2})
    replayed = api.post("/test/fails-once", {"n": 1}, key="k1")
    assert (replayed.status_code, replayed.content) == (201, retried.content)
    assert failing_views == ["fails_once", "fails_once"]


@pytest.mark.urls("tests.access.failing_urls")
def test_an_exception_releases_the_key_so_a_retry_runs_again(api_as, clerk, failing_views):
    api = api_as(clerk)
    api.client.raise_request_exception = False
    failed = api.post("/test/raises-once", {"n": 1}, key="k1")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="k1").exists()
    retried = api.post("/test/raises-once", {"n": 1}, key="k1")
    assert (retried.status_code, retried.json()) == (201, {"attempt": 2})
    assert failing_views == ["raises_once", "raises_once"]


@pytest.mark.urls("tests.access.failing_urls")
def test_a_duplicate_while_the_first_is_running_gets_409(api_as, clerk, failing_views):
    response = api_as(clerk).post("/test/reenters", {"n": 1}, key="k1")
    assert response.status_code == 201
    assert response.json() == {
        "same": {
            "status": 409,
            "body": {
                "code": "idempotency_in_progress",
                "message": "a request with this Idempotency-Key is still running",
                "field": "Idempotency-Key",
            },
        },
        "different": {
            "status": 422,
            "body": {
                "code": "idempotency_key_reused",
                "message": "this Idempotency-Key was used for a different request",
                "field": "Idempotency-Key",
            },
        },
    }
    assert failing_views == ["reenters"]  # neither duplicate reached the view


# real concurrency


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_retries_create_one_customer(api_as, clerk):
    api = api_as(clerk)
    body = json.dumps(ACME)

    def send(_):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        response = client.post(
            "/api/v1/customers/",
            body,
            content_type="application/json",
            headers={"Idempotency-Key": "one-key"},
        )
        return response.status_code, response.content, response.get("Idempotent-Replayed")

    responses, errors = race(20, send)

    assert errors == []
    assert len(responses) == 20
    created = Customer.objects.filter(account_number="IDEM-1")
    assert created.count() == 1
    assert {status for status, _, _ in responses} <= {201, 409}
    successes = [(content, replayed) for status, content, replayed in responses if status == 201]
    assert [replayed for _, replayed in successes].count(None) == 1  # one original, the rest replays
    assert len({content for content, _ in successes}) == 1
    assert json.loads(successes[0][0])["id"] == created.get().pk
    for status, content, _ in responses:
        if status == 409:
            assert json.loads(content)["code"] == "idempotency_in_progress"
    assert AuditEvent.objects.filter(action="customers.created", target_id=str(created.get().pk)).count() == 1
    assert IdempotencyRecord.objects.get(key="one-key").state == "done"
    assert verify_chain().ok
