"""The dunning API under /api/v1/collections/dunning/: policies, a customer's settings, preview, run and the
notices with their letters, through a real token and the whole middleware stack."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from billops.collections.models import DunningNotice, DunningPolicy, DunningRun
from tests.collections.test_dunning_books import DunningBook, build_book, unchanged

pytestmark = pytest.mark.django_db

BASE = "/collections/dunning"
LEVEL = {
    "days_after_due": 14,
    "subject": "Reminder {account}",
    "body": "Please pay {total}.",
    "fee_amount": "2.50",
}


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    return build_book(clerk, supervisor, collector, make_user)


def put(api: Any, path: str, body: Any) -> Any:
    return api.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def test_a_supervisor_makes_reads_changes_and_removes_a_policy(dunning: DunningBook, api_as) -> None:
    api = api_as(dunning.supervisor)
    body = {"code": "soft-eur", "name": "Soft", "currency": "EUR", "minimum_amount": "10", "levels": [LEVEL]}

    made = api.post(f"{BASE}/policies", body)

    assert made.status_code == 201, made.json()
    assert made.json()["code"] == "SOFT-EUR" and made.json()["minimum_amount"] == "10.00"
    assert made.json()["levels"] == [
        {"number": 1, "days_after_due": 14, "subject": "Reminder {account}", "body": "Please pay {total}.",
         "channel": "email", "fee_amount": "2.50", "fee_percent": "0", "interest_rate": "0",
         "escalation": "none"},
    ]  # fmt: skip
    assert api.post(f"{BASE}/policies", body).json()["code"] == "duplicate"
    assert put(api, f"{BASE}/policies/soft-eur", body).status_code == 422  # the code is the path's
    change = {name: value for name, value in body.items() if name != "code"}
    change["levels"] = [LEVEL, {**LEVEL, "days_after_due": 40, "interest_rate": "8"}]
    changed = put(api, f"{BASE}/policies/soft-eur", change)
    assert changed.status_code == 200
    assert [(level["days_after_due"], level["interest_rate"]) for level in changed.json()["levels"]] == [
        (14, "0"), (40, "8"),
    ]  # fmt: skip
    assert [p["code"] for p in api.get(f"{BASE}/policies").json()] == ["SOFT-EUR", "STANDARD"]

    assert api.client.delete(f"/api/v1{BASE}/policies/soft-eur").json() == {
        "code": "SOFT-EUR",
        "deleted": True,
    }
    assert api.get(f"{BASE}/policies/soft-eur").status_code == 404


def test_a_wrong_policy_is_refused_with_the_field_at_fault(dunning: DunningBook, api_as) -> None:
    api, collector_api = api_as(dunning.supervisor), api_as(dunning.collector)
    level = {**LEVEL, "fee_percent": "1"}
    with unchanged():
        refused = api.post(
            f"{BASE}/policies", {"code": "X", "name": "X", "currency": "EUR", "levels": [level]}
        )
        assert refused.status_code == 400
        assert refused.json() == {
            "code": "invalid", "message": "a level charges a fixed fee or a percentage, not both",
            "field": "levels.0.fee_percent",
        }  # fmt: skip
        float_fee = api.post(
            f"{BASE}/policies",
            {"code": "X", "name": "X", "currency": "EUR", "levels": [{**LEVEL, "fee_amount": 2.5}]},
        )
        assert (float_fee.status_code, float_fee.json()["field"]) == (422, "levels.0.fee_amount")
        denied = collector_api.post(
            f"{BASE}/policies", {"code": "X", "name": "X", "currency": "EUR", "levels": []}
        )
        assert denied.status_code == 403


def test_preview_then_run_then_read_the_notice_and_its_letter(dunning: DunningBook, api_as) -> None:
    dunning.on(date(2026, 2, 10))
    api = api_as(dunning.collector)

    preview = api.post(f"{BASE}/preview", {"run_on": "2026-02-10"})
    assert preview.status_code == 200
    assert preview.json() == {
        "run_on": "2026-02-10", "policy": None, "skipped": [],
        "notices": [{
            "customer_id": dunning.customer.pk, "account_number": "C-DUN", "policy": "STANDARD", "level": 1,
            "channel": "email", "currency": "EUR", "overdue_total": "1000.00", "fee": "0.00",
            "interest": "0.00", "escalation": "none",
            "items": [{"invoice_id": dunning.invoice.pk, "number": "INV-2026-000001", "level": 1,
                       "days_overdue": 10, "open_amount": "1000.00", "disputed_amount": "0.00",
                       "amount": "1000.00", "interest": "0.00"}],
        }],
    }  # fmt: skip
    assert DunningRun.objects.count() == 0

    started = api.post(f"{BASE}/runs", {})
    assert started.status_code == 201
    assert (started.json()["run_on"], started.json()["notice_count"], started.json()["started_by"]) == (
        "2026-02-10", 1, "collector",
    )  # fmt: skip
    assert api.post(f"{BASE}/runs", {"run_on": "2026-02-10"}).json()["notice_count"] == 0

    notice = DunningNotice.objects.get()
    listed = api.get(f"{BASE}/notices", customer_id=dunning.customer.pk).json()["items"]
    assert [(n["id"], n["level"], n["channel"], n["delivery_status"]) for n in listed] == [
        (notice.pk, 1, "email", "queued")
    ]
    detail = api.get(f"{BASE}/notices/{notice.pk}").json()
    assert (
        detail["items"][0]["number"] == "INV-2026-000001" and detail["subject"] == "Reminder: INV-2026-000001"
    )
    pdf = api.client.get(f"/api/v1{BASE}/notices/{notice.pk}/pdf")
    assert (pdf.status_code, pdf["Content-Type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    assert pdf["X-Content-SHA256"] == notice.pdf_sha256
    assert [run["notice_count"] for run in api.get(f"{BASE}/runs").json()["items"]] == [0, 1]
    assert api.get(f"{BASE}/notices/999999").status_code == 404


def test_a_run_is_refused_for_the_future_and_for_the_read_only(dunning: DunningBook, api_as, auditor) -> None:
    dunning.on(date(2026, 2, 10))
    api, auditor_api = api_as(dunning.collector), api_as(auditor)
    with unchanged():
        future = api.post(f"{BASE}/runs", {"run_on": "2026-02-11"})
        assert (future.status_code, future.json()["field"]) == (400, "run_on")
        assert auditor_api.post(f"{BASE}/runs", {}).status_code == 403
        assert api.post(f"{BASE}/runs", {"run_on": 20260210}).status_code == 422


def test_a_customer_is_excluded_and_included_again(dunning: DunningBook, api_as) -> None:
    api = api_as(dunning.collector)
    path = f"{BASE}/customers/{dunning.customer.pk}"

    excluded = put(api, path, {"excluded": True, "reason": "disputes everything"})

    assert excluded.json() == {
        "customer_id": dunning.customer.pk, "policy_code": None, "excluded": True,
        "reason": "disputes everything",
    }  # fmt: skip
    assert put(api, path, {"excluded": True}).json()["field"] == "reason"
    assert put(api, path, {"policy_code": "STANDARD"}).json()["policy_code"] == "STANDARD"
    assert put(api, f"{BASE}/customers/999999", {}).status_code == 404
    assert DunningPolicy.objects.count() == 1
