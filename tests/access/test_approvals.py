"""Maker-checker approvals: the policy says when an action waits for a second person; the maker asks inside
their own transaction; an approver with the authority approves, which performs the action exactly as the
snapshot says, once; refusals (the maker, no or too low a limit, the auditor, a decided or amended request,
an action that refuses) change nothing.

No app registers an approvable action yet, so this module registers a real one: renaming a user, which
writes the User row and an audit event through the ordinary ORM and `record_event`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billops.access.approvals.errors import (
    AlreadyDecided,
    ApprovalPending,
    OutsideApprovalLimit,
    SelfApproval,
    SnapshotChanged,
    TargetChanged,
)
from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.registry import ApprovalAction, register_action
from billops.access.approvals.selectors import inbox_for
from billops.access.approvals.services import (
    approve_request,
    cancel_request,
    reject_request,
    request_approval,
)
from billops.access.approvals.snapshots import check_snapshot, request_digest
from billops.access.models import ApprovalPolicy, ApprovalRequest, Role, User
from billops.audit.models import AuditEvent
from billops.audit.services import record_event
from billops.core.errors import Conflict, InvalidAmount, InvalidInput, NotFound, PermissionDenied
from billops.core.money import Money

pytestmark = pytest.mark.django_db

RENAME = "tests.rename_user"
UNPOLICED = "tests.unpoliced"
REFUSED_NAMES = frozenset({"Refused"})  # the action writes, then refuses: everything must roll back


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def rename_snapshot(user: User, new_name: str) -> dict[str, Any]:
    """What renaming `user` will do, as the approver sees it."""
    return {
        "user": user.username,
        "role": user.role,
        "changes": [{"field": "first_name", "from": user.first_name, "to": new_name}],
    }


def perform_rename(request: ApprovalRequest, approver: User) -> tuple[str, int]:
    """Rename the user exactly as the snapshot says, or refuse if the user changed since."""
    user = User.objects.select_for_update().get(pk=request.target_id)
    new_name = request.snapshot["changes"][0]["to"]
    check_snapshot(request, rename_snapshot(user, new_name))
    before = user.first_name
    user.first_name = new_name
    user.save(update_fields=["first_name"])
    record_event(
        actor=approver, action="access.user_renamed", target=user,
        before={"first_name": before}, after={"first_name": new_name},
    )  # fmt: skip
    if new_name in REFUSED_NAMES:
        raise InvalidInput(f"{new_name!r} is not a name we give", field="first_name")
    return "access.user", user.pk


def audit_trail_of(kind: str, pk: int) -> str:
    """The page of a target or result: its audit trail."""
    app, model = kind.split(".")
    return f"{reverse('audit:log')}?target_type={app}.{model}&target_id={pk}"


register_action(
    ApprovalAction(code=RENAME, label="Rename a user", perform=perform_rename, link=audit_trail_of)
)
register_action(ApprovalAction(code=UNPOLICED, label="Something without a policy", perform=perform_rename))


def ask(
    maker: User, user: User, new_name: str = "Ann", amount: str = "100.00", reason: str = "typo in the name"
) -> ApprovalRequest:
    """The maker's app asks for approval inside its own transaction."""
    with transaction.atomic():
        return request_approval(
            action=RENAME, amount=eur(amount), snapshot=rename_snapshot(user, new_name),
            target_kind="access.user", target_id=user.pk, reason=reason, actor=maker,
        )  # fmt: skip


def state() -> dict[str, Any]:
    """Everything an approval could change."""
    return {
        "requests": list(
            ApprovalRequest.objects.order_by("pk").values_list(
                "pk", "status", "decided_by", "decided_at", "decision_note", "result_kind", "result_id",
                "snapshot_digest", "revision",
            )
        ),
        "names": list(User.objects.order_by("pk").values_list("pk", "first_name")),
        "events": AuditEvent.objects.count(),
    }  # fmt: skip


@contextmanager
def unchanged() -> Iterator[None]:
    before = state()
    yield
    assert state() == before


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "admin")


@pytest.fixture
def policy(admin: User) -> ApprovalPolicy:
    """Renames from 50 EUR need approval: a supervisor approves up to 1000, a collector up to 200, a clerk
    nothing."""
    return set_approval_policy(
        action=RENAME, currency="EUR", approval_from="50.00",
        limits={Role.SUPERVISOR: "1000.00", Role.COLLECTOR: "200"}, actor=admin,
    )  # fmt: skip


@pytest.fixture
def target(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK, "renamed")


# --- asking --------------------------------------------------------------------------------------------


def test_a_request_keeps_the_snapshot_in_order_with_its_digest_and_is_audited(
    policy: ApprovalPolicy, clerk: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="120.00")

    assert (request.status, request.requested_by, request.amount, request.currency) == (
        "pending", clerk, Decimal("120.00"), "EUR"
    )  # fmt: skip
    request.refresh_from_db()
    assert list(request.snapshot) == ["user", "role", "changes"]  # as the maker wrote it
    assert request.snapshot == rename_snapshot(target, "Ann")
    assert len(request.snapshot_digest) == 64 and request_digest(request) == request.snapshot_digest
    assert request.decided_by is None and request.decided_at is None
    event = AuditEvent.objects.get(action="approval.requested")
    assert event.actor == clerk and event.target_id == str(request.pk)
    assert event.after == {
        "action": RENAME,
        "amount": {"amount": "120.00", "currency": "EUR"},
        "target": f"access.user {target.pk}",
        "reason": "typo in the name",
        "revision": 1,
        "snapshot": rename_snapshot(target, "Ann"),
        "snapshot_digest": request.snapshot_digest,
    }


def test_asking_again_unchanged_returns_the_pending_request(
    policy: ApprovalPolicy, clerk: User, target: User
) -> None:
    first = ask(clerk, target, "Ann")
    with unchanged():
        again = ask(clerk, target, "Ann")
    assert again.pk == first.pk


def test_asking_again_with_other_content_amends_the_pending_request(
    policy: ApprovalPolicy, clerk: User, target: User
) -> None:
    first = ask(clerk, target, "Ann")
    amended = ask(clerk, target, "Anne", amount="150.00")
    assert amended.pk == first.pk and ApprovalRequest.objects.count() == 1
    assert (amended.revision, amended.amount, amended.snapshot["changes"][0]["to"]) == (
        2,
        Decimal("150.00"),
        "Anne",
    )
    assert amended.snapshot_digest != first.snapshot_digest
    event = AuditEvent.objects.get(action="approval.amended")
    assert event.before["snapshot_digest"] == first.snapshot_digest
    assert event.after["snapshot_digest"] == amended.snapshot_digest


def test_someone_elses_pending_request_for_the_same_target_is_refused(
    policy: ApprovalPolicy, clerk: User, collector: User, target: User
) -> None:
    first = ask(clerk, target, "Ann")
    with unchanged(), pytest.raises(ApprovalPending) as refused:
        ask(collector, target, "Ann")
    assert (
        f"approval request {first.pk}" in refused.value.message and "asked by clerk" in refused.value.message
    )


def test_once_decided_the_same_target_may_be_asked_for_again(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    first = ask(clerk, target, "Ann")
    reject_request(request_id=first.pk, actor=supervisor, note="no")
    second = ask(clerk, target, "Ann")
    assert second.pk != first.pk and second.is_pending


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"amount": eur("0")}, InvalidAmount, "amount"),
        ({"amount": eur("1.005")}, InvalidAmount, "amount"),
        ({"reason": "  "}, InvalidInput, "reason"),
        ({"reason": "x" * 501}, InvalidInput, "reason"),
        ({"snapshot": {}}, InvalidInput, "snapshot"),
        ({"snapshot": {"ratio": 0.5}}, InvalidInput, "snapshot"),  # a float never holds an amount
        ({"snapshot": {"who": object()}}, InvalidInput, "snapshot"),
        ({"action": "tests.no_such_action"}, InvalidInput, "action"),
        ({"target_kind": "users"}, InvalidInput, "target_kind"),
        ({"target_id": 0}, InvalidInput, "target_id"),
        ({"target_id": "7"}, InvalidInput, "target_id"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(
    clerk: User, target: User, change: dict[str, Any], error: type[Exception], field: str
) -> None:
    arguments: dict[str, Any] = {
        "action": RENAME, "amount": eur("100"), "snapshot": rename_snapshot(target, "Ann"),
        "target_kind": "access.user", "target_id": target.pk, "reason": "typo", "actor": clerk, **change,
    }  # fmt: skip
    with unchanged(), pytest.raises(error) as refused:
        request_approval(**arguments)
    assert getattr(refused.value, "field", None) == field


@pytest.mark.django_db(transaction=True)
def test_a_request_outside_the_makers_transaction_is_refused(clerk: User, target: User) -> None:
    # the request must commit or roll back together with the requesting app's own change
    with pytest.raises(transaction.TransactionManagementError):
        request_approval(
            action=RENAME, amount=eur("100"), snapshot=rename_snapshot(target, "Ann"),
            target_kind="access.user", target_id=target.pk, reason="typo", actor=clerk,
        )  # fmt: skip
    assert not ApprovalRequest.objects.exists()


def test_a_request_rolls_back_with_the_makers_transaction(clerk: User, target: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        ask(clerk, target, "Ann")
        raise RuntimeError("the requesting app failed after asking")
    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="approval.requested").exists()


def test_the_auditor_may_not_ask(auditor: User, target: User) -> None:
    with unchanged(), pytest.raises(PermissionDenied):
        ask(auditor, target)


def test_the_database_keeps_one_pending_request_per_target_and_positive_amounts(
    policy: ApprovalPolicy, clerk: User, target: User
) -> None:
    request = ask(clerk, target)
    for change in (
        {"pk": None, "snapshot_digest": "x" * 64},  # a second pending request for the same target
        {"pk": None, "amount": Decimal("0"), "target_id": target.pk + 1},
        {"pk": None, "reason": "", "target_id": target.pk + 2},
    ):
        copy = ApprovalRequest.objects.get(pk=request.pk)
        for name, value in change.items():
            setattr(copy, name, value)
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()
    # decided exactly when decided, and a result only on an approved request
    for update in (
        {"status": "approved"},
        {"decided_by": clerk, "decided_at": timezone.now()},
        {"status": "rejected", "decided_by": clerk, "decided_at": timezone.now()},  # without a note
        {"result_kind": "access.user", "result_id": 1},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ApprovalRequest.objects.filter(pk=request.pk).update(**update)


# --- approving -----------------------------------------------------------------------------------------


def test_an_approved_request_is_performed_once_with_its_result_and_events(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="120.00")
    shown = rename_snapshot(target, "Ann")

    approved = approve_request(
        request_id=request.pk, actor=supervisor, note="checked", snapshot_digest=request.snapshot_digest
    )

    target.refresh_from_db()
    assert target.first_name == "Ann"
    approved.refresh_from_db()
    assert (approved.status, approved.decided_by, approved.decision_note) == (
        "approved",
        supervisor,
        "checked",
    )
    assert approved.decided_at is not None
    assert (approved.result_kind, approved.result_id) == ("access.user", target.pk)
    renamed = AuditEvent.objects.get(action="access.user_renamed")
    assert (renamed.actor, renamed.after) == (supervisor, {"first_name": "Ann"})
    event = AuditEvent.objects.get(action="approval.approved")
    assert event.actor == supervisor and event.target_id == str(request.pk)
    assert event.after["snapshot"] == shown
    assert event.after["snapshot_digest"] == request.snapshot_digest
    assert event.after["amount"] == {"amount": "120.00", "currency": "EUR"}
    assert (event.after["result"], event.after["requested_by"], event.after["note"]) == (
        f"access.user {target.pk}", "clerk", "checked"
    )  # fmt: skip
    assert event.seq > renamed.seq  # the decision is recorded after what it did
    assert list(inbox_for(supervisor)) == []


def test_approving_without_a_digest_is_allowed(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    assert approve_request(request_id=request.pk, actor=supervisor).status == "approved"


def test_the_maker_cannot_approve_or_reject_their_own_request(
    policy: ApprovalPolicy, supervisor: User, target: User
) -> None:
    request = ask(supervisor, target, "Ann")
    with unchanged():
        with pytest.raises(SelfApproval) as refused:
            approve_request(request_id=request.pk, actor=supervisor, snapshot_digest=request.snapshot_digest)
        with pytest.raises(SelfApproval):
            reject_request(request_id=request.pk, actor=supervisor, note="mine")
    assert refused.value.code == "self_approval" and refused.value.http_status == 403
    assert "a second person must" in refused.value.message
    assert list(inbox_for(supervisor)) == []


def test_a_role_without_a_limit_cannot_decide(
    policy: ApprovalPolicy, collector: User, make_user: Callable[..., User], target: User
) -> None:
    request = ask(collector, target, "Ann", amount="60.00")
    other_clerk = make_user(Role.CLERK)
    with unchanged():
        with pytest.raises(OutsideApprovalLimit) as refused:
            approve_request(request_id=request.pk, actor=other_clerk)
        with pytest.raises(OutsideApprovalLimit):
            reject_request(request_id=request.pk, actor=other_clerk, note="no")
    assert refused.value.message == f"the clerk role has no approval limit for {RENAME} in EUR"
    assert list(inbox_for(other_clerk)) == []


def test_an_amount_above_the_roles_limit_is_refused_and_a_higher_limit_approves(
    policy: ApprovalPolicy, clerk: User, collector: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="200.01")
    with unchanged(), pytest.raises(OutsideApprovalLimit) as refused:
        approve_request(request_id=request.pk, actor=collector)
    assert refused.value.message == (
        f"the collector role may approve {RENAME} up to 200.00 EUR; this request is for 200.01 EUR"
    )
    assert list(inbox_for(collector)) == [] and list(inbox_for(supervisor)) == [request]
    approve_request(request_id=request.pk, actor=supervisor)
    target.refresh_from_db()
    assert target.first_name == "Ann"


def test_exactly_the_limit_may_be_approved(
    policy: ApprovalPolicy, clerk: User, collector: User, target: User
) -> None:
    request = ask(clerk, target, "Ann", amount="200.00")
    assert list(inbox_for(collector)) == [request]
    assert approve_request(request_id=request.pk, actor=collector).status == "approved"


def test_the_auditor_cannot_decide(policy: ApprovalPolicy, clerk: User, auditor: User, target: User) -> None:
    request = ask(clerk, target, "Ann")
    with unchanged():
        with pytest.raises(PermissionDenied) as refused:
            approve_request(request_id=request.pk, actor=auditor)
        with pytest.raises(PermissionDenied):
            reject_request(request_id=request.pk, actor=auditor, note="no")
    assert refused.value.message == "the auditor role may not do approvals.decide"
    assert list(inbox_for(auditor)) == []


def test_a_decided_request_is_not_decided_again(
    policy: ApprovalPolicy, clerk: User, supervisor: User, make_user: Callable[..., User], target: User
) -> None:
    request = ask(clerk, target, "Ann")
    approve_request(request_id=request.pk, actor=supervisor)
    second = make_user(Role.SUPERVISOR)
    messages = []
    with unchanged():
        for decide in (
            lambda: approve_request(request_id=request.pk, actor=second),
            lambda: reject_request(request_id=request.pk, actor=second, note="late"),
            lambda: cancel_request(request_id=request.pk, actor=clerk),
        ):
            with pytest.raises(AlreadyDecided) as refused:
                decide()
            assert refused.value.field == "status" and refused.value.http_status == 409
            messages.append(refused.value.message)
    decided = f"approval request {request.pk} is already approved"
    assert messages == [
        f"{decided} (by supervisor); it cannot be decided again",
        f"{decided} (by supervisor); it cannot be decided again",
        decided,
    ]
    assert AuditEvent.objects.filter(action="access.user_renamed").count() == 1


def test_an_action_that_refuses_leaves_the_request_pending_and_changes_nothing(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Refused")
    with unchanged(), pytest.raises(InvalidInput) as refused:
        approve_request(request_id=request.pk, actor=supervisor, snapshot_digest=request.snapshot_digest)
    assert refused.value.field == "first_name"
    request.refresh_from_db()
    assert request.is_pending and list(inbox_for(supervisor)) == [request]


def test_a_target_changed_since_the_snapshot_is_not_performed(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    User.objects.filter(pk=target.pk).update(first_name="Bea")  # someone renamed the user meanwhile
    with unchanged(), pytest.raises(TargetChanged) as refused:
        approve_request(request_id=request.pk, actor=supervisor)
    assert "changes differ" in refused.value.message


def test_a_request_amended_since_the_approver_opened_it_is_refused(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    shown = ask(clerk, target, "Ann")
    shown_digest = shown.snapshot_digest
    ask(clerk, target, "Anne")  # the maker amends it while the approver reads
    with unchanged(), pytest.raises(SnapshotChanged) as refused:
        approve_request(request_id=shown.pk, actor=supervisor, snapshot_digest=shown_digest)
    assert refused.value.message.startswith("the request changed since you opened it")
    assert refused.value.field == "snapshot_digest"
    with unchanged(), pytest.raises(SnapshotChanged):
        approve_request(request_id=shown.pk, actor=supervisor, snapshot_digest="")
    current = ApprovalRequest.objects.get(pk=shown.pk)
    approve_request(request_id=shown.pk, actor=supervisor, snapshot_digest=current.snapshot_digest)
    target.refresh_from_db()
    assert target.first_name == "Anne"


def test_a_request_changed_behind_the_services_back_is_not_performed(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    ApprovalRequest.objects.filter(pk=request.pk).update(amount=Decimal("49.00"))
    with unchanged(), pytest.raises(Conflict) as refused:
        approve_request(request_id=request.pk, actor=supervisor, snapshot_digest=request.snapshot_digest)
    assert "no longer matches its digest" in refused.value.message


def test_an_unknown_request_is_not_found(supervisor: User) -> None:
    with pytest.raises(NotFound):
        approve_request(request_id=999, actor=supervisor)


# --- rejecting and cancelling --------------------------------------------------------------------------


def test_rejecting_needs_a_note_and_performs_nothing(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    with unchanged(), pytest.raises(InvalidInput) as refused:
        reject_request(request_id=request.pk, actor=supervisor, note="  ")
    assert refused.value.field == "note"

    rejected = reject_request(request_id=request.pk, actor=supervisor, note="the name is right as it is")

    assert (rejected.status, rejected.decided_by, rejected.decision_note) == (
        "rejected", supervisor, "the name is right as it is"
    )  # fmt: skip
    target.refresh_from_db()
    assert target.first_name == "" and not AuditEvent.objects.filter(action="access.user_renamed").exists()
    event = AuditEvent.objects.get(action="approval.rejected")
    assert event.actor == supervisor
    assert (event.after["snapshot_digest"], event.after["note"]) == (
        request.snapshot_digest,
        rejected.decision_note,
    )
    assert event.after["snapshot"] == rename_snapshot(target, "Ann")


def test_the_maker_cancels_their_own_pending_request_and_nobody_else_can(
    policy: ApprovalPolicy, clerk: User, supervisor: User, target: User
) -> None:
    request = ask(clerk, target, "Ann")
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        cancel_request(request_id=request.pk, actor=supervisor)
    assert "only clerk, who asked, may cancel" in refused.value.message

    cancelled = cancel_request(request_id=request.pk, actor=clerk, note="asked the wrong person")

    assert (cancelled.status, cancelled.decided_by, cancelled.decision_note) == (
        "cancelled", clerk, "asked the wrong person"
    )  # fmt: skip
    event = AuditEvent.objects.get(action="approval.cancelled")
    assert event.after == {"snapshot_digest": request.snapshot_digest, "note": "asked the wrong person"}
    target.refresh_from_db()
    assert target.first_name == ""
