"""The maker-checker workflow: whether an action needs a second person, asking for approval inside the
requesting app's transaction, and approving (which performs the action), rejecting or cancelling a
request. Each is audited; the decision events keep the snapshot and its digest."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.access.approvals.errors import AlreadyDecided, ApprovalPending, SnapshotChanged
from billops.access.approvals.registry import ACTION_CODE, get_action
from billops.access.approvals.selectors import decision_refusal, get_request
from billops.access.approvals.snapshots import (
    clean_snapshot,
    digest_of,
    request_digest,
    snapshot_text,
)
from billops.access.models import ApprovalPolicy, ApprovalRequest, User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.db import deadlock_as_conflict
from billops.core.errors import Conflict, InvalidAmount, InvalidInput, PermissionDenied
from billops.core.money import Money, Rounding, round_money
from billops.core.schemas import SQL_BIGINT_MAX

MAX_TEXT = 500  # a reason or a decision note


def clean_text(value: object, field: str, *, required: bool = False) -> str:
    """Text as typed, trimmed; InvalidInput naming `field` when it is missing, too long or holds a NUL."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"give a {field}", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field} has at most {MAX_TEXT} characters", field=field)
    if "\x00" in text:
        raise InvalidInput(f"{field} holds a NUL character, which text may not contain", field=field)
    return text


def needs_approval(action: str, amount: Money) -> bool:
    """Whether the policy makes the action wait for a second person: at or above the policy's amount in
    that currency. An action without any policy needs none; one with policies in other currencies but not
    in this one needs approval, so that an unforeseen currency does not slip past the control."""
    get_action(action)
    thresholds = dict(ApprovalPolicy.objects.filter(action=action).values_list("currency", "approval_from"))
    if not thresholds:
        return False
    approval_from = thresholds.get(amount.currency)
    return approval_from is None or amount.amount >= approval_from


def _positive_amount(amount: Money) -> Money:
    if not isinstance(amount, Money):
        raise TypeError(f"request_approval needs Money, got {type(amount).__name__}")
    exact = round_money(amount, policy=Rounding.EXACT)  # more places than the currency has: refused
    if exact.amount <= 0:
        raise InvalidAmount(f"an approval is for a positive amount, not {amount}", field="amount")
    return exact


def _clean_target(target_kind: object, target_id: object) -> tuple[str, int]:
    if not isinstance(target_kind, str) or not ACTION_CODE.fullmatch(target_kind) or len(target_kind) > 80:
        raise InvalidInput(f"a target kind looks like 'app.model', not {target_kind!r}", field="target_kind")
    if type(target_id) is not int or not 1 <= target_id <= SQL_BIGINT_MAX:
        raise InvalidInput(f"a target id is a positive whole number, not {target_id!r}", field="target_id")
    return target_kind, target_id


def _described(request: ApprovalRequest) -> dict[str, Any]:
    """What an event says about a request: everything the approver is shown, and its digest."""
    return {
        "action": request.action,
        "amount": round_money(request.amount, request.currency),  # "120.00", as the approver saw it
        "target": f"{request.target_kind} {request.target_id}",
        "reason": request.reason,
        "revision": request.revision,
        "snapshot": request.snapshot,
        "snapshot_digest": request.snapshot_digest,
    }


def _pending_for(action: str, target_kind: str, target_id: int) -> ApprovalRequest | None:
    return (
        ApprovalRequest.objects.select_for_update()
        .filter(
            action=action, target_kind=target_kind, target_id=target_id, status=ApprovalRequest.Status.PENDING
        )
        .first()
    )


def request_approval(
    *,
    action: str,
    amount: Money,
    snapshot: dict[str, Any],
    target_kind: str,
    target_id: int,
    reason: str,
    actor: User,
) -> ApprovalRequest:
    """Ask for a second person's approval; a building block run inside the requesting app's transaction, so
    the request exists exactly when the app's own change does. Asking again for the same target amends
    the maker's pending request (or returns it unchanged); someone else's pending request is refused."""
    require_permission(actor, "approvals.request")
    if not transaction.get_connection().in_atomic_block:
        # the request must commit or roll back with the requesting app's change
        raise transaction.TransactionManagementError("request_approval runs inside the caller's transaction")
    get_action(action)
    amount = _positive_amount(amount)
    target_kind, target_id = _clean_target(target_kind, target_id)
    reason = clean_text(reason, "reason", required=True)
    cleaned = clean_snapshot(snapshot)
    content: dict[str, Any] = {"action": action, "target_kind": target_kind, "target_id": target_id}
    digest = digest_of(amount=amount, reason=reason, snapshot=cleaned, **content)
    for _ in range(2):
        pending = _pending_for(action, target_kind, target_id)
        if pending is not None:
            return _ask_again(
                pending, amount=amount, reason=reason, snapshot=cleaned, digest=digest, actor=actor
            )
        try:
            with transaction.atomic():
                created = ApprovalRequest.objects.create(
                    amount=amount.amount, currency=amount.currency, snapshot_json=snapshot_text(cleaned),
                    snapshot_digest=digest, reason=reason, requested_by=actor, requested_at=timezone.now(),
                    **content,
                )  # fmt: skip
        except IntegrityError:  # asked for at the same moment by someone else: read theirs
            continue
        record_event(actor=actor, action="approval.requested", target=created, after=_described(created))
        return created
    raise Conflict(
        "another request for the same thing was made at the same moment; try again", field="target_id"
    )


def _ask_again(
    pending: ApprovalRequest,
    *,
    amount: Money,
    reason: str,
    snapshot: dict[str, Any],
    digest: str,
    actor: User,
) -> ApprovalRequest:
    if pending.requested_by_id != actor.pk:
        raise ApprovalPending(
            f"approval request {pending.pk} for {pending.target_kind} {pending.target_id} is already "
            f"waiting, asked by {pending.requested_by.get_username()}; it is decided or cancelled first",
            field="target_id",
        )
    if pending.snapshot_digest == digest:  # the same request again: nothing new to approve
        return pending
    before = _described(pending)
    pending.amount, pending.currency, pending.reason = amount.amount, amount.currency, reason
    pending.snapshot_json, pending.snapshot_digest = snapshot_text(snapshot), digest
    pending.revision += 1  # an approver who opened the earlier revision is refused: SnapshotChanged
    pending.save(
        update_fields=["amount", "currency", "reason", "snapshot_json", "snapshot_digest", "revision"]
    )
    record_event(
        actor=actor, action="approval.amended", target=pending, before=before, after=_described(pending)
    )
    return pending


def _decide(request: ApprovalRequest, status: str, actor: User, note: str) -> None:
    request.status, request.decided_by, request.decided_at = status, actor, timezone.now()
    request.decision_note = note


@deadlock_as_conflict
@transaction.atomic(durable=True)
def approve_request(
    *, request_id: int, actor: User, note: str = "", snapshot_digest: str | None = None
) -> ApprovalRequest:
    """A second person with the authority approves the request, and its action is performed at once, in
    this transaction; if the action refuses (a DomainError), nothing changes and the request stays
    pending. With `snapshot_digest`, the digest the approver was shown, a request amended since is refused."""
    require_permission(actor, "approvals.decide")
    note = clean_text(note, "note")
    request = get_request(request_id, for_update=True)
    refusal = decision_refusal(request, actor)
    if refusal is not None:
        raise refusal
    if snapshot_digest is not None and snapshot_digest != request.snapshot_digest:
        raise SnapshotChanged(
            f"the request changed since you opened it (approval request {request.pk} is at revision "
            f"{request.revision} now); review it again",
            field="snapshot_digest",
        )
    if request_digest(request) != request.snapshot_digest:
        raise Conflict(
            f"approval request {request.pk} no longer matches its digest: its row was changed outside "
            "billops; reject it and ask again",
            field="snapshot",
        )
    action = get_action(request.action)
    result = action.perform(request, actor)  # a DomainError here rolls back everything, the request too
    if result is not None:
        kind, pk = result
        if not isinstance(kind, str) or not 0 < len(kind) <= 80 or type(pk) is not int or pk < 1:
            raise TypeError(f"{request.action} perform returned {result!r}, not (kind, id)")
        request.result_kind, request.result_id = kind, pk
    _decide(request, ApprovalRequest.Status.APPROVED, actor, note)
    request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "result_kind", "result_id"]
    )
    result_text = f"{request.result_kind} {request.result_id}" if result is not None else None
    after = {**_described(request), "note": note, "requested_by": request.requested_by.get_username(),
             "result": result_text}  # fmt: skip
    record_event(actor=actor, action="approval.approved", target=request, after=after)
    return request


@transaction.atomic(durable=True)
def reject_request(*, request_id: int, actor: User, note: str) -> ApprovalRequest:
    """A second person with the authority refuses the request, saying why; nothing is performed."""
    require_permission(actor, "approvals.decide")
    note = clean_text(note, "note", required=True)
    request = get_request(request_id, for_update=True)
    refusal = decision_refusal(request, actor)
    if refusal is not None:
        raise refusal
    _decide(request, ApprovalRequest.Status.REJECTED, actor, note)
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    after = {**_described(request), "note": note, "requested_by": request.requested_by.get_username()}
    record_event(actor=actor, action="approval.rejected", target=request, after=after)
    return request


@transaction.atomic(durable=True)
def cancel_request(*, request_id: int, actor: User, note: str = "") -> ApprovalRequest:
    """The maker withdraws their own pending request; nothing is performed."""
    require_permission(actor, "approvals.request")
    note = clean_text(note, "note")
    request = get_request(request_id, for_update=True)
    if not request.is_pending:
        raise AlreadyDecided(f"approval request {request.pk} is already {request.status}", field="status")
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(
            f"only {request.requested_by.get_username()}, who asked, may cancel approval request "
            f"{request.pk}; an approver rejects it instead",
            field="requested_by",
        )
    _decide(request, ApprovalRequest.Status.CANCELLED, actor, note)
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    after = {"snapshot_digest": request.snapshot_digest, "note": note}
    record_event(actor=actor, action="approval.cancelled", target=request, after=after)
    return request
