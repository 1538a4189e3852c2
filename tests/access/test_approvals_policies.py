"""Approval policies (from which amount an action waits for a second person, and each role's approval
limit, the administrator's), the registry of approvable actions, and the reads: the inbox of what a user
may decide, and the list of requests."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from billops.access.approvals.policies import set_approval_policy
from billops.access.approvals.registry import ApprovalAction, get_action, register_action
from billops.access.approvals.selectors import inbox_for, limit_for, list_requests
from billops.access.approvals.services import needs_approval, reject_request
from billops.access.models import ApprovalLimit, ApprovalPolicy, Role, User
from billops.audit.models import AuditEvent
from billops.core.errors import DomainError, InvalidInput, PermissionDenied
from billops.core.money import Money
from tests.access.test_approvals import RENAME, UNPOLICED, admin, ask, eur, perform_rename, policy, unchanged

pytestmark = pytest.mark.django_db
__all__ = ["admin", "policy"]  # fixtures shared with the main module


# --- the policy ----------------------------------------------------------------------------------------


def test_below_the_policy_amount_no_approval_is_needed(policy: ApprovalPolicy) -> None:
    assert needs_approval(RENAME, eur("49.99")) is False
    assert needs_approval(RENAME, eur("50.00")) is True
    assert needs_approval(RENAME, eur("50000")) is True


def test_zero_means_every_amount_needs_approval(admin: User) -> None:
    set_approval_policy(action=RENAME, currency="EUR", approval_from="0", limits={}, actor=admin)
    assert needs_approval(RENAME, eur("0.01")) is True


def test_an_action_without_a_policy_needs_none_but_a_currency_without_one_does(
    policy: ApprovalPolicy,
) -> None:
    assert needs_approval(UNPOLICED, eur("1000000")) is False
    # the action is controlled in EUR; a dollar amount does not slip past because nobody set a USD policy
    assert needs_approval(RENAME, Money(Decimal("1.00"), "USD")) is True


def test_needs_approval_of_an_unregistered_action_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        needs_approval("tests.no_such_action", eur("1"))
    assert refused.value.field == "action"


def test_a_policy_is_the_administrators_and_replaces_its_limits(
    policy: ApprovalPolicy, admin: User, supervisor: User
) -> None:
    with unchanged(), pytest.raises(PermissionDenied):
        set_approval_policy(action=RENAME, currency="EUR", approval_from="1", limits={}, actor=supervisor)

    changed = set_approval_policy(
        action=RENAME, currency="EUR", approval_from="75", limits={Role.CLERK: "60.00"}, actor=admin
    )

    assert changed.pk == policy.pk and changed.approval_from == Decimal("75")
    assert list(ApprovalLimit.objects.values_list("role", "max_amount")) == [(Role.CLERK, Decimal("60"))]
    assert limit_for(Role.SUPERVISOR, RENAME, "EUR") is None
    assert limit_for(Role.CLERK, RENAME, "EUR") == eur("60.00")
    event = AuditEvent.objects.filter(action="approval.policy_set").last()
    assert event is not None and event.actor == admin
    assert event.before == {
        "action": RENAME,
        "approval_from": {"amount": "50.00", "currency": "EUR"},
        "limits": {
            "collector": {"amount": "200.00", "currency": "EUR"},
            "supervisor": {"amount": "1000.00", "currency": "EUR"},
        },
    }
    assert event.after == {
        "action": RENAME,
        "approval_from": {"amount": "75.00", "currency": "EUR"},
        "limits": {"clerk": {"amount": "60.00", "currency": "EUR"}},
    }


@pytest.mark.parametrize(
    ("approval_from", "limits", "field"),
    [
        ("-1", {}, "approval_from"),
        ("1.001", {}, "approval_from"),
        ("10", {Role.AUDITOR: "5"}, "limits.auditor"),
        ("10", {"owner": "5"}, "limits.owner"),
        ("10", {Role.CLERK: "0"}, "limits.clerk"),
        ("10", {Role.CLERK: "1.5e3"}, "limits.clerk"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(
    admin: User, approval_from: str, limits: dict[str, str], field: str
) -> None:
    with unchanged(), pytest.raises(DomainError) as refused:
        set_approval_policy(
            action=RENAME, currency="EUR", approval_from=approval_from, limits=limits, actor=admin
        )
    assert refused.value.field == field
    assert not ApprovalPolicy.objects.exists()


def test_a_policy_for_an_action_no_app_performs_is_refused(admin: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        set_approval_policy(action="tests.typo", currency="EUR", approval_from="1", limits={}, actor=admin)
    assert refused.value.field == "action"


def test_registering_another_action_under_a_taken_code_is_refused() -> None:
    assert register_action(get_action(RENAME)) == get_action(RENAME)  # the same again: harmless
    with pytest.raises(ValueError, match="already registered"):
        register_action(ApprovalAction(code=RENAME, label="Other", perform=perform_rename))
    with pytest.raises(ValueError, match="looks like"):
        register_action(ApprovalAction(code="no-dot", label="Bad", perform=perform_rename))


# --- reads ---------------------------------------------------------------------------------------------


def test_the_inbox_holds_what_the_user_may_decide_oldest_first(
    policy: ApprovalPolicy, clerk: User, collector: User, supervisor: User, make_user: Callable[..., User]
) -> None:
    first = ask(clerk, make_user(Role.CLERK), "Ann", amount="100.00")
    large = ask(clerk, make_user(Role.CLERK), "Bea", amount="500.00")
    own = ask(collector, make_user(Role.CLERK), "Cy", amount="60.00")
    decided = ask(clerk, make_user(Role.CLERK), "Di", amount="70.00")
    reject_request(request_id=decided.pk, actor=supervisor, note="no")

    assert list(inbox_for(supervisor)) == [first, large, own]
    assert list(inbox_for(collector)) == [first]  # not its own, not above its 200
    assert list(inbox_for(clerk)) == []  # no limit
    assert list(list_requests(requested_by=collector)) == [own]
    assert list(list_requests(status="rejected")) == [decided]
    assert list(list_requests(action=RENAME)) == [decided, own, large, first]  # newest first
    with pytest.raises(InvalidInput):
        list_requests(status="lost")
