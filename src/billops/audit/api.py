"""API: the audit trail and its verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from billops.audit import selectors
from billops.core.schemas import QUERY_ERRORS, LimitOffset, errors

router = Router()


class EventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_label: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    before: Any
    after: Any
    request_id: str
    journal_entry_id: int | None
    hash: str


class VerifyOut(Schema):
    ok: bool
    events: int
    last_seq: int
    last_hash: str
    first_bad_seq: int | None
    problem: str


MAX_PAGE = 500  # one request never drags the whole trail out of the database


@router.get("/events", response={200: list[EventOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset, max_limit=MAX_PAGE)
def list_events(
    request: HttpRequest, action: str = "", target_type: str = "", target_id: str = "", actor: str = ""
) -> object:
    return selectors.list_events(action=action, target_type=target_type, target_id=target_id, actor=actor)


@router.get("/verify", response={200: VerifyOut, **errors()})
def verify(request: HttpRequest) -> object:
    return selectors.verify_chain()
