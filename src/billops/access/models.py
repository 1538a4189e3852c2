"""Users with one role each, hashed API tokens, the store that makes API writes idempotent, and the
maker-checker approvals: policies, approval limits per role, and the requests a second person decides."""

from __future__ import annotations

import json
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from billops.core.fields import AmountField, CurrencyField


class Role(models.TextChoices):
    CLERK = "clerk", "Billing clerk"
    COLLECTOR = "collector", "Collector"
    SUPERVISOR = "supervisor", "Billing supervisor"
    AUDITOR = "auditor", "Auditor (read-only)"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLERK)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 of the secret is kept; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)  # shown in lists so people can tell tokens apart
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """One API write per (caller, Idempotency-Key): its request fingerprint and, once done, its response."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    scope = models.CharField(max_length=80)  # who sent it: "user:<id>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # SHA-256 of method, path and body
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_caller")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"


class BusinessClock(models.Model):
    """The business date an admin has set on a test or demo system: documents, due dates, pricing and
    billing cycles then run as of that day. No row: the real date. Refused in production mode."""

    business_date = models.DateField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # None: the operator at the command line
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_business_clock")]

    def __str__(self) -> str:
        return f"business date {self.business_date.isoformat()}"


class ApprovalPolicy(models.Model):
    """When an action in one currency needs a second person: at or above `approval_from` it waits for an
    approver; below it the action goes through at once. 0 means every amount needs approval."""

    action = models.CharField(max_length=80)  # a registered action code, "collections.write_off"
    currency = CurrencyField()
    approval_from = AmountField()  # in `currency`; never negative
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "currency"], name="one_approval_policy_per_currency"),
            models.CheckConstraint(
                condition=models.Q(approval_from__gte=0), name="approval_from_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} in {self.currency} from {self.approval_from}"


class ApprovalLimit(models.Model):
    """The largest amount one role may approve under a policy; a role without a row approves none."""

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="limits")
    role = models.CharField(max_length=20, choices=Role.choices)
    max_amount = AmountField()  # in the policy's currency; requests up to and including it

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "role"], name="one_approval_limit_per_role"),
            models.CheckConstraint(condition=models.Q(max_amount__gt=0), name="approval_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.role} up to {self.max_amount}"


_PENDING = models.Q(status="pending")
_DECIDED = models.Q(status__in=["approved", "rejected", "cancelled"])


class ApprovalRequest(models.Model):
    """One action a maker asked for, frozen as the approver sees it, waiting for (or given) a decision.

    The target and the result are plain values (`"invoicing.invoice"`, 42): access sits upstream of the apps
    whose actions it approves and holds no foreign key to them.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    action = models.CharField(max_length=80)  # the registered action that performs it once approved
    amount = AmountField()  # positive, at the currency's minor unit; what the approval limits compare
    currency = CurrencyField()
    # exactly what will be done, as JSON text in the maker's key order (PostgreSQL's jsonb would sort the
    # keys); read it as `snapshot`
    snapshot_json = models.TextField()
    # SHA-256 over the action, amount, currency, target, reason and snapshot: what the approver is shown
    snapshot_digest = models.CharField(max_length=64)
    revision = models.PositiveIntegerField(default=1)  # +1 each time the maker amends the pending request
    target_kind = models.CharField(max_length=80)  # "<app>.<model>" of what the action acts on
    target_id = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=500)  # the maker's
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    # who decided and when; for a cancelled request the maker who withdrew it
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    result_kind = models.CharField(max_length=80, blank=True)  # what the approved action produced, if any
    result_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "rejected", "cancelled"]),
                name="approval_request_status_known",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="approval_request_amount_positive"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="approval_request_has_reason"),
            # decided exactly when decided: who and when are set together with a final status
            models.CheckConstraint(
                condition=(_PENDING & models.Q(decided_by__isnull=True, decided_at__isnull=True))
                | (_DECIDED & models.Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="approval_request_decided_when_decided",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(decision_note=""),
                name="approval_request_rejection_has_note",
            ),
            # only an approved request has a result, and a result has both its parts
            models.CheckConstraint(
                condition=models.Q(result_kind="", result_id__isnull=True)
                | models.Q(status="approved", result_id__isnull=False) & ~models.Q(result_kind=""),
                name="approval_request_result_when_approved",
            ),
            # the same thing is not asked twice while a request for it waits
            models.UniqueConstraint(
                fields=["action", "target_kind", "target_id"],
                condition=_PENDING,
                name="one_pending_approval_per_target",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="approval_request_by_status")]

    def __str__(self) -> str:
        return f"approval request {self.pk} ({self.action} {self.amount} {self.currency})"

    @property
    def snapshot(self) -> dict[str, Any]:
        """A fresh copy of the snapshot, in the maker's key order."""
        return cast(dict[str, Any], json.loads(self.snapshot_json))

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
