"""The time and expense API with real tokens: set up, record, approve, review and price; refusals come
back as {code, message, field} and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.timekeeping.models import Rate, TimeEntry, Timekeeper
from tests.timekeeping.factories import Firm

pytestmark = pytest.mark.django_db

BASE = "/timekeeping"


def refusal(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body["field"]


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_time_from_recording_to_the_pre_bill_review(api_as: Callable[..., Any], firm: Firm) -> None:
    clerk, supervisor = api_as(firm.clerk), api_as(firm.supervisor)
    keeper = created(
        clerk.post(f"{BASE}/timekeepers", {"code": "mk", "name": "Max Kurz", "role": "associate"})
    )
    assert keeper == {
        "code": "MK",
        "name": "Max Kurz",
        "role": "associate",
        "username": None,
        "is_active": True,
    }
    rate = created(
        supervisor.post(
            f"{BASE}/rates",
            {
                "timekeeper_code": "MK",
                "matter_id": firm.matter.pk,
                "hourly_rate": "275.50",
                "currency": "EUR",
                "valid_from": "2026-01-05",
            },
        )
    )
    assert (rate["hourly_rate"], rate["matter_id"], rate["role"], rate["valid_to"]) == (
        "275.50",
        firm.matter.pk,
        "",
        None,
    )
    body = {"timekeeper_code": "MK", "matter_id": firm.matter.pk, "worked_on": "2026-03-04", "hours": "2.5",
            "narrative": "Prepared the deposition", "task_code": "L330", "activity_code": "A101"}  # fmt: skip
    entry = created(clerk.post(f"{BASE}/entries", body))
    assert (entry["hours"], entry["status"], entry["task_code"], entry["matter_number"]) == (
        "2.5",
        "draft",
        "L330",
        "M-001",
    )
    path = f"{BASE}/entries/{entry['id']}"
    assert ok(clerk.patch(path, {"hours": "3"}))["hours"] == "3.0"
    assert ok(clerk.post(f"{path}/submit"))["status"] == "submitted"
    approved = ok(supervisor.post(f"{path}/approve"))
    assert (approved["status"], approved["approved_by"]) == ("approved", "supervisor")
    adjusted = ok(supervisor.post(f"{path}/adjust", {"reason": "agreed cap", "billed_hours": "2.0"}))
    assert (adjusted["hours"], adjusted["billed_hours"], adjusted["adjusted_by"]) == (
        "3.0",
        "2.0",
        "supervisor",
    )
    expense = created(
        clerk.post(
            f"{BASE}/expenses",
            {
                "matter_id": firm.matter.pk,
                "incurred_on": "2026-03-05",
                "description": "Transcript",
                "quantity": "2",
                "unit_cost": "45.10",
                "markup_percent": "5",
                "expense_code": "E115",
            },
        )
    )
    assert (expense["amount"], expense["markup_percent"], expense["status"]) == ("94.71", "5", "draft")
    ok(clerk.post(f"{BASE}/expenses/{expense['id']}/submit"))
    ok(supervisor.post(f"{BASE}/expenses/{expense['id']}/approve"))

    proforma = ok(clerk.get(f"{BASE}/matters/{firm.matter.pk}/prebill", up_to="2026-03-31"))
    assert proforma["lines"] == [
        {"kind": "time", "id": entry["id"], "on": "2026-03-04", "matter_number": "M-001", "timekeeper": "MK",
         "description": "2026-03-04 MK L330/A101: Prepared the deposition", "hours": "3.0", "rate": "275.50",
         "standard": "826.50", "quantity": "2", "unit_price": "275.50", "amount": "551.00",
         "adjustment_reason": "agreed cap", "problem": ""},
        {"kind": "expense", "id": expense["id"], "on": "2026-03-05", "matter_number": "M-001",
         "timekeeper": "", "description": "2026-03-05 E115: Transcript + 5 %", "hours": None, "rate": None,
         "standard": "94.71",
         "quantity": "2", "unit_price": "47.355", "amount": "94.71", "adjustment_reason": "", "problem": ""},
    ]  # fmt: skip
    totals = {
        name: proforma[name]
        for name in ("time_standard", "adjustments", "time_total", "expense_total", "total")
    }
    assert totals == {
        "time_standard": "826.50", "adjustments": "-275.50", "time_total": "551.00", "expense_total": "94.71",
        "total": "645.71",
    }  # fmt: skip
    assert (
        ok(clerk.get(f"{BASE}/prebill", customer_id=firm.customer.pk, up_to="2026-03-31"))["total"]
        == "645.71"
    )

    # rejected back to draft, the write-down goes with it; a draft may then be deleted
    rejected = ok(supervisor.post(f"{path}/reject", {"reason": "wrong matter"}))
    assert (rejected["status"], rejected["billed_hours"], rejected["rejection_reason"]) == (
        "draft",
        None,
        "wrong matter",
    )
    assert ok(clerk.client.delete(f"/api/v1{path}")) == {"id": entry["id"], "deleted": True}
    assert clerk.get(path).status_code == 404
    listed = page(clerk.get(f"{BASE}/expenses", matter_id=firm.matter.pk, status="approved"))
    assert [item["id"] for item in listed] == [expense["id"]]


def test_the_utbms_code_sets_are_shipped(api_as: Callable[..., Any], firm: Firm) -> None:
    api = api_as(firm.clerk)
    counts = {
        code_set: len(ok_list(api.get(f"{BASE}/utbms-codes", code_set=code_set)))
        for code_set in ("task", "activity", "expense")
    }
    assert counts == {"task": 34, "activity": 11, "expense": 24}
    activities = ok_list(api.get(f"{BASE}/utbms-codes", code_set="activity"))
    assert activities[0] == {
        "code": "A101",
        "code_set": "activity",
        "phase": "",
        "description": "Plan and prepare for",
    }


def ok_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def page(response: Any) -> list[dict[str, Any]]:
    """The rows of a paginated list."""
    return ok(response)["items"]  # type: ignore[no-any-return]


def test_refusals_name_the_field_and_change_nothing(api_as: Callable[..., Any], firm: Firm) -> None:
    clerk, supervisor = api_as(firm.clerk), api_as(firm.supervisor)
    entry = {"timekeeper_code": "JD", "matter_id": firm.matter.pk, "worked_on": "2026-03-04", "hours": "1",
             "narrative": "Call"}  # fmt: skip
    before = (list(TimeEntry.objects.values()), Timekeeper.objects.count(), Rate.objects.count(),
              AuditEvent.objects.count())  # fmt: skip
    rate = {"role": "partner", "hourly_rate": "1", "currency": "EUR", "valid_from": "2026-05-01"}
    for api, path, body, expected in (
        (clerk, "/entries", {**entry, "hours": "0.25"}, (400, "invalid_amount", "hours")),
        (clerk, "/entries", {**entry, "hours": "25"}, (400, "invalid_amount", "hours")),
        (clerk, "/entries", {**entry, "task_code": "Z1"}, (404, "not_found", "task_code")),
        (clerk, "/entries", {**entry, "worked_on": "2026-04-16"}, (400, "invalid", "worked_on")),
        (clerk, "/entries", {**entry, "hours": 1.5}, (422, "invalid", "hours")),
        (clerk, "/entries", {**entry, "matter_id": 0}, (422, "invalid", "matter_id")),
        (clerk, "/timekeepers", {"code": "JD", "name": "A", "role": "partner"}, (409, "duplicate", "code")),
        (clerk, "/timekeepers", {"code": "J D", "name": "A", "role": "partner"}, (400, "invalid", "code")),
        (clerk, "/timekeepers", {"code": "XX", "name": "X", "role": "judge"}, (422, "invalid", "role")),
        (clerk, "/rates", rate, (403, "permission_denied", None)),
        (supervisor, "/rates", {**rate, "currency": "USD", "customer_id": firm.customer.pk},
         (400, "currency_mismatch", "currency")),
    ):  # fmt: skip
        assert refusal(api.post(f"{BASE}{path}", body)) == expected, (path, body)
    after = (list(TimeEntry.objects.values()), Timekeeper.objects.count(), Rate.objects.count(),
             AuditEvent.objects.count())  # fmt: skip
    assert after == before


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AUDITOR])
def test_only_billing_roles_record_time_and_every_role_reads_it(
    api_as: Callable[..., Any], make_user: Callable[..., User], firm: Firm, role: str
) -> None:
    api = api_as(make_user(role))
    body = {"timekeeper_code": "JD", "matter_id": firm.matter.pk, "worked_on": "2026-03-04", "hours": "1",
            "narrative": "Call"}  # fmt: skip
    assert api.post(f"{BASE}/entries", body).status_code == 403
    assert not TimeEntry.objects.exists()
    assert [item["code"] for item in page(api.get(f"{BASE}/timekeepers"))] == ["AS", "JD", "PL"]
    assert [item["number"] for item in page(api.get(f"{BASE}/matters"))] == ["M-001"]
    assert ok(api.get(f"{BASE}/matters/{firm.matter.pk}/prebill"))["total"] == "0.00"
