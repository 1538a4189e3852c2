"""Idempotent API writes. A POST, PUT, PATCH or DELETE under /api/ that carries an `Idempotency-Key`
header runs once per caller and key:

- the same key with the same request replays the stored response (header `Idempotent-Replayed: true`);
- the same key with a different request is refused with 422, and nothing is written;
- while the first request is still running, a duplicate gets 409 instead of a second effect.

The key is claimed in its own committed row before the view runs; the unique constraint on
(caller, key) is what stops concurrent duplicates. A response of 500 or an exception releases the
claim so the client may retry with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from billops.access.models import IdempotencyRecord
from billops.access.selectors import user_for_token

IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255

_INVALID_KEY = (400, "invalid", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
_REUSED = (422, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
_IN_PROGRESS = (409, "idempotency_in_progress", "a request with this Idempotency-Key is still running")


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "field": "Idempotency-Key"}, status=status)


def _caller_scope(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    user = user_for_token(token.strip())
    return f"user:{user.pk}" if user is not None else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), request.content_type or ""):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.response_status or 200,
        content_type=record.response_content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _withheld_replay() -> JsonResponse:
    return _error(
        409,
        "secret_not_replayed",
        "this Idempotency-Key already completed a request whose answer held a secret, which is shown only "
        "once and not kept; list your tokens, revoke the one it made, and issue a new one",
    )


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method not in IDEMPOTENT_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            return _error(*_INVALID_KEY)
        scope = _caller_scope(request)
        if scope is None:  # unauthenticated: the view answers 401 and nothing is stored
            return self.get_response(request)

        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=fingerprint)
        except IntegrityError:
            earlier = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if earlier is None:  # the first request failed and released the key a moment ago
                return _error(*_IN_PROGRESS)
            if earlier.request_hash != fingerprint:
                return _error(*_REUSED)
            if earlier.state == IdempotencyRecord.State.IN_FLIGHT:
                return _error(*_IN_PROGRESS)
            return _replay(earlier)

        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.streaming:
            record.delete()
            return response
        # a response marked no-store holds a secret (a new API token): keep that it happened, not the secret
        stored = _withheld_replay() if "no-store" in response.get("Cache-Control", "") else response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            response_status=stored.status_code,
            response_body=stored.content,
            response_content_type=stored.get("Content-Type", "application/json"),
            completed_at=timezone.now(),
        )
        return response
