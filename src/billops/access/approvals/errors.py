"""Refusals of the approval workflow; each names the field at fault and says what can be done instead."""

from __future__ import annotations

from billops.core.errors import Conflict, PermissionDenied


class SelfApproval(PermissionDenied):
    """The maker deciding their own request: a second person must."""

    code = "self_approval"


class OutsideApprovalLimit(PermissionDenied):
    """The approver's role has no approval limit for the action, or one below the amount."""

    code = "outside_approval_limit"


class AlreadyDecided(Conflict):
    """The request was approved, rejected or cancelled already."""

    code = "already_decided"


class SnapshotChanged(Conflict):
    """The request is no longer what the approver was shown (the maker amended it since)."""

    code = "snapshot_changed"


class ApprovalPending(Conflict):
    """Someone else's request for the same action on the same target is still waiting."""

    code = "approval_pending"


class TargetChanged(Conflict):
    """What the request acts on changed since the snapshot was taken; the request cannot be performed."""

    code = "target_changed"
