"""Creating users and the role → action permission table."""

import pytest

from billops.access.models import Role, User
from billops.access.permissions import PERMISSIONS, can, require_permission
from billops.access.services import create_user
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.core.errors import Duplicate, InvalidInput, PermissionDenied

STRONG = "quartz ledger 7 reconcile"


def counts():
    return User.objects.count(), AuditEvent.objects.count()


# creating users


@pytest.mark.parametrize("role", Role.values)
def test_create_user_with_each_role(db, role):
    user = create_user(
        username=f"new-{role}", password=STRONG, role=role, actor=None, email=f"{role}@example.org"
    )
    user.refresh_from_db()
    assert user.role == role
    assert user.is_staff == (role == Role.ADMIN)
    assert user.is_active
    assert user.email == f"{role}@example.org"
    assert user.check_password(STRONG)
    assert user.password != STRONG


def test_create_user_splits_the_full_name(db):
    user = create_user(
        username="mdiaz", password=STRONG, role=Role.COLLECTOR, actor=None, full_name="María José Díaz"
    )
    assert (user.first_name, user.last_name, str(user)) == ("María", "José Díaz", "María José Díaz")


def test_create_user_records_who_created_whom(db, make_user):
    admin = make_user(Role.ADMIN, "root")
    user = create_user(username="newclerk", password=STRONG, role=Role.CLERK, actor=admin)
    event = AuditEvent.objects.get(action="access.user_created", target_id=str(user.pk))
    assert (event.actor, event.actor_label, event.target_type) == (admin, "root", "access.user")
    assert event.after == {"username": "newclerk", "role": "clerk"}
    assert event.before is None
    assert verify_chain().ok


def test_create_user_from_the_command_line_is_recorded_as_system(db):
    user = create_user(username="first", password=STRONG, role=Role.ADMIN, actor=None)
    event = AuditEvent.objects.get(target_id=str(user.pk))
    assert (event.seq, event.action, event.actor_label) == (1, "access.user_created", "system")


def test_duplicate_username_is_refused_and_nothing_is_written(clerk):
    before = counts()
    with pytest.raises(Duplicate) as refused:
        create_user(username="clerk", password=STRONG, role=Role.SUPERVISOR, actor=None)
    assert refused.value.field == "username"
    assert refused.value.http_status == 409
    assert counts() == before
    assert User.objects.get(username="clerk").role == Role.CLERK


@pytest.mark.parametrize(
    "password",
    ["short", "password1234", "123456789012345", "newclerk2028", ""],
    ids=["too-short", "common", "numeric", "like-the-username", "empty"],
)
def test_weak_password_is_refused_naming_the_password_field(db, password):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        create_user(username="newclerk", password=password, role=Role.CLERK, actor=None)
    assert refused.value.field == "password"
    assert refused.value.as_dict()["code"] == "invalid"
    assert counts() == before


@pytest.mark.parametrize("username", ["", "   ", "has space", "semi;colon", "x" * 151])
def test_unusable_username_is_refused_naming_the_username_field(db, username):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        create_user(username=username, password=STRONG, role=Role.CLERK, actor=None)
    assert refused.value.field == "username"
    assert counts() == before


def test_unknown_role_is_refused(db):
    with pytest.raises(InvalidInput) as refused:
        create_user(username="newuser", password=STRONG, role="owner", actor=None)
    assert refused.value.field == "role"
    assert refused.value.message == "role must be one of clerk, collector, supervisor, auditor, admin"
    assert counts() == (0, 0)


@pytest.mark.parametrize("role", [Role.CLERK, Role.COLLECTOR, Role.SUPERVISOR, Role.AUDITOR])
def test_only_an_admin_may_create_users(make_user, role):
    actor = make_user(role)
    before = counts()
    with pytest.raises(PermissionDenied) as refused:
        create_user(username="newuser", password=STRONG, role=Role.CLERK, actor=actor)
    assert refused.value.message == f"the {role} role may not do access.manage_users"
    assert counts() == before


# the permission table

INVOICING = {
    "invoicing.edit_drafts", "invoicing.submit", "invoicing.issue", "invoicing.void", "invoicing.credit",
    "invoicing.send", "catalog.set_customer_price", "billing.capture", "billing.run", "usage.ingest",
    "time.manage", "time.record", "payments.post", "payments.apply", "payments.import", "payments.reverse",
}  # fmt: skip
# everyone who works receivables asks for approvals and decides those their policy limits allow
APPROVALS_AND_DISPUTES = {
    "approvals.request", "approvals.decide", "disputes.open", "disputes.work", "disputes.resolve",
}  # fmt: skip
COLLECTING = {"collections.work", "collections.run_dunning", "collections.write_off"}
ALLOWED = {
    Role.CLERK: {
        "customers.create", "customers.change", "customers.import", "customers.place_credit_hold",
        "access.manage_own_tokens", *INVOICING, *APPROVALS_AND_DISPUTES,
    },
    Role.COLLECTOR: {
        "customers.place_credit_hold", "access.manage_own_tokens", "invoicing.send", *APPROVALS_AND_DISPUTES,
        *COLLECTING,
    },
    Role.SUPERVISOR: {
        "customers.create", "customers.change", "customers.import", "customers.set_credit_limit",
        "customers.place_credit_hold", "customers.release_credit_hold", "customers.post_opening_balance",
        "ledger.manage_accounts", "ledger.post_manual_entry", "ledger.reverse_entry", "ledger.close_period",
        "ledger.reopen_period", "access.manage_own_tokens", *INVOICING, "invoicing.approve",
        "invoicing.override_credit_hold", "catalog.manage", "time.set_rates", "time.approve",
        "payments.manage_bank_accounts", "payments.refund", "payments.set_tolerance",
        "payments.write_off_above_tolerance", *APPROVALS_AND_DISPUTES, *COLLECTING, "collections.assign",
        "collections.manage_policies",
    },
    Role.AUDITOR: set(),  # read-only: its API tokens come from the operator (`billops token`)
    Role.ADMIN: set(PERMISSIONS),
}  # fmt: skip


@pytest.mark.parametrize("role", Role.values)
def test_each_role_may_do_exactly_its_listed_actions(role):
    user = User(username=role, role=role)
    assert {action for action in PERMISSIONS if can(user, action)} == ALLOWED[role]


def test_a_clerk_cannot_close_a_period_but_a_supervisor_can():
    clerk, supervisor = User(username="c", role=Role.CLERK), User(username="s", role=Role.SUPERVISOR)
    assert not can(clerk, "ledger.close_period")
    with pytest.raises(PermissionDenied) as refused:
        require_permission(clerk, "ledger.close_period")
    assert refused.value.as_dict() == {
        "code": "permission_denied",
        "message": "the clerk role may not do ledger.close_period",
        "field": None,
    }
    assert refused.value.http_status == 403
    assert refused.value.details == {"action": "ledger.close_period"}
    require_permission(supervisor, "ledger.close_period")


def test_the_auditor_may_do_no_business_action():
    auditor = User(username="a", role=Role.AUDITOR)
    business_actions = [action for action in PERMISSIONS if not action.startswith("access.manage_own")]
    assert business_actions
    assert not any(can(auditor, action) for action in business_actions)


@pytest.mark.parametrize("role", Role.values)
def test_an_unknown_action_is_allowed_to_nobody(role):
    user = User(username=role, role=role)
    assert not can(user, "ledger.delete_everything")
    assert not can(user, "")
    with pytest.raises(PermissionDenied):
        require_permission(user, "ledger.delete_everything")


def test_an_inactive_user_or_nobody_may_do_nothing():
    inactive_admin = User(username="gone", role=Role.ADMIN, is_active=False)
    assert not any(can(inactive_admin, action) for action in PERMISSIONS)
    assert not can(None, "customers.create")
    with pytest.raises(PermissionDenied, match=r"the anonymous role may not do customers\.create"):
        require_permission(None, "customers.create")
