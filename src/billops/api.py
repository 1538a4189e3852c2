"""The REST API under /api/v1/: one Ninja router per app, token auth, errors as {code, message, field}."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from billops.access.api import router as access_router
from billops.access.auth import TokenAuth
from billops.audit.api import router as audit_router
from billops.core.errors import DomainError
from billops.customers.api import router as customers_router
from billops.ledger.api import router as ledger_router

api = NinjaAPI(
    title="billops API",
    version="1",
    description=(
        "Billing and receivables operations. Authenticate with `Authorization: Bearer <token>`. "
        "Every POST accepts an `Idempotency-Key` header: the same key with the same body replays the first "
        "response; with another body it is refused (422); while the first is still running, 409."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.http_status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part) for part in first.get("loc", []) if part not in ("body", "payload", "query", "path")
    ]
    field = ".".join(location) or None
    message = (
        f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid request")
    )
    body = {"code": "invalid", "message": message, "field": field, "errors": exc.errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "unauthenticated", "message": "a valid, unrevoked API token is required", "field": None}
    return api.create_response(request, body, status=401)


api.add_router("/access/", access_router, tags=["access"])
api.add_router("/audit/", audit_router, tags=["audit"])
api.add_router("/ledger/", ledger_router, tags=["ledger"])
api.add_router("/customers/", customers_router, tags=["customers"])
