"""Writing to the audit trail. `record_event` runs inside the caller's transaction, as its last write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models, transaction
from django.utils import timezone

from billops.audit.context import request_id_var
from billops.audit.models import AuditEvent, ChainHead
from billops.core.db import insert_rows, reserve_ids
from billops.core.money import Money

GENESIS_HASH = "0" * 64


def json_safe(value: Any) -> Any:
    """Turn a value into JSON that reads back identically: Decimals, dates and UUIDs become text."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, float):
        raise TypeError("audit data never holds floats; pass a Decimal or text")
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of a row as JSON-safe data, for an event's before/after."""
    data = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if not isinstance(field, models.Field):  # a reverse relation or generic key has no column
            raise ValueError(f"{name} is not a column of {instance._meta.label}")
        data[name] = getattr(instance, field.attname)
    return json_safe(data)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and position; editing any of it changes the hash."""
    content = [
        event.seq,
        # in UTC: a database session in another time zone reads the same instant back with another offset
        event.occurred_at.astimezone(UTC).isoformat(),
        event.actor_id,
        event.actor_label,
        event.action,
        event.target_type,
        event.target_id,
        event.target_label,
        event.before,
        event.after,
        event.request_id,
        event.journal_entry_id,
        event.prev_hash,
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def target_type_of(target: models.Model) -> str:
    return f"{target._meta.app_label}.{target._meta.model_name}"


def _locked_head() -> ChainHead:
    """The chain head, locked until the caller's transaction ends: this serialises appends."""
    head = ChainHead.objects.select_for_update().filter(id=1).first()
    if head is None:  # an emptied database (flush); with events present the next seq collides and fails
        ChainHead.objects.get_or_create(id=1)
        head = ChainHead.objects.select_for_update().get(id=1)
    return head


def record_event(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    journal_entry_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain; call it inside the business action's transaction.

    `actor` is a user, or None for the system itself (migrations, scheduled jobs).
    """
    event = EventData(action, target, before, after, journal_entry_id)
    return record_events(actor=actor, events=[event])[0]


@dataclass(frozen=True, slots=True)
class EventData:
    """One event of `record_events`: what was done to which row, and the journal entry it posted."""

    action: str
    target: models.Model
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    journal_entry_id: int | None = None


def record_events(*, actor: Any, events: Sequence[EventData]) -> list[AuditEvent]:
    """Append events by one actor to the chain, in order, under one lock of its head and in one insert
    (a bill run's chunk records hundreds at once); inside the business action's transaction."""
    if not transaction.get_connection().in_atomic_block:
        # outside a transaction the event could commit without the change it records (or the reverse)
        raise transaction.TransactionManagementError("record_event must run inside the action's transaction")
    if any(event.target.pk is None for event in events):
        raise ValueError("record_event needs a saved target")
    head = _locked_head()
    seq, prev_hash = head.last_seq, head.last_hash
    now, request_id = timezone.now(), request_id_var.get()
    actor_label = actor.get_username() if actor is not None else "system"
    appended = []
    for data in events:
        seq += 1
        event = AuditEvent(
            seq=seq,
            occurred_at=now,
            actor=actor,
            actor_label=actor_label,
            action=data.action,
            target_type=target_type_of(data.target),
            target_id=str(data.target.pk),
            target_label=str(data.target)[:200],
            before=json_safe(data.before) if data.before is not None else None,
            after=json_safe(data.after) if data.after is not None else None,
            request_id=request_id,
            journal_entry_id=data.journal_entry_id,
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = event_hash(event)
        appended.append(event)
    for event, event_id in zip(appended, reserve_ids(AuditEvent, len(appended)), strict=True):
        event.pk = event_id
    insert_rows(appended)
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return appended


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, for an edit's before/after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
