"""Working a customer's account: who its collector is, what was done (calls, e-mails, notes, with their
outcome) and what is to be done next, and when."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.models import Role, User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.validation import clean_text
from billops.collections.models import Activity, CollectionProfile
from billops.core.errors import InvalidInput, NotFound
from billops.customers.models import Customer
from billops.customers.selectors import get_customer

ASSIGNABLE_ROLES = (Role.COLLECTOR, Role.SUPERVISOR)


def profile_of(customer: Customer) -> CollectionProfile:
    """The customer's collections profile, made on first use; the customer is locked by the caller."""
    profile, _ = CollectionProfile.objects.get_or_create(customer=customer)
    return profile


@transaction.atomic(durable=True)
def assign_collector(*, customer_id: int, collector_id: int | None, actor: User) -> CollectionProfile:
    """Make a collector (or a supervisor) responsible for the customer; None leaves it unassigned."""
    require_permission(actor, "collections.assign")
    customer = get_customer(customer_id, for_update=True)
    collector = None
    if collector_id is not None:
        collector = User.objects.filter(pk=collector_id, is_active=True).first()
        if collector is None:
            raise NotFound(f"there is no active user {collector_id}", field="collector_id")
        if collector.role not in ASSIGNABLE_ROLES:
            raise InvalidInput(
                f"{collector.username} is a {collector.role}; customers are assigned to collectors or "
                "supervisors",
                field="collector_id",
            )
    profile = profile_of(customer)
    before = {"collector": profile.collector.username if profile.collector else None}
    profile.collector = collector
    profile.save(update_fields=["collector"])
    record_event(
        actor=actor,
        action="collections.collector_assigned",
        target=customer,
        before=before,
        after={"collector": collector.username if collector else None},
    )
    return profile


@transaction.atomic(durable=True)
def plan_next_action(*, customer_id: int, on: date | None, action: str, actor: User) -> CollectionProfile:
    """Put the customer on the worklist from a day, with what is to be done; no day takes it off until
    something new is overdue."""
    require_permission(actor, "collections.work")
    customer = get_customer(customer_id, for_update=True)
    action = clean_text(action, "next_action", limit=200, required=on is not None)
    if on is not None and on < clock.today():
        raise InvalidInput(f"the next action is planned for today or later, not {on.isoformat()}", field="on")
    profile = profile_of(customer)
    before = _next(profile)
    profile.next_action_on, profile.next_action = on, action
    profile.save(update_fields=["next_action_on", "next_action"])
    record_event(
        actor=actor,
        action="collections.next_action_planned",
        target=customer,
        before=before,
        after=_next(profile),
    )
    return profile


def _next(profile: CollectionProfile) -> dict[str, Any]:
    return {"next_action_on": profile.next_action_on, "next_action": profile.next_action}


@transaction.atomic(durable=True)
def record_activity(
    *,
    customer_id: int,
    kind: str,
    text: str,
    actor: User,
    outcome: str = Activity.Outcome.NONE,
    contact: str = "",
    happened_on: date | None = None,
    next_action_on: date | None = None,
    next_action: str = "",
) -> Activity:
    """Log a call, e-mail, letter or note on the customer's account with its outcome, and optionally plan
    the next action in the same step (what a collector does after every call)."""
    require_permission(actor, "collections.work")
    customer = get_customer(customer_id, for_update=True)
    if kind not in Activity.Kind.values:
        raise InvalidInput(
            f"kind must be one of {', '.join(Activity.Kind.values)}, not {kind!r}", field="kind"
        )
    if outcome not in Activity.Outcome.values:
        raise InvalidInput(
            f"outcome must be one of {', '.join(Activity.Outcome.values)}, not {outcome!r}", field="outcome"
        )
    today = clock.today()
    happened_on = happened_on or today
    if happened_on > today:
        raise InvalidInput("an activity is recorded once it has happened, not ahead", field="happened_on")
    if next_action_on is not None and next_action_on < today:
        raise InvalidInput(
            f"the next action is planned for today or later, not {next_action_on.isoformat()}",
            field="next_action_on",
        )
    activity = Activity.objects.create(
        customer=customer,
        kind=kind,
        outcome=outcome,
        contact=clean_text(contact, "contact", limit=200),
        text=clean_text(text, "text", limit=5000, required=True),
        happened_on=happened_on,
        created_by=actor,
    )
    after: dict[str, Any] = {"activity": activity.pk, "kind": kind, "outcome": outcome, "on": happened_on}
    if next_action_on is not None:
        profile = profile_of(customer)
        profile.next_action_on = next_action_on
        profile.next_action = clean_text(next_action, "next_action", limit=200, required=True)
        profile.save(update_fields=["next_action_on", "next_action"])
        after |= _next(profile)
    record_event(actor=actor, action="collections.activity_recorded", target=customer, after=after)
    return activity
