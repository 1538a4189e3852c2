"""Domain errors: a code for machines, a message for clerks, the field at fault, an HTTP status.

Services raise these; the API, the CLI and the staff pages each turn them into a reply in one place.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400


class InvalidAmount(DomainError):
    code = "invalid_amount"
    http_status = 400


class UnknownCurrency(DomainError):
    code = "unknown_currency"
    http_status = 400


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
    http_status = 400


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class Duplicate(DomainError):
    code = "duplicate"
    http_status = 409


class UnprocessableReplay(DomainError):
    """An idempotency key came back with a different request body."""

    code = "idempotency_key_reused"
    http_status = 422
