"""Snapshots: what an approval request will do, as JSON the approver reads, and the digest that ties a
decision to exactly what was shown."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, cast

from billops.access.approvals.errors import TargetChanged
from billops.audit.services import json_safe
from billops.core.errors import InvalidInput
from billops.core.money import Money, round_money

if TYPE_CHECKING:
    from billops.access.models import ApprovalRequest

MAX_SNAPSHOT_CHARS = 100_000  # a request describes one action, not a data dump


def clean_snapshot(snapshot: object) -> dict[str, Any]:
    """The snapshot as JSON-safe data (Decimals, dates and Money as text); InvalidInput for anything that is
    not a non-empty mapping of plain values, or is too large to read."""
    if not isinstance(snapshot, dict) or not snapshot:
        raise InvalidInput("a snapshot is a non-empty mapping of what will be done", field="snapshot")
    try:
        cleaned = json_safe(snapshot)
        text = json.dumps(cleaned, ensure_ascii=False)
    except (TypeError, ValueError) as exc:  # a float, or an object JSON cannot hold
        raise InvalidInput(
            f"the snapshot holds a value JSON cannot keep exactly: {exc}", field="snapshot"
        ) from None
    if len(text) > MAX_SNAPSHOT_CHARS:
        raise InvalidInput(f"the snapshot is longer than {MAX_SNAPSHOT_CHARS} characters", field="snapshot")
    return cast(dict[str, Any], cleaned)


def snapshot_text(snapshot: dict[str, Any]) -> str:
    """The stored form: JSON in the maker's key order."""
    return json.dumps(snapshot, ensure_ascii=False)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(
    *, action: str, amount: Money, target_kind: str, target_id: int, reason: str, snapshot: dict[str, Any]
) -> str:
    """SHA-256 over everything the approver is shown: the action, amount, target, reason and snapshot."""
    content = {
        "action": action,
        "amount": str(round_money(amount).amount),  # "520.00" however many places the column keeps
        "currency": amount.currency,
        "target_kind": target_kind,
        "target_id": target_id,
        "reason": reason,
        "snapshot": snapshot,
    }
    return hashlib.sha256(_canonical(content).encode()).hexdigest()


def request_digest(request: ApprovalRequest) -> str:
    """The digest of a request as its row holds it now (equal to `snapshot_digest` unless the row was
    changed behind the services' back)."""
    return digest_of(
        action=request.action, amount=Money(request.amount, request.currency),
        target_kind=request.target_kind, target_id=request.target_id, reason=request.reason,
        snapshot=request.snapshot,
    )  # fmt: skip


def check_snapshot(request: ApprovalRequest, current: dict[str, Any]) -> None:
    """For a `perform`: raise TargetChanged unless `current`, the snapshot rebuilt from the target as it is
    now, is the one the request was approved on."""
    now, then = clean_snapshot(current), request.snapshot
    if _canonical(now) == _canonical(then):
        return
    changed = sorted(key for key in {*now, *then} if _canonical(now.get(key)) != _canonical(then.get(key)))
    raise TargetChanged(
        f"{request.target_kind} {request.target_id} changed since approval was asked for "
        f"({', '.join(changed)} differ); reject this request and ask again",
        field="snapshot",
    )
