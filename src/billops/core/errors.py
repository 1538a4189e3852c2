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


class FieldErrors(InvalidInput):
    """Several fields are wrong at once; `errors` holds each one so a form can show it by its field."""

    code = "invalid"

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        summary = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        super().__init__(f"{len(errors)} fields need correcting — {summary}", field=errors[0].field)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [error.as_dict() for error in self.errors]}

    @classmethod
    def raise_any(cls, errors: list[DomainError]) -> None:
        """Raise the one error as itself, several as this class, none not at all."""
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise cls(errors)


def errors_of(exc: DomainError) -> list[DomainError]:
    """The single errors inside a raised DomainError, for showing each next to its field."""
    return list(exc.errors) if isinstance(exc, FieldErrors) else [exc]
