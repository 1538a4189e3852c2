"""API: who am I, and my API tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from billops.access import selectors, services
from billops.access.auth import api_actor
from billops.core.schemas import WRITE_ERRORS, RowId, errors

router = Router()


class MeOut(Schema):
    username: str
    role: str
    email: str


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    secret: str  # shown once; only its hash is stored


@router.get("/me", response={200: MeOut, **errors()})
def me(request: HttpRequest) -> object:
    return api_actor(request)


@router.get("/tokens", response={200: list[TokenOut], **errors()})
def list_tokens(request: HttpRequest) -> object:
    return selectors.list_tokens(user=api_actor(request))


@router.post("/tokens", response={201: NewTokenOut, **errors(*WRITE_ERRORS)})
def issue_token(request: HttpRequest, payload: TokenIn, response: HttpResponse) -> object:
    user = api_actor(request)
    response["Cache-Control"] = "no-store"  # the secret must not be cached, nor kept for an idempotent replay
    token, secret = services.issue_api_token(user=user, name=payload.name, actor=user)
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "secret": secret})


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **errors(*WRITE_ERRORS, 404)})
def revoke_token(request: HttpRequest, token_id: RowId) -> object:
    return services.revoke_api_token(token_id=token_id, actor=api_actor(request))
