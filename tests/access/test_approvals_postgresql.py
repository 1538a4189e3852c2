"""Approvals under real concurrency on PostgreSQL: two approvers deciding one request at once perform its
action once; two makers asking for the same thing at once make one request; and the database itself
refuses to change a decided request."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billops.access.approvals.errors import AlreadyDecided, ApprovalPending
from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.services import approve_request, reject_request
from billops.access.models import ApprovalPolicy, ApprovalRequest, Role, User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from tests.access.test_approvals import RENAME, ask
from tests.conftest import race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def policy(make_user: Callable[..., User]) -> ApprovalPolicy:
    return set_approval_policy(
        action=RENAME, currency="EUR", approval_from="50.00", limits={Role.SUPERVISOR: "1000.00"},
        actor=make_user(Role.ADMIN),
    )  # fmt: skip


def test_two_approvers_at_once_perform_the_action_once(
    policy: ApprovalPolicy, clerk: User, make_user: Callable[..., User]
) -> None:
    target = make_user(Role.CLERK, "renamed")
    request = ask(clerk, target, "Ann")
    approvers = [make_user(Role.SUPERVISOR), make_user(Role.SUPERVISOR)]

    def approve(index: int) -> ApprovalRequest:
        return approve_request(
            request_id=request.pk, actor=approvers[index], snapshot_digest=request.snapshot_digest
        )

    results, errors = race(2, approve)

    assert len(results) == 1 and len(errors) == 1, errors
    assert isinstance(errors[0], AlreadyDecided)
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.result_id) == (
        "approved",
        results[0].decided_by,
        target.pk,
    )
    target.refresh_from_db()
    assert target.first_name == "Ann"
    assert AuditEvent.objects.filter(action="access.user_renamed").count() == 1
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1
    assert verify_chain().ok is True


def test_an_approval_and_a_rejection_at_once_decide_once(
    policy: ApprovalPolicy, clerk: User, make_user: Callable[..., User]
) -> None:
    target = make_user(Role.CLERK, "renamed")
    request = ask(clerk, target, "Ann")
    approver, rejecter = make_user(Role.SUPERVISOR), make_user(Role.SUPERVISOR)

    def decide(index: int) -> ApprovalRequest:
        if index == 0:
            return approve_request(request_id=request.pk, actor=approver)
        return reject_request(request_id=request.pk, actor=rejecter, note="no")

    results, errors = race(2, decide)

    assert len(results) == 1 and [type(error) for error in errors] == [AlreadyDecided]
    request.refresh_from_db()
    target.refresh_from_db()
    assert (request.status, target.first_name) in {("approved", "Ann"), ("rejected", "")}


def test_two_makers_asking_for_the_same_thing_at_once_make_one_request(
    policy: ApprovalPolicy, make_user: Callable[..., User]
) -> None:
    target = make_user(Role.CLERK, "renamed")
    makers = [make_user(Role.CLERK), make_user(Role.COLLECTOR)]

    results, errors = race(2, lambda index: ask(makers[index], target, "Ann"))

    assert len(results) == 1 and [type(error) for error in errors] == [ApprovalPending]
    assert ApprovalRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="approval.requested").count() == 1


def test_the_same_maker_asking_twice_at_once_gets_one_request(
    policy: ApprovalPolicy, clerk: User, make_user: Callable[..., User]
) -> None:
    target = make_user(Role.CLERK, "renamed")

    results, errors = race(2, lambda _: ask(clerk, target, "Ann").pk)

    assert errors == [] and len(set(results)) == 1
    assert ApprovalRequest.objects.count() == 1


def test_the_database_refuses_to_change_a_decided_request(
    policy: ApprovalPolicy, clerk: User, supervisor: User, make_user: Callable[..., User]
) -> None:
    request = ask(clerk, make_user(Role.CLERK, "renamed"), "Ann")
    approve_request(request_id=request.pk, actor=supervisor)
    for change in (
        lambda rows: rows.update(decision_note="edited"),
        lambda rows: rows.update(amount=Decimal("1.00")),
        lambda rows: rows.delete(),
    ):
        with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
            change(ApprovalRequest.objects.filter(pk=request.pk))
    request.refresh_from_db()
    assert request.status == "approved"
