"""Which role may do which business action. Services call `require_permission` before writing."""

from __future__ import annotations

from typing import Any

from billops.access.models import Role
from billops.core.errors import PermissionDenied

CLERK, COLLECTOR, SUPERVISOR, AUDITOR, ADMIN = (
    Role.CLERK, Role.COLLECTOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN
)  # fmt: skip

# action -> roles allowed. Admin may do everything listed; the auditor is read-only: its one write is
# managing its own API tokens, which it needs to read through the API.
PERMISSIONS: dict[str, frozenset[str]] = {
    "customers.create": frozenset({CLERK, SUPERVISOR}),
    "customers.change": frozenset({CLERK, SUPERVISOR}),
    "customers.import": frozenset({CLERK, SUPERVISOR}),
    "customers.set_credit_limit": frozenset({SUPERVISOR}),
    "customers.place_credit_hold": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
    "customers.release_credit_hold": frozenset({SUPERVISOR}),
    "customers.post_opening_balance": frozenset({SUPERVISOR}),
    "ledger.manage_accounts": frozenset({SUPERVISOR}),
    "ledger.post_manual_entry": frozenset({SUPERVISOR}),
    "ledger.reverse_entry": frozenset({SUPERVISOR}),
    "ledger.close_period": frozenset({SUPERVISOR}),
    "ledger.reopen_period": frozenset({SUPERVISOR}),
    "catalog.manage": frozenset({SUPERVISOR}),
    "catalog.set_customer_price": frozenset({CLERK, SUPERVISOR}),
    "invoicing.manage_entities": frozenset(),
    "invoicing.edit_drafts": frozenset({CLERK, SUPERVISOR}),
    "invoicing.submit": frozenset({CLERK, SUPERVISOR}),
    "invoicing.approve": frozenset({SUPERVISOR}),
    "invoicing.override_credit_hold": frozenset({SUPERVISOR}),
    "invoicing.issue": frozenset({CLERK, SUPERVISOR}),
    "invoicing.void": frozenset({CLERK, SUPERVISOR}),
    "invoicing.credit": frozenset({CLERK, SUPERVISOR}),
    "invoicing.send": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
    "billing.capture": frozenset({CLERK, SUPERVISOR}),
    "billing.run": frozenset({CLERK, SUPERVISOR}),
    "usage.ingest": frozenset({CLERK, SUPERVISOR}),  # usage events, by API batch or CSV file
    "time.manage": frozenset({CLERK, SUPERVISOR}),  # timekeepers and matters
    "time.set_rates": frozenset({SUPERVISOR}),
    "time.record": frozenset({CLERK, SUPERVISOR}),  # time and expenses, for any timekeeper
    "time.approve": frozenset({SUPERVISOR}),  # approve, reject, write down or up
    "payments.manage_bank_accounts": frozenset({SUPERVISOR}),
    "payments.post": frozenset({CLERK, SUPERVISOR}),  # receipts
    "payments.apply": frozenset({CLERK, SUPERVISOR}),  # cash application, and taking it back
    "payments.import": frozenset({CLERK, SUPERVISOR}),  # bank files
    "payments.reverse": frozenset({CLERK, SUPERVISOR}),  # a payment the bank returned
    "payments.refund": frozenset({SUPERVISOR}),  # money paid back out of a credit balance
    "payments.set_tolerance": frozenset({SUPERVISOR}),  # what a short payment may leave, written off
    # writing off what a payment left short beyond the tolerance
    "payments.write_off_above_tolerance": frozenset({SUPERVISOR}),
    # maker-checker: who may ask for an approval, and who may decide one (the policy's limits per role
    # then say up to which amount); policies themselves are the administrator's
    "approvals.request": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
    "approvals.decide": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
    "approvals.manage_policies": frozenset(),
    "collections.work": frozenset({COLLECTOR, SUPERVISOR}),  # activities, promises, plans, next actions
    "collections.assign": frozenset({SUPERVISOR}),  # customers to collectors
    "collections.manage_policies": frozenset({SUPERVISOR}),  # dunning policies and aging buckets
    "collections.run_dunning": frozenset({COLLECTOR, SUPERVISOR}),
    "collections.write_off": frozenset({COLLECTOR, SUPERVISOR}),  # asks; an approver decides
    "disputes.open": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
    "disputes.work": frozenset({CLERK, COLLECTOR, SUPERVISOR}),  # investigate, notes, attachments, reject
    "disputes.resolve": frozenset({CLERK, COLLECTOR, SUPERVISOR}),  # by credit or re-bill
    "access.manage_users": frozenset(),
    "access.set_clock": frozenset(),  # the test clock: admins only
    "access.manage_own_tokens": frozenset({CLERK, COLLECTOR, SUPERVISOR}),
}


def can(user: Any, action: str) -> bool:
    """Whether the user's role allows the business action (unknown actions are allowed to nobody)."""
    if user is None or not user.is_active:
        return False
    if user.role == ADMIN:
        return action in PERMISSIONS
    return user.role in PERMISSIONS.get(action, frozenset())


def require_permission(user: Any, action: str) -> None:
    """Raise PermissionDenied (403) unless the user may do the action."""
    if not can(user, action):
        role = getattr(user, "role", "anonymous")
        raise PermissionDenied(f"the {role} role may not do {action}", action=action)
