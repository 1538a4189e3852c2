"""Domain errors of customer master data; each names the field at fault."""

from __future__ import annotations

from typing import Any

from billops.core.errors import DomainError, InvalidInput


class InvalidVatId(InvalidInput):
    code = "invalid_vat_id"


class InvalidTaxId(InvalidInput):
    code = "invalid_tax_id"


class HierarchyCycle(InvalidInput):
    """A customer would become its own ancestor."""

    code = "hierarchy_cycle"


class CustomerInvalid(InvalidInput):
    """Several fields are wrong at once; `errors` holds each one so a form can show it by its field."""

    code = "invalid"

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        summary = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        super().__init__(f"{len(errors)} fields need correcting — {summary}", field=errors[0].field)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "errors": [error.as_dict() for error in self.errors]}


def raise_errors(errors: list[DomainError]) -> None:
    """Raise the one error as itself, several as CustomerInvalid, none not at all."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CustomerInvalid(errors)


def errors_of(exc: DomainError) -> list[DomainError]:
    """The single errors inside a raised DomainError, for showing each next to its field."""
    return list(exc.errors) if isinstance(exc, CustomerInvalid) else [exc]
