"""Reading the audit trail and proving it has not been tampered with."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet

from billops.audit.models import AuditEvent, ChainHead
from billops.audit.services import GENESIS_HASH, event_hash, target_type_of
from billops.core.db import given


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    last_seq: int
    last_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def _head() -> ChainHead:
    return ChainHead.objects.filter(id=1).first() or ChainHead(id=1)  # no head row: an empty chain


def verify_chain() -> ChainReport:
    """Walk the chain in order; name the first event that was edited, deleted, inserted or moved.

    Safe while others append: the head is read before the walk, and events appended after that
    read are accepted only if they chain on and a fresh read of the head covers them.
    """
    head = _head()
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        count += 1
        if event.seq != expected_seq:
            problem = (
                f"event #{expected_seq} is missing (deleted)"
                if event.seq > expected_seq
                else f"event #{event.seq} appears twice or out of order"
            )
            return ChainReport(False, count, event.seq, event.hash, expected_seq, problem)
        if event.prev_hash != prev_hash:
            problem = f"event #{event.seq} does not follow event #{event.seq - 1} (inserted or reordered)"
            return ChainReport(False, count, event.seq, event.hash, event.seq, problem)
        if event_hash(event) != event.hash:
            return ChainReport(
                False, count, event.seq, event.hash, event.seq, f"event #{event.seq} was changed"
            )
        if event.seq == head.last_seq and event.hash != head.last_hash:
            problem = f"event #{event.seq} is not the event the chain head records (changed or replaced)"
            return ChainReport(False, count, event.seq, event.hash, event.seq, problem)
        expected_seq, prev_hash = event.seq + 1, event.hash
    last_seq = expected_seq - 1
    if last_seq < head.last_seq:
        problem = f"the chain ends at #{last_seq} but its head records #{head.last_seq}: events were removed"
        return ChainReport(False, count, last_seq, prev_hash, last_seq + 1, problem)
    if last_seq == 0 and head.last_hash != GENESIS_HASH:
        return ChainReport(False, count, 0, prev_hash, 1, "the chain is empty but its head records events")
    if last_seq > head.last_seq:
        # an append moves the head in the same transaction, so a fresh read must cover every event seen
        head_now = _head().last_seq
        if head_now < last_seq:
            problem = f"the chain ends at #{last_seq} but its head records #{head_now}: events were added"
            return ChainReport(False, count, last_seq, prev_hash, head_now + 1, problem)
    return ChainReport(True, count, last_seq, prev_hash)


def list_events(
    *, action: str = "", target_type: str = "", target_id: str = "", actor: str = ""
) -> QuerySet[AuditEvent]:
    """Newest first, filtered by action prefix, target and actor's username."""
    events = AuditEvent.objects.select_related("actor").order_by("-seq")
    return events.filter(
        **given(action__startswith=action, target_type=target_type, target_id=target_id, actor_label=actor)
    )


def history_of(target: models.Model) -> QuerySet[AuditEvent]:
    """Every event about one record, newest first: the record's history page."""
    return list_events(target_type=target_type_of(target), target_id=str(target.pk))


def count_events() -> int:
    return AuditEvent.objects.count()
