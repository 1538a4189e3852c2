"""The REST API under /api/v1/: one Ninja router per app, token auth, errors as {code, message, field}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from billops.access.api import router as access_router
from billops.access.approvals_api import router as approvals_router
from billops.access.auth import TokenAuth
from billops.audit.api import router as audit_router
from billops.billing.api import router as billing_router
from billops.catalog.api import router as catalog_router
from billops.collections.api import router as collections_router
from billops.core.errors import DomainError, InvalidInput
from billops.customers.api import router as customers_router
from billops.delivery.api import router as delivery_router
from billops.disputes.api import router as disputes_router
from billops.invoicing.api import router as invoicing_router
from billops.ledger.api import router as ledger_router
from billops.payments.api import router as payments_router
from billops.payments.queue_api import router as payments_queue_router
from billops.timekeeping.api import router as timekeeping_router
from billops.usage.api import router as usage_router

# where Ninja says a bad value came from: the first part of a validation error's `loc`
PARAMETER_SOURCES = frozenset({"body", "query", "path", "file", "form", "header", "cookie"})


def _refuse_nul(value: object, path: tuple[str, ...] = ()) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            field = ".".join(path) or None
            message = f"{field or 'the request'} holds a NUL character, which text may not contain"
            raise InvalidInput(message, field=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, path)
            _refuse_nul(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, (*path, str(index)))


class TextParser(Parser):
    """Ninja's JSON body and query string parsing, refusing text with a NUL character (400): PostgreSQL
    can neither store nor compare it, so it would otherwise end in a database error."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        _refuse_nul(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(parsed)
        return parsed


api = NinjaAPI(
    title="billops API",
    version="1",
    description=(
        "Billing and receivables operations. Authenticate with `Authorization: Bearer <token>`. "
        "Every POST accepts an `Idempotency-Key` header: the same key with the same body replays the first "
        "response; with another body it is refused (422); while the first is still running, 409."
    ),
    auth=TokenAuth(),
    parser=TextParser(),
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.http_status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", [])]
    if location[:1] and location[0] in PARAMETER_SOURCES:
        location = location[1:]
    if location[:1] == ["payload"]:  # the name every view gives its request body
        location = location[1:]
    field = ".".join(location) or None
    message = (
        f"{field}: {first.get('msg', 'invalid value')}" if field else first.get("msg", "invalid request")
    )
    body = {"code": "invalid", "message": message, "field": field, "errors": exc.errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(HttpError)
def ninja_refusal(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):  # TextParser refused the body; Ninja wrapped that in a 400
        return domain_error(request, exc.__cause__)
    # the one Ninja raises before a view runs here is a 400 for a request body that is not JSON
    message = "the request body is not valid JSON" if exc.status_code == 400 else str(exc)
    body = {"code": "invalid", "message": message, "field": None}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "unauthenticated", "message": "a valid, unrevoked API token is required", "field": None}
    return api.create_response(request, body, status=401)


api.add_router("/access/", access_router, tags=["access"])
api.add_router("/audit/", audit_router, tags=["audit"])
api.add_router("/ledger/", ledger_router, tags=["ledger"])
api.add_router("/customers/", customers_router, tags=["customers"])
api.add_router("/catalog/", catalog_router, tags=["catalog"])
api.add_router("/invoicing/", invoicing_router, tags=["invoicing"])
api.add_router("/delivery/", delivery_router, tags=["delivery"])
api.add_router("/billing/", billing_router, tags=["billing"])
api.add_router("/timekeeping/", timekeeping_router, tags=["timekeeping"])
api.add_router("/usage/", usage_router, tags=["usage"])
api.add_router("/payments/", payments_router, tags=["payments"])
api.add_router("/payments/bank-lines", payments_queue_router, tags=["payments"])
api.add_router("/collections/", collections_router, tags=["collections"])
api.add_router("/disputes/", disputes_router, tags=["disputes"])
api.add_router("/approvals/", approvals_router, tags=["approvals"])
