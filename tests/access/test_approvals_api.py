"""The approvals API over HTTP with a real bearer token: listing and reading requests with their snapshot
and digest, approving (which performs the action), rejecting and cancelling, the inbox, and the policies;
every refusal in the error shape {code, message, field}, with nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from billops.access.models import ApprovalRequest, Role, User
from billops.audit.models import AuditEvent
from tests.access.test_approvals import RENAME, ask, rename_snapshot, unchanged

pytestmark = pytest.mark.django_db

REQUESTS = "/approvals/requests"
POLICY = f"/approvals/policies/{RENAME}/EUR"


def put(api: Any, path: str, body: Any) -> Any:
    return api.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "admin")


@pytest.fixture
def policy(api_as: Any, admin: User) -> dict[str, Any]:
    response = put(
        api_as(admin),
        POLICY,
        {"approval_from": "50.00", "limits": {"supervisor": "1000", "collector": "200.00"}},
    )
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def target(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK, "renamed")


def test_an_administrator_sets_a_policy_and_everyone_reads_it(
    policy: dict[str, Any], api_as: Any, auditor: User
) -> None:
    assert {key: value for key, value in policy.items() if key != "updated_at"} == {
        "action": RENAME,
        "action_label": "Rename a user",
        "currency": "EUR",
        "approval_from": "50.00",
        "limits": {"collector": "200.00", "supervisor": "1000.00"},
        "updated_by": "admin",
    }
    reader = api_as(auditor)
    assert reader.get(POLICY).json() == policy
    assert reader.get("/approvals/policies").json() == [policy]
    assert reader.get("/approvals/policies", action="tests.other").json() == []
    actions = reader.get("/approvals/actions").json()
    assert {"code": RENAME, "label": "Rename a user"} in actions


def test_a_policy_refusal_names_the_field_and_changes_nothing(
    policy: dict[str, Any], api_as: Any, admin: User, supervisor: User
) -> None:
    as_admin, as_supervisor = api_as(admin), api_as(supervisor)
    with unchanged():
        refused = put(as_admin, POLICY, {"approval_from": "10", "limits": {"auditor": "5"}})
        denied = put(as_supervisor, POLICY, {"approval_from": "10"})
        unknown = put(as_admin, "/approvals/policies/tests.typo/EUR", {"approval_from": "10"})
        currency = put(as_admin, f"/approvals/policies/{RENAME}/EURO", {"approval_from": "10"})
        floaty = put(as_admin, POLICY, {"approval_from": 10.5})
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "invalid",
        "limits.auditor",
    )
    assert denied.status_code == 403
    assert denied.json() == {
        "code": "permission_denied",
        "message": "the supervisor role may not do approvals.manage_policies",
        "field": None,
    }
    assert (unknown.status_code, unknown.json()["field"]) == (400, "action")
    assert (currency.status_code, currency.json()["code"]) == (400, "unknown_currency")
    assert (floaty.status_code, floaty.json()["field"]) == (422, "approval_from")
    assert as_admin.get(f"/approvals/policies/{RENAME}/USD").json() == {
        "code": "not_found",
        "message": f"no approval policy for {RENAME} in USD",
        "field": "action",
    }


def test_a_request_reads_with_its_snapshot_in_order_and_its_digest(
    policy: dict[str, Any], api_as: Any, clerk: User, auditor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="120.00")

    response = api_as(auditor).get(f"{REQUESTS}/{request.pk}")

    assert response.status_code == 200
    body = response.json()
    assert list(body["snapshot"]) == ["user", "role", "changes"]
    assert body == {
        "id": request.pk, "action": RENAME, "action_label": "Rename a user", "amount": "120.00",
        "currency": "EUR", "target_kind": "access.user", "target_id": target.pk, "reason": "typo in the name",
        "status": "pending", "revision": 1, "snapshot_digest": request.snapshot_digest,
        "requested_by": "clerk", "requested_at": body["requested_at"], "decided_by": None, "decided_at": None,
        "decision_note": "", "result_kind": "", "result_id": None, "snapshot": rename_snapshot(target, "Ann"),
    }  # fmt: skip
    missing = api_as(auditor).get(f"{REQUESTS}/{request.pk + 1}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_approving_with_the_digest_performs_the_action_once(
    policy: dict[str, Any], api_as: Any, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")

    response = api_as(supervisor).post(
        f"{REQUESTS}/{request.pk}/approve", {"note": "ok", "snapshot_digest": request.snapshot_digest}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["decided_by"], body["decision_note"]) == ("approved", "supervisor", "ok")
    assert (body["result_kind"], body["result_id"]) == ("access.user", target.pk)
    target.refresh_from_db()
    assert target.first_name == "Ann"
    assert AuditEvent.objects.filter(action="access.user_renamed").count() == 1
    again = api_as(supervisor).post(f"{REQUESTS}/{request.pk}/approve", {})
    assert again.status_code == 409
    assert again.json() == {
        "code": "already_decided",
        "message": f"approval request {request.pk} is already approved (by supervisor); "
        "it cannot be decided again",
        "field": "status",
    }
    assert AuditEvent.objects.filter(action="access.user_renamed").count() == 1


def test_approval_refusals_come_in_the_error_shape_and_change_nothing(
    policy: dict[str, Any], api_as: Any, clerk: User, collector: User, supervisor: User, target: User
) -> None:
    request = ask(collector, target, "Ann", amount="300.00")
    url = f"{REQUESTS}/{request.pk}/approve"
    as_collector, as_clerk, as_supervisor = api_as(collector), api_as(clerk), api_as(supervisor)
    with unchanged():
        own = as_collector.post(url, {})
        no_limit = as_clerk.post(url, {})
        stale = as_supervisor.post(url, {"snapshot_digest": "0" * 64})
        unknown_field = as_supervisor.post(url, {"digest": request.snapshot_digest})
    assert (own.status_code, own.json()["code"], own.json()["field"]) == (403, "self_approval", "decided_by")
    assert no_limit.status_code == 403
    assert no_limit.json() == {
        "code": "outside_approval_limit",
        "message": f"the clerk role has no approval limit for {RENAME} in EUR",
        "field": "amount",
    }
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "snapshot_changed",
        "message": f"the request changed since you opened it (approval request {request.pk} is at revision 1 "
        "now); review it again",
        "field": "snapshot_digest",
    }
    assert (unknown_field.status_code, unknown_field.json()["field"]) == (422, "digest")
    request.refresh_from_db()
    assert request.is_pending


def test_an_action_that_refuses_answers_with_its_error_and_the_request_stays_pending(
    policy: dict[str, Any], api_as: Any, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Refused")
    as_supervisor = api_as(supervisor)
    with unchanged():
        response = as_supervisor.post(f"{REQUESTS}/{request.pk}/approve", {})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "'Refused' is not a name we give",
        "field": "first_name",
    }


def test_rejecting_needs_a_note(
    policy: dict[str, Any], api_as: Any, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    url = f"{REQUESTS}/{request.pk}/reject"
    as_supervisor = api_as(supervisor)
    with unchanged():
        missing = as_supervisor.post(url, {})
        blank = as_supervisor.post(url, {"note": " "})
    assert (missing.status_code, missing.json()["field"]) == (422, "note")
    assert blank.json() == {"code": "invalid", "message": "give a note", "field": "note"}

    rejected = as_supervisor.post(url, {"note": "not needed"})

    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == ("rejected", "not needed")
    target.refresh_from_db()
    assert target.first_name == ""


def test_only_the_maker_cancels(
    policy: dict[str, Any], api_as: Any, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    url = f"{REQUESTS}/{request.pk}/cancel"
    as_supervisor = api_as(supervisor)
    with unchanged():
        other = as_supervisor.post(url, {})
    assert (other.status_code, other.json()["code"], other.json()["field"]) == (
        403, "permission_denied", "requested_by"
    )  # fmt: skip
    cancelled = api_as(clerk).post(url, {"note": "wrong user"})
    assert (cancelled.status_code, cancelled.json()["status"], cancelled.json()["decided_by"]) == (
        200, "cancelled", "clerk"
    )  # fmt: skip


def test_the_auditor_reads_but_cannot_decide(
    policy: dict[str, Any], api_as: Any, clerk: User, auditor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    as_auditor = api_as(auditor)
    with unchanged():
        response = as_auditor.post(f"{REQUESTS}/{request.pk}/approve", {})
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "the auditor role is read-only",
        "field": None,
    }


def test_lists_filter_and_the_inbox_holds_what_i_may_decide(
    policy: dict[str, Any], api_as: Any, clerk: User, collector: User, supervisor: User,
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    small = ask(clerk, make_user(Role.CLERK), "Ann", amount="60.00")
    large = ask(clerk, make_user(Role.CLERK), "Bea", amount="600.00")
    own = ask(collector, make_user(Role.CLERK), "Cy", amount="70.00")
    api_as(supervisor).post(f"{REQUESTS}/{own.pk}/reject", {"note": "no"})

    def ids(response: Any) -> list[int]:
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids(api_as(collector).get("/approvals/inbox")) == [small.pk]
    assert ids(api_as(supervisor).get("/approvals/inbox")) == [small.pk, large.pk]
    assert ids(api_as(supervisor).get(REQUESTS)) == [own.pk, large.pk, small.pk]
    assert ids(api_as(supervisor).get(REQUESTS, status="pending")) == [large.pk, small.pk]
    assert ids(api_as(collector).get(REQUESTS, mine="true")) == [own.pk]
    assert ids(api_as(supervisor).get(REQUESTS, action="tests.other")) == []
    assert api_as(supervisor).get(REQUESTS, limit=1).json()["count"] == 3
    bad = api_as(supervisor).get(REQUESTS, status="lost")
    assert (bad.status_code, bad.json()["field"]) == (400, "status")
    assert ApprovalRequest.objects.count() == 3
